//! Request parsing: multibulk (`*N\r\n$len\r\n...`) and inline (`PING\r\n`) commands.
//!
//! Zero-copy: argument slices borrow the caller's read buffer. Parsing is restartable: on
//! [`Parsed::Incomplete`] nothing is consumed and the caller reads more bytes and calls again.
//! Error texts are Redis's own (`networking.c`), because clients and tests match on them; after a
//! protocol error the caller replies with the error and closes the connection, as Redis does.

use memchr::memchr;
use thiserror::Error;

/// Size limits applied while parsing. Defaults are Redis's.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`: the largest bulk string accepted.
    pub max_bulk_len: usize,
    /// The largest multibulk count accepted (Redis 7: `INT_MAX`; Redis 6 had 1024*1024).
    pub max_multibulk_len: usize,
    /// The longest inline request or header line before `\r\n` (Redis: PROTO_INLINE_MAX_SIZE).
    pub max_inline_len: usize,
    /// Unauthenticated clients get tighter limits (Redis 7: 10 args, 16 KiB bulks).
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as usize,
            max_inline_len: 64 * 1024,
            authenticated: true,
        }
    }
}

/// Result of one parse attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// One command was parsed (possibly with zero arguments, which the caller skips); this many
    /// bytes were consumed.
    Complete(usize),
    /// More bytes are needed; `hint` is the total buffer size known to be needed, when known.
    Incomplete { hint: Option<usize> },
    /// An inline command with quoted arguments, decoded into owned storage (rare: telnet users).
    Owned { consumed: usize, args: Vec<Vec<u8>> },
}

/// A request the server cannot make sense of. `Display` is the exact error reply Redis sends,
/// `ERR` prefix included (write it with `ReplyEncoder::error`, then close the connection).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("ERR Protocol error: too big inline request")]
    InlineTooBig,
    #[error("ERR Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    #[error("ERR Protocol error: too big mbulk count string")]
    MultibulkCountTooBig,
    #[error("ERR Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("ERR Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    #[error("ERR Protocol error: too big bulk count string")]
    BulkCountTooBig,
    #[error("ERR Protocol error: expected '$', got '{}'", char::from(*.0))]
    ExpectedDollar(u8),
    #[error("ERR Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("ERR Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
}

const UNAUTH_MAX_MULTIBULK: usize = 10;
const UNAUTH_MAX_BULK: usize = 16384;

/// Parses one command from the start of `buf`, pushing its arguments into `argv` (cleared first).
pub fn parse_command<'b>(
    buf: &'b [u8],
    limits: &Limits,
    argv: &mut Vec<&'b [u8]>,
) -> Result<Parsed, ProtocolError> {
    argv.clear();
    match buf.first() {
        None => Ok(Parsed::Incomplete { hint: None }),
        Some(b'*') => parse_multibulk(buf, limits, argv),
        Some(_) => parse_inline(buf, limits, argv),
    }
}

/// C's `isspace`: the separators Redis skips between inline arguments (includes `\v` and `\f`,
/// unlike [`u8::is_ascii_whitespace`]).
#[inline]
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Finds the first `\r` at or after `start` the way Redis's `strchr(p, '\r')` does: a NUL byte
/// ends the search (the query buffer is a C string to `strchr`). Returns the index of `\r`.
#[inline]
fn find_cr(buf: &[u8], start: usize) -> Option<usize> {
    let at = memchr::memchr2(b'\r', 0, buf.get(start..)?)? + start;
    (buf[at] == b'\r').then_some(at)
}

/// Parses a signed decimal the way Redis's `string2ll` does: no spaces, no `+`, no leading zeros.
#[inline]
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Multibulk, as Redis's `processMultibulkBuffer`: each header line ends at the first `\r`
/// (the byte after it is skipped unseen, but must have arrived), and the two bytes after a bulk
/// payload are skipped unchecked.
fn parse_multibulk<'b>(
    buf: &'b [u8],
    limits: &Limits,
    argv: &mut Vec<&'b [u8]>,
) -> Result<Parsed, ProtocolError> {
    let Some(cr) = find_cr(buf, 1) else {
        if buf.len() > limits.max_inline_len {
            return Err(ProtocolError::MultibulkCountTooBig);
        }
        return Ok(Parsed::Incomplete { hint: None });
    };
    if cr + 2 > buf.len() {
        return Ok(Parsed::Incomplete { hint: None });
    }
    let count = match parse_i64(&buf[1..cr]) {
        Some(n) if n < 0 || n as u64 <= limits.max_multibulk_len as u64 => n,
        _ => return Err(ProtocolError::InvalidMultibulkLength),
    };
    if !limits.authenticated && count > UNAUTH_MAX_MULTIBULK as i64 {
        return Err(ProtocolError::UnauthenticatedMultibulkLength);
    }
    let mut pos = cr + 2;
    if count <= 0 {
        // Redis treats `*0` and `*-1` as an empty command and moves on.
        return Ok(Parsed::Complete(pos));
    }
    // Every argument takes at least 6 bytes (`$0\r\n\r\n`): never reserve for more than can fit.
    argv.reserve((count as usize).min(buf.len() / 6 + 1));
    for _ in 0..count {
        let Some(cr) = find_cr(buf, pos) else {
            if buf.len() - pos > limits.max_inline_len {
                return Err(ProtocolError::BulkCountTooBig);
            }
            return Ok(Parsed::Incomplete { hint: None });
        };
        if cr + 2 > buf.len() {
            return Ok(Parsed::Incomplete { hint: None });
        }
        if buf[pos] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[pos]));
        }
        let len = match parse_i64(&buf[pos + 1..cr]) {
            Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len as u64 => n as usize,
            _ => return Err(ProtocolError::InvalidBulkLength),
        };
        if !limits.authenticated && len > UNAUTH_MAX_BULK {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        let start = cr + 2;
        // Cannot overflow: `len` is at most `max_bulk_len`, far below `usize::MAX / 2`.
        let end = start.saturating_add(len);
        let next = end.saturating_add(2);
        if buf.len() < next {
            return Ok(Parsed::Incomplete { hint: Some(next) });
        }
        // Redis does not check the two bytes after the payload; it skips them.
        argv.push(&buf[start..end]);
        pos = next;
    }
    Ok(Parsed::Complete(pos))
}

/// Inline, as Redis's `processInlineBuffer`: the line ends at the first `\n` (a NUL byte before
/// it hides it, as `strchr` does), an optional `\r` before it is dropped, and the rest is split
/// by `sdssplitargs` rules.
fn parse_inline<'b>(
    buf: &'b [u8],
    limits: &Limits,
    argv: &mut Vec<&'b [u8]>,
) -> Result<Parsed, ProtocolError> {
    let nl = match memchr::memchr2(b'\n', 0, buf) {
        Some(i) if buf[i] == b'\n' => i,
        _ => {
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::InlineTooBig);
            }
            return Ok(Parsed::Incomplete { hint: None });
        }
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    if memchr::memchr2(b'"', b'\'', line).is_some() {
        // Quotes may hold escapes, which cannot borrow the buffer: decode into owned arguments.
        let args = decode_inline_owned(line)?;
        return Ok(Parsed::Owned {
            consumed: nl + 1,
            args,
        });
    }
    // Without quotes, `sdssplitargs` skips `isspace` runs and ends a word at space, tab, CR, LF.
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && is_c_space(line[i]) {
            i += 1;
        }
        let start = i;
        while i < line.len() && !matches!(line[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        if i > start {
            argv.push(&line[start..i]);
        }
    }
    Ok(Parsed::Complete(nl + 1))
}

/// Full `sdssplitargs` decoding of one inline line (escapes `\n \r \t \b \a \\ \" \xHH` inside
/// double quotes, `\'` inside single quotes), producing owned arguments. `line` excludes the
/// trailing `\r\n`. A NUL byte ends the line, as it ends the C string Redis splits.
pub fn decode_inline_owned(line: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
    let line = match memchr(0, line) {
        Some(n) => &line[..n],
        None => line,
    };
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_c_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(out);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                let Some(&c) = line.get(i) else {
                    return Err(ProtocolError::UnbalancedQuotes);
                };
                if c == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // The closing quote must be followed by a space or nothing at all.
                    if i + 1 < line.len() && !is_c_space(line[i + 1]) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                let Some(&c) = line.get(i) else {
                    return Err(ProtocolError::UnbalancedQuotes);
                };
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < line.len() && !is_c_space(line[i + 1]) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                match line.get(i) {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(&c) => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<(Vec<Vec<u8>>, usize), ProtocolError> {
        let mut argv = Vec::new();
        match parse_command(input, &Limits::default(), &mut argv)? {
            Parsed::Complete(n) => Ok((argv.iter().map(|a| a.to_vec()).collect(), n)),
            Parsed::Owned { consumed, args } => Ok((args, consumed)),
            Parsed::Incomplete { .. } => Ok((vec![], 0)),
        }
    }

    #[test]
    fn multibulk_basic() {
        let (args, n) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nrest").unwrap();
        assert_eq!(args, vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(n, 20);
    }

    #[test]
    fn multibulk_incomplete_at_every_cut() {
        let full = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        for cut in 0..full.len() {
            let mut argv = Vec::new();
            let r = parse_command(&full[..cut], &Limits::default(), &mut argv).unwrap();
            assert!(matches!(r, Parsed::Incomplete { .. }), "cut {cut}");
        }
    }

    #[test]
    fn inline_and_quotes() {
        let (args, _) = parse_all(b"SET  k \"a b\"\r\n").unwrap();
        assert_eq!(args, vec![b"SET".to_vec(), b"k".to_vec(), b"a b".to_vec()]);
        assert_eq!(
            parse_all(b"SET k \"abc\r\n").unwrap_err(),
            ProtocolError::UnbalancedQuotes
        );
        assert_eq!(
            decode_inline_owned(b"SET k \"a\\x41\\n\"").unwrap(),
            vec![b"SET".to_vec(), b"k".to_vec(), b"aA\n".to_vec()]
        );
    }

    #[test]
    fn errors_match_redis_text() {
        assert_eq!(
            parse_all(b"*2\r\n:3\r\n").unwrap_err().to_string(),
            "ERR Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            parse_all(b"*x\r\n").unwrap_err().to_string(),
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n$-5\r\n").unwrap_err().to_string(),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            parse_all(b"*99999999999\r\n").unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
        let big = vec![b'a'; 70 * 1024];
        assert_eq!(parse_all(&big).unwrap_err(), ProtocolError::InlineTooBig);
    }

    fn err_text(input: &[u8]) -> String {
        match parse_all(input) {
            Err(e) => e.to_string(),
            Ok(r) => panic!("expected an error for {input:?}, got {r:?}"),
        }
    }

    #[test]
    fn malformed_headers_have_redis_texts() {
        let cases: &[(&[u8], &str)] = &[
            (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
            (b"*1x\r\n", "ERR Protocol error: invalid multibulk length"),
            (b"*\r\n", "ERR Protocol error: invalid multibulk length"),
            (b"*+1\r\n", "ERR Protocol error: invalid multibulk length"),
            (
                b"*3000000000\r\n",
                "ERR Protocol error: invalid multibulk length",
            ),
            (b"*1\r\n$-2\r\n", "ERR Protocol error: invalid bulk length"),
            (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
            (b"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
            (b"*1\r\n$\r\n", "ERR Protocol error: invalid bulk length"),
            (
                b"*1\r\nfoo\r\n",
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (
                b"*2\r\n$1\r\na\r\n:1\r\n",
                "ERR Protocol error: expected '$', got ':'",
            ),
            (b"*1\r\n\r\n", "ERR Protocol error: expected '$', got '\r'"),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (
                b"SET k \"v\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"SET k 'v\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"ECHO \"a\"b\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"ECHO 'a'b\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                &err_text(input),
                want,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn empty_and_negative_multibulk_are_skipped() {
        for input in [&b"*0\r\n"[..], b"*-1\r\n", b"*-10\r\n"] {
            let mut argv = Vec::new();
            let r = parse_command(input, &Limits::default(), &mut argv).unwrap();
            assert_eq!(r, Parsed::Complete(input.len()));
            assert!(argv.is_empty());
        }
    }

    #[test]
    fn header_line_ends_at_first_cr_like_redis() {
        // Redis finds the first `\r` and skips the byte after it without looking.
        assert_eq!(
            err_text(b"*1\rX\nPING\r\n"),
            "ERR Protocol error: expected '$', got '\n'"
        );
        // The payload's trailing two bytes are skipped unchecked.
        let (args, n) = parse_all(b"*1\r\n$4\r\nPINGxy").unwrap();
        assert_eq!((args, n), (vec![b"PING".to_vec()], 14));
        // A lone `\r` at the end waits for the byte after it.
        let mut argv = Vec::new();
        let r = parse_command(b"*1\r", &Limits::default(), &mut argv).unwrap();
        assert!(matches!(r, Parsed::Incomplete { .. }));
        // Nothing is judged before its header line is complete (Redis waits too).
        let r = parse_command(b"*1\r\nfoo", &Limits::default(), &mut argv).unwrap();
        assert!(matches!(r, Parsed::Incomplete { .. }));
    }

    #[test]
    fn truncated_input_is_incomplete_and_consumes_nothing() {
        let inputs: &[&[u8]] = &[
            b"*",
            b"*2",
            b"*2\r\n",
            b"*2\r\n$3",
            b"*2\r\n$3\r\nGE",
            b"*2\r\n$3\r\nGET\r\n",
            b"*2\r\n$3\r\nGET\r\n$1\r\nk\r",
            b"PING",
            b"SET k \"unfinished",
        ];
        for input in inputs {
            let mut argv = Vec::new();
            let r = parse_command(input, &Limits::default(), &mut argv).unwrap();
            assert!(
                matches!(r, Parsed::Incomplete { .. }),
                "{input:?} gave {r:?}"
            );
        }
        // The hint names the whole size of a bulk on its way.
        let mut argv = Vec::new();
        let r = parse_command(b"*1\r\n$100\r\nab", &Limits::default(), &mut argv).unwrap();
        assert_eq!(
            r,
            Parsed::Incomplete {
                hint: Some(10 + 100 + 2)
            }
        );
    }

    #[test]
    fn oversized_input_is_refused() {
        // Bulk longer than proto-max-bulk-len.
        let limits = Limits {
            max_bulk_len: 10,
            ..Limits::default()
        };
        let mut argv = Vec::new();
        let err = parse_command(b"*1\r\n$11\r\n", &limits, &mut argv).unwrap_err();
        assert_eq!(err.to_string(), "ERR Protocol error: invalid bulk length");
        assert!(parse_command(b"*1\r\n$10\r\n0123456789\r\n", &limits, &mut argv).is_ok());
        assert_eq!(
            err_text(b"*1\r\n$536870913\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            err_text(b"*1\r\n$2000000000\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        // A declared size at the default limit is accepted (and waited for).
        let r = parse_command(b"*1\r\n$536870912\r\n", &Limits::default(), &mut argv).unwrap();
        assert!(matches!(r, Parsed::Incomplete { .. }));
        // Multibulk count: Redis 7 accepts up to INT_MAX; a configured lower limit applies.
        let r = parse_command(b"*2000000\r\n", &Limits::default(), &mut argv).unwrap();
        assert!(matches!(r, Parsed::Incomplete { .. }));
        assert_eq!(
            err_text(b"*2147483648\r\n"),
            "ERR Protocol error: invalid multibulk length"
        );
        let limits = Limits {
            max_multibulk_len: 1024 * 1024,
            ..Limits::default()
        };
        let err = parse_command(b"*1048577\r\n", &limits, &mut argv).unwrap_err();
        assert_eq!(err, ProtocolError::InvalidMultibulkLength);
        // Inline requests over 64 KiB without a newline.
        let mut big = vec![b'a'; 64 * 1024 + 1];
        assert_eq!(err_text(&big), "ERR Protocol error: too big inline request");
        big.truncate(64 * 1024);
        assert!(matches!(parse_all(&big), Ok((ref a, 0)) if a.is_empty()));
        // A multibulk count or bulk length line over 64 KiB without `\r`.
        let mut count = b"*".to_vec();
        count.extend(std::iter::repeat_n(b'1', 64 * 1024));
        assert_eq!(
            err_text(&count),
            "ERR Protocol error: too big mbulk count string"
        );
        let mut bulk = b"*1\r\n$".to_vec();
        bulk.extend(std::iter::repeat_n(b'1', 64 * 1024));
        assert_eq!(
            err_text(&bulk),
            "ERR Protocol error: too big bulk count string"
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits {
            authenticated: false,
            ..Limits::default()
        };
        let mut argv = Vec::new();
        let err = parse_command(b"*11\r\n", &limits, &mut argv).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ERR Protocol error: unauthenticated multibulk length"
        );
        let err = parse_command(b"*1\r\n$16385\r\n", &limits, &mut argv).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ERR Protocol error: unauthenticated bulk length"
        );
        assert!(parse_command(b"*10\r\n$16384\r\n", &limits, &mut argv).is_ok());
    }

    #[test]
    fn inline_splits_like_sdssplitargs() {
        let split = |s: &[u8]| parse_all(s).unwrap().0;
        // Leading blanks of any `isspace` kind are skipped; words end at space, tab, CR, LF.
        assert_eq!(split(b"\x0b\x0cPING\r\n"), vec![b"PING".to_vec()]);
        assert_eq!(
            split(b"ECHO a\x0cb\r\n"),
            vec![b"ECHO".to_vec(), b"a\x0cb".to_vec()]
        );
        assert_eq!(
            split(b"ECHO a\x0bb\n"),
            vec![b"ECHO".to_vec(), b"a\x0bb".to_vec()]
        );
        assert_eq!(
            split(b"GET\tk\rx\n"),
            vec![b"GET".to_vec(), b"k".to_vec(), b"x".to_vec()]
        );
        assert_eq!(split(b"   \r\n"), Vec::<Vec<u8>>::new());
        assert_eq!(split(b"\n"), Vec::<Vec<u8>>::new());
        // Quotes may start inside a word and must be followed by a blank.
        assert_eq!(
            split(b"ECHO a\"b c\"\r\n"),
            vec![b"ECHO".to_vec(), b"ab c".to_vec()]
        );
        assert_eq!(
            split(b"ECHO 'it\\'s'\r\n"),
            vec![b"ECHO".to_vec(), b"it's".to_vec()]
        );
        assert_eq!(
            split(b"ECHO \"\"\r\n"),
            vec![b"ECHO".to_vec(), b"".to_vec()]
        );
        assert_eq!(
            split(b"ECHO \"a\"\x0b\r\n"),
            vec![b"ECHO".to_vec(), b"a".to_vec()]
        );
        assert_eq!(
            split(b"ECHO \"\\x4g\\xff\\q\\\\\"\r\n"),
            vec![b"ECHO".to_vec(), b"x4g\xffq\\".to_vec()]
        );
        // A NUL byte hides the newline (Redis's `strchr` stops there): the line never ends.
        let mut argv = Vec::new();
        let r = parse_command(b"ECHO a\0b\r\n", &Limits::default(), &mut argv).unwrap();
        assert!(matches!(r, Parsed::Incomplete { .. }));
        // Pipelined inline commands are consumed one line at a time.
        let (args, n) = parse_all(b"PING\nPING\n").unwrap();
        assert_eq!((args, n), (vec![b"PING".to_vec()], 5));
    }

    #[test]
    fn parse_i64_rules() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b" 1"), None);
    }
}
