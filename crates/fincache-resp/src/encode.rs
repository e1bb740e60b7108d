//! Reply encoding for RESP2 and RESP3 into one growing output buffer.
//!
//! Handlers write replies straight into the connection's buffer through [`ReplyEncoder`]; no reply
//! tree is built on the hot path. RESP3-only types degrade to their RESP2 forms exactly as Redis
//! degrades them (maps become flat arrays, doubles become bulk strings, null becomes `$-1`/`*-1`,
//! booleans become integers, pushes become arrays).

use crate::Protocol;

/// Writes replies in the connection's protocol.
#[derive(Debug, Default)]
pub struct ReplyEncoder {
    pub buf: Vec<u8>,
    pub proto: Protocol,
}

impl ReplyEncoder {
    pub fn new(proto: Protocol) -> Self {
        ReplyEncoder {
            buf: Vec::with_capacity(16 * 1024),
            proto,
        }
    }

    #[inline]
    pub fn is_resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    #[inline]
    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`-style status reply. `s` must not contain `\r` or `\n`.
    #[inline]
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// Error reply; `msg` is the full text including its prefix (`ERR ...`, `WRONGTYPE ...`).
    /// Newlines are replaced by spaces, as Redis does, so a reply can never be split.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        self.buf.extend(
            msg.bytes()
                .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    #[inline]
    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Bulk string of a decimal integer (e.g. a GET of an integer-encoded string).
    #[inline]
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    /// The null bulk string (RESP2 `$-1`, RESP3 `_`).
    #[inline]
    pub fn null(&mut self) {
        if self.is_resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (RESP2 `*-1`, RESP3 `_`), e.g. a timed-out BLPOP or an aborted EXEC.
    #[inline]
    pub fn null_array(&mut self) {
        if self.is_resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    #[inline]
    pub fn array_len(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs (RESP3 `%`, RESP2 a flat array of 2n elements).
    #[inline]
    pub fn map_len(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set of `n` elements (RESP3 `~`, RESP2 an array).
    #[inline]
    pub fn set_len(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'~', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    /// An out-of-band push of `n` elements (RESP3 `>`, RESP2 an array).
    #[inline]
    pub fn push_len(&mut self, n: usize) {
        if self.is_resp3() {
            self.header(b'>', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    /// A double, formatted as Redis 7.2+ formats it (shortest round-trip form, `inf`, `-inf`,
    /// `nan`). RESP3 `,`; RESP2 a bulk string.
    pub fn double(&mut self, v: f64) {
        let mut tmp = [0u8; 40];
        let n = crate::encode::format_double_into(v, &mut tmp);
        if self.is_resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(&tmp[..n]);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(&tmp[..n]);
        }
    }

    /// A boolean (RESP3 `#t`/`#f`, RESP2 `:1`/`:0`).
    pub fn boolean(&mut self, v: bool) {
        if self.is_resp3() {
            self.buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(i64::from(v));
        }
    }

    /// A big number given as decimal digits (RESP3 `(`, RESP2 a bulk string).
    pub fn big_number(&mut self, digits: &str) {
        if self.is_resp3() {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(digits.as_bytes());
        }
    }

    /// Verbatim text with a three-letter format such as `txt` (RESP3 `=`, RESP2 a bulk string).
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if self.is_resp3() {
            self.header(b'=', (text.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Appends bytes that are already a complete encoded reply.
    pub fn raw(&mut self, encoded: &[u8]) {
        self.buf.extend_from_slice(encoded);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything written after `mark` (used to replace a partial reply by an error).
    pub fn truncate(&mut self, mark: usize) {
        self.buf.truncate(mark);
    }
}

/// Formats a double the way Redis 7.2+ replies with it (`fpconv_dtoa`: shortest round-trip
/// digits, `%g`-like exponent switch), into `out`; returns the length written.
pub fn format_double_into(v: f64, out: &mut [u8; 40]) -> usize {
    if v.is_nan() {
        out[..3].copy_from_slice(b"nan");
        return 3;
    }
    if v.is_infinite() {
        let s: &[u8] = if v > 0.0 { b"inf" } else { b"-inf" };
        out[..s.len()].copy_from_slice(s);
        return s.len();
    }
    let s = format_double(v);
    out[..s.len()].copy_from_slice(s.as_bytes());
    s.len()
}

/// Shortest round-trip decimal for `v`, laid out as Redis's `fpconv_dtoa` lays it out.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits as d.ddddde±x.
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp10: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let ndigits = digits.len() as i32;
    // K: the power of ten of the last digit.
    let k = exp10 - (ndigits - 1);
    let neg = v < 0.0;
    let mut out = String::with_capacity(32);
    if neg {
        out.push('-');
    }
    let exp_abs = (k + ndigits - 1).abs();
    if k >= 0 && exp_abs < ndigits + 7 {
        out.push_str(&digits);
        for _ in 0..k {
            out.push('0');
        }
        return out;
    }
    if k < 0 && (k > -7 || exp_abs < 4) {
        let offset = ndigits - k.abs();
        if offset <= 0 {
            out.push_str("0.");
            for _ in 0..(-offset) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let (a, b) = digits.split_at(offset as usize);
            out.push_str(a);
            out.push('.');
            out.push_str(b);
        }
        return out;
    }
    let nd = ndigits.min(18 - i32::from(neg)) as usize;
    out.push_str(&digits[..1]);
    if nd > 1 {
        out.push('.');
        out.push_str(&digits[1..nd]);
    }
    out.push('e');
    out.push(if k + ndigits - 1 < 0 { '-' } else { '+' });
    out.push_str(&exp_abs.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_degradations() {
        let mut e = ReplyEncoder::new(Protocol::Resp2);
        e.map_len(1);
        e.null();
        e.boolean(true);
        e.double(1.5);
        assert_eq!(e.buf, b"*2\r\n$-1\r\n:1\r\n$3\r\n1.5\r\n");
    }

    #[test]
    fn resp3_types() {
        let mut e = ReplyEncoder::new(Protocol::Resp3);
        e.map_len(1);
        e.null();
        e.boolean(false);
        e.double(f64::INFINITY);
        e.verbatim("txt", b"hi");
        assert_eq!(e.buf, b"%1\r\n_\r\n#f\r\n,inf\r\n=6\r\ntxt:hi\r\n");
    }

    #[test]
    fn doubles_like_redis() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(0.1), "0.1");
        assert_eq!(format_double(100.0), "100");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(12345678.0), "12345678");
        assert_eq!(format_double(1e25), "1e+25");
        assert_eq!(format_double(1.5e-7), "1.5e-7");
        assert_eq!(format_double(-3.25), "-3.25");
        assert_eq!(format_double(0.0001), "0.0001");
    }
}
