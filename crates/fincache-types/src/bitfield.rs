//! BITFIELD: integers of 1 to 64 bits at arbitrary bit offsets of a byte string, as Redis's
//! `bitops.c` reads, writes and increments them (big-endian bit order, the same numbering as
//! SETBIT), with its three overflow policies and its argument grammar.
//!
//! Types are `i1`..`i64` (signed, two's complement) and `u1`..`u63` (unsigned: a `u64` could
//! not be returned as a RESP integer). Offsets are bit numbers, or `#N` meaning `N` times the
//! type's width. Overflow handling follows `checkSignedBitfieldOverflow` /
//! `checkUnsignedBitfieldOverflow` exactly, including their treatment of 64-bit fields.

use crate::bitmap::parse_bit_offset;
use crate::num::parse_i64;

/// A field type: signedness and width in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

impl FieldType {
    /// Parses `i<bits>` or `u<bits>` (lower case only, as Redis). Like Redis, which reads the
    /// argument as a C string, anything after an embedded NUL byte is ignored.
    pub fn parse(arg: &[u8]) -> Option<FieldType> {
        let arg = arg.split(|&c| c == 0).next().unwrap_or_default();
        let signed = match arg.first() {
            Some(b'i') => true,
            Some(b'u') => false,
            _ => return None,
        };
        let bits = parse_i64(&arg[1..])?;
        let max = if signed { 64 } else { 63 };
        if !(1..=max).contains(&bits) {
            return None;
        }
        Some(FieldType {
            signed,
            bits: bits as u32,
        })
    }
}

/// What happens when SET or INCRBY does not fit the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (two's complement wrap-around).
    Wrap,
    /// Saturate at the type's minimum or maximum.
    Sat,
    /// Do nothing and reply null.
    Fail,
}

/// One BITFIELD operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// A parsed BITFIELD subcommand, with the overflow policy in force where it appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldOp {
    pub kind: OpKind,
    pub ty: FieldType,
    pub offset: u64,
    pub overflow: Overflow,
}

/// Why a BITFIELD argument list was refused (each maps to one Redis error text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// `ERR syntax error`
    Syntax,
    /// `ERR Invalid OVERFLOW type specified`
    BadOverflow,
    /// `ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.`
    BadType,
    /// `ERR bit offset is not an integer or out of range`
    BadOffset,
    /// `ERR value is not an integer or out of range`
    NotInteger,
}

/// Parses the subcommands after the key, as `bitfieldGeneric`: errors in argument order; a
/// subcommand missing arguments is a syntax error. `max_bytes` is `proto-max-bulk-len`.
pub fn parse_ops(args: &[&[u8]], max_bytes: usize) -> Result<Vec<FieldOp>, ParseError> {
    let mut ops = Vec::with_capacity(args.len() / 3);
    let mut overflow = Overflow::Wrap;
    let mut j = 0;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = args[j];
        let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
        let get = is("get") && remaining >= 2;
        let set = is("set") && remaining >= 3;
        let incrby = is("incrby") && remaining >= 3;
        if is("overflow") && remaining >= 1 {
            let kind = args[j + 1];
            let is_kind = |name: &str| kind.eq_ignore_ascii_case(name.as_bytes());
            overflow = if is_kind("wrap") {
                Overflow::Wrap
            } else if is_kind("sat") {
                Overflow::Sat
            } else if is_kind("fail") {
                Overflow::Fail
            } else {
                return Err(ParseError::BadOverflow);
            };
            j += 2;
            continue;
        }
        if !(get || set || incrby) {
            return Err(ParseError::Syntax);
        }
        let ty = FieldType::parse(args[j + 1]).ok_or(ParseError::BadType)?;
        let offset =
            parse_bit_offset(args[j + 2], ty.bits, max_bytes).ok_or(ParseError::BadOffset)?;
        let kind = if get {
            OpKind::Get
        } else {
            let v = parse_i64(args[j + 3]).ok_or(ParseError::NotInteger)?;
            if set {
                OpKind::Set(v)
            } else {
                OpKind::IncrBy(v)
            }
        };
        ops.push(FieldOp {
            kind,
            ty,
            offset,
            overflow,
        });
        j += if get { 3 } else { 4 };
    }
    Ok(ops)
}

/// The highest bit any SET/INCRBY touches, or `None` when every operation is a GET.
pub fn highest_write_bit(ops: &[FieldOp]) -> Option<u64> {
    ops.iter()
        .filter(|op| op.kind != OpKind::Get)
        .map(|op| op.offset + u64::from(op.ty.bits) - 1)
        .max()
}

/// The up-to-9 bytes a field at `offset` may span, zero-padded, as the top of a u128.
#[inline]
fn window(bytes: &[u8], offset: u64) -> u128 {
    let mut w = [0u8; 16];
    if let Ok(start) = usize::try_from(offset >> 3) {
        if start < bytes.len() {
            let avail = &bytes[start..];
            let n = avail.len().min(9);
            w[..n].copy_from_slice(&avail[..n]);
        }
    }
    u128::from_be_bytes(w)
}

/// The field's bits as an unsigned number; bits past the end read as 0.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let shift = (offset & 7) as u32;
    ((window(bytes, offset) << shift) >> (128 - bits)) as u64
}

/// The field's bits as a two's complement number of `bits` bits.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(bytes, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at `offset`. The field must lie inside `bytes` (the
/// caller grows the string to [`highest_write_bit`] first).
pub fn set_bits(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let shift = (offset & 7) as u32;
    let start = (offset >> 3) as usize;
    let low = 128 - bits - shift;
    let field_mask = (u128::MAX >> (128 - bits)) << low;
    let w = (window(bytes, offset) & !field_mask) | ((u128::from(value) << low) & field_mask);
    let w = w.to_be_bytes();
    let n = (bytes.len() - start).min(9);
    bytes[start..start + n].copy_from_slice(&w[..n]);
}

/// `checkUnsignedBitfieldOverflow`: whether `value + incr` leaves the range of a `bits`-bit
/// unsigned field (1 above, -1 below, 0 inside), and the value to store instead under
/// `overflow` (WRAP: the low bits; SAT: the bound; FAIL: none).
pub fn check_unsigned(value: u64, incr: i64, bits: u32, overflow: Overflow) -> (i8, Option<u64>) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || {
        let mask = if bits == 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    let dir = if value > max || (incr > 0 && incr > max_incr) {
        1
    } else if incr < 0 && incr < min_incr {
        -1
    } else {
        return (0, None);
    };
    let limit = match overflow {
        Overflow::Wrap => Some(wrapped()),
        Overflow::Sat => Some(if dir > 0 { max } else { 0 }),
        Overflow::Fail => None,
    };
    (dir, limit)
}

/// `checkSignedBitfieldOverflow`, the signed counterpart of [`check_unsigned`].
pub fn check_signed(value: i64, incr: i64, bits: u32, overflow: Overflow) -> (i8, Option<i64>) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    // These may wrap; they are only used once `value` is known to be in range.
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    let dir = if value > max
        || (bits != 64 && incr > max_incr)
        || (value >= 0 && incr > 0 && incr > max_incr)
    {
        1
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        -1
    } else {
        return (0, None);
    };
    let limit = match overflow {
        Overflow::Wrap => Some(wrapped()),
        Overflow::Sat => Some(if dir > 0 { max } else { min }),
        Overflow::Fail => None,
    };
    (dir, limit)
}

/// The outcome of one SET or INCRBY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The reply: the old value (SET) or the new one (INCRBY); `None` when OVERFLOW FAIL
    /// stopped the write.
    pub reply: Option<i64>,
    /// Whether the stored bits changed.
    pub changed: bool,
}

/// Runs a SET or INCRBY on `bytes` (which covers the field); a GET is answered by
/// [`read`].
pub fn write(bytes: &mut [u8], op: &FieldOp) -> WriteOutcome {
    let FieldType { signed, bits } = op.ty;
    let (arg, incr) = match op.kind {
        OpKind::Set(v) => (v, false),
        OpKind::IncrBy(v) => (v, true),
        OpKind::Get => {
            return WriteOutcome {
                reply: Some(read(bytes, op)),
                changed: false,
            }
        }
    };
    let (old, new, reply) = if signed {
        let old = get_signed(bytes, op.offset, bits);
        let (base, delta) = if incr { (old, arg) } else { (arg, 0) };
        let (dir, limit) = check_signed(base, delta, bits, op.overflow);
        if dir != 0 && limit.is_none() {
            return WriteOutcome {
                reply: None,
                changed: false,
            };
        }
        let new = limit.unwrap_or(base.wrapping_add(delta));
        (old as u64, new as u64, if incr { new } else { old })
    } else {
        let old = get_unsigned(bytes, op.offset, bits);
        let (base, delta) = if incr { (old, arg) } else { (arg as u64, 0) };
        let (dir, limit) = check_unsigned(base, delta, bits, op.overflow);
        if dir != 0 && limit.is_none() {
            return WriteOutcome {
                reply: None,
                changed: false,
            };
        }
        let new = limit.unwrap_or(base.wrapping_add(delta as u64));
        (old, new, if incr { new as i64 } else { old as i64 })
    };
    set_bits(bytes, op.offset, bits, new);
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    WriteOutcome {
        reply: Some(reply),
        changed: old & mask != new & mask,
    }
}

/// Answers a GET (missing bytes read as zeros).
pub fn read(bytes: &[u8], op: &FieldOp) -> i64 {
    if op.ty.signed {
        get_signed(bytes, op.offset, op.ty.bits)
    } else {
        get_unsigned(bytes, op.offset, op.ty.bits) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 512 << 20;

    fn ops(line: &str) -> Result<Vec<FieldOp>, ParseError> {
        let args: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
        parse_ops(&args, MAX)
    }

    fn op(kind: OpKind, ty: &str, offset: u64, overflow: Overflow) -> FieldOp {
        FieldOp {
            kind,
            ty: FieldType::parse(ty.as_bytes()).unwrap(),
            offset,
            overflow,
        }
    }

    #[test]
    fn types() {
        let t = |s: &str| FieldType::parse(s.as_bytes());
        assert_eq!(t("i64").map(|t| t.bits), Some(64));
        assert_eq!(t("u63").map(|t| t.signed), Some(false));
        for bad in ["u64", "i65", "u0", "I8", "i", "i+8", "i08", "8", ""] {
            assert_eq!(t(bad), None, "{bad}");
        }
        assert_eq!(FieldType::parse(b"u8\0zz").map(|t| t.bits), Some(8));
    }

    #[test]
    fn grammar() {
        assert_eq!(ops("get u8 0").unwrap().len(), 1);
        assert_eq!(ops("overflow sat incrby i5 #2 7").unwrap()[0].offset, 10);
        assert_eq!(
            ops("overflow fail get u8 0").unwrap()[0].overflow,
            Overflow::Fail
        );
        assert_eq!(ops("get u8"), Err(ParseError::Syntax));
        assert_eq!(ops("foo"), Err(ParseError::Syntax));
        assert_eq!(ops("overflow"), Err(ParseError::Syntax));
        assert_eq!(ops("overflow up"), Err(ParseError::BadOverflow));
        assert_eq!(ops("get u64 0"), Err(ParseError::BadType));
        assert_eq!(ops("get u8 -1"), Err(ParseError::BadOffset));
        assert_eq!(ops("set u8 0 x"), Err(ParseError::NotInteger));
        assert_eq!(ops("").unwrap(), vec![]);
        let parsed = ops("set u8 0 1 get i4 100 incrby u2 3 1").unwrap();
        assert_eq!(highest_write_bit(&parsed), Some(7));
        assert_eq!(highest_write_bit(&ops("get u8 9").unwrap()), None);
    }

    #[test]
    fn read_write() {
        let mut b = vec![0u8; 2];
        let w = write(&mut b, &op(OpKind::Set(0b101), "u3", 5, Overflow::Wrap));
        assert_eq!(
            w,
            WriteOutcome {
                reply: Some(0),
                changed: true
            }
        );
        assert_eq!(b, [0b0000_0101, 0]);
        assert_eq!(read(&b, &op(OpKind::Get, "i3", 5, Overflow::Wrap)), -3);
        assert_eq!(
            read(&b, &op(OpKind::Get, "i64", 0, Overflow::Wrap)),
            0x0500_0000_0000_0000
        );
        // Saturation and failure.
        let sat = op(OpKind::IncrBy(10), "u3", 5, Overflow::Sat);
        assert_eq!(write(&mut b, &sat).reply, Some(7));
        let fail = op(OpKind::IncrBy(1), "u3", 5, Overflow::Fail);
        assert_eq!(
            write(&mut b, &fail),
            WriteOutcome {
                reply: None,
                changed: false
            }
        );
        let wrap = op(OpKind::IncrBy(1), "i8", 0, Overflow::Wrap);
        let mut c = vec![0x7f];
        assert_eq!(write(&mut c, &wrap).reply, Some(-128));
        // Unsigned SET of a negative value saturates at the maximum.
        let neg = op(OpKind::Set(-1), "u8", 0, Overflow::Sat);
        assert_eq!(write(&mut c, &neg).reply, Some(128));
        assert_eq!(c, [0xff]);
        // i64 wraps like a machine word.
        let mut d = vec![0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let inc = op(OpKind::IncrBy(1), "i64", 0, Overflow::Wrap);
        assert_eq!(write(&mut d, &inc).reply, Some(i64::MIN));
        let sat64 = op(OpKind::IncrBy(-1), "i64", 0, Overflow::Sat);
        assert_eq!(write(&mut d, &sat64).reply, Some(i64::MIN));
    }

    /// Bit-by-bit model of the field accessors.
    fn model_get(bytes: &[u8], offset: u64, bits: u32) -> u64 {
        (0..u64::from(bits)).fold(0, |acc, i| {
            (acc << 1) | u64::from(crate::bitmap::get_bit(bytes, offset + i))
        })
    }

    proptest! {
        #[test]
        fn accessors_match_model(bytes in proptest::collection::vec(any::<u8>(), 0..12),
                                 offset in 0u64..100, bits in 1u32..=64, value in any::<u64>()) {
            prop_assert_eq!(get_unsigned(&bytes, offset, bits), model_get(&bytes, offset, bits));
            let end = ((offset + u64::from(bits) - 1) >> 3) as usize + 1;
            let mut buf = bytes.clone();
            crate::bitmap::grow_zeroed(&mut buf, end).unwrap();
            let before = buf.clone();
            set_bits(&mut buf, offset, bits, value);
            let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
            prop_assert_eq!(get_unsigned(&buf, offset, bits), value & mask);
            // Bits outside the field are untouched.
            for i in 0..buf.len() as u64 * 8 {
                if i < offset || i >= offset + u64::from(bits) {
                    prop_assert_eq!(crate::bitmap::get_bit(&buf, i), crate::bitmap::get_bit(&before, i));
                }
            }
        }

        #[test]
        fn signed_increments_match_i128(value in any::<i64>(), incr in any::<i64>(), bits in 1u32..=64) {
            let max = if bits == 64 { i64::MAX as i128 } else { (1i128 << (bits - 1)) - 1 };
            let min = -max - 1;
            let value = (i128::from(value).clamp(min, max)) as i64;
            let sum = i128::from(value) + i128::from(incr);
            let (dir, sat) = check_signed(value, incr, bits, Overflow::Sat);
            let expect = if sum > max { 1 } else if sum < min { -1 } else { 0 };
            prop_assert_eq!(dir, expect);
            if dir != 0 {
                prop_assert_eq!(i128::from(sat.unwrap()), if dir > 0 { max } else { min });
                let (_, wrap) = check_signed(value, incr, bits, Overflow::Wrap);
                let span = 1i128 << bits;
                let want = (sum - min).rem_euclid(span) + min;
                prop_assert_eq!(i128::from(wrap.unwrap()), want);
            }
        }

        #[test]
        fn unsigned_increments_match_i128(value in any::<u64>(), incr in any::<i64>(), bits in 1u32..=63) {
            let max = (1i128 << bits) - 1;
            let value = (i128::from(value) & max) as u64;
            let sum = i128::from(value) + i128::from(incr);
            let (dir, sat) = check_unsigned(value, incr, bits, Overflow::Sat);
            let expect = if sum > max { 1 } else if sum < 0 { -1 } else { 0 };
            prop_assert_eq!(dir, expect);
            if dir != 0 {
                prop_assert_eq!(i128::from(sat.unwrap()), if dir > 0 { max } else { 0 });
                let (_, wrap) = check_unsigned(value, incr, bits, Overflow::Wrap);
                prop_assert_eq!(i128::from(wrap.unwrap()), sum.rem_euclid(max + 1));
            }
        }
    }
}
