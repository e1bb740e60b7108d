//! The `cmsgpack` library Redis bundles (lua-cmsgpack 0.4.0): `pack(...)`, `unpack(s)`,
//! `unpack_one(s [, offset])`, `unpack_limit(s, limit [, offset])`.
//!
//! Encoding: strings as fixstr/str8/str16/str32; booleans; numbers as the smallest integer
//! form when they equal an int64, else as float32 when exact, else float64; tables as an
//! array when their keys are exactly 1..n, else as a map; tables nested 16 deep and other
//! types as nil. Decoding understands what it writes (binary and extension types are a "Bad
//! data format"); integers and floats become Lua numbers.

use super::lua::{
    ffi, lua_cfn, push_bytes, push_error_where, raw_set_field, to_bytes, LuaErr, LuaResult, State,
};
use std::ffi::{c_int, CStr};

/// Tables nested deeper than this encode as nil (circular references terminate).
const MAX_NESTING: u32 = 16;

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Whether a double equals an int64 (`IS_INT64_EQUIVALENT`).
fn as_i64(n: f64) -> Option<i64> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if !(-LIMIT..LIMIT).contains(&n) {
        return None;
    }
    let i = n as i64;
    (i as f64 == n).then_some(i)
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    if let Some(i) = as_i64(n) {
        return encode_int(out, i);
    }
    let f = n as f32;
    if f64::from(f) == n {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_len(out: &mut Vec<u8>, len: usize, fix: u8, fix_max: usize, w16: u8, w32: u8) {
    if len < fix_max {
        out.push(fix | len as u8);
    } else if len < 65536 {
        out.push(w16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(w32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// `table_is_an_array`: keys exactly 1..n.
unsafe fn is_array(l: State) -> bool {
    let (mut count, mut max) = (0f64, 0f64);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let n = ffi::lua_tonumber(l, -1);
        let int_like = n.is_finite() && n == (n as i32) as f64;
        if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER || n <= 0.0 || !int_like {
            ffi::lua_pop(l, 1);
            return false;
        }
        if n > max {
            max = n;
        }
        count += 1.0;
    }
    max == count
}

/// Encodes the value on top of the stack and pops it.
unsafe fn encode_value(l: State, out: &mut Vec<u8>, level: u32) {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && (level == MAX_NESTING || ffi::lua_checkstack(l, 3) == 0) {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => encode_bytes(out, to_bytes(l, -1).unwrap_or_default()),
        ffi::LUA_TBOOLEAN => out.push(if ffi::lua_toboolean(l, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        ffi::LUA_TNUMBER => encode_number(out, ffi::lua_tonumber(l, -1)),
        ffi::LUA_TTABLE => {
            if is_array(l) {
                let len = ffi::lua_objlen(l, -1);
                encode_len(out, len, 0x90, 16, 0xdc, 0xdd);
                for j in 1..=len.min(c_int::MAX as usize) {
                    ffi::lua_rawgeti_(l, -1, j as c_int);
                    encode_value(l, out, level + 1);
                }
            } else {
                let mut len = 0usize;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pop(l, 1);
                    len += 1;
                }
                encode_len(out, len, 0x80, 16, 0xde, 0xdf);
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    encode_value(l, out, level + 1); // key
                    encode_value(l, out, level + 1); // value
                }
            }
        }
        _ => out.push(0xc0),
    }
    ffi::lua_pop(l, 1);
}

unsafe fn pack_impl(l: State) -> LuaResult {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        return Err(LuaErr::Arg(0, c"MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    for i in 1..=nargs {
        ffi::lua_pushvalue(l, i);
        encode_value(l, &mut out, 0);
    }
    push_bytes(l, &out);
    Ok(1)
}

/// Why decoding stopped.
enum DecodeError {
    Eof,
    BadFormat,
    /// A map key Lua refuses (nil or NaN): raised as Lua's own message.
    Key(&'static str),
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn need(&self, n: usize) -> Result<&'a [u8], DecodeError> {
        self.data
            .get(self.pos..self.pos.checked_add(n).ok_or(DecodeError::Eof)?)
            .ok_or(DecodeError::Eof)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let b = self.need(n)?;
        self.pos += n;
        Ok(b)
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }
}

/// Decodes one value and pushes it.
unsafe fn decode_value(l: State, c: &mut Cursor<'_>) -> Result<(), DecodeError> {
    if ffi::lua_checkstack(l, 2) == 0 {
        return Err(DecodeError::BadFormat);
    }
    let b = c.take(1)?[0];
    match b {
        0xcc => ffi::lua_pushnumber(l, c.be(1)? as f64),
        0xd0 => ffi::lua_pushnumber(l, f64::from(c.be(1)? as u8 as i8)),
        0xcd => ffi::lua_pushnumber(l, c.be(2)? as f64),
        0xd1 => ffi::lua_pushnumber(l, f64::from(c.be(2)? as u16 as i16)),
        0xce => ffi::lua_pushnumber(l, c.be(4)? as f64),
        0xd2 => ffi::lua_pushnumber(l, f64::from(c.be(4)? as u32 as i32)),
        0xcf => ffi::lua_pushnumber(l, c.be(8)? as f64),
        0xd3 => ffi::lua_pushnumber(l, c.be(8)? as i64 as f64),
        0xc0 => ffi::lua_pushnil(l),
        0xc3 => ffi::lua_pushboolean(l, 1),
        0xc2 => ffi::lua_pushboolean(l, 0),
        0xca => ffi::lua_pushnumber(l, f64::from(f32::from_bits(c.be(4)? as u32))),
        0xcb => ffi::lua_pushnumber(l, f64::from_bits(c.be(8)?)),
        0xd9 => {
            let n = c.be(1)? as usize;
            push_bytes(l, c.take(n)?);
        }
        0xda => {
            let n = c.be(2)? as usize;
            push_bytes(l, c.take(n)?);
        }
        0xdb => {
            let n = c.be(4)? as usize;
            push_bytes(l, c.take(n)?);
        }
        0xdc => {
            let n = c.be(2)? as usize;
            decode_array(l, c, n)?;
        }
        0xdd => {
            let n = c.be(4)? as usize;
            decode_array(l, c, n)?;
        }
        0xde => {
            let n = c.be(2)? as usize;
            decode_map(l, c, n)?;
        }
        0xdf => {
            let n = c.be(4)? as usize;
            decode_map(l, c, n)?;
        }
        _ if b & 0x80 == 0 => ffi::lua_pushnumber(l, f64::from(b)),
        _ if b & 0xe0 == 0xe0 => ffi::lua_pushnumber(l, f64::from(b as i8)),
        _ if b & 0xe0 == 0xa0 => push_bytes(l, c.take(usize::from(b & 0x1f))?),
        _ if b & 0xf0 == 0x90 => decode_array(l, c, usize::from(b & 0xf))?,
        _ if b & 0xf0 == 0x80 => decode_map(l, c, usize::from(b & 0xf))?,
        _ => return Err(DecodeError::BadFormat),
    }
    Ok(())
}

unsafe fn decode_array(l: State, c: &mut Cursor<'_>, len: usize) -> Result<(), DecodeError> {
    ffi::lua_createtable(l, len.min(1024) as c_int, 0);
    for i in 1..=len {
        decode_value(l, c)?;
        ffi::lua_rawseti_(l, -2, i.min(c_int::MAX as usize) as c_int);
    }
    Ok(())
}

unsafe fn decode_map(l: State, c: &mut Cursor<'_>, len: usize) -> Result<(), DecodeError> {
    ffi::lua_createtable(l, 0, len.min(1024) as c_int);
    for _ in 0..len {
        decode_value(l, c)?;
        decode_value(l, c)?;
        match ffi::lua_type(l, -2) {
            ffi::LUA_TNIL => return Err(DecodeError::Key("table index is nil")),
            ffi::LUA_TNUMBER if ffi::lua_tonumber(l, -2).is_nan() => {
                return Err(DecodeError::Key("table index is NaN"))
            }
            _ => ffi::lua_rawset(l, -3),
        }
    }
    Ok(())
}

/// `mp_unpack_full`: decodes up to `limit` values from `offset` (0, 0: everything, no offset
/// returned).
unsafe fn unpack_full(l: State, limit: i64, offset: i64) -> LuaResult {
    let data = match ffi::lua_type(l, 1) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => to_bytes(l, 1).unwrap_or_default(),
        _ => return Err(LuaErr::Type(1, c"string")),
    };
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        push_error_where(
            l,
            &format!(
                "Invalid request to unpack with offset of {offset} and limit of {}.",
                data.len()
            ),
        );
        return Err(LuaErr::Raised);
    }
    if offset as u64 > data.len() as u64 {
        push_error_where(
            l,
            &format!(
                "Start offset {offset} greater than input length {}.",
                data.len()
            ),
        );
        return Err(LuaErr::Raised);
    }
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut c = Cursor {
        data,
        pos: offset as usize,
    };
    let mut count: c_int = 0;
    while c.pos < data.len() && i64::from(count) < limit {
        match decode_value(l, &mut c) {
            Ok(()) => count += 1,
            Err(DecodeError::Eof) => {
                push_error_where(l, "Missing bytes in input.");
                return Err(LuaErr::Raised);
            }
            Err(DecodeError::BadFormat) => {
                push_error_where(l, "Bad data format in input.");
                return Err(LuaErr::Raised);
            }
            Err(DecodeError::Key(msg)) => {
                super::lua::push_str(l, msg);
                return Err(LuaErr::Raised);
            }
        }
    }
    if !decode_all {
        if ffi::lua_checkstack(l, 1) == 0 {
            push_error_where(l, "stack overflow (in function mp_unpack_full)");
            return Err(LuaErr::Raised);
        }
        let next = if c.pos >= data.len() {
            -1.0
        } else {
            c.pos as f64
        };
        ffi::lua_pushnumber(l, next);
        ffi::lua_insert(l, 2);
        count += 1;
    }
    Ok(count)
}

/// `luaL_optinteger` (as C int).
unsafe fn opt_int(l: State, narg: c_int, default: i64) -> Result<i64, LuaErr> {
    if ffi::lua_isnoneornil(l, narg) != 0 {
        return Ok(default);
    }
    if ffi::lua_isnumber(l, narg) == 0 {
        return Err(LuaErr::Type(narg, c"number"));
    }
    Ok(i64::from(ffi::lua_tonumber(l, narg) as i64 as i32))
}

unsafe fn unpack_impl(l: State) -> LuaResult {
    unpack_full(l, 0, 0)
}

unsafe fn unpack_one_impl(l: State) -> LuaResult {
    let offset = opt_int(l, 2, 0)?;
    ffi::lua_settop(l, 1);
    unpack_full(l, 1, offset)
}

unsafe fn unpack_limit_impl(l: State) -> LuaResult {
    if ffi::lua_isnumber(l, 2) == 0 {
        return Err(LuaErr::Type(2, c"number"));
    }
    let limit = i64::from(ffi::lua_tonumber(l, 2) as i64 as i32);
    let offset = opt_int(l, 3, 0)?;
    ffi::lua_settop(l, 1);
    unpack_full(l, limit, offset)
}

lua_cfn!(mp_pack, pack_impl);
lua_cfn!(mp_unpack, unpack_impl);
lua_cfn!(mp_unpack_one, unpack_one_impl);
lua_cfn!(mp_unpack_limit, unpack_limit_impl);

/// `luaopen_cmsgpack`: sets the global `cmsgpack` table.
///
/// # Safety
/// Called by Lua only, as a C function of a state built by `engine::build`.
pub unsafe extern "C-unwind" fn luaopen_cmsgpack(l: State) -> c_int {
    let fns: &[(&CStr, ffi::lua_CFunction)] = &[
        (c"pack", mp_pack),
        (c"unpack", mp_unpack),
        (c"unpack_one", mp_unpack_one),
        (c"unpack_limit", mp_unpack_limit),
    ];
    ffi::lua_createtable(l, 0, 8);
    for (name, f) in fns {
        ffi::lua_pushcfunction(l, *f);
        raw_set_field(l, -2, name);
    }
    for (name, value) in [
        (c"_NAME", "cmsgpack"),
        (c"_VERSION", "lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", "MessagePack C implementation for Lua"),
    ] {
        super::lua::push_str(l, value);
        raw_set_field(l, -2, name);
    }
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cmsgpack".as_ptr());
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_forms() {
        let enc = |n: f64| {
            let mut v = Vec::new();
            encode_number(&mut v, n);
            v
        };
        assert_eq!(enc(1.0), b"\x01");
        assert_eq!(enc(-1.0), b"\xff");
        assert_eq!(enc(128.0), b"\xcc\x80");
        assert_eq!(enc(-33.0), b"\xd0\xdf");
        assert_eq!(enc(1.5), b"\xca\x3f\xc0\x00\x00");
        assert_eq!(enc(0.1), b"\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a");
        assert_eq!(enc(2f64.powi(63)), b"\xca\x5f\x00\x00\x00");
        assert_eq!(
            enc(-(2f64.powi(63))),
            b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00"
        );
    }
}
