//! An owned reply tree and a parser for encoded replies (RESP2 and RESP3).
//!
//! The hot path never builds a [`Reply`]: handlers encode directly. This tree exists for code that
//! consumes replies as values: scripts (Lua conversion), the HTTP bridge, MULTI bookkeeping and
//! the tests, which compare FinCache's replies with redis-server's.

use crate::parse::parse_i64;
use memchr::memchr;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// RESP2 `$-1`/`*-1` and RESP3 `_`.
    Null,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    Double(f64),
    Bool(bool),
    BigNumber(String),
    Verbatim(String, Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReplyParseError {
    #[error("incomplete reply")]
    Incomplete,
    #[error("malformed reply at byte {0}")]
    Malformed(usize),
}

/// Parses one reply from the start of `buf`; returns it and the bytes consumed.
pub fn parse_reply(buf: &[u8]) -> Result<(Reply, usize), ReplyParseError> {
    parse_at(buf, 0, 0)
}

const MAX_DEPTH: usize = 512;

fn line(buf: &[u8], pos: usize) -> Result<(&[u8], usize), ReplyParseError> {
    let nl = memchr(b'\n', &buf[pos..]).ok_or(ReplyParseError::Incomplete)? + pos;
    if nl == pos || buf[nl - 1] != b'\r' {
        return Err(ReplyParseError::Malformed(pos));
    }
    Ok((&buf[pos..nl - 1], nl + 1))
}

fn int_line(buf: &[u8], pos: usize) -> Result<(i64, usize), ReplyParseError> {
    let (l, next) = line(buf, pos)?;
    let n = parse_i64(l).ok_or(ReplyParseError::Malformed(pos))?;
    Ok((n, next))
}

fn text(l: &[u8]) -> String {
    String::from_utf8_lossy(l).into_owned()
}

fn parse_at(buf: &[u8], pos: usize, depth: usize) -> Result<(Reply, usize), ReplyParseError> {
    if depth > MAX_DEPTH {
        return Err(ReplyParseError::Malformed(pos));
    }
    let Some(&tag) = buf.get(pos) else {
        return Err(ReplyParseError::Incomplete);
    };
    let p = pos + 1;
    match tag {
        b'+' => line(buf, p).map(|(l, n)| (Reply::Simple(text(l)), n)),
        b'-' => line(buf, p).map(|(l, n)| (Reply::Error(text(l)), n)),
        b':' => int_line(buf, p).map(|(v, n)| (Reply::Int(v), n)),
        b'_' => match line(buf, p)? {
            (b"", n) => Ok((Reply::Null, n)),
            _ => Err(ReplyParseError::Malformed(p)),
        },
        b'#' => match line(buf, p)? {
            (b"t", n) => Ok((Reply::Bool(true), n)),
            (b"f", n) => Ok((Reply::Bool(false), n)),
            _ => Err(ReplyParseError::Malformed(p)),
        },
        b'(' => line(buf, p).map(|(l, n)| (Reply::BigNumber(text(l)), n)),
        b',' => {
            let (l, n) = line(buf, p)?;
            let s = text(l);
            let v = match s.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" => f64::NAN,
                _ => s.parse().map_err(|_| ReplyParseError::Malformed(p))?,
            };
            Ok((Reply::Double(v), n))
        }
        b'$' | b'=' | b'!' => {
            let (len, start) = int_line(buf, p)?;
            if len < 0 {
                return Ok((Reply::Null, start));
            }
            // A length no buffer can hold is still only "not arrived yet" to a streaming reader.
            let end = usize::try_from(len)
                .ok()
                .and_then(|l| start.checked_add(l))
                .ok_or(ReplyParseError::Incomplete)?;
            if buf.len() < end.saturating_add(2) {
                return Err(ReplyParseError::Incomplete);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(ReplyParseError::Malformed(end));
            }
            let data = buf[start..end].to_vec();
            let reply = match tag {
                b'$' => Reply::Bulk(data),
                b'!' => Reply::Error(text(&data)),
                _ => {
                    if data.len() < 4 {
                        return Err(ReplyParseError::Malformed(p));
                    }
                    Reply::Verbatim(text(&data[..3]), data[4..].to_vec())
                }
            };
            Ok((reply, end + 2))
        }
        b'*' | b'~' | b'>' | b'%' => {
            let (count, mut next) = int_line(buf, p)?;
            if count < 0 {
                return Ok((Reply::Null, next));
            }
            let items = if tag == b'%' {
                count.checked_mul(2)
            } else {
                Some(count)
            }
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(ReplyParseError::Malformed(p))?;
            let mut elems = Vec::with_capacity(items.min(1024));
            for _ in 0..items {
                let (r, n) = parse_at(buf, next, depth + 1)?;
                elems.push(r);
                next = n;
            }
            let reply = match tag {
                b'*' => Reply::Array(elems),
                b'~' => Reply::Set(elems),
                b'>' => Reply::Push(elems),
                _ => {
                    let mut pairs = Vec::with_capacity(elems.len() / 2);
                    let mut it = elems.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Reply::Map(pairs)
                }
            };
            Ok((reply, next))
        }
        b'|' => {
            // Attributes precede the real reply; skip them.
            let (count, mut next) = int_line(buf, p)?;
            let items = count
                .max(0)
                .checked_mul(2)
                .ok_or(ReplyParseError::Malformed(p))?;
            for _ in 0..items {
                next = parse_at(buf, next, depth + 1)?.1;
            }
            parse_at(buf, next, depth + 1)
        }
        _ => Err(ReplyParseError::Malformed(pos)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Protocol, ReplyEncoder};

    #[test]
    fn roundtrip_resp3() {
        let mut e = ReplyEncoder::new(Protocol::Resp3);
        e.map_len(1);
        e.bulk(b"k");
        e.array_len(2);
        e.int(-5);
        e.double(2.5);
        let (r, n) = parse_reply(&e.buf).unwrap();
        assert_eq!(n, e.buf.len());
        assert_eq!(
            r,
            Reply::Map(vec![(
                Reply::Bulk(b"k".to_vec()),
                Reply::Array(vec![Reply::Int(-5), Reply::Double(2.5)])
            )])
        );
    }

    #[test]
    fn incomplete() {
        assert_eq!(parse_reply(b"$5\r\nab"), Err(ReplyParseError::Incomplete));
        assert_eq!(
            parse_reply(b"*2\r\n:1\r\n"),
            Err(ReplyParseError::Incomplete)
        );
    }
}
