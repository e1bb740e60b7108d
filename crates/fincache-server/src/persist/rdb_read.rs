//! Reading values in Redis's RDB encoding: everything Redis 7.0 writes (version 10) plus the
//! older and newer encodings a `dump.rdb` or DUMP payload may hold: ziplists, zipmaps,
//! intsets, v1 quicklists, listpacks (including 7.2's set listpack). Module and stream values
//! are refused with an error naming the type.

use super::rdb_write::*;
use super::RdbError;
use crate::store::Value;
use fincache_types::hash::{HashLimits, HashValue};
use fincache_types::list::List;
use fincache_types::set::{SetLimits, SetValue};
use fincache_types::zset::{self, ZSet};

/// The encoding thresholds loaded values are built with (the server's config).
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildLimits {
    pub list_fill: i32,
    pub hash: HashLimits,
    pub set: SetLimits,
    pub zset: zset::Limits,
}

/// A cursor over RDB bytes.
pub struct Cursor<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

fn corrupt(what: &str) -> RdbError {
    RdbError::Corrupt(what.to_string())
}

/// A decoded RDB length or special string encoding.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| corrupt("length overflow"))?;
        let s = self.data.get(self.pos..end).ok_or(RdbError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    pub fn byte(&mut self) -> Result<u8, RdbError> {
        Ok(self.take(1)?[0])
    }

    pub fn u64_le(&mut self) -> Result<u64, RdbError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(
            b.try_into().map_err(|_| RdbError::Truncated)?,
        ))
    }

    pub fn u32_le(&mut self) -> Result<u32, RdbError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(
            b.try_into().map_err(|_| RdbError::Truncated)?,
        ))
    }

    fn len_or_enc(&mut self) -> Result<Len, RdbError> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?)),
            2 => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(
                    self.take(4)?.try_into().map_err(|_| RdbError::Truncated)?,
                ))),
                0x81 => Len::Plain(u64::from_be_bytes(
                    self.take(8)?.try_into().map_err(|_| RdbError::Truncated)?,
                )),
                _ => return Err(corrupt("unknown length encoding")),
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    /// An RDB length (`rdbLoadLen`).
    pub fn length(&mut self) -> Result<u64, RdbError> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(corrupt("encoded value where a length was expected")),
        }
    }

    /// A length that counts items still to be read: bounded by the bytes left, so a corrupt
    /// count cannot make the loader reserve unbounded memory.
    fn count(&mut self) -> Result<usize, RdbError> {
        let n = self.length()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.data.len() - self.pos)
            .ok_or_else(|| corrupt("count larger than the data"))
    }

    /// An RDB string in any of its encodings (`rdbGenericLoadStringObject`).
    pub fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_enc()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| RdbError::Truncated)?;
                Ok(self.take(n)?.to_vec())
            }
            Len::Encoded(0) => Ok(itoa::Buffer::new()
                .format(self.byte()? as i8)
                .as_bytes()
                .to_vec()),
            Len::Encoded(1) => {
                let b = self.take(2)?;
                let n = i16::from_le_bytes([b[0], b[1]]);
                Ok(itoa::Buffer::new().format(n).as_bytes().to_vec())
            }
            Len::Encoded(2) => {
                let n = self.u32_le()? as i32;
                Ok(itoa::Buffer::new().format(n).as_bytes().to_vec())
            }
            Len::Encoded(3) => {
                let clen = usize::try_from(self.length()?).map_err(|_| RdbError::Truncated)?;
                let len = usize::try_from(self.length()?).map_err(|_| RdbError::Truncated)?;
                let c = self.take(clen)?;
                super::lzf::decompress(c, len).ok_or_else(|| corrupt("invalid LZF data"))
            }
            Len::Encoded(_) => Err(corrupt("unknown string encoding")),
        }
    }

    /// A `ZSET` (v1) score: a length-prefixed decimal, or 253/254/255 for nan/+inf/-inf.
    fn text_double(&mut self) -> Result<f64, RdbError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let s = self.take(usize::from(n))?;
                std::str::from_utf8(s)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| corrupt("invalid score"))
            }
        }
    }
}

/// Reads a value of RDB type `ty`; `Ok(None)` for an empty collection (which Redis skips).
pub fn read_value(
    c: &mut Cursor<'_>,
    ty: u8,
    limits: &BuildLimits,
) -> Result<Option<Value>, RdbError> {
    let value = match ty {
        TYPE_STRING => Value::from_vec(c.string()?),
        TYPE_LIST => {
            let n = c.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(c.string()?);
            }
            list_value(items, limits)
        }
        TYPE_LIST_ZIPLIST => list_value(ziplist_entries(&c.string()?)?, limits),
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let nodes = c.count()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container = if ty == TYPE_LIST_QUICKLIST_2 {
                    c.length()?
                } else {
                    2
                };
                let blob = c.string()?;
                match (container, ty) {
                    (1, _) => items.push(blob),
                    (2, TYPE_LIST_QUICKLIST_2) => items.extend(listpack_entries(&blob)?),
                    (2, _) => items.extend(ziplist_entries(&blob)?),
                    _ => return Err(corrupt("unknown quicklist node container")),
                }
            }
            list_value(items, limits)
        }
        TYPE_SET => {
            let n = c.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(c.string()?);
            }
            set_value(items, limits)?
        }
        TYPE_SET_INTSET => set_value(intset_entries(&c.string()?)?, limits)?,
        TYPE_SET_LISTPACK => set_value(listpack_entries(&c.string()?)?, limits)?,
        TYPE_HASH => {
            let n = c.count()?;
            let mut items = Vec::with_capacity(n.saturating_mul(2));
            for _ in 0..n {
                items.push(c.string()?);
                items.push(c.string()?);
            }
            hash_value(items, limits)?
        }
        TYPE_HASH_ZIPMAP => hash_value(zipmap_entries(&c.string()?)?, limits)?,
        TYPE_HASH_ZIPLIST => hash_value(ziplist_entries(&c.string()?)?, limits)?,
        TYPE_HASH_LISTPACK => hash_value(listpack_entries(&c.string()?)?, limits)?,
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = c.count()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let m = c.string()?;
                let s = if ty == TYPE_ZSET_2 {
                    f64::from_le_bytes(c.u64_le()?.to_le_bytes())
                } else {
                    c.text_double()?
                };
                pairs.push((m, s));
            }
            zset_value(pairs, limits)?
        }
        TYPE_ZSET_ZIPLIST => zset_value(scored(ziplist_entries(&c.string()?)?)?, limits)?,
        TYPE_ZSET_LISTPACK => zset_value(scored(listpack_entries(&c.string()?)?)?, limits)?,
        TYPE_MODULE | TYPE_MODULE_2 => return Err(RdbError::Unsupported("module")),
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            return Err(RdbError::Unsupported("stream"))
        }
        other => return Err(RdbError::Corrupt(format!("unknown value type {other}"))),
    };
    let empty = match &value {
        Value::List(l) => l.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        _ => false,
    };
    Ok((!empty).then_some(value))
}

fn list_value(items: Vec<Vec<u8>>, limits: &BuildLimits) -> Value {
    Value::List(Box::new(List::from_values(
        items.iter().map(Vec::as_slice),
        limits.list_fill,
    )))
}

fn set_value(items: Vec<Vec<u8>>, limits: &BuildLimits) -> Result<Value, RdbError> {
    let set = SetValue::from_members(items.iter().map(Vec::as_slice), &limits.set);
    if set.len() != items.len() {
        return Err(corrupt("duplicate set member"));
    }
    Ok(Value::Set(set))
}

fn hash_value(items: Vec<Vec<u8>>, limits: &BuildLimits) -> Result<Value, RdbError> {
    if !items.len().is_multiple_of(2) {
        return Err(corrupt("hash with an odd number of entries"));
    }
    let h = HashValue::from_pairs(
        items
            .chunks_exact(2)
            .map(|p| (p[0].as_slice(), p[1].as_slice())),
        &limits.hash,
    );
    if h.len() != items.len() / 2 {
        return Err(corrupt("duplicate hash field"));
    }
    Ok(Value::Hash(h))
}

fn scored(items: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, f64)>, RdbError> {
    if !items.len().is_multiple_of(2) {
        return Err(corrupt("sorted set with an odd number of entries"));
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        let score = fincache_types::num::parse_f64(&s).ok_or_else(|| corrupt("invalid score"))?;
        out.push((m, score));
    }
    Ok(out)
}

fn zset_value(pairs: Vec<(Vec<u8>, f64)>, limits: &BuildLimits) -> Result<Value, RdbError> {
    let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    let mut z = ZSet::with_hint(pairs.len(), longest, limits.zset);
    for (m, s) in &pairs {
        if s.is_nan() {
            return Err(corrupt("NaN score"));
        }
        if z.score(m).is_some() {
            return Err(corrupt("duplicate sorted set member"));
        }
        z.insert_new(m, *s, limits.zset);
    }
    Ok(Value::ZSet(Box::new(z)))
}

/// The entries of a Redis listpack blob.
pub fn listpack_entries(lp: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    if lp.len() < 7 {
        return Err(corrupt("listpack too short"));
    }
    let mut c = Cursor::new(lp);
    c.pos = 6;
    let mut out = Vec::new();
    loop {
        let start = c.pos;
        let b = c.byte()?;
        let v: Vec<u8> = if b == 0xFF {
            break;
        } else if b & 0x80 == 0 {
            int_text(i64::from(b))
        } else if b & 0xC0 == 0x80 {
            c.take(usize::from(b & 0x3f))?.to_vec()
        } else if b & 0xE0 == 0xC0 {
            let u = (u16::from(b & 0x1f) << 8) | u16::from(c.byte()?);
            // 13-bit two's complement.
            let n = if u >= 1 << 12 {
                i64::from(u) - (1 << 13)
            } else {
                i64::from(u)
            };
            int_text(n)
        } else if b & 0xF0 == 0xE0 {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(c.byte()?);
            c.take(n)?.to_vec()
        } else {
            match b {
                0xF0 => {
                    let n = c.u32_le()? as usize;
                    c.take(n)?.to_vec()
                }
                0xF1 => {
                    let x = c.take(2)?;
                    int_text(i64::from(i16::from_le_bytes([x[0], x[1]])))
                }
                0xF2 => {
                    let x = c.take(3)?;
                    int_text(i64::from(i32::from_le_bytes([0, x[0], x[1], x[2]]) >> 8))
                }
                0xF3 => int_text(i64::from(c.u32_le()? as i32)),
                0xF4 => int_text(c.u64_le()? as i64),
                _ => return Err(corrupt("unknown listpack entry encoding")),
            }
        };
        let l = c.pos - start;
        let backlen = match l {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2_097_150 => 3,
            2_097_151..=268_435_454 => 4,
            _ => 5,
        };
        c.take(backlen)?;
        out.push(v);
    }
    Ok(out)
}

fn int_text(n: i64) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

/// The entries of a (pre-7.0) ziplist blob.
pub fn ziplist_entries(zl: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    let mut c = Cursor::new(zl);
    c.take(10)?;
    let mut out = Vec::new();
    loop {
        let first = c.byte()?;
        if first == 0xFF {
            break;
        }
        if first == 0xFE {
            c.take(4)?;
        }
        let e = c.byte()?;
        let v = match e >> 6 {
            0 => c.take(usize::from(e & 0x3f))?.to_vec(),
            1 => {
                let n = (usize::from(e & 0x3f) << 8) | usize::from(c.byte()?);
                c.take(n)?.to_vec()
            }
            2 => {
                let b = c.take(4)?;
                let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                c.take(n)?.to_vec()
            }
            _ => match e {
                0xC0 => {
                    let b = c.take(2)?;
                    int_text(i64::from(i16::from_le_bytes([b[0], b[1]])))
                }
                0xD0 => int_text(i64::from(c.u32_le()? as i32)),
                0xE0 => int_text(c.u64_le()? as i64),
                0xF0 => {
                    let b = c.take(3)?;
                    int_text(i64::from(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8))
                }
                0xFE => int_text(i64::from(c.byte()? as i8)),
                0xF1..=0xFD => int_text(i64::from(e & 0x0f) - 1),
                _ => return Err(corrupt("unknown ziplist entry encoding")),
            },
        };
        out.push(v);
    }
    Ok(out)
}

/// The members of an intset blob.
pub fn intset_entries(blob: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    let mut c = Cursor::new(blob);
    let width = c.u32_le()? as usize;
    let n = c.u32_le()? as usize;
    if !matches!(width, 2 | 4 | 8) || n.checked_mul(width) != Some(blob.len() - 8) {
        return Err(corrupt("invalid intset"));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let b = c.take(width)?;
        let v = match width {
            2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
            4 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => i64::from_le_bytes(b.try_into().map_err(|_| RdbError::Truncated)?),
        };
        out.push(int_text(v));
    }
    Ok(out)
}

/// The fields and values of a (pre-2.6) zipmap blob.
pub fn zipmap_entries(zm: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    let mut c = Cursor::new(zm);
    c.byte()?;
    let mut out = Vec::new();
    let read_len = |c: &mut Cursor<'_>| -> Result<Option<usize>, RdbError> {
        match c.byte()? {
            255 => Ok(None),
            254 => Ok(Some(c.u32_le()? as usize)),
            n => Ok(Some(usize::from(n))),
        }
    };
    while let Some(klen) = read_len(&mut c)? {
        out.push(c.take(klen)?.to_vec());
        let vlen = read_len(&mut c)?.ok_or_else(|| corrupt("zipmap key without a value"))?;
        let free = usize::from(c.byte()?);
        out.push(c.take(vlen)?.to_vec());
        c.take(free)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ziplist_from_redis_docs() {
        // [zlbytes][zltail][zllen=2] [prev 0, imm 2] [prev 2, imm 5] [end]
        let zl = b"\x0f\x00\x00\x00\x0c\x00\x00\x00\x02\x00\x00\xf3\x02\xf6\xff";
        assert_eq!(
            ziplist_entries(zl).unwrap(),
            vec![b"2".to_vec(), b"5".to_vec()]
        );
        let mut zl2 = b"\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00".to_vec();
        zl2.extend_from_slice(b"\x00\x05hello\x07\xc0\x2c\x01\x04\xfe\xf6\xff");
        assert_eq!(
            ziplist_entries(&zl2).unwrap(),
            vec![b"hello".to_vec(), b"300".to_vec(), b"-10".to_vec()]
        );
    }

    #[test]
    fn zipmap_pairs() {
        let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x02world!!\xff";
        assert_eq!(
            zipmap_entries(zm).unwrap(),
            vec![
                b"foo".to_vec(),
                b"bar".to_vec(),
                b"hello".to_vec(),
                b"world".to_vec()
            ]
        );
    }

    #[test]
    fn listpack_round_trip_all_encodings() {
        let values: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "32767",
            "-32768",
            "8388607",
            "-8388608",
            "2147483647",
            "-2147483648",
            "9223372036854775807",
            "-9223372036854775808",
            "",
            "a",
            "007",
            "1.5",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 5000],
        ])
        .collect();
        let mut lp = Vec::new();
        super::super::rdb_write::listpack_build(
            &mut lp,
            values.iter().map(Vec::as_slice),
            values.len(),
        );
        assert_eq!(listpack_entries(&lp).unwrap(), values);
    }

    #[test]
    fn truncated_and_garbage_inputs_are_errors() {
        assert!(listpack_entries(b"\x00\x00").is_err());
        assert!(ziplist_entries(b"\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x45").is_err());
        assert!(intset_entries(b"\x03\x00\x00\x00\x01\x00\x00\x00\x00").is_err());
        let limits = BuildLimits::default();
        for ty in 0..=25u8 {
            for data in [&b""[..], b"\xff", b"\x05ab", b"\xc3\x05\x10\x00"] {
                let _ = read_value(&mut Cursor::new(data), ty, &limits);
            }
        }
    }
}
