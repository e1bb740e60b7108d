//! The `bit` library Redis bundles (LuaBitOp 1.0.2): 32-bit bitwise operations on Lua
//! numbers. Arguments are normalised as LuaBitOp does: rounded to an integer and wrapped into
//! a signed 32-bit value (adding 2^52 + 2^51 and keeping the low word); results are signed.

use super::lua::{ffi, lua_cfn, raw_set_field, LuaErr, LuaResult, State};
use std::ffi::{c_int, CStr};

/// LuaBitOp's `barg`: the argument as a wrapped 32-bit integer.
unsafe fn barg(l: State, narg: c_int) -> Result<u32, LuaErr> {
    if ffi::lua_isnumber(l, narg) == 0 {
        return Err(LuaErr::Type(narg, c"number"));
    }
    Ok(tobit(ffi::lua_tonumber(l, narg)))
}

/// Wraps a double into 32 bits the way LuaBitOp does.
pub fn tobit(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

unsafe fn push_bits(l: State, v: u32) -> LuaResult {
    ffi::lua_pushnumber(l, f64::from(v as i32));
    Ok(1)
}

unsafe fn tobit_impl(l: State) -> LuaResult {
    let v = barg(l, 1)?;
    push_bits(l, v)
}

unsafe fn bnot_impl(l: State) -> LuaResult {
    let v = barg(l, 1)?;
    push_bits(l, !v)
}

unsafe fn fold(l: State, op: fn(u32, u32) -> u32) -> LuaResult {
    let mut acc = barg(l, 1)?;
    for i in 2..=ffi::lua_gettop(l) {
        acc = op(acc, barg(l, i)?);
    }
    push_bits(l, acc)
}

unsafe fn band_impl(l: State) -> LuaResult {
    fold(l, |a, b| a & b)
}

unsafe fn bor_impl(l: State) -> LuaResult {
    fold(l, |a, b| a | b)
}

unsafe fn bxor_impl(l: State) -> LuaResult {
    fold(l, |a, b| a ^ b)
}

unsafe fn shift(l: State, op: fn(u32, u32) -> u32) -> LuaResult {
    let v = barg(l, 1)?;
    let n = barg(l, 2)? & 31;
    push_bits(l, op(v, n))
}

unsafe fn lshift_impl(l: State) -> LuaResult {
    shift(l, |v, n| v << n)
}

unsafe fn rshift_impl(l: State) -> LuaResult {
    shift(l, |v, n| v >> n)
}

unsafe fn arshift_impl(l: State) -> LuaResult {
    shift(l, |v, n| ((v as i32) >> n) as u32)
}

unsafe fn rol_impl(l: State) -> LuaResult {
    shift(l, |v, n| v.rotate_left(n))
}

unsafe fn ror_impl(l: State) -> LuaResult {
    shift(l, |v, n| v.rotate_right(n))
}

unsafe fn bswap_impl(l: State) -> LuaResult {
    let v = barg(l, 1)?;
    push_bits(l, v.swap_bytes())
}

unsafe fn tohex_impl(l: State) -> LuaResult {
    let v = barg(l, 1)?;
    let mut n: i32 = if ffi::lua_isnoneornil(l, 2) != 0 {
        8
    } else {
        barg(l, 2)? as i32
    };
    let upper = n < 0;
    if upper {
        n = n.wrapping_neg();
    }
    let n = n.clamp(0, 8) as usize;
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut buf = [0u8; 8];
    let mut b = v;
    for i in (0..n).rev() {
        buf[i] = digits[(b & 15) as usize];
        b >>= 4;
    }
    super::lua::push_bytes(l, &buf[..n]);
    Ok(1)
}

lua_cfn!(bit_tobit, tobit_impl);
lua_cfn!(bit_bnot, bnot_impl);
lua_cfn!(bit_band, band_impl);
lua_cfn!(bit_bor, bor_impl);
lua_cfn!(bit_bxor, bxor_impl);
lua_cfn!(bit_lshift, lshift_impl);
lua_cfn!(bit_rshift, rshift_impl);
lua_cfn!(bit_arshift, arshift_impl);
lua_cfn!(bit_rol, rol_impl);
lua_cfn!(bit_ror, ror_impl);
lua_cfn!(bit_bswap, bswap_impl);
lua_cfn!(bit_tohex, tohex_impl);

/// `luaopen_bit`: sets the global `bit` table.
///
/// # Safety
/// Called by Lua only, as a C function of a state built by `engine::build`.
pub unsafe extern "C-unwind" fn luaopen_bit(l: State) -> c_int {
    let fns: &[(&CStr, ffi::lua_CFunction)] = &[
        (c"tobit", bit_tobit),
        (c"bnot", bit_bnot),
        (c"band", bit_band),
        (c"bor", bit_bor),
        (c"bxor", bit_bxor),
        (c"lshift", bit_lshift),
        (c"rshift", bit_rshift),
        (c"arshift", bit_arshift),
        (c"rol", bit_rol),
        (c"ror", bit_ror),
        (c"bswap", bit_bswap),
        (c"tohex", bit_tohex),
    ];
    ffi::lua_createtable(l, 0, fns.len() as c_int);
    for (name, f) in fns {
        ffi::lua_pushcfunction(l, *f);
        raw_set_field(l, -2, name);
    }
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"bit".as_ptr());
    1
}

#[cfg(test)]
mod tests {
    use super::tobit;

    #[test]
    fn normalisation() {
        assert_eq!(tobit(1.0), 1);
        assert_eq!(tobit(-1.0) as i32, -1);
        assert_eq!(tobit(4294967296.0 + 5.0), 5);
        assert_eq!(tobit(2.5), 2); // round half to even
        assert_eq!(tobit(3.5), 4);
        assert_eq!(tobit(2147483648.0) as i32, i32::MIN);
    }
}
