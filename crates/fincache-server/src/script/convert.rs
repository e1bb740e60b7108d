//! Conversions between RESP and Lua values, as Redis documents them (`script_lua.c`).
//!
//! RESP → Lua (a `redis.call` reply): integer → number; bulk → string; null bulk and null
//! array → false (RESP2) or nil (RESP3 null); status → `{ok=…}`; error → `{err=…}`; array →
//! table; RESP3 map → `{map={…}}`, set → `{set={elem=true…}}`, double → `{double=n}`,
//! boolean → boolean, big number → `{big_number="…"}`, verbatim → `{verbatim_string=
//! {format=…, string=…}}`; attributes are skipped.
//!
//! Lua → RESP (a script's result): string → bulk; number → integer (truncated); boolean → 1 or
//! null in RESP2 mode, a boolean after `redis.setresp(3)`; a table with `err` → error, `ok` →
//! status, `double`, `big_number`, `verbatim_string`, `map`, `set` → their RESP3 types (in the
//! caller's protocol); any other table → array up to the first nil; anything else → null.

use super::lua::{self, ffi, push_bytes, raw_get_field, raw_set_field, State};
use crate::cmd::dispatch;
use crate::cmd::{CmdError, ExecCtx};
use std::ffi::c_int;

/// Pushes the Lua value of the one complete RESP reply in `buf` (written by FinCache's own
/// encoder). Returns whether it is an error.
///
/// # Safety
/// `l` valid.
pub unsafe fn push_reply(l: State, buf: &[u8]) -> bool {
    let mut pos = 0;
    let is_error = buf.first() == Some(&b'-');
    if !push_value(l, buf, &mut pos) {
        ffi::lua_pushboolean(l, 0);
    }
    is_error
}

/// Reads the line at `*pos` (without CRLF) and moves past it.
fn line<'b>(buf: &'b [u8], pos: &mut usize) -> &'b [u8] {
    let rest = &buf[(*pos).min(buf.len())..];
    let end = memchr::memmem::find(rest, b"\r\n").unwrap_or(rest.len());
    *pos += end + 2;
    &rest[..end]
}

fn int_of(s: &[u8]) -> i64 {
    fincache_types::num::parse_i64(s).unwrap_or(0)
}

/// Pushes one value (or, for attributes, skips and pushes the value after). Returns false on
/// malformed input (nothing pushed).
unsafe fn push_value(l: State, buf: &[u8], pos: &mut usize) -> bool {
    if *pos >= buf.len() || ffi::lua_checkstack(l, 4) == 0 {
        return false;
    }
    let kind = buf[*pos];
    *pos += 1;
    let head = line(buf, pos);
    match kind {
        b':' => ffi::lua_pushnumber(l, int_of(head) as f64),
        b'$' | b'=' => {
            let n = int_of(head);
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return true;
            }
            let n = n as usize;
            let start = (*pos).min(buf.len());
            let body = &buf[start..(start + n).min(buf.len())];
            *pos = start + n + 2;
            if kind == b'$' {
                push_bytes(l, body);
            } else {
                let (format, text) = if body.len() >= 4 {
                    (&body[..3], &body[4..])
                } else {
                    (&b"txt"[..], body)
                };
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, text);
                raw_set_field(l, -2, c"string");
                push_bytes(l, format);
                raw_set_field(l, -2, c"format");
                raw_set_field(l, -2, c"verbatim_string");
            }
        }
        b'+' => {
            ffi::lua_createtable(l, 0, 1);
            push_bytes(l, head);
            raw_set_field(l, -2, c"ok");
        }
        b'-' => {
            let mut err = Vec::with_capacity(head.len() + 1);
            err.push(b'-');
            err.extend_from_slice(head);
            lua::push_error_table(l, &err);
        }
        b'*' | b'>' => {
            let n = int_of(head);
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return true;
            }
            ffi::lua_createtable(l, n.min(1024) as c_int, 0);
            for i in 1..=n {
                if !push_value(l, buf, pos) {
                    ffi::lua_pushboolean(l, 0);
                }
                ffi::lua_rawseti_(l, -2, i.min(i64::from(c_int::MAX)) as c_int);
            }
        }
        b'%' | b'~' => {
            let n = int_of(head).max(0);
            let is_map = kind == b'%';
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_createtable(l, 0, n.min(1024) as c_int);
            for _ in 0..n {
                if !push_value(l, buf, pos) {
                    ffi::lua_pushboolean(l, 0);
                }
                if is_map {
                    if !push_value(l, buf, pos) {
                        ffi::lua_pushboolean(l, 0);
                    }
                } else {
                    ffi::lua_pushboolean(l, 1);
                }
                set_pair(l);
            }
            raw_set_field(l, -2, if is_map { c"map" } else { c"set" });
        }
        b'_' => ffi::lua_pushnil(l),
        b'#' => ffi::lua_pushboolean(l, c_int::from(head == b"t")),
        b',' => {
            let v = match head {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                b"nan" | b"-nan" => f64::NAN,
                _ => std::str::from_utf8(head)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0),
            };
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushnumber(l, v);
            raw_set_field(l, -2, c"double");
        }
        b'(' => {
            ffi::lua_createtable(l, 0, 1);
            push_bytes(l, head);
            raw_set_field(l, -2, c"big_number");
        }
        b'|' => {
            // Attributes are not shown to scripts: skip them, push the reply they annotate.
            let n = int_of(head).max(0);
            for _ in 0..n * 2 {
                if push_value(l, buf, pos) {
                    ffi::lua_pop(l, 1);
                }
            }
            return push_value(l, buf, pos);
        }
        _ => return false,
    }
    true
}

/// `t[k] = v` for the key and value on top of the table; a nil or NaN key (which Lua refuses)
/// drops the pair.
unsafe fn set_pair(l: State) {
    let key_type = ffi::lua_type(l, -2);
    let nan_key = key_type == ffi::LUA_TNUMBER && ffi::lua_tonumber(l, -2).is_nan();
    if key_type == ffi::LUA_TNIL || nan_key {
        ffi::lua_pop(l, 2);
    } else {
        ffi::lua_rawset(l, -3);
    }
}

/// `(long long)` of a double as x86-64 computes it: out of range and NaN give `i64::MIN`.
pub fn lua_number_to_i64(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if (-LIMIT..LIMIT).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// Writes the Lua value on top of the stack to the client as a reply, and pops it.
/// `resp3` is the script's protocol (`redis.setresp`), which decides how booleans convert.
///
/// # Safety
/// `l` valid with a value on top.
pub unsafe fn write_reply(l: State, ctx: &mut ExecCtx<'_>, resp3: bool) {
    if ffi::lua_checkstack(l, 4) == 0 {
        dispatch::reply_error(ctx, &CmdError::err("reached lua stack limit"));
        ffi::lua_pop(l, 1);
        return;
    }
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => ctx.out.bulk(lua::to_bytes(l, -1).unwrap_or_default()),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, -1) != 0;
            if resp3 {
                ctx.out.boolean(b);
            } else if b {
                ctx.out.int(1);
            } else {
                ctx.out.null();
            }
        }
        ffi::LUA_TNUMBER => ctx.out.int(lua_number_to_i64(ffi::lua_tonumber(l, -1))),
        ffi::LUA_TTABLE => write_table(l, ctx, resp3),
        _ => ctx.out.null(),
    }
    ffi::lua_pop(l, 1);
}

/// The table case of [`write_reply`] (the table stays on the stack).
unsafe fn write_table(l: State, ctx: &mut ExecCtx<'_>, resp3: bool) {
    if raw_get_field(l, -1, c"err") == ffi::LUA_TSTRING {
        let msg = String::from_utf8_lossy(lua::to_bytes(l, -1).unwrap_or_default()).into_owned();
        ffi::lua_pop(l, 1);
        let ignore = raw_get_field(l, -1, c"ignore_error_stats_update") == ffi::LUA_TBOOLEAN
            && ffi::lua_toboolean(l, -1) != 0;
        ffi::lua_pop(l, 1);
        write_error(ctx, &msg, ignore);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_get_field(l, -1, c"ok") == ffi::LUA_TSTRING {
        let ok = String::from_utf8_lossy(lua::to_bytes(l, -1).unwrap_or_default())
            .replace(['\r', '\n'], " ");
        ctx.out.simple(&ok);
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_get_field(l, -1, c"double") == ffi::LUA_TNUMBER {
        ctx.out.double(ffi::lua_tonumber(l, -1));
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_get_field(l, -1, c"big_number") == ffi::LUA_TSTRING {
        let digits = String::from_utf8_lossy(lua::to_bytes(l, -1).unwrap_or_default())
            .replace(['\r', '\n'], " ");
        ctx.out.big_number(&digits);
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_get_field(l, -1, c"verbatim_string") == ffi::LUA_TTABLE {
        if raw_get_field(l, -1, c"format") == ffi::LUA_TSTRING {
            if raw_get_field(l, -2, c"string") == ffi::LUA_TSTRING {
                let format = lua::to_bytes(l, -2).unwrap_or_default();
                let format = String::from_utf8_lossy(&format[..format.len().min(3)]).into_owned();
                ctx.out
                    .verbatim(&format, lua::to_bytes(l, -1).unwrap_or_default());
                ffi::lua_pop(l, 3);
                return;
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
    }
    ffi::lua_pop(l, 1);
    if raw_get_field(l, -1, c"map") == ffi::LUA_TTABLE {
        let n = count_pairs(l);
        ctx.out.map_len(n);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pushvalue(l, -2);
            write_reply(l, ctx, resp3); // the key
            write_reply(l, ctx, resp3); // the value
        }
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    if raw_get_field(l, -1, c"set") == ffi::LUA_TTABLE {
        let n = count_pairs(l);
        ctx.out.set_len(n);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            ffi::lua_pushvalue(l, -1);
            write_reply(l, ctx, resp3);
        }
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pop(l, 1);
    // An array: elements 1, 2, … up to the first nil.
    let mut n = 0usize;
    while n < c_int::MAX as usize {
        ffi::lua_rawgeti_(l, -1, (n + 1) as c_int);
        let nil = ffi::lua_type(l, -1) == ffi::LUA_TNIL;
        ffi::lua_pop(l, 1);
        if nil {
            break;
        }
        n += 1;
    }
    ctx.out.array_len(n);
    for i in 1..=n {
        ffi::lua_rawgeti_(l, -1, i as c_int);
        write_reply(l, ctx, resp3);
    }
}

/// Number of pairs of the table on top (a first `lua_next` pass).
unsafe fn count_pairs(l: State) -> usize {
    let mut n = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        n += 1;
    }
    n
}

/// Writes an error reply returned by a script; counted in the error statistics unless it came
/// from a command (already counted when the command replied).
pub fn write_error(ctx: &mut ExecCtx<'_>, msg: &str, already_counted: bool) {
    if already_counted {
        ctx.out.error(msg);
    } else {
        dispatch::reply_error(ctx, &CmdError::Other(msg.to_string()));
    }
}
