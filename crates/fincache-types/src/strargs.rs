//! The argument grammar of Redis's string commands, as pure functions: SET/GETEX options
//! (`parseExtendedStringArgumentsOrReply`), expire-time arithmetic
//! (`getExpireMillisecondsOrReply`), LCS options and GETRANGE's index rules. The server's string
//! family maps [`ArgError`] to Redis's error replies.

use crate::num::parse_i64;

/// Why arguments were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgError {
    /// `ERR syntax error`.
    Syntax,
    /// `ERR value is not an integer or out of range`.
    NotInteger,
    /// `ERR invalid expire time in '<command>' command`.
    InvalidExpire,
}

/// Whether an option argument is `name` (ASCII case-insensitive). Redis compares options as C
/// strings, so the word ends at a NUL byte: `"NX\0junk"` is NX there, and here.
#[inline]
pub fn option_is(arg: &[u8], name: &str) -> bool {
    let word = match arg.iter().position(|&c| c == 0) {
        Some(end) => &arg[..end],
        None => arg,
    };
    word.eq_ignore_ascii_case(name.as_bytes())
}

/// The four ways to give an expire time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireKind {
    /// `EX`: relative seconds.
    Ex,
    /// `PX`: relative milliseconds.
    Px,
    /// `EXAT`: absolute Unix seconds.
    ExAt,
    /// `PXAT`: absolute Unix milliseconds.
    PxAt,
}

impl ExpireKind {
    /// The kind an option word names, if any.
    pub fn from_option(opt: &[u8]) -> Option<ExpireKind> {
        [
            ("EX", ExpireKind::Ex),
            ("PX", ExpireKind::Px),
            ("EXAT", ExpireKind::ExAt),
            ("PXAT", ExpireKind::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| option_is(opt, name))
        .map(|(_, kind)| kind)
    }

    pub fn is_absolute(self) -> bool {
        matches!(self, ExpireKind::ExAt | ExpireKind::PxAt)
    }
}

/// The absolute deadline (Unix ms) an expire argument names, as Redis computes it: not an
/// integer → `NotInteger`; zero, negative, too large to convert to milliseconds, or (EX/PX)
/// overflowing once added to `now_ms` → `InvalidExpire`. An absolute time in the past is valid.
pub fn expire_deadline(arg: &[u8], kind: ExpireKind, now_ms: u64) -> Result<u64, ArgError> {
    let v = parse_i64(arg).ok_or(ArgError::NotInteger)?;
    let in_seconds = matches!(kind, ExpireKind::Ex | ExpireKind::ExAt);
    if v <= 0 || (in_seconds && v > i64::MAX / 1000) {
        return Err(ArgError::InvalidExpire);
    }
    let ms = if in_seconds { v * 1000 } else { v };
    if kind.is_absolute() {
        return Ok(ms as u64);
    }
    let now = i64::try_from(now_ms).map_err(|_| ArgError::InvalidExpire)?;
    let at = ms.checked_add(now).ok_or(ArgError::InvalidExpire)?;
    Ok(at as u64)
}

/// The options of SET (`NX XX GET KEEPTTL EX PX EXAT PXAT`) or GETEX (`PERSIST EX PX EXAT
/// PXAT`); the expire value is kept unparsed, since Redis checks it at different moments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SetOptions<'a> {
    pub nx: bool,
    pub xx: bool,
    pub get: bool,
    pub keepttl: bool,
    pub persist: bool,
    pub expire: Option<(ExpireKind, &'a [u8])>,
}

/// Parses SET's (`for_set`) or GETEX's options exactly as Redis does: NX and XX exclude each
/// other; KEEPTTL, PERSIST and the four expire forms exclude each other, but one expire form may
/// repeat (the last wins); anything else, or an expire word without a value, is a syntax error.
pub fn parse_set_options<'a>(opts: &[&'a [u8]], for_set: bool) -> Result<SetOptions<'a>, ArgError> {
    let mut o = SetOptions::default();
    let mut i = 0;
    while i < opts.len() {
        let opt = opts[i];
        let expire_kind = o.expire.map(|(k, _)| k);
        if for_set && option_is(opt, "NX") && !o.xx {
            o.nx = true;
        } else if for_set && option_is(opt, "XX") && !o.nx {
            o.xx = true;
        } else if for_set && option_is(opt, "GET") {
            o.get = true;
        } else if for_set && option_is(opt, "KEEPTTL") && !o.persist && expire_kind.is_none() {
            o.keepttl = true;
        } else if !for_set && option_is(opt, "PERSIST") && !o.keepttl && expire_kind.is_none() {
            o.persist = true;
        } else {
            let kind = ExpireKind::from_option(opt).ok_or(ArgError::Syntax)?;
            let compatible =
                !o.keepttl && !o.persist && (expire_kind.is_none() || expire_kind == Some(kind));
            match opts.get(i + 1) {
                Some(value) if compatible => {
                    o.expire = Some((kind, value));
                    i += 1;
                }
                _ => return Err(ArgError::Syntax),
            }
        }
        i += 1;
    }
    Ok(o)
}

/// The options of LCS.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LcsOptions {
    pub idx: bool,
    pub len: bool,
    pub with_match_len: bool,
    /// Negative values read as 0 (no minimum), as in Redis.
    pub min_match_len: u64,
}

/// Parses LCS's options: `LEN`, `IDX`, `WITHMATCHLEN` in any number, `MINMATCHLEN n` (an
/// integer, `NotInteger` otherwise; a trailing `MINMATCHLEN` without value is a syntax error).
/// Whether LEN and IDX conflict is the caller's check, made after all options parsed.
pub fn parse_lcs_options(opts: &[&[u8]]) -> Result<LcsOptions, ArgError> {
    let mut o = LcsOptions::default();
    let mut i = 0;
    while i < opts.len() {
        let opt = opts[i];
        if option_is(opt, "IDX") {
            o.idx = true;
        } else if option_is(opt, "LEN") {
            o.len = true;
        } else if option_is(opt, "WITHMATCHLEN") {
            o.with_match_len = true;
        } else if option_is(opt, "MINMATCHLEN") && i + 1 < opts.len() {
            let n = parse_i64(opts[i + 1]).ok_or(ArgError::NotInteger)?;
            o.min_match_len = n.max(0) as u64;
            i += 1;
        } else {
            return Err(ArgError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// The inclusive byte range GETRANGE returns from a string of `len` bytes, with Redis's rules:
/// negative indexes count from the end, both are clamped into the string, and an empty result
/// is `None` (also when both are negative and start > end).
pub fn byte_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = i64::try_from(len).ok()?;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_opts(words: &[&'static str]) -> Result<SetOptions<'static>, ArgError> {
        let v: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        parse_set_options(&v, true)
    }

    #[test]
    fn set_option_conflicts() {
        assert!(set_opts(&["NX", "GET", "EX", "1", "EX", "2"]).is_ok());
        assert_eq!(
            set_opts(&["ex", "1", "EX", "2"]).map(|o| o.expire),
            Ok(Some((ExpireKind::Ex, &b"2"[..])))
        );
        for bad in [
            &["NX", "XX"][..],
            &["EX", "1", "PX", "1"],
            &["KEEPTTL", "EX", "1"],
            &["PXAT", "1", "KEEPTTL"],
            &["EX"],
            &["PERSIST"],
            &["bogus"],
        ] {
            assert_eq!(set_opts(bad), Err(ArgError::Syntax), "{bad:?}");
        }
        assert!(parse_set_options(&[b"PERSIST"], false).is_ok());
        assert_eq!(parse_set_options(&[b"NX"], false), Err(ArgError::Syntax));
        assert!(option_is(b"nx\0junk", "NX"));
    }

    #[test]
    fn expire_arithmetic() {
        let now = 1_700_000_000_000;
        assert_eq!(
            expire_deadline(b"10", ExpireKind::Ex, now),
            Ok(now + 10_000)
        );
        assert_eq!(expire_deadline(b"10", ExpireKind::Px, now), Ok(now + 10));
        assert_eq!(expire_deadline(b"1", ExpireKind::ExAt, now), Ok(1000));
        assert_eq!(
            expire_deadline(b"0", ExpireKind::Px, now),
            Err(ArgError::InvalidExpire)
        );
        assert_eq!(
            expire_deadline(b"x", ExpireKind::Px, now),
            Err(ArgError::NotInteger)
        );
        let huge = i64::MAX.to_string();
        assert_eq!(
            expire_deadline(huge.as_bytes(), ExpireKind::Px, now),
            Err(ArgError::InvalidExpire)
        );
        assert_eq!(
            expire_deadline(huge.as_bytes(), ExpireKind::PxAt, now),
            Ok(i64::MAX as u64)
        );
        assert_eq!(
            expire_deadline(b"9223372036854776", ExpireKind::ExAt, now),
            Err(ArgError::InvalidExpire)
        );
    }

    #[test]
    fn lcs_options() {
        let o = parse_lcs_options(&[b"idx", b"MINMATCHLEN", b"-3", b"WITHMATCHLEN"]).unwrap();
        assert!(o.idx && o.with_match_len && o.min_match_len == 0);
        assert_eq!(parse_lcs_options(&[b"MINMATCHLEN"]), Err(ArgError::Syntax));
        assert_eq!(
            parse_lcs_options(&[b"MINMATCHLEN", b"x"]),
            Err(ArgError::NotInteger)
        );
    }

    #[test]
    fn getrange_indexes() {
        assert_eq!(byte_range(16, 0, 3), Some((0, 3)));
        assert_eq!(byte_range(16, -3, -1), Some((13, 15)));
        assert_eq!(byte_range(16, 10, 100), Some((10, 15)));
        assert_eq!(byte_range(16, -1, -5), None);
        assert_eq!(byte_range(16, 5, 3), None);
        assert_eq!(byte_range(16, -100, -100), Some((0, 0)));
        assert_eq!(byte_range(0, 0, -1), None);
        assert_eq!(byte_range(16, i64::MIN, i64::MAX), Some((0, 15)));
    }
}
