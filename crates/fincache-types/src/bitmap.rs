//! Bit operations on byte strings, as Redis's `bitops.c` defines them: SETBIT/GETBIT,
//! BITCOUNT and BITPOS ranges, BITOP.
//!
//! Bits are numbered big-endian inside each byte: bit 0 is the most significant bit of byte 0,
//! bit 8 the most significant bit of byte 1, and so on (so `SETBIT k 7 1` makes the byte 0x01).
//!
//! The range rules (negative indexes, clamping, Redis's early `start > end` answers) are
//! reproduced exactly, because clients see them; the work itself runs over 64-bit words where
//! the bytes allow it (population counts, BITOP, and skipping all-0 / all-1 words in BITPOS).

/// The unit of BITCOUNT / BITPOS range arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Byte,
    Bit,
}

/// A BITOP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

impl BitOp {
    /// Parses the operation name, case-insensitively (`AND`, `OR`, `XOR`, `NOT`).
    pub fn parse(name: &[u8]) -> Option<BitOp> {
        [
            (b"and" as &[u8], BitOp::And),
            (b"or", BitOp::Or),
            (b"xor", BitOp::Xor),
            (b"not", BitOp::Not),
        ]
        .into_iter()
        .find(|(n, _)| name.eq_ignore_ascii_case(n))
        .map(|(_, op)| op)
    }
}

/// Parses a bit offset argument as Redis's `getBitOffsetFromArgument`: a non-negative integer
/// (Redis's `string2ll` syntax) whose byte (`offset / 8`) is below `max_bytes`
/// (`proto-max-bulk-len`). With `hash_bits > 0` (BITFIELD) the `#N` form is accepted and means
/// `N * hash_bits`; the multiplication wraps as Redis's 64-bit arithmetic does.
pub fn parse_bit_offset(arg: &[u8], hash_bits: u32, max_bytes: usize) -> Option<u64> {
    let (hash, digits) = match arg.first() {
        Some(b'#') if hash_bits > 0 => (true, &arg[1..]),
        _ => (false, arg),
    };
    let mut offset = crate::num::parse_i64(digits)?;
    if hash {
        offset = offset.wrapping_mul(i64::from(hash_bits));
    }
    let offset = u64::try_from(offset).ok()?;
    if (offset >> 3) >= max_bytes as u64 {
        return None;
    }
    Some(offset)
}

/// The bit at `offset`; bits past the end read as 0.
#[inline]
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    bytes
        .get(byte)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Sets or clears the bit at `offset`, which must lie inside `bytes` (the caller grows the
/// buffer first with [`grow_zeroed`]); returns the bit's previous value.
#[inline]
pub fn set_bit(bytes: &mut [u8], offset: u64, on: bool) -> bool {
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let old = bytes[byte] & mask != 0;
    if on {
        bytes[byte] |= mask;
    } else {
        bytes[byte] &= !mask;
    }
    old
}

/// Grows `buf` with zero bytes to at least `len` bytes (Redis's `sdsgrowzero`); returns
/// whether it grew. A size the allocator refuses is an error rather than an abort.
#[inline]
pub fn grow_zeroed(
    buf: &mut Vec<u8>,
    len: usize,
) -> Result<bool, std::collections::TryReserveError> {
    if buf.len() >= len {
        return Ok(false);
    }
    buf.try_reserve(len - buf.len())?;
    buf.resize(len, 0);
    Ok(true)
}

/// Number of set bits, a 64-bit word at a time.
pub fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        n += u64::from(u64::from_ne_bytes(a).count_ones());
    }
    n + words
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>()
}

/// Set bits in the inclusive bit range `first..=last` (both inside `bytes`).
fn count_bits(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let head_mask = 0xffu8 >> (first & 7);
    let tail_mask = 0xffu8 << (7 - (last & 7));
    if fb == lb {
        return u64::from((bytes[fb] & head_mask & tail_mask).count_ones());
    }
    u64::from((bytes[fb] & head_mask).count_ones())
        + popcount(&bytes[fb + 1..lb])
        + u64::from((bytes[lb] & tail_mask).count_ones())
}

/// Converts a BITCOUNT / BITPOS `start`/`end` pair into an inclusive range over `total` units
/// (Redis: negative from the end, then clamped to `0..total`); `None` when it is empty.
fn clamp_range(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let mut start = if start < 0 { total + start } else { start };
    let mut end = if end < 0 { total + end } else { end };
    if start < 0 {
        start = 0;
    }
    if end < 0 {
        end = 0;
    }
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    Some((start as u64, end as u64))
}

/// BITCOUNT over a range: `start`/`end` in bytes or bits, negative from the end.
///
/// As Redis, two negative indexes with `start > end` answer 0 before any clamping (so
/// `-20 -30` on a 10-byte string counts nothing rather than byte 0).
pub fn count_range(bytes: &[u8], start: i64, end: i64, unit: Unit) -> u64 {
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let total = match unit {
        Unit::Byte => bytes.len() as i64,
        Unit::Bit => (bytes.len() as i64) << 3,
    };
    match (clamp_range(start, end, total), unit) {
        (None, _) => 0,
        (Some((s, e)), Unit::Byte) => popcount(&bytes[s as usize..=e as usize]),
        (Some((s, e)), Unit::Bit) => count_bits(bytes, s, e),
    }
}

/// The first bit equal to `want` in the inclusive bit range `first..=last` (inside `bytes`).
fn find_bit(bytes: &[u8], want: bool, first: u64, last: u64) -> Option<u64> {
    // Work on bytes inverted when looking for a 0, so the search is always for a 1.
    let flip = if want { 0u8 } else { 0xff };
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let head_mask = 0xffu8 >> (first & 7);
    let tail_mask = 0xffu8 << (7 - (last & 7));
    let hit = |i: usize, b: u8| Some(((i as u64) << 3) + u64::from(b.leading_zeros()));
    let head = (bytes[fb] ^ flip) & head_mask & if fb == lb { tail_mask } else { 0xff };
    if head != 0 {
        return hit(fb, head);
    }
    if fb == lb {
        return None;
    }
    // Whole bytes between the two edges, skipping uninteresting 64-bit words.
    let mut i = fb + 1;
    let skip_word = if want { 0u64 } else { u64::MAX };
    while i + 8 <= lb {
        let mut a = [0u8; 8];
        a.copy_from_slice(&bytes[i..i + 8]);
        if u64::from_ne_bytes(a) != skip_word {
            break;
        }
        i += 8;
    }
    while i < lb {
        let b = bytes[i] ^ flip;
        if b != 0 {
            return hit(i, b);
        }
        i += 1;
    }
    let tail = (bytes[lb] ^ flip) & tail_mask;
    if tail != 0 {
        return hit(lb, tail);
    }
    None
}

/// BITPOS on an existing string: the first bit equal to `bit`, optionally within a range.
///
/// `range` is `None` for the whole string, else `(start, end)` with `end` absent when the
/// client gave only a start. Redis's rules: negative indexes from the end, clamped; an empty
/// range answers -1; when looking for a 0 in BYTE units without an explicit end, the string is
/// treated as padded with zeros on the right, so an all-ones range answers the first bit past
/// it; with an explicit end (or in BIT units) a miss is -1.
pub fn bitpos(bytes: &[u8], bit: bool, range: Option<(i64, Option<i64>)>, unit: Unit) -> i64 {
    let len = bytes.len() as i64;
    let (span, end_given) = match range {
        None => (clamp_range(0, len - 1, len), false),
        Some((start, end)) => {
            let total = match unit {
                Unit::Byte => len,
                Unit::Bit => len << 3,
            };
            let end_given = end.is_some();
            (
                clamp_range(start, end.unwrap_or(total - 1), total),
                end_given,
            )
        }
    };
    let Some((start, end)) = span else {
        return -1;
    };
    let (first, last) = match unit {
        Unit::Byte => (start << 3, (end << 3) + 7),
        Unit::Bit => (start, end),
    };
    match find_bit(bytes, bit, first, last) {
        Some(pos) => pos as i64,
        None if !bit && !end_given && unit == Unit::Byte => (last + 1) as i64,
        None => -1,
    }
}

/// Applies `word` to 8-byte chunks and `byte` to the rest: `dst[i] = f(dst[i], src[i])` over
/// `src.len()` bytes.
#[inline]
fn combine(
    dst: &mut [u8],
    src: &[u8],
    word: impl Fn(u64, u64) -> u64,
    byte: impl Fn(u8, u8) -> u8,
) {
    let n = src.len().min(dst.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let mut d_words = dst.chunks_exact_mut(8);
    let mut s_words = src.chunks_exact(8);
    for (d, s) in (&mut d_words).zip(&mut s_words) {
        let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
        a.copy_from_slice(d);
        b.copy_from_slice(s);
        let r = word(u64::from_ne_bytes(a), u64::from_ne_bytes(b));
        d.copy_from_slice(&r.to_ne_bytes());
    }
    for (d, s) in d_words.into_remainder().iter_mut().zip(s_words.remainder()) {
        *d = byte(*d, *s);
    }
}

/// BITOP: combines the sources (a missing key is an empty source) into a string as long as
/// the longest one, shorter sources reading as zero-padded. NOT takes exactly one source (the
/// caller checks). An empty result means every source was empty.
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let max_len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; max_len];
    let Some((first, rest)) = sources.split_first() else {
        return out;
    };
    out[..first.len()].copy_from_slice(first);
    match op {
        // A plain loop over the bytes: the compiler vectorises it.
        BitOp::Not => out.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for s in rest {
                combine(&mut out, s, |a, b| a & b, |a, b| a & b);
                // Past a source's end it reads as zeros: AND clears the rest.
                out[s.len()..].fill(0);
            }
        }
        BitOp::Or => {
            for s in rest {
                combine(&mut out, s, |a, b| a | b, |a, b| a | b);
            }
        }
        BitOp::Xor => {
            for s in rest {
                combine(&mut out, s, |a, b| a ^ b, |a, b| a ^ b);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The model: the string as a vector of bits.
    fn bits(bytes: &[u8]) -> Vec<bool> {
        (0..bytes.len() as u64 * 8)
            .map(|i| get_bit(bytes, i))
            .collect()
    }

    /// Redis's index conversion, written out directly.
    fn model_range(start: i64, end: i64, total: i64) -> Option<(i64, i64)> {
        let s = if start < 0 {
            (total + start).max(0)
        } else {
            start
        };
        let e = if end < 0 { (total + end).max(0) } else { end }.min(total - 1);
        (s <= e).then_some((s, e))
    }

    fn model_count(bytes: &[u8], start: i64, end: i64, unit: Unit) -> u64 {
        if start < 0 && end < 0 && start > end {
            return 0;
        }
        let b = bits(bytes);
        let scale = if unit == Unit::Byte { 8 } else { 1 };
        match model_range(start, end, b.len() as i64 / scale) {
            None => 0,
            Some((s, e)) => b[(s * scale) as usize..((e + 1) * scale) as usize]
                .iter()
                .filter(|x| **x)
                .count() as u64,
        }
    }

    fn model_pos(bytes: &[u8], bit: bool, range: Option<(i64, Option<i64>)>, unit: Unit) -> i64 {
        let b = bits(bytes);
        let scale = if unit == Unit::Byte { 8 } else { 1 };
        let total = b.len() as i64 / scale;
        let (start, end, end_given) = match range {
            None => (0, total - 1, false),
            Some((s, e)) => (s, e.unwrap_or(total - 1), e.is_some()),
        };
        let Some((s, e)) = model_range(start, end, total) else {
            return -1;
        };
        let (from, to) = (s * scale, (e + 1) * scale);
        match (from..to).find(|&i| b[i as usize] == bit) {
            Some(i) => i,
            None if !bit && !end_given && unit == Unit::Byte => to,
            None => -1,
        }
    }

    #[test]
    fn set_and_get() {
        let mut v = Vec::new();
        assert_eq!(grow_zeroed(&mut v, 1), Ok(true));
        assert!(!set_bit(&mut v, 7, true));
        assert_eq!(v, [0x01]);
        assert!(set_bit(&mut v, 7, false));
        assert_eq!(v, [0]);
        set_bit(&mut v, 0, true);
        assert_eq!(v, [0x80]);
        assert!(get_bit(&v, 0));
        assert!(!get_bit(&v, 1000));
        assert_eq!(grow_zeroed(&mut v, 1), Ok(false));
        assert!(grow_zeroed(&mut v, usize::MAX / 2).is_err());
    }

    #[test]
    fn offsets() {
        let max = 512 << 20;
        assert_eq!(parse_bit_offset(b"0", 0, max), Some(0));
        assert_eq!(parse_bit_offset(b"4294967295", 0, max), Some(4294967295));
        assert_eq!(parse_bit_offset(b"4294967296", 0, max), None);
        assert_eq!(parse_bit_offset(b"-1", 0, max), None);
        assert_eq!(parse_bit_offset(b"#1", 0, max), None);
        assert_eq!(parse_bit_offset(b"#3", 8, max), Some(24));
        assert_eq!(parse_bit_offset(b"#", 8, max), None);
        // 2^61 * 8 wraps to 0, as in Redis.
        assert_eq!(parse_bit_offset(b"#2305843009213693952", 8, max), Some(0));
        assert_eq!(parse_bit_offset(b"01", 0, max), None);
    }

    #[test]
    fn counts_and_positions() {
        let s = b"foobar";
        assert_eq!(count_range(s, 0, -1, Unit::Byte), 26);
        assert_eq!(count_range(s, 1, 1, Unit::Byte), 6);
        assert_eq!(count_range(s, 5, 30, Unit::Bit), 17);
        assert_eq!(count_range(s, -20, -30, Unit::Byte), 0);
        assert_eq!(count_range(b"", 0, 0, Unit::Byte), 0);
        let s = [0xff, 0xf0, 0x00];
        assert_eq!(bitpos(&s, false, None, Unit::Byte), 12);
        assert_eq!(bitpos(&s, true, Some((2, None)), Unit::Byte), -1);
        assert_eq!(bitpos(&[0xff, 0xff], false, None, Unit::Byte), 16);
        assert_eq!(
            bitpos(&[0xff, 0xff], false, Some((0, Some(-1))), Unit::Byte),
            -1
        );
        assert_eq!(
            bitpos(&[0x00, 0xff], true, Some((7, Some(15))), Unit::Bit),
            8
        );
        assert_eq!(bitpos(b"", false, None, Unit::Byte), -1);
        assert_eq!(popcount(&[0xff; 19]), 152);
    }

    #[test]
    fn operations() {
        assert_eq!(bitop(BitOp::And, &[b"\xff\x0f", b"\x0f"]), b"\x0f\x00");
        assert_eq!(bitop(BitOp::Or, &[b"\x01", b"\x10\x20"]), b"\x11\x20");
        assert_eq!(bitop(BitOp::Xor, &[b"\xff", b"\x0f", b""]), b"\xf0");
        assert_eq!(bitop(BitOp::Not, &[b"\x0f\xf0"]), b"\xf0\x0f");
        assert!(bitop(BitOp::Or, &[b"", b""]).is_empty());
        assert_eq!(BitOp::parse(b"xOr"), Some(BitOp::Xor));
        assert_eq!(BitOp::parse(b"nand"), None);
    }

    fn unit() -> impl Strategy<Value = Unit> {
        prop_oneof![Just(Unit::Byte), Just(Unit::Bit)]
    }

    proptest! {
        #[test]
        fn count_matches_model(bytes in proptest::collection::vec(any::<u8>(), 0..40),
                               start in -400i64..400, end in -400i64..400, unit in unit()) {
            prop_assert_eq!(count_range(&bytes, start, end, unit), model_count(&bytes, start, end, unit));
        }

        #[test]
        fn pos_matches_model(bytes in proptest::collection::vec(prop_oneof![Just(0u8), Just(0xff), any::<u8>()], 0..40),
                             bit in any::<bool>(), start in -400i64..400, end in proptest::option::of(-400i64..400),
                             whole in any::<bool>(), unit in unit()) {
            let range = if whole { None } else { Some((start, end)) };
            let unit = if whole || end.is_none() { Unit::Byte } else { unit };
            prop_assert_eq!(bitpos(&bytes, bit, range, unit), model_pos(&bytes, bit, range, unit));
        }

        #[test]
        fn bitop_matches_model(srcs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 1..4),
                               op in 0..4u8) {
            let op = [BitOp::And, BitOp::Or, BitOp::Xor, BitOp::Not][op as usize];
            let srcs = if op == BitOp::Not { srcs[..1].to_vec() } else { srcs };
            let refs: Vec<&[u8]> = srcs.iter().map(|s| s.as_slice()).collect();
            let max = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
            let at = |s: &Vec<u8>, i: usize| s.get(i).copied().unwrap_or(0);
            let want: Vec<u8> = (0..max).map(|i| {
                let mut acc = at(&srcs[0], i);
                for s in &srcs[1..] {
                    acc = match op { BitOp::And => acc & at(s, i), BitOp::Or => acc | at(s, i), _ => acc ^ at(s, i) };
                }
                if op == BitOp::Not { !acc } else { acc }
            }).collect();
            prop_assert_eq!(bitop(op, &refs), want);
        }
    }
}
