//! The `cjson` library Redis bundles (Lua CJSON 2.1.0): `encode`, `decode`, the
//! configuration functions (`encode_sparse_array`, `encode_max_depth`, `decode_max_depth`,
//! `encode_number_precision`, `encode_keep_buffer`, `encode_invalid_numbers`,
//! `decode_invalid_numbers`), `new`, `null`, `_NAME`, `_VERSION`.
//!
//! As the C library: numbers print with `%.14g` (configurable), `/` is escaped, tables whose
//! keys are all positive integers encode as arrays (nil holes as `null`) unless excessively
//! sparse, other tables as objects in `next` order; JSON null decodes to `cjson.null` (a null
//! light userdata); numbers decode with `strtod` (hex, `inf`, `nan` accepted by default). The
//! configuration lives in a userdata shared by the module's functions, so a script's changes
//! persist for later scripts, as in Redis.

use super::lua::{
    ffi, format_g, push_bytes, push_error_where, push_str, raw_set_field, to_bytes, LuaErr,
    LuaResult, State,
};
use std::ffi::{c_int, c_void, CStr};

/// The configuration (a userdata upvalue of every module function).
#[derive(Clone, Copy)]
#[repr(C)]
struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 off, 1 on, 2 null.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: i32,
    keep_buffer: i32,
    precision: i32,
}

const DEFAULT: Config = Config {
    sparse_convert: 0,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: 1,
    keep_buffer: 1,
    precision: 14,
};

unsafe fn config<'a>(l: State) -> Option<&'a mut Config> {
    ffi::lua_touserdata(l, ffi::lua_upvalueindex(1))
        .cast::<Config>()
        .as_mut()
}

unsafe fn raise(l: State, msg: &str) -> LuaErr {
    push_error_where(l, msg);
    LuaErr::Raised
}

fn type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TLIGHTUSERDATA => "userdata",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TTHREAD => "thread",
        _ => "no value",
    }
}

// ---- encoding

struct Encoder<'c> {
    cfg: &'c Config,
    out: Vec<u8>,
}

const ESCAPES: [Option<&str>; 128] = {
    let mut t: [Option<&str>; 128] = [None; 128];
    let table: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019",
        "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ];
    let mut i = 0;
    while i < 32 {
        t[i] = Some(table[i]);
        i += 1;
    }
    t[b'"' as usize] = Some("\\\"");
    t[b'/' as usize] = Some("\\/");
    t[b'\\' as usize] = Some("\\\\");
    t[127] = Some("\\u007f");
    t
};

impl Encoder<'_> {
    fn string(&mut self, s: &[u8]) {
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        for &c in s {
            match ESCAPES.get(usize::from(c)).copied().flatten() {
                Some(e) => self.out.extend_from_slice(e.as_bytes()),
                None => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }

    /// Appends a number; an error message when it is refused.
    fn number(&mut self, n: f64) -> Result<(), &'static str> {
        match self.cfg.encode_invalid_numbers {
            0 if !n.is_finite() => return Err("must not be NaN or Inf"),
            1 if n.is_nan() => {
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            2 if !n.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        format_g(n, self.cfg.precision.clamp(1, 14) as usize, &mut self.out);
        Ok(())
    }

    /// Encodes the value on top of the stack (left there).
    unsafe fn value(&mut self, l: State, depth: i32) -> Result<(), LuaErr> {
        let t = ffi::lua_type(l, -1);
        match t {
            ffi::LUA_TSTRING => self.string(to_bytes(l, -1).unwrap_or_default()),
            ffi::LUA_TNUMBER => {
                if let Err(why) = self.number(ffi::lua_tonumber(l, -1)) {
                    return Err(raise(l, &format!("Cannot serialise number: {why}")));
                }
            }
            ffi::LUA_TBOOLEAN => {
                let b = ffi::lua_toboolean(l, -1) != 0;
                self.out
                    .extend_from_slice(if b { b"true" } else { b"false" });
            }
            ffi::LUA_TTABLE => {
                let depth = depth + 1;
                if depth > self.cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                    return Err(raise(
                        l,
                        &format!("Cannot serialise, excessive nesting ({depth})"),
                    ));
                }
                let len = self.array_length(l)?;
                if len > 0 {
                    self.out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            self.out.push(b',');
                        }
                        ffi::lua_rawgeti_(l, -1, i);
                        self.value(l, depth)?;
                        ffi::lua_pop(l, 1);
                    }
                    self.out.push(b']');
                } else {
                    self.object(l, depth)?;
                }
            }
            ffi::LUA_TNIL => self.out.extend_from_slice(b"null"),
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                self.out.extend_from_slice(b"null")
            }
            _ => {
                return Err(raise(
                    l,
                    &format!("Cannot serialise {}: type not supported", type_name(t)),
                ))
            }
        }
        Ok(())
    }

    /// `lua_array_length`: the array size, or 0 for an object.
    unsafe fn array_length(&mut self, l: State) -> Result<c_int, LuaErr> {
        let mut max = 0f64;
        let mut items = 0f64;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            let k = ffi::lua_tonumber(l, -2);
            if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER && k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > max {
                    max = k;
                }
                items += 1.0;
                ffi::lua_pop(l, 1);
                continue;
            }
            ffi::lua_pop(l, 2);
            return Ok(0);
        }
        let cfg = self.cfg;
        if cfg.sparse_ratio > 0
            && max > items * f64::from(cfg.sparse_ratio)
            && max > f64::from(cfg.sparse_safe)
        {
            if cfg.sparse_convert == 0 {
                return Err(raise(l, "Cannot serialise table: excessively sparse array"));
            }
            return Ok(0);
        }
        Ok(max.min(f64::from(c_int::MAX)) as c_int)
    }

    unsafe fn object(&mut self, l: State, depth: i32) -> Result<(), LuaErr> {
        self.out.push(b'{');
        let mut first = true;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            if !first {
                self.out.push(b',');
            }
            first = false;
            match ffi::lua_type(l, -2) {
                ffi::LUA_TNUMBER => {
                    self.out.push(b'"');
                    if let Err(why) = self.number(ffi::lua_tonumber(l, -2)) {
                        return Err(raise(l, &format!("Cannot serialise number: {why}")));
                    }
                    self.out.extend_from_slice(b"\":");
                }
                ffi::LUA_TSTRING => {
                    self.string(to_bytes(l, -2).unwrap_or_default());
                    self.out.push(b':');
                }
                t => {
                    return Err(raise(
                        l,
                        &format!(
                            "Cannot serialise {}: table key must be a number or string",
                            type_name(t)
                        ),
                    ))
                }
            }
            self.value(l, depth)?;
            ffi::lua_pop(l, 1);
        }
        self.out.push(b'}');
        Ok(())
    }
}

unsafe fn encode_impl(l: State) -> LuaResult {
    let Some(cfg) = config(l) else {
        return Err(raise(l, "BUG: Unable to fetch CJSON configuration"));
    };
    if ffi::lua_gettop(l) != 1 {
        return Err(LuaErr::Arg(1, c"expected 1 argument"));
    }
    let cfg = *cfg;
    let mut enc = Encoder {
        cfg: &cfg,
        out: Vec::new(),
    };
    enc.value(l, 0)?;
    push_bytes(l, &enc.out);
    Ok(1)
}

// ---- decoding

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    cfg: Config,
    depth: i32,
    /// The last string token's bytes.
    tmp: Vec<u8>,
}

/// Either a Lua error already pushed or a parse error to format.
enum Fail {
    Lua(LuaErr),
    Expected(&'static str, Tok, usize),
}

impl Parser<'_> {
    /// The byte at `i` as C sees the NUL-terminated string (0 past the end).
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn next(&mut self) -> (Tok, usize) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let ch = self.at(self.pos);
        let single = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return (Tok::End, start),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return (t, start);
        }
        match ch {
            b'"' => {
                let t = self.string();
                let at = if matches!(t, Tok::Error(_)) {
                    self.pos
                } else {
                    start
                };
                (t, at)
            }
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.invalid_number() {
                    return (Tok::Error("invalid number"), self.pos);
                }
                self.number(start)
            }
            _ if self.data[self.pos.min(self.data.len())..].starts_with(b"true") => {
                self.pos += 4;
                (Tok::Bool(true), start)
            }
            _ if self.data[self.pos.min(self.data.len())..].starts_with(b"false") => {
                self.pos += 5;
                (Tok::Bool(false), start)
            }
            _ if self.data[self.pos.min(self.data.len())..].starts_with(b"null") => {
                self.pos += 4;
                (Tok::Null, start)
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+'
                if self.cfg.decode_invalid_numbers != 0 && self.invalid_number() =>
            {
                self.number(start)
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => (Tok::Error("invalid token"), start),
            _ => (Tok::Error("invalid token"), start),
        }
    }

    /// `json_is_invalid_number`: numbers strict JSON refuses (`+`, hex, leading zeros, inf,
    /// nan).
    fn invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let ch2 = self.at(p + 1);
            return (ch2 | 0x20) == b'x' || ch2.is_ascii_digit();
        } else if self.at(p) <= b'9' {
            return false;
        }
        let rest = &self.data[p.min(self.data.len())..];
        let starts = |w: &[u8]| rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(w);
        starts(b"inf") || starts(b"nan")
    }

    fn number(&mut self, start: usize) -> (Tok, usize) {
        match strtod(&self.data[start.min(self.data.len())..]) {
            Some((v, used)) => {
                self.pos = start + used;
                (Tok::Num(v), start)
            }
            None => (Tok::Error("invalid number"), start),
        }
    }

    fn string(&mut self) -> Tok {
        self.pos += 1;
        self.tmp.clear();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return Tok::Error("unexpected end of string");
            }
            if ch == b'\\' {
                let esc = self.at(self.pos + 1);
                let c = match esc {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return Tok::Error("invalid unicode escape code");
                    }
                    _ => return Tok::Error("invalid escape code"),
                };
                self.tmp.push(c);
                self.pos += 2;
                continue;
            }
            self.tmp.push(ch);
            self.pos += 1;
        }
        self.pos += 1;
        Tok::Str
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = (v << 4) | (self.at(at + i) as char).to_digit(16)?;
        }
        Some(v)
    }

    /// `\uXXXX` (with a surrogate pair) to UTF-8; false on an invalid escape.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        let n = if cp <= 0x7F {
            buf[0] = cp as u8;
            1
        } else if cp <= 0x7FF {
            buf[0] = ((cp >> 6) | 0xC0) as u8;
            buf[1] = ((cp & 0x3F) | 0x80) as u8;
            2
        } else if cp <= 0xFFFF {
            buf[0] = ((cp >> 12) | 0xE0) as u8;
            buf[1] = (((cp >> 6) & 0x3F) | 0x80) as u8;
            buf[2] = ((cp & 0x3F) | 0x80) as u8;
            3
        } else {
            buf[0] = ((cp >> 18) | 0xF0) as u8;
            buf[1] = (((cp >> 12) & 0x3F) | 0x80) as u8;
            buf[2] = (((cp >> 6) & 0x3F) | 0x80) as u8;
            buf[3] = ((cp & 0x3F) | 0x80) as u8;
            4
        };
        self.tmp.extend_from_slice(&buf[..n]);
        self.pos += len;
        true
    }

    unsafe fn descend(&mut self, l: State, slots: c_int) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return Ok(());
        }
        Err(Fail::Lua(raise(
            l,
            &format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            ),
        )))
    }

    /// Pushes the value that starts with `tok`.
    unsafe fn value(&mut self, l: State, tok: (Tok, usize)) -> Result<(), Fail> {
        match tok.0 {
            Tok::Str => push_bytes(l, &self.tmp),
            Tok::Num(n) => ffi::lua_pushnumber(l, n),
            Tok::Bool(b) => ffi::lua_pushboolean(l, c_int::from(b)),
            Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut::<c_void>()),
            Tok::ObjBegin => self.object(l)?,
            Tok::ArrBegin => self.array(l)?,
            t => return Err(Fail::Expected("value", t, tok.1)),
        }
        Ok(())
    }

    unsafe fn object(&mut self, l: State) -> Result<(), Fail> {
        self.descend(l, 3)?;
        ffi::lua_createtable(l, 0, 0);
        let mut tok = self.next();
        if tok.0 == Tok::ObjEnd {
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if tok.0 != Tok::Str {
                return Err(Fail::Expected("object key string", tok.0, tok.1));
            }
            push_bytes(l, &self.tmp);
            let colon = self.next();
            if colon.0 != Tok::Colon {
                return Err(Fail::Expected("colon", colon.0, colon.1));
            }
            let v = self.next();
            self.value(l, v)?;
            ffi::lua_rawset(l, -3);
            let sep = self.next();
            if sep.0 == Tok::ObjEnd {
                self.depth -= 1;
                return Ok(());
            }
            if sep.0 != Tok::Comma {
                return Err(Fail::Expected("comma or object end", sep.0, sep.1));
            }
            tok = self.next();
        }
    }

    unsafe fn array(&mut self, l: State) -> Result<(), Fail> {
        self.descend(l, 2)?;
        ffi::lua_createtable(l, 0, 0);
        let mut tok = self.next();
        if tok.0 == Tok::ArrEnd {
            self.depth -= 1;
            return Ok(());
        }
        let mut i: c_int = 1;
        loop {
            self.value(l, tok)?;
            ffi::lua_rawseti_(l, -2, i);
            i = i.saturating_add(1);
            let sep = self.next();
            if sep.0 == Tok::ArrEnd {
                self.depth -= 1;
                return Ok(());
            }
            if sep.0 != Tok::Comma {
                return Err(Fail::Expected("comma or array end", sep.0, sep.1));
            }
            tok = self.next();
        }
    }
}

/// C's `strtod` on a prefix: (value, bytes used), or None when nothing converts.
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let lower = |n: usize| -> Vec<u8> { rest.iter().take(n).map(u8::to_ascii_lowercase).collect() };
    if lower(3) == b"inf" {
        let used = if lower(8) == b"infinity" { 8 } else { 3 };
        return Some((sign * f64::INFINITY, i + used));
    }
    if lower(3) == b"nan" {
        let mut used = 3;
        if rest.get(3) == Some(&b'(') {
            if let Some(close) = rest[4..].iter().position(|&c| c == b')') {
                if rest[4..4 + close]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    used = 4 + close + 1;
                }
            }
        }
        return Some((f64::NAN, i + used));
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used)) = hex_float(&rest[2..]) {
            return Some((sign * v, i + 2 + used));
        }
        // "0x" alone converts the "0".
        return Some((sign * 0.0, i + 1));
    }
    let mut j = 0;
    let digits = |j: &mut usize| {
        let start = *j;
        while *j < rest.len() && rest[*j].is_ascii_digit() {
            *j += 1;
        }
        *j - start
    };
    let int_digits = digits(&mut j);
    let mut frac_digits = 0;
    if j < rest.len() && rest[j] == b'.' {
        let mut k = j + 1;
        frac_digits = digits(&mut k);
        if int_digits > 0 || frac_digits > 0 {
            j = k;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if j < rest.len() && (rest[j] | 0x20) == b'e' {
        let mut k = j + 1;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            k += 1;
        }
        if digits(&mut k) > 0 {
            j = k;
        }
    }
    let text = std::str::from_utf8(&rest[..j]).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign * v, i + j))
}

/// Hex digits with an optional fraction and binary exponent (after "0x").
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut j = 0;
    let mut v = 0f64;
    let mut any = false;
    while j < s.len() && s[j].is_ascii_hexdigit() {
        v = v * 16.0 + f64::from((s[j] as char).to_digit(16)?);
        j += 1;
        any = true;
    }
    if j < s.len() && s[j] == b'.' {
        let mut k = j + 1;
        let mut scale = 1.0 / 16.0;
        let mut frac = false;
        while k < s.len() && s[k].is_ascii_hexdigit() {
            v += f64::from((s[k] as char).to_digit(16)?) * scale;
            scale /= 16.0;
            k += 1;
            frac = true;
        }
        if any || frac {
            j = k;
            any = true;
        }
    }
    if !any {
        return None;
    }
    if j < s.len() && (s[j] | 0x20) == b'p' {
        let mut k = j + 1;
        let neg = k < s.len() && s[k] == b'-';
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            k += 1;
        }
        let start = k;
        let mut e: i32 = 0;
        while k < s.len() && s[k].is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add(i32::from(s[k] - b'0'));
            k += 1;
        }
        if k > start {
            v *= 2f64.powi(if neg { -e } else { e });
            j = k;
        }
    }
    Some((v, j))
}

unsafe fn decode_impl(l: State) -> LuaResult {
    let Some(cfg) = config(l) else {
        return Err(raise(l, "BUG: Unable to fetch CJSON configuration"));
    };
    if ffi::lua_gettop(l) != 1 {
        return Err(LuaErr::Arg(1, c"expected 1 argument"));
    }
    let data = match ffi::lua_type(l, 1) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => to_bytes(l, 1).unwrap_or_default(),
        _ => return Err(LuaErr::Type(1, c"string")),
    };
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(raise(l, "JSON parser does not support UTF-16 or UTF-32"));
    }
    let mut p = Parser {
        data,
        pos: 0,
        cfg: *cfg,
        depth: 0,
        tmp: Vec::new(),
    };
    let result = (|| {
        let first = p.next();
        p.value(l, first)?;
        let end = p.next();
        if end.0 != Tok::End {
            return Err(Fail::Expected("the end", end.0, end.1));
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(1),
        Err(Fail::Lua(e)) => Err(e),
        Err(Fail::Expected(what, found, at)) => Err(raise(
            l,
            &format!(
                "Expected {what} but found {} at character {}",
                found.name(),
                at + 1
            ),
        )),
    }
}

// ---- configuration

/// `json_arg_init`: at most `args` arguments.
unsafe fn arg_init<'a>(l: State, args: c_int) -> Result<&'a mut Config, LuaErr> {
    if ffi::lua_gettop(l) > args {
        return Err(LuaErr::Arg(args + 1, c"found too many arguments"));
    }
    ffi::lua_settop(l, args);
    match config(l) {
        Some(c) => Ok(c),
        None => Err(raise(l, "BUG: Unable to fetch CJSON configuration")),
    }
}

/// `json_integer_option`.
unsafe fn integer_option(
    l: State,
    idx: c_int,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> Result<(), LuaErr> {
    if ffi::lua_isnil(l, idx) == 0 {
        if ffi::lua_isnumber(l, idx) == 0 {
            return Err(LuaErr::Type(idx, c"number"));
        }
        let v = ffi::lua_tonumber(l, idx) as i64;
        if v < i64::from(min) || v > i64::from(max) {
            push_str(l, &format!("expected integer between {min} and {max}"));
            return Err(LuaErr::ArgTop(1));
        }
        *setting = v as i32;
    }
    ffi::lua_pushnumber(l, f64::from(*setting));
    Ok(())
}

/// `json_enum_option` with `options` (bool_true = 1): a boolean or one of the names.
unsafe fn enum_option(
    l: State,
    idx: c_int,
    setting: &mut i32,
    options: &[&str],
) -> Result<(), LuaErr> {
    if ffi::lua_isnil(l, idx) == 0 {
        if ffi::lua_type(l, idx) == ffi::LUA_TBOOLEAN {
            *setting = ffi::lua_toboolean(l, idx);
        } else {
            let given = match ffi::lua_type(l, idx) {
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER => to_bytes(l, idx).unwrap_or_default(),
                _ => return Err(LuaErr::Type(idx, c"string")),
            };
            match options.iter().position(|o| o.as_bytes() == given) {
                Some(i) => *setting = i as i32,
                None => {
                    let msg = format!("invalid option '{}'", String::from_utf8_lossy(given));
                    push_str(l, &msg);
                    return Err(LuaErr::ArgTop(idx));
                }
            }
        }
    }
    if *setting == 0 || *setting == 1 {
        ffi::lua_pushboolean(l, *setting);
    } else {
        push_str(l, options.get(*setting as usize).copied().unwrap_or("off"));
    }
    Ok(())
}

const ON_OFF: &[&str] = &["off", "on"];

unsafe fn sparse_impl(l: State) -> LuaResult {
    let cfg = arg_init(l, 3)?;
    enum_option(l, 1, &mut cfg.sparse_convert, ON_OFF)?;
    integer_option(l, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
    integer_option(l, 3, &mut cfg.sparse_safe, 0, i32::MAX)?;
    Ok(3)
}

unsafe fn encode_depth_impl(l: State) -> LuaResult {
    let cfg = arg_init(l, 1)?;
    integer_option(l, 1, &mut cfg.encode_max_depth, 1, i32::MAX)?;
    Ok(1)
}

unsafe fn decode_depth_impl(l: State) -> LuaResult {
    let cfg = arg_init(l, 1)?;
    integer_option(l, 1, &mut cfg.decode_max_depth, 1, i32::MAX)?;
    Ok(1)
}

unsafe fn precision_impl(l: State) -> LuaResult {
    let cfg = arg_init(l, 1)?;
    integer_option(l, 1, &mut cfg.precision, 1, 14)?;
    Ok(1)
}

unsafe fn keep_buffer_impl(l: State) -> LuaResult {
    let cfg = arg_init(l, 1)?;
    enum_option(l, 1, &mut cfg.keep_buffer, ON_OFF)?;
    Ok(1)
}

unsafe fn encode_invalid_impl(l: State) -> LuaResult {
    let cfg = arg_init(l, 1)?;
    enum_option(
        l,
        1,
        &mut cfg.encode_invalid_numbers,
        &["off", "on", "null"],
    )?;
    Ok(1)
}

unsafe fn decode_invalid_impl(l: State) -> LuaResult {
    let cfg = arg_init(l, 1)?;
    enum_option(l, 1, &mut cfg.decode_invalid_numbers, ON_OFF)?;
    Ok(1)
}

unsafe fn new_impl(l: State) -> LuaResult {
    push_module(l);
    Ok(1)
}

super::lua::lua_cfn!(json_encode, encode_impl);
super::lua::lua_cfn!(json_decode, decode_impl);
super::lua::lua_cfn!(json_sparse, sparse_impl);
super::lua::lua_cfn!(json_encode_depth, encode_depth_impl);
super::lua::lua_cfn!(json_decode_depth, decode_depth_impl);
super::lua::lua_cfn!(json_precision, precision_impl);
super::lua::lua_cfn!(json_keep_buffer, keep_buffer_impl);
super::lua::lua_cfn!(json_encode_invalid, encode_invalid_impl);
super::lua::lua_cfn!(json_decode_invalid, decode_invalid_impl);
super::lua::lua_cfn!(json_new, new_impl);

/// Pushes a module table with a fresh configuration (`lua_cjson_new`).
unsafe fn push_module(l: State) {
    let fns: &[(&CStr, ffi::lua_CFunction)] = &[
        (c"encode", json_encode),
        (c"decode", json_decode),
        (c"encode_sparse_array", json_sparse),
        (c"encode_max_depth", json_encode_depth),
        (c"decode_max_depth", json_decode_depth),
        (c"encode_number_precision", json_precision),
        (c"encode_keep_buffer", json_keep_buffer),
        (c"encode_invalid_numbers", json_encode_invalid),
        (c"decode_invalid_numbers", json_decode_invalid),
        (c"new", json_new),
    ];
    ffi::lua_createtable(l, 0, 14);
    let cfg = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()).cast::<Config>();
    // SAFETY: a fresh userdata block of the right size, aligned for any C type.
    cfg.write(DEFAULT);
    for (name, f) in fns {
        ffi::lua_pushvalue(l, -1);
        ffi::lua_pushcclosure(l, *f, 1);
        raw_set_field(l, -3, name);
    }
    ffi::lua_pop(l, 1);
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    raw_set_field(l, -2, c"null");
    push_str(l, "cjson");
    raw_set_field(l, -2, c"_NAME");
    push_str(l, "2.1.0");
    raw_set_field(l, -2, c"_VERSION");
}

/// `luaopen_cjson`: sets the global `cjson` table.
///
/// # Safety
/// Called by Lua only, as a C function of a state built by `engine::build`.
pub unsafe extern "C-unwind" fn luaopen_cjson(l: State) -> c_int {
    push_module(l);
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cjson".as_ptr());
    1
}

#[cfg(test)]
mod tests {
    use super::strtod;

    #[test]
    fn strtod_prefixes() {
        assert_eq!(strtod(b"1e2x"), Some((100.0, 3)));
        assert_eq!(strtod(b"-0.5,"), Some((-0.5, 4)));
        assert_eq!(strtod(b"0x10"), Some((16.0, 4)));
        assert_eq!(strtod(b"+1"), Some((1.0, 2)));
        assert_eq!(strtod(b"01"), Some((1.0, 2)));
        assert_eq!(strtod(b"1."), Some((1.0, 2)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"-"), None);
        assert_eq!(strtod(b"Infinity"), Some((f64::INFINITY, 8)));
        assert!(strtod(b"nan").unwrap().0.is_nan());
    }
}
