//! FUNCTION DUMP / RESTORE payloads in Redis's format: for each library the RDB opcode
//! `RDB_OPCODE_FUNCTION2` (245) and its code as an RDB string, then the RDB version (2 bytes,
//! little-endian) and a CRC64 (Jones, little-endian) of everything before it.
//!
//! Redis restores FinCache's payloads and FinCache restores Redis's: strings are read in every
//! RDB string encoding (plain, integer, LZF-compressed); FinCache writes them uncompressed.
// COMPAT: Redis LZF-compresses codes longer than 20 bytes, so the two servers' DUMP bytes
// differ while carrying the same libraries.

/// `RDB_OPCODE_FUNCTION2`.
pub const OPCODE_FUNCTION2: u8 = 245;
/// `RDB_OPCODE_FUNCTION_PRE_GA`.
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;
/// The RDB version written (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;
/// The newest RDB version accepted (Redis 7.2's).
pub const RDB_VERSION_MAX: u16 = 11;

/// Redis's `crc64` (Jones polynomial, reflected, no final xor).
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
    for &b in data {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// Appends an RDB length.
pub fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 64 {
        out.push(len as u8);
    } else if len < 16384 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if let Ok(n) = u32::try_from(len) {
        out.push(0x80);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// The payload of FUNCTION DUMP for these library codes.
pub fn dump<'a>(codes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        write_len(&mut out, code.len());
        out.extend_from_slice(code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Why a payload was refused (FUNCTION RESTORE's errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreError {
    /// Too short, newer RDB version, or wrong checksum.
    Checksum,
    /// Anything else, with Redis's message.
    Other(&'static str),
}

/// Reads the library codes of a FUNCTION DUMP payload.
pub fn parse(payload: &[u8]) -> Result<Vec<Vec<u8>>, RestoreError> {
    if payload.len() < 10 {
        return Err(RestoreError::Checksum);
    }
    let body_end = payload.len() - 10;
    let version = u16::from_le_bytes([payload[body_end], payload[body_end + 1]]);
    if version > RDB_VERSION_MAX {
        return Err(RestoreError::Checksum);
    }
    let mut crc_bytes = [0u8; 8];
    crc_bytes.copy_from_slice(&payload[payload.len() - 8..]);
    if crc64(0, &payload[..payload.len() - 8]) != u64::from_le_bytes(crc_bytes) {
        return Err(RestoreError::Checksum);
    }
    let mut pos = 0;
    let mut codes = Vec::new();
    let fail = RestoreError::Other("failed loading the given functions payload");
    while pos < body_end {
        let kind = payload[pos];
        pos += 1;
        if kind == OPCODE_FUNCTION_PRE_GA {
            return Err(RestoreError::Other("Pre-GA function format not supported"));
        }
        if kind != OPCODE_FUNCTION2 {
            return Err(RestoreError::Other("given type is not a function"));
        }
        let code = read_string(&payload[..body_end], &mut pos).ok_or(fail.clone())?;
        codes.push(code);
    }
    Ok(codes)
}

/// Reads an RDB length: (value, is-special-encoding).
fn read_len(buf: &[u8], pos: &mut usize) -> Option<(u64, bool)> {
    let first = *buf.get(*pos)?;
    *pos += 1;
    match first >> 6 {
        0 => Some((u64::from(first & 0x3f), false)),
        1 => {
            let second = *buf.get(*pos)?;
            *pos += 1;
            Some(((u64::from(first & 0x3f) << 8) | u64::from(second), false))
        }
        2 => match first {
            0x80 => {
                let b = buf.get(*pos..*pos + 4)?;
                *pos += 4;
                Some((u64::from(u32::from_be_bytes(b.try_into().ok()?)), false))
            }
            0x81 => {
                let b = buf.get(*pos..*pos + 8)?;
                *pos += 8;
                Some((u64::from_be_bytes(b.try_into().ok()?), false))
            }
            _ => None,
        },
        _ => Some((u64::from(first & 0x3f), true)),
    }
}

/// Reads an RDB string in any of its encodings.
fn read_string(buf: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let (len, special) = read_len(buf, pos)?;
    if !special {
        let len = usize::try_from(len).ok()?;
        let s = buf.get(*pos..pos.checked_add(len)?)?.to_vec();
        *pos += len;
        return Some(s);
    }
    let int = |n: usize, pos: &mut usize| -> Option<Vec<u8>> {
        let b = buf.get(*pos..*pos + n)?;
        *pos += n;
        let v = match n {
            1 => i64::from(b[0] as i8),
            2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
            _ => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        };
        Some(v.to_string().into_bytes())
    };
    match len {
        0 => int(1, pos),
        1 => int(2, pos),
        2 => int(4, pos),
        3 => {
            let (clen, _) = read_len(buf, pos)?;
            let (ulen, _) = read_len(buf, pos)?;
            let clen = usize::try_from(clen).ok()?;
            let ulen = usize::try_from(ulen).ok()?;
            let compressed = buf.get(*pos..pos.checked_add(clen)?)?;
            *pos += clen;
            lzf_decompress(compressed, ulen)
        }
        _ => None,
    }
}

/// LZF decompression (`lzf_d.c`) into exactly `out_len` bytes; None on malformed input.
pub fn lzf_decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // The output size is declared by the payload: allocate no more than the input could
    // possibly expand to (a back-reference copies at most 264 bytes per 2 input bytes).
    let mut out = Vec::with_capacity(out_len.min(input.len().saturating_mul(132)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(i..i + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            len += 2;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn round_trip() {
        let a = b"#!lua name=a\nredis.register_function('f', function() return 1 end)".to_vec();
        let p = dump([a.as_slice()]);
        assert_eq!(parse(&p).unwrap(), vec![a]);
        let mut bad = p.clone();
        bad[3] ^= 1;
        assert_eq!(parse(&bad), Err(RestoreError::Checksum));
        assert_eq!(parse(b"bad"), Err(RestoreError::Checksum));
    }

    #[test]
    fn redis_payload() {
        // FUNCTION DUMP of redis-server 7.0 for a library with two functions (LZF-compressed).
        let payload: &[u8] = b"\xf5\xc3@\xaf@\xf2\x1f#!lua name=mylib\nredis.register_\x0efunction('f1', \xe0\x00\x0e\x11keys, args) return`\x0c\x07[1] end)\xe0\x0fF\x00{\xc0@\x00_`r\x02'f2 T\x08callback=\xc0\x1c\xe0\x0b]\x80\x97@*\x04('get 6@\x82 o\x00)@p \x99\x1alags={'no-writes'}, descrip@\xc0\x01='@\x0c\x022'}\n\x00\xff'\xe2\xbb\x00\xf4\x12B";
        let codes = parse(payload).unwrap();
        assert_eq!(codes.len(), 1);
        let code = String::from_utf8(codes[0].clone()).unwrap();
        assert!(code.starts_with("#!lua name=mylib\nredis.register_function('f1', function(keys, args) return args[1] end)"));
        assert!(code.ends_with("flags={'no-writes'}, description='desc2'}"));
    }
}
