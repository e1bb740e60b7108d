//! A thin layer over the Lua 5.1 C API (`mlua-sys`, Lua built from source): an owned state
//! whose allocator never fails, and helpers used by every C function FinCache registers.
//!
//! # Errors and `longjmp`
//! Lua raises errors with `longjmp`. Jumping over a Rust frame is sound only when that frame
//! has nothing left to drop. Every C function here is therefore split in two:
//! - an `impl` part in plain Rust that may own values but calls only Lua functions that cannot
//!   raise (pushes, raw gets/sets, conversions — with an allocator that aborts instead of
//!   failing, allocation cannot raise either) and, on error, leaves the error value on the
//!   stack and returns [`LuaErr`];
//! - a thin `extern "C-unwind"` wrapper ([`finish`]) that raises it, with nothing to drop.
//!
//! Panics never cross into Lua: [`guard`] turns a panic into a Lua error.

pub use mlua_sys as ffi;
use std::ffi::{c_int, c_void, CStr};
use std::panic::AssertUnwindSafe;

/// A raw Lua state pointer.
pub type State = *mut ffi::lua_State;

/// An owned Lua state, closed on drop.
pub struct Lua {
    l: State,
}

// SAFETY: a Lua state may move between threads; it is only ever used by one thread at a
// time (its owner keeps it behind a mutex).
unsafe impl Send for Lua {}

/// Lua's allocation alignment (`LUAI_USER_ALIGNMENT_T` is at most 16 bytes).
const ALIGN: usize = 16;

/// The state's allocator: Rust's global allocator; a failed allocation aborts the process
/// (as Rust does), so Lua never raises a memory error through Rust frames.
unsafe extern "C-unwind" fn alloc(
    _ud: *mut c_void,
    ptr: *mut c_void,
    osize: usize,
    nsize: usize,
) -> *mut c_void {
    use std::alloc::{alloc as rust_alloc, dealloc, handle_alloc_error, realloc, Layout};
    if nsize == 0 {
        if !ptr.is_null() {
            // SAFETY: `ptr` came from this allocator with size `osize` (Lua passes it back).
            if let Ok(layout) = Layout::from_size_align(osize.max(1), ALIGN) {
                dealloc(ptr.cast(), layout);
            }
        }
        return std::ptr::null_mut();
    }
    let Ok(new_layout) = Layout::from_size_align(nsize, ALIGN) else {
        std::process::abort();
    };
    let out = if ptr.is_null() {
        rust_alloc(new_layout)
    } else {
        match Layout::from_size_align(osize.max(1), ALIGN) {
            // SAFETY: `ptr` was allocated here with `osize` bytes.
            Ok(old) => realloc(ptr.cast(), old, nsize),
            Err(_) => std::process::abort(),
        }
    };
    if out.is_null() {
        handle_alloc_error(new_layout);
    }
    out.cast()
}

impl Lua {
    /// A new, empty state (no libraries).
    pub fn new() -> Lua {
        // SAFETY: `alloc` is a valid allocator for the state's whole life.
        let l = unsafe { ffi::lua_newstate(alloc, std::ptr::null_mut()) };
        if l.is_null() {
            std::process::abort();
        }
        Lua { l }
    }

    #[inline]
    pub fn raw(&self) -> State {
        self.l
    }
}

impl Default for Lua {
    fn default() -> Self {
        Lua::new()
    }
}

impl Drop for Lua {
    fn drop(&mut self) {
        // SAFETY: the state is owned and no longer used.
        unsafe { ffi::lua_close(self.l) }
    }
}

/// Why an `impl` part failed; [`finish`] raises it.
#[derive(Debug, Clone, Copy)]
pub enum LuaErr {
    /// The error value is on top of the stack.
    Raised,
    /// `luaL_argerror(narg, msg)`: "bad argument #narg to 'f' (msg)".
    Arg(c_int, &'static CStr),
    /// `luaL_typerror(narg, tname)`: "bad argument #narg to 'f' (tname expected, got …)".
    Type(c_int, &'static CStr),
    /// `luaL_argerror(narg, msg)` with the message on top of the stack.
    ArgTop(c_int),
}

pub type LuaResult = Result<c_int, LuaErr>;

/// Runs an `impl` part, turning a panic into a Lua error value.
///
/// # Safety
/// `l` must be a valid state with a free stack slot.
#[inline]
pub unsafe fn guard(l: State, f: impl FnOnce() -> LuaResult) -> LuaResult {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            push_str(l, "internal error in a Lua library call");
            Err(LuaErr::Raised)
        }
    }
}

/// Returns the result count or raises the error. Call it last in an `extern` wrapper, with
/// nothing left to drop.
///
/// # Safety
/// `l` must be the state the C function was called with.
#[inline]
pub unsafe fn finish(l: State, r: LuaResult) -> c_int {
    match r {
        Ok(n) => n,
        Err(LuaErr::Raised) => ffi::lua_error(l),
        Err(LuaErr::Arg(n, msg)) => ffi::luaL_argerror(l, n, msg.as_ptr()),
        Err(LuaErr::Type(n, tname)) => ffi::luaL_typerror(l, n, tname.as_ptr()),
        Err(LuaErr::ArgTop(n)) => {
            ffi::luaL_argerror(l, n, ffi::lua_tolstring(l, -1, std::ptr::null_mut()))
        }
    }
}

/// Declares `extern "C-unwind" fn $name` running the `impl` function `$imp` under [`guard`].
macro_rules! lua_cfn {
    ($name:ident, $imp:path) => {
        pub(crate) unsafe extern "C-unwind" fn $name(
            l: $crate::script::lua::State,
        ) -> std::ffi::c_int {
            // SAFETY: `l` is the state this C function was called with.
            let r = unsafe { $crate::script::lua::guard(l, || $imp(l)) };
            $crate::script::lua::finish(l, r)
        }
    };
}
pub(crate) use lua_cfn;

/// Pushes a byte string.
///
/// # Safety
/// `l` must be a valid state with a free stack slot.
#[inline]
pub unsafe fn push_bytes(l: State, b: &[u8]) {
    ffi::lua_pushlstring_(l, b.as_ptr().cast(), b.len());
}

/// Pushes a UTF-8 string.
///
/// # Safety
/// As [`push_bytes`].
#[inline]
pub unsafe fn push_str(l: State, s: &str) {
    push_bytes(l, s.as_bytes());
}

/// The bytes of the string (or number, converted in place) at `idx`, if it is one. The slice
/// lives as long as the value stays on the stack.
///
/// # Safety
/// `l` valid, `idx` acceptable; the caller must not keep the slice past popping the value.
#[inline]
pub unsafe fn to_bytes<'a>(l: State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p.cast::<u8>(), len))
    }
}

/// The bytes of the value at `idx` only if it is a real string (no number conversion, which
/// would change the value on the stack).
///
/// # Safety
/// As [`to_bytes`].
#[inline]
pub unsafe fn string_at<'a>(l: State, idx: c_int) -> Option<&'a [u8]> {
    if ffi::lua_type(l, idx) == ffi::LUA_TSTRING {
        to_bytes(l, idx)
    } else {
        None
    }
}

/// `t[name]` without metamethods, pushed; returns its type. `idx` must be absolute or
/// negative counting before the push.
///
/// # Safety
/// `l` valid, `idx` a table.
#[inline]
pub unsafe fn raw_get_field(l: State, idx: c_int, name: &CStr) -> c_int {
    let idx = ffi::lua_absindex(l, idx);
    ffi::lua_pushstring_(l, name.as_ptr());
    ffi::lua_rawget_(l, idx);
    ffi::lua_type(l, -1)
}

/// `t[name] = <top>` without metamethods; pops the value.
///
/// # Safety
/// `l` valid, `idx` a table, a value on top.
#[inline]
pub unsafe fn raw_set_field(l: State, idx: c_int, name: &CStr) {
    let idx = ffi::lua_absindex(l, idx);
    ffi::lua_pushstring_(l, name.as_ptr());
    ffi::lua_insert(l, -2);
    ffi::lua_rawset(l, idx);
}

/// Pushes a C function with one light-userdata upvalue.
///
/// # Safety
/// `l` valid; `up` must outlive every call of `f`.
#[inline]
pub unsafe fn push_cfn(l: State, f: ffi::lua_CFunction, up: *mut c_void) {
    ffi::lua_pushlightuserdata(l, up);
    ffi::lua_pushcclosure(l, f, 1);
}

/// Pushes Redis's error table `{err = "CODE message"}` built as `luaPushErrorBuff`: a leading
/// `-` means the first word is the error code; otherwise the code is `ERR`. Trailing CR/LF
/// are trimmed.
///
/// # Safety
/// `l` valid with two free stack slots.
pub unsafe fn push_error_table(l: State, err: &[u8]) {
    let text = error_text(err);
    // Errors are raised where the stack may be full (a nesting limit): make room first.
    ffi::lua_checkstack(l, 4);
    ffi::lua_createtable(l, 0, 1);
    push_bytes(l, &text);
    raw_set_field(l, -2, c"err");
}

/// The `err` text Redis stores for an error given as `-CODE msg` or `msg`.
pub fn error_text(err: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match err.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&c| c == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", err),
    };
    let mut end = msg.len();
    while end > 0 && matches!(msg[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let mut start = 0;
    while start < end && matches!(msg[start], b'\r' | b'\n') {
        start += 1;
    }
    let mut out = Vec::with_capacity(code.len() + 1 + end - start);
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(&msg[start..end]);
    out
}

/// Pushes `"<where>: msg"` as `luaL_error` formats it (the position of the Lua code that
/// called the running C function).
///
/// # Safety
/// `l` valid, called from a C function.
pub unsafe fn push_error_where(l: State, msg: &str) {
    ffi::lua_checkstack(l, 4);
    ffi::luaL_where(l, 1);
    push_str(l, msg);
    ffi::lua_concat(l, 2);
}

/// Formats a Lua number the way Redis passes numbers to commands (`%.17g`).
pub fn format_g17(n: f64, out: &mut Vec<u8>) {
    format_g(n, 17, out);
}

/// C's `%.<prec>g` for a double.
pub fn format_g(n: f64, prec: usize, out: &mut Vec<u8>) {
    if n.is_nan() {
        out.extend_from_slice(if n.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if n.is_infinite() {
        out.extend_from_slice(if n < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    let prec = prec.max(1);
    if n == 0.0 {
        out.extend_from_slice(if n.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // The exponent %e would print, after rounding to `prec` significant digits.
    let sci = format!("{:.*e}", prec - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        // Scientific: strip trailing zeros of the mantissa, exponent with sign and 2+ digits.
        let m = strip_zeros(mantissa);
        out.extend_from_slice(m.as_bytes());
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(e.to_string().as_bytes());
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let fixed = format!("{:.*}", decimals, n);
        out.extend_from_slice(strip_zeros(&fixed).as_bytes());
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(n: f64, p: usize) -> String {
        let mut v = Vec::new();
        format_g(n, p, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn percent_g_like_c() {
        assert_eq!(g(3.5, 17), "3.5");
        assert_eq!(g(0.1, 17), "0.10000000000000001");
        assert_eq!(g(1e20, 17), "1e+20");
        assert_eq!(g(100.0, 17), "100");
        assert_eq!(g(-2.0, 17), "-2");
        assert_eq!(
            g(1e-5, 14),
            "1.0000000000000001e-05".replace("1.0000000000000001", "1")
        );
        assert_eq!(g(123456789012345678.0, 17), "1.2345678901234568e+17");
        assert_eq!(g(0.5, 14), "0.5");
        assert_eq!(g(1.0 / 3.0, 14), "0.33333333333333");
    }

    #[test]
    fn error_texts() {
        assert_eq!(error_text(b"-ERR bad thing\r\n"), b"ERR bad thing");
        assert_eq!(error_text(b"-WRONGTYPE x y"), b"WRONGTYPE x y");
        assert_eq!(error_text(b"plain"), b"ERR plain");
        assert_eq!(error_text(b"-NOSPACE"), b"ERR NOSPACE");
    }
}
