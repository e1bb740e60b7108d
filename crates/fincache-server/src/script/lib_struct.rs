//! The `struct` library Redis bundles (Roberto Ierusalimschy's `struct.c`, with Redis's
//! fixes): `struct.pack(fmt, ...)`, `struct.unpack(fmt, s [, pos])`, `struct.size(fmt)`.
//!
//! Formats: `>` big endian, `<` little endian (the default, as on x86-64), `!n` maximum
//! alignment (default 1), `x` a zero byte, `b/B` char, `h/H` short, `l/L` long (8 bytes),
//! `T` size_t, `i/I[n]` an n-byte int (default 4, at most 32), `f` float, `d` double,
//! `s` a zero-terminated string, `c[n]` n characters (`c0`: the whole string, or on unpack a
//! length given by the previous value). Errors read as the C library's.

use super::lua::{
    ffi, lua_cfn, push_bytes, push_error_where, raw_set_field, to_bytes, LuaErr, LuaResult, State,
};
use std::ffi::{c_int, CStr};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

#[derive(Clone, Copy)]
struct Header {
    big: bool,
    align: usize,
}

const DEFAULT: Header = Header {
    big: false,
    align: 1,
};

/// Raises `luaL_error(msg)` (with the caller's position).
unsafe fn error(l: State, msg: &str) -> LuaErr {
    push_error_where(l, msg);
    LuaErr::Raised
}

/// `getnum`: digits at `fmt[*i..]`, or `default`.
unsafe fn getnum(l: State, fmt: &[u8], i: &mut usize, default: usize) -> Result<usize, LuaErr> {
    if *i >= fmt.len() || !fmt[*i].is_ascii_digit() {
        return Ok(default);
    }
    let mut a: usize = 0;
    while *i < fmt.len() && fmt[*i].is_ascii_digit() {
        let d = usize::from(fmt[*i] - b'0');
        if a > (i32::MAX as usize) / 10 || a * 10 > i32::MAX as usize - d {
            return Err(error(l, "integral size overflow"));
        }
        a = a * 10 + d;
        *i += 1;
    }
    Ok(a)
}

/// `optsize`: the size of option `opt` (consuming its number).
unsafe fn optsize(l: State, opt: u8, fmt: &[u8], i: &mut usize) -> Result<usize, LuaErr> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' => 8,
        b'f' => 4,
        b'd' => 8,
        b'x' => 1,
        b'c' => getnum(l, fmt, i, 1)?,
        b'i' | b'I' => {
            let sz = getnum(l, fmt, i, 4)?;
            if sz > MAXINTSIZE {
                return Err(error(
                    l,
                    &format!("integral size {sz} is larger than limit of {MAXINTSIZE}"),
                ));
            }
            sz
        }
        _ => 0,
    })
}

/// `gettoalign`: padding before an item of `size` at offset `len`.
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// `controloptions`: endianness, alignment, spaces; anything else is an invalid option.
unsafe fn control(
    l: State,
    opt: u8,
    fmt: &[u8],
    i: &mut usize,
    h: &mut Header,
) -> Result<(), LuaErr> {
    match opt {
        b' ' => Ok(()),
        b'>' => {
            h.big = true;
            Ok(())
        }
        b'<' => {
            h.big = false;
            Ok(())
        }
        b'!' => {
            let a = getnum(l, fmt, i, MAXALIGN)?;
            if !a.is_power_of_two() {
                return Err(error(l, &format!("alignment {a} is not a power of 2")));
            }
            h.align = a;
            Ok(())
        }
        _ => {
            let msg = format!("invalid format option '{}'", opt as char);
            push_bytes(l, msg.as_bytes());
            Err(LuaErr::ArgTop(1))
        }
    }
}

/// `luaL_checklstring`.
unsafe fn check_bytes<'a>(l: State, narg: c_int) -> Result<&'a [u8], LuaErr> {
    match ffi::lua_type(l, narg) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => Ok(to_bytes(l, narg).unwrap_or_default()),
        _ => Err(LuaErr::Type(narg, c"string")),
    }
}

unsafe fn check_number(l: State, narg: c_int) -> Result<f64, LuaErr> {
    if ffi::lua_isnumber(l, narg) == 0 {
        return Err(LuaErr::Type(narg, c"number"));
    }
    Ok(ffi::lua_tonumber(l, narg))
}

fn put_int(out: &mut Vec<u8>, n: f64, big: bool, size: usize) {
    let mut value: u64 = if n < 0.0 {
        super::convert::lua_number_to_i64(n) as u64
    } else {
        n as u64
    };
    let mut buf = [0u8; MAXINTSIZE];
    if big {
        for i in (0..size).rev() {
            buf[i] = value as u8;
            value = value.checked_shr(8).unwrap_or(0);
        }
    } else {
        for b in buf.iter_mut().take(size) {
            *b = value as u8;
            value = value.checked_shr(8).unwrap_or(0);
        }
    }
    out.extend_from_slice(&buf[..size]);
}

unsafe fn pack_impl(l: State) -> LuaResult {
    let fmt = check_bytes(l, 1)?;
    let mut h = DEFAULT;
    let mut arg = 2;
    let mut total = 0usize;
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(l, opt, fmt, &mut i)?;
        let pad = gettoalign(total, &h, opt, size);
        total += pad;
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(l, arg)?;
                arg += 1;
                put_int(&mut out, n, h.big, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(l, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.big {
                    f.to_be_bytes()
                } else {
                    f.to_le_bytes()
                });
            }
            b'd' => {
                let d = check_number(l, arg)?;
                arg += 1;
                out.extend_from_slice(&if h.big {
                    d.to_be_bytes()
                } else {
                    d.to_le_bytes()
                });
            }
            b'c' | b's' => {
                let s = check_bytes(l, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // As struct.c: the check names the argument after the string.
                    return Err(LuaErr::Arg(arg, c"string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => control(l, opt, fmt, &mut i, &mut h)?,
        }
        total += size;
    }
    push_bytes(l, &out);
    Ok(1)
}

fn get_int(b: &[u8], big: bool, signed: bool) -> f64 {
    let size = b.len();
    let mut v: u64 = 0;
    if big {
        for &c in b {
            v = (v << 8) | u64::from(c);
        }
    } else {
        for &c in b.iter().rev() {
            v = (v << 8) | u64::from(c);
        }
    }
    if !signed {
        return v as f64;
    }
    let bits = (size * 8).saturating_sub(1);
    if bits < 64 {
        let mask = u64::MAX << bits;
        if v & mask != 0 {
            v |= mask;
        }
    }
    v as i64 as f64
}

unsafe fn unpack_impl(l: State) -> LuaResult {
    let fmt = check_bytes(l, 1)?;
    let data = check_bytes(l, 2)?;
    let start = if ffi::lua_isnoneornil(l, 3) != 0 {
        1
    } else {
        check_number(l, 3)? as i64
    };
    if start <= 0 {
        return Err(LuaErr::Arg(3, c"offset must be 1 or greater"));
    }
    let mut pos = (start - 1) as usize;
    let ld = data.len();
    let mut h = DEFAULT;
    let mut n: c_int = 0;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(l, opt, fmt, &mut i)?;
        pos = pos.saturating_add(gettoalign(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(LuaErr::Arg(2, c"data string too short"));
        }
        if ffi::lua_checkstack(l, 2) == 0 {
            return Err(error(l, "stack overflow (too many results)"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = get_int(&data[pos..pos + size], h.big, opt.is_ascii_lowercase());
                ffi::lua_pushnumber(l, v);
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().unwrap_or_default();
                let f = if h.big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
                ffi::lua_pushnumber(l, f64::from(f));
                n += 1;
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().unwrap_or_default();
                let d = if h.big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                };
                ffi::lua_pushnumber(l, d);
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        return Err(error(l, "format 'c0' needs a previous size"));
                    }
                    size = ffi::lua_tonumber(l, -1) as usize;
                    ffi::lua_pop(l, 1);
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(LuaErr::Arg(2, c"data string too short"));
                    }
                }
                push_bytes(l, &data[pos..pos + size]);
                n += 1;
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&c| c == 0) else {
                    return Err(error(l, "unfinished string in data"));
                };
                size = end + 1;
                push_bytes(l, &data[pos..pos + end]);
                n += 1;
            }
            _ => control(l, opt, fmt, &mut i, &mut h)?,
        }
        pos += size;
    }
    ffi::lua_pushnumber(l, (pos + 1) as f64);
    Ok(n + 1)
}

unsafe fn size_impl(l: State) -> LuaResult {
    let fmt = check_bytes(l, 1)?;
    let mut h = DEFAULT;
    let mut pos = 0usize;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let size = optsize(l, opt, fmt, &mut i)?;
        pos += gettoalign(pos, &h, opt, size);
        if opt == b's' {
            return Err(LuaErr::Arg(1, c"option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(LuaErr::Arg(1, c"option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            control(l, opt, fmt, &mut i, &mut h)?;
        }
        pos += size;
    }
    ffi::lua_pushnumber(l, pos as f64);
    Ok(1)
}

lua_cfn!(struct_pack, pack_impl);
lua_cfn!(struct_unpack, unpack_impl);
lua_cfn!(struct_size, size_impl);

/// `luaopen_struct`: sets the global `struct` table.
///
/// # Safety
/// Called by Lua only, as a C function of a state built by `engine::build`.
pub unsafe extern "C-unwind" fn luaopen_struct(l: State) -> c_int {
    let fns: &[(&CStr, ffi::lua_CFunction)] = &[
        (c"pack", struct_pack),
        (c"unpack", struct_unpack),
        (c"size", struct_size),
    ];
    ffi::lua_createtable(l, 0, 3);
    for (name, f) in fns {
        ffi::lua_pushcfunction(l, *f);
        raw_set_field(l, -2, name);
    }
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"struct".as_ptr());
    1
}
