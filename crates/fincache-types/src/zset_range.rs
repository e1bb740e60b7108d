//! Sorted-set arguments with Redis's parsing rules: scores (`string2d`), score range bounds
//! (`zslParseRange`: `(` for exclusive, `-inf`/`+inf`, C `strtod` syntax) and lexical range
//! bounds (`zslParseLexRange`: `[` inclusive, `(` exclusive, `-` and `+` for the ends).
//!
//! Redis reads numbers with C's `strtod`, so this module carries a small `strtod` of its own:
//! hexadecimal floats (`0x1p4`), `inf`/`infinity`, and the overflow rules Redis applies on top
//! (a score that overflows to infinity or underflows to zero is refused; a range bound is not).

use std::cmp::Ordering;

/// What C's `strtod` makes of the start of `s`: the value, the bytes consumed (0 when nothing
/// converts, as `strtod` then leaves the end pointer at the start), and whether it set
/// `ERANGE` (overflow to infinity, or a non-zero number that rounds to zero).
pub fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let start_ws = i;
    let negative = match s.get(i) {
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
    let sign = if negative { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let starts =
        |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts(b"infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if starts(b"inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if starts(b"nan") {
        let mut end = i + 3;
        // "nan(chars)" takes the parenthesised part too.
        if s.get(end) == Some(&b'(') {
            let mut k = end + 1;
            while k < s.len() && (s[k].is_ascii_alphanumeric() || s[k] == b'_') {
                k += 1;
            }
            if s.get(k) == Some(&b')') {
                end = k + 1;
            }
        }
        return (f64::NAN, end, false);
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used, erange)) = hex_float(&rest[2..]) {
            return (sign * v, i + 2 + used, erange);
        }
        // "0x" without hex digits: strtod reads the "0" alone.
        return (sign * 0.0, i + 1, false);
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one mantissa digit.
    let mut k = i;
    let mut mantissa_digits = 0;
    let mut nonzero = false;
    while k < s.len() && s[k].is_ascii_digit() {
        nonzero |= s[k] != b'0';
        mantissa_digits += 1;
        k += 1;
    }
    if k < s.len() && s[k] == b'.' {
        k += 1;
        while k < s.len() && s[k].is_ascii_digit() {
            nonzero |= s[k] != b'0';
            mantissa_digits += 1;
            k += 1;
        }
    }
    if mantissa_digits == 0 {
        let _ = start_ws;
        return (0.0, 0, false);
    }
    if k < s.len() && (s[k] | 0x20) == b'e' {
        let mut e = k + 1;
        if e < s.len() && (s[e] == b'+' || s[e] == b'-') {
            e += 1;
        }
        if e < s.len() && s[e].is_ascii_digit() {
            while e < s.len() && s[e].is_ascii_digit() {
                e += 1;
            }
            k = e;
        }
    }
    // The slice is ASCII digits, '.', 'e', signs: valid UTF-8 that Rust's parser accepts
    // (it rounds correctly, as glibc does).
    let text = std::str::from_utf8(&s[i..k]).unwrap_or("0");
    let v = text.parse::<f64>().unwrap_or(0.0);
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    (sign * v, k, erange)
}

/// A hexadecimal float after the `0x`: hex digits with an optional point and an optional
/// binary exponent `p[sign]digits`. None when no hex digit is there.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mant: u64 = 0;
    let mut exp2: i64 = 0;
    let mut digits = 0;
    let mut k = 0;
    let mut seen_point = false;
    let mut nonzero = false;
    while k < s.len() {
        let c = s[k];
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            b'.' if !seen_point => {
                seen_point = true;
                k += 1;
                continue;
            }
            _ => break,
        };
        digits += 1;
        nonzero |= d != 0;
        if mant >> 56 == 0 {
            mant = (mant << 4) | u64::from(d);
            if seen_point {
                exp2 -= 4;
            }
        } else if !seen_point {
            // Too many digits to keep: drop them, keep the magnitude.
            exp2 += 4;
        }
        k += 1;
    }
    if digits == 0 {
        return None;
    }
    if k < s.len() && (s[k] | 0x20) == b'p' {
        let mut e = k + 1;
        let mut neg = false;
        if e < s.len() && (s[e] == b'+' || s[e] == b'-') {
            neg = s[e] == b'-';
            e += 1;
        }
        if e < s.len() && s[e].is_ascii_digit() {
            let mut v: i64 = 0;
            while e < s.len() && s[e].is_ascii_digit() {
                v = (v * 10 + i64::from(s[e] - b'0')).min(100_000);
                e += 1;
            }
            exp2 += if neg { -v } else { v };
            k = e;
        }
    }
    let exp = exp2.clamp(-20_000, 20_000) as i32;
    // Scale in two steps so a large mantissa with a very negative exponent does not underflow
    // on the way.
    let v = (mant as f64) * 2f64.powi(exp / 2) * 2f64.powi(exp - exp / 2);
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    Some((v, k, erange))
}

/// A score argument, as Redis's `getDoubleFromObject` (`string2d`) reads it: the whole
/// argument must be a number, no leading space, no NaN, and no overflow to infinity or
/// underflow to zero (`inf` written out is fine). `ERR value is not a valid float` otherwise.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() || matches!(s[0], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return None;
    }
    let (v, used, erange) = strtod(s);
    if used != s.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

/// The part of an argument C code sees: up to the first NUL byte.
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(end) => &s[..end],
        None => s,
    }
}

/// One end of a score range: `strtod` must consume the whole (C) string, NaN refused.
fn parse_score_bound(s: &[u8]) -> Option<(f64, bool)> {
    let s = c_str(s);
    let (exclusive, text) = match s.first() {
        Some(b'(') => (true, &s[1..]),
        _ => (false, s),
    };
    let (v, used, _) = strtod(text);
    // With nothing converted strtod leaves the end at the start: fine only for "" (and "(").
    let end_ok = if used == 0 {
        text.is_empty()
    } else {
        used == text.len()
    };
    if !end_ok || v.is_nan() {
        return None;
    }
    Some((v, exclusive))
}

/// A score interval (`ZRANGEBYSCORE`, `ZCOUNT`, `ZREMRANGEBYSCORE` …).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    /// Parses `min` and `max` as Redis's `zslParseRange` (error: `min or max is not a float`).
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = parse_score_bound(min)?;
        let (max, maxex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }
}

/// One end of a lexical range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Inclusive(Vec<u8>),
    Exclusive(Vec<u8>),
}

impl LexBound {
    fn parse(s: &[u8]) -> Option<LexBound> {
        // Redis checks `c[1] != '\0'` for `+`/`-`: a NUL right after counts as the end.
        let alone = s.len() == 1 || s.get(1) == Some(&0);
        match s.first()? {
            b'+' if alone => Some(LexBound::Max),
            b'-' if alone => Some(LexBound::Min),
            b'(' => Some(LexBound::Exclusive(s[1..].to_vec())),
            b'[' => Some(LexBound::Inclusive(s[1..].to_vec())),
            _ => None,
        }
    }

    /// `sdscmplex(value, bound)` for a member value.
    fn cmp_value(&self, v: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Inclusive(b) | LexBound::Exclusive(b) => v.cmp(b),
        }
    }

    fn is_exclusive(&self) -> bool {
        !matches!(self, LexBound::Inclusive(_))
    }
}

/// A lexical interval (`ZRANGEBYLEX`, `ZLEXCOUNT`, `ZREMRANGEBYLEX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    /// Parses as Redis's `zslParseLexRange` (error: `min or max not valid string range item`).
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    #[inline]
    pub fn gte_min(&self, v: &[u8]) -> bool {
        let c = self.min.cmp_value(v);
        if self.min.is_exclusive() {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    #[inline]
    pub fn lte_max(&self, v: &[u8]) -> bool {
        let c = self.max.cmp_value(v);
        if self.max.is_exclusive() {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_as_string2d() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_score(b"1e400"), None);
        assert_eq!(parse_score(b"1e-400"), None);
        assert_eq!(parse_score(b"0e-400"), Some(0.0));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"1 "), None);
        assert_eq!(parse_score(b""), None);
        assert_eq!(parse_score(b"1."), Some(1.0));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"."), None);
        assert_eq!(parse_score(b"1e"), None);
        assert_eq!(parse_score(b"1\0"), None);
        assert_eq!(parse_score(b"-0").map(f64::is_sign_negative), Some(true));
    }

    #[test]
    fn score_ranges_as_zslparserange() {
        let r = ScoreRange::parse(b"(1", b"+inf").unwrap();
        assert!(r.minex && !r.maxex && r.min == 1.0 && r.max == f64::INFINITY);
        assert_eq!(
            ScoreRange::parse(b"", b"(").map(|r| (r.min, r.max, r.maxex)),
            Some((0.0, 0.0, true))
        );
        assert!(ScoreRange::parse(b" 1", b"2").is_some());
        assert!(ScoreRange::parse(b"1 ", b"2").is_none());
        assert!(ScoreRange::parse(b"1e400", b"2").is_some());
        assert!(ScoreRange::parse(b"nan", b"2").is_none());
        assert!(ScoreRange::parse(b"x", b"2").is_none());
        assert!(ScoreRange::parse(b"  ", b"2").is_none());
        assert!(ScoreRange::parse(b"1\0junk", b"2").is_some());
    }

    #[test]
    fn lex_ranges() {
        let r = LexRange::parse(b"[b", b"(d").unwrap();
        assert!(!r.gte_min(b"a") && r.gte_min(b"b") && r.lte_max(b"c") && !r.lte_max(b"d"));
        let all = LexRange::parse(b"-", b"+").unwrap();
        assert!(all.gte_min(b"") && all.lte_max(b"\xff\xff"));
        assert!(LexRange::parse(b"a", b"+").is_none());
        assert!(LexRange::parse(b"", b"+").is_none());
        assert!(LexRange::parse(b"+x", b"+").is_none());
        assert_eq!(
            LexRange::parse(b"(", b"[").map(|r| r.min),
            Some(LexBound::Exclusive(vec![]))
        );
    }
}
