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
    /// The largest multibulk count accepted (Redis: 1024*1024 for normal clients).
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
            max_multibulk_len: 1024 * 1024,
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

/// A request the server cannot make sense of. `Display` is the exact text Redis replies with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("Protocol error: too big inline request")]
    InlineTooBig,
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    #[error("Protocol error: too big mbulk count string")]
    MultibulkCountTooBig,
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    #[error("Protocol error: too big bulk count string")]
    BulkCountTooBig,
    #[error("Protocol error: expected '$', got '{}'", char::from(*.0))]
    ExpectedDollar(u8),
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("Protocol error: unauthenticated bulk length")]
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

/// Finds the `\r\n`-terminated line starting at `start`; returns the index of `\r`.
#[inline]
fn find_crlf(buf: &[u8], start: usize) -> Option<usize> {
    let mut from = start;
    loop {
        let nl = memchr(b'\n', &buf[from..])? + from;
        if nl > start && buf[nl - 1] == b'\r' {
            return Some(nl - 1);
        }
        // A bare `\n` inside a header is not a terminator for multibulk; keep looking.
        from = nl + 1;
    }
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
    let (neg, digits) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
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

fn parse_multibulk<'b>(
    buf: &'b [u8],
    limits: &Limits,
    argv: &mut Vec<&'b [u8]>,
) -> Result<Parsed, ProtocolError> {
    let Some(cr) = find_crlf(buf, 1) else {
        if buf.len() > limits.max_inline_len {
            return Err(ProtocolError::MultibulkCountTooBig);
        }
        return Ok(Parsed::Incomplete { hint: None });
    };
    let count = parse_i64(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
    let mut pos = cr + 2;
    if count <= 0 {
        // Redis treats `*0` and `*-1` as an empty command and moves on.
        return Ok(Parsed::Complete(pos));
    }
    let count = count as usize;
    if count > limits.max_multibulk_len {
        return Err(ProtocolError::InvalidMultibulkLength);
    }
    if !limits.authenticated && count > UNAUTH_MAX_MULTIBULK {
        return Err(ProtocolError::UnauthenticatedMultibulkLength);
    }
    argv.reserve(count.min(1024));
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(Parsed::Incomplete { hint: None });
        }
        if buf[pos] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[pos]));
        }
        let Some(cr) = find_crlf(buf, pos + 1) else {
            if buf.len() - pos > limits.max_inline_len {
                return Err(ProtocolError::BulkCountTooBig);
            }
            return Ok(Parsed::Incomplete { hint: None });
        };
        let len = parse_i64(&buf[pos + 1..cr]).ok_or(ProtocolError::InvalidBulkLength)?;
        if len < 0 || len as u64 > limits.max_bulk_len as u64 {
            return Err(ProtocolError::InvalidBulkLength);
        }
        let len = len as usize;
        if !limits.authenticated && len > UNAUTH_MAX_BULK {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        let start = cr + 2;
        let end = start + len;
        if buf.len() < end + 2 {
            return Ok(Parsed::Incomplete {
                hint: Some(end + 2),
            });
        }
        // Redis does not check the two bytes after the payload; it skips them.
        argv.push(&buf[start..end]);
        pos = end + 2;
    }
    Ok(Parsed::Complete(pos))
}

fn parse_inline<'b>(
    buf: &'b [u8],
    limits: &Limits,
    argv: &mut Vec<&'b [u8]>,
) -> Result<Parsed, ProtocolError> {
    let Some(nl) = memchr(b'\n', buf) else {
        if buf.len() > limits.max_inline_len {
            return Err(ProtocolError::InlineTooBig);
        }
        return Ok(Parsed::Incomplete { hint: None });
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
    argv.extend(line.split(|c| c.is_ascii_whitespace()).filter(|a| !a.is_empty()));
    Ok(Parsed::Complete(nl + 1))
}

/// Full `sdssplitargs` decoding of one inline line (escapes `\n \r \t \b \a \\ \" \xHH` inside
/// double quotes, `\'` inside single quotes), producing owned arguments. Only used for the rare
/// inline request that contains escapes. `line` excludes the trailing `\r\n`.
pub fn decode_inline_owned(line: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= line.len() {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
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
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= line.len() {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < line.len() && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= line.len() {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
    Ok(out)
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
            "Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            parse_all(b"*x\r\n").unwrap_err().to_string(),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n$-5\r\n").unwrap_err().to_string(),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            parse_all(b"*99999999999\r\n").unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
        let big = vec![b'a'; 70 * 1024];
        assert_eq!(parse_all(&big).unwrap_err(), ProtocolError::InlineTooBig);
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
