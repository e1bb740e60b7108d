//! `PackedList`: a short sequence of byte strings in one exact-size heap block.
//!
//! The small form of hashes (field, value, field, value …) and sets. Unlike a growable `Vec`
//! with its count beside it (32 bytes plus the buffer), a `PackedList` is a bare `Box<[u8]>`
//! (16 bytes, no spare capacity) holding its own count, so a collection value can hold it inline and a small hash
//! costs one allocation of just its bytes, as a Redis listpack does. Every change reallocates
//! the block to its exact new size, as Redis's listpack does; owners keep the lists short
//! (the `*-max-listpack-*` thresholds) and convert to a hash table beyond them.
//!
//! Layout: `[tag][count][entry…]`, where `tag` is one byte the owner may use to tell this
//! encoding from others sharing the same kind of block ([`PACKED_TAG`]) and `count` is a LEB128
//! number of entries. Each entry starts with a header byte `h`:
//! - `0x00..=0x7F`: a string of `h` bytes follows;
//! - `0x80..=0xBF`: a string of `(h & 0x3F) << 8 | next byte` bytes (up to 16383) follows;
//! - `0xC0`: a string whose length is the next 8 bytes (little-endian);
//! - `0xE1..=0xE8`: a canonical integer (Redis's `string2ll` form) in `h & 0x0F` bytes,
//!   little-endian, sign-extended. Like Redis's listpack, a value such as `1700000000` costs 5
//!   bytes instead of 11, and reads back as exactly the same text.
//!
//! Entries are read as [`Entry`]: bytes borrowed from the block, or an integer.
//!
//! The type is generic over its storage so that a borrowed block can be read without moving
//! it: `PackedList<&[u8]>` has every read method, `PackedList` (owned) adds the writes.

use crate::{num, CompactBytes};

/// The tag byte of a packed list (intsets use their element width, 2, 4 or 8, instead).
pub const PACKED_TAG: u8 = 0;

/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: a packed list never grows past 1 GiB; owners convert
/// to their large form before that (`lpSafeToAdd`).
pub const MAX_SAFE_BYTES: usize = 1 << 30;

const LONG_STRING: u8 = 0xC0;
const INT_BASE: u8 = 0xE0;

/// One element: a byte string, or a canonical integer held in binary. `Int(7)` and
/// `Bytes(b"7")` are the same element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> Entry<'a> {
    /// The element as an integer, if it is a canonical one (Redis's `string2ll`).
    #[inline]
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Entry::Int(n) => Some(n),
            Entry::Bytes(b) => num::parse_i64(b),
        }
    }

    /// The element's bytes (an integer is formatted into `buf`).
    #[inline]
    pub fn as_bytes<'b>(&self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Entry::Int(n) => buf.format(n).as_bytes(),
            Entry::Bytes(b) => b,
        }
    }

    /// An owned copy of the element's bytes.
    pub fn to_compact(&self) -> CompactBytes {
        let mut buf = itoa::Buffer::new();
        CompactBytes::new(self.as_bytes(&mut buf))
    }

    /// An owned `Vec` of the element's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = itoa::Buffer::new();
        self.as_bytes(&mut buf).to_vec()
    }

    /// Length of the element as a string.
    pub fn len(&self) -> usize {
        match *self {
            Entry::Int(n) => itoa::Buffer::new().format(n).len(),
            Entry::Bytes(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A value to look for, prepared once for a walk over many entries.
struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Needle {
            bytes,
            int: if bytes.len() <= 20 {
                num::parse_i64(bytes)
            } else {
                None
            },
        }
    }

    #[inline]
    fn matches(&self, e: &Entry<'_>) -> bool {
        match *e {
            Entry::Int(n) => self.int == Some(n),
            Entry::Bytes(b) => b == self.bytes,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct PackedList<B = Box<[u8]>> {
    buf: B,
}

/// Appends `v` as LEB128.
fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads a LEB128 number at `pos`: (value, bytes used). A truncated number reads as what
/// was there (blocks are only ever written by this module).
fn read_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0u32;
    let mut i = pos;
    while let Some(&b) = buf.get(i) {
        if shift < usize::BITS {
            v |= ((b & 0x7f) as usize) << shift;
        }
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (v, i - pos)
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Bytes needed for the integer `n`, sign-extended: 1 to 8.
fn int_width(n: i64) -> usize {
    let mut k = 1;
    while k < 8 {
        let bits = 8 * k as u32;
        let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        if (lo..=hi).contains(&n) {
            break;
        }
        k += 1;
    }
    k
}

/// The integer an entry of these bytes is stored as, if any.
#[inline]
fn as_stored_int(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    num::parse_i64(bytes)
}

/// Bytes one entry holding `bytes` takes.
pub fn entry_size(bytes: &[u8]) -> usize {
    if let Some(n) = as_stored_int(bytes) {
        return 1 + int_width(n);
    }
    string_entry_size(bytes.len())
}

/// Bytes a string entry of `len` bytes takes (an upper bound for any entry of that length).
pub fn string_entry_size(len: usize) -> usize {
    match len {
        0..=0x7F => 1 + len,
        0x80..=0x3FFF => 2 + len,
        _ => 9 + len,
    }
}

/// Appends the entry holding `bytes`.
fn write_entry(out: &mut Vec<u8>, bytes: &[u8]) {
    if let Some(n) = as_stored_int(bytes) {
        let k = int_width(n);
        out.push(INT_BASE + k as u8);
        out.extend_from_slice(&n.to_le_bytes()[..k]);
        return;
    }
    let len = bytes.len();
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0x3FFF => {
            out.push(0x80 | (len >> 8) as u8);
            out.push((len & 0xFF) as u8);
        }
        _ => {
            out.push(LONG_STRING);
            out.extend_from_slice(&(len as u64).to_le_bytes());
        }
    }
    out.extend_from_slice(bytes);
}

/// Reads the entry at `pos`: (entry, position of the next one). Reads past the end of a
/// (never produced) truncated block are clamped.
fn read_entry(buf: &[u8], pos: usize) -> (Entry<'_>, usize) {
    let at = |i: usize| buf.get(i).copied().unwrap_or(0);
    let h = at(pos);
    let (start, len) = match h {
        0x00..=0x7F => (pos + 1, h as usize),
        0x80..=0xBF => (pos + 2, ((h & 0x3F) as usize) << 8 | at(pos + 1) as usize),
        LONG_STRING => {
            let mut le = [0u8; 8];
            for (i, b) in le.iter_mut().enumerate() {
                *b = at(pos + 1 + i);
            }
            (
                pos + 9,
                usize::try_from(u64::from_le_bytes(le)).unwrap_or(usize::MAX),
            )
        }
        _ => {
            let k = ((h - INT_BASE) as usize).clamp(1, 8);
            let mut le = [0u8; 8];
            for (i, b) in le.iter_mut().take(k).enumerate() {
                *b = at(pos + 1 + i);
            }
            // Sign-extend from k bytes.
            let shift = 64 - 8 * k as u32;
            let n = (i64::from_le_bytes(le) << shift) >> shift;
            return (Entry::Int(n), pos + 1 + k);
        }
    };
    let start = start.min(buf.len());
    let end = start.saturating_add(len).min(buf.len());
    (Entry::Bytes(&buf[start..end]), end)
}

impl<B: AsRef<[u8]>> PackedList<B> {
    /// Reads an existing block (as made by the owned list's [`PackedList::into_raw`]).
    pub fn from_raw(buf: B) -> Self {
        PackedList { buf }
    }

    #[inline]
    fn raw(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// The owner's tag byte.
    pub fn tag(&self) -> u8 {
        self.raw().first().copied().unwrap_or(PACKED_TAG)
    }

    /// (count, offset of the first entry).
    #[inline]
    fn header(&self) -> (usize, usize) {
        let raw = self.raw();
        if raw.is_empty() {
            return (0, 0);
        }
        let (n, used) = read_varint(raw, 1);
        (n, 1 + used)
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.header().0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size of the block in bytes (what it costs on the heap).
    pub fn byte_len(&self) -> usize {
        self.raw().len()
    }

    /// The entries in order.
    pub fn iter(&self) -> Iter<'_> {
        let (remaining, pos) = self.header();
        Iter {
            buf: self.raw(),
            pos,
            remaining,
        }
    }

    /// Entry `index`, if it exists (O(n)).
    pub fn get(&self, index: usize) -> Option<Entry<'_>> {
        self.iter().nth(index)
    }

    /// Index of the first entry equal to `needle` among entries `0, step, 2·step …`
    /// (step 2 searches the fields of a field/value list).
    pub fn find(&self, needle: &[u8], step: usize) -> Option<usize> {
        let needle = Needle::new(needle);
        self.iter()
            .enumerate()
            .step_by(step.max(1))
            .find(|(_, e)| needle.matches(e))
            .map(|(i, _)| i)
    }

    /// The entry after the first entry equal to `needle` among entries `0, 2, 4 …`: the value
    /// of field `needle` in a field/value list.
    pub fn find_value(&self, needle: &[u8]) -> Option<Entry<'_>> {
        let needle = Needle::new(needle);
        let mut it = self.iter();
        while let Some(field) = it.next() {
            let value = it.next()?;
            if needle.matches(&field) {
                return Some(value);
            }
        }
        None
    }
}

impl<'a> PackedList<&'a [u8]> {
    /// The entries of a borrowed block, tied to the block rather than to this view.
    pub fn entries(self) -> Iter<'a> {
        let (remaining, pos) = self.header();
        Iter {
            buf: self.buf,
            pos,
            remaining,
        }
    }
}

impl PackedList {
    /// An empty list with the tag [`PACKED_TAG`].
    pub fn new() -> Self {
        PackedList {
            buf: vec![PACKED_TAG, 0].into_boxed_slice(),
        }
    }

    /// A list of `entries`, in one allocation of the exact size.
    pub fn from_entries<'e>(entries: impl IntoIterator<Item = &'e [u8]> + Clone) -> Self {
        let (count, size) = entries
            .clone()
            .into_iter()
            .fold((0usize, 0usize), |(n, s), e| (n + 1, s + entry_size(e)));
        let mut v = Vec::with_capacity(1 + varint_len(count) + size);
        v.push(PACKED_TAG);
        write_varint(&mut v, count);
        for e in entries {
            write_entry(&mut v, e);
        }
        PackedList {
            buf: v.into_boxed_slice(),
        }
    }

    /// The block itself, for an owner that stores it untyped.
    pub fn into_raw(self) -> Box<[u8]> {
        self.buf
    }

    /// Runs `f` on the block as a `Vec`, then rewrites the count to `new_count` and stores the
    /// block back at its exact size.
    fn edit(&mut self, new_count: usize, f: impl FnOnce(&mut Vec<u8>)) {
        let old_count = self.len();
        let mut v = std::mem::take(&mut self.buf).into_vec();
        if v.is_empty() {
            v.extend_from_slice(&[PACKED_TAG, 0]);
        }
        f(&mut v);
        if new_count != old_count {
            let old_len = varint_len(old_count);
            let mut header = Vec::with_capacity(10);
            write_varint(&mut header, new_count);
            v.splice(1..1 + old_len, header);
        }
        self.buf = v.into_boxed_slice();
    }

    /// Byte range `(start, end)` of `count` entries from entry `index` (clamped to the end).
    fn span(&self, index: usize, count: usize) -> (usize, usize) {
        let (total, mut pos) = self.header();
        let raw = self.raw();
        for _ in 0..index.min(total) {
            pos = read_entry(raw, pos).1;
        }
        let start = pos;
        for _ in 0..count.min(total.saturating_sub(index)) {
            pos = read_entry(raw, pos).1;
        }
        (start, pos.min(raw.len()))
    }

    /// Appends `entries` at the end (one reallocation for all of them).
    pub fn push(&mut self, entries: &[&[u8]]) {
        let old = self.len();
        let count = old + entries.len();
        let extra: usize = entries.iter().map(|e| entry_size(e)).sum::<usize>()
            + (varint_len(count) - varint_len(old));
        self.edit(count, |v| {
            v.reserve_exact(extra);
            for e in entries {
                write_entry(v, e);
            }
        });
    }

    /// Replaces entry `index` with `entry`; false if there is no such entry.
    pub fn replace(&mut self, index: usize, entry: &[u8]) -> bool {
        let count = self.len();
        if index >= count {
            return false;
        }
        let (start, end) = self.span(index, 1);
        self.edit(count, |v| {
            let mut encoded = Vec::with_capacity(entry_size(entry));
            write_entry(&mut encoded, entry);
            v.splice(start..end, encoded);
        });
        true
    }

    /// Removes `count` entries from entry `index` on (clamped to the end).
    pub fn remove_range(&mut self, index: usize, count: usize) {
        let len = self.len();
        if index >= len || count == 0 {
            return;
        }
        let count = count.min(len - index);
        let (start, end) = self.span(index, count);
        self.edit(len - count, |v| {
            v.drain(start..end);
        });
    }

    /// Keeps only the entries for which `keep(index, entry)` is true, in one pass.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, Entry<'_>) -> bool) {
        let (count, start) = self.header();
        let raw = self.raw();
        let mut body = Vec::with_capacity(raw.len().saturating_sub(start));
        let mut kept = 0usize;
        let mut pos = start;
        for i in 0..count {
            let (entry, next) = read_entry(raw, pos);
            if keep(i, entry) {
                body.extend_from_slice(&raw[pos.min(raw.len())..next.min(raw.len())]);
                kept += 1;
            }
            pos = next;
        }
        let mut out = Vec::with_capacity(1 + varint_len(kept) + body.len());
        out.push(self.tag());
        write_varint(&mut out, kept);
        out.extend_from_slice(&body);
        self.buf = out.into_boxed_slice();
    }
}

impl Default for PackedList {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: AsRef<[u8]>> std::fmt::Debug for PackedList<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|e| String::from_utf8_lossy(&e.to_vec()).into_owned()),
            )
            .finish()
    }
}

/// The entries of a [`PackedList`], in order.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Entry<'a>;

    #[inline]
    fn next(&mut self) -> Option<Entry<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let (entry, next) = read_entry(self.buf, self.pos);
        self.pos = next;
        self.remaining -= 1;
        Some(entry)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts<B: AsRef<[u8]>>(p: &PackedList<B>) -> Vec<Vec<u8>> {
        p.iter().map(|e| e.to_vec()).collect()
    }

    #[test]
    fn basic_ops() {
        let mut p = PackedList::new();
        assert_eq!(p.len(), 0);
        p.push(&[b"a", b"1"]);
        p.push(&[b"b", &[b'x'; 300]]);
        assert_eq!(p.len(), 4);
        assert_eq!(p.find(b"b", 2), Some(2));
        assert_eq!(p.find(b"1", 2), None);
        assert_eq!(p.find(b"1", 1), Some(1));
        assert_eq!(p.find_value(b"a"), Some(Entry::Int(1)));
        assert!(p.replace(1, b"one"));
        assert_eq!(p.get(1), Some(Entry::Bytes(b"one")));
        p.remove_range(0, 2);
        assert_eq!(p.len(), 2);
        assert_eq!(p.get(0), Some(Entry::Bytes(b"b")));
        assert_eq!(std::mem::size_of::<PackedList>(), 16);
        // The block is exactly its bytes: tag, count, entries.
        assert_eq!(p.byte_len(), 1 + 1 + 2 + 2 + 300);
    }

    #[test]
    fn integers_are_stored_in_binary_and_read_back_as_text() {
        let cases: &[(&[u8], usize)] = &[
            (b"0", 2),
            (b"-1", 2),
            (b"127", 2),
            (b"128", 3),
            (b"1700000000", 5),
            (b"9223372036854775807", 9),
            (b"-9223372036854775808", 9),
        ];
        for &(text, size) in cases {
            let p = PackedList::from_entries([text]);
            assert_eq!(p.byte_len(), 2 + size, "{text:?}");
            assert_eq!(texts(&p), vec![text.to_vec()]);
            assert_eq!(p.find(text, 1), Some(0));
        }
        // Not canonical: kept as text.
        for text in [
            &b"01"[..],
            b"-0",
            b"+1",
            b" 1",
            b"1.0",
            b"9223372036854775808",
            b"",
        ] {
            let p = PackedList::from_entries([text]);
            assert_eq!(p.get(0), Some(Entry::Bytes(text)));
            assert_eq!(p.find(text, 1), Some(0));
        }
        let p = PackedList::from_entries([&b"7"[..], b"07"]);
        assert_eq!(p.find(b"07", 1), Some(1));
        assert_eq!(p.find(b"7", 1), Some(0));
    }

    #[test]
    fn count_header_grows_and_shrinks() {
        let mut p = PackedList::new();
        for i in 0..300u32 {
            p.push(&[format!("e{i}").as_bytes()]);
        }
        assert_eq!(p.len(), 300);
        assert_eq!(p.get(299), Some(Entry::Bytes(b"e299")));
        p.remove_range(0, 250);
        assert_eq!(p.len(), 50);
        assert_eq!(p.get(0), Some(Entry::Bytes(b"e250")));
        p.retain(|i, _| i % 2 == 0);
        assert_eq!(p.len(), 25);
        assert_eq!(p.get(1), Some(Entry::Bytes(b"e252")));
    }

    fn entry_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..150),
            proptest::collection::vec(any::<u8>(), 16000..17000),
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            (-300i64..300).prop_map(|n| n.to_string().into_bytes()),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec((0u8..4, 0usize..20, entry_strategy()), 0..40)) {
            let mut p = PackedList::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for (op, idx, data) in ops {
                match op {
                    0 => { p.push(&[&data]); model.push(data); }
                    1 => { if idx < model.len() { p.replace(idx, &data); model[idx] = data; } }
                    2 => { let n = idx % 3; let i = idx % (model.len() + 1); p.remove_range(i, n); if i < model.len() { let end = (i + n).min(model.len()); model.drain(i..end); } }
                    _ => { p.retain(|i, _| i % 3 != idx % 3); let mut i = 0; model.retain(|_| { let k = i % 3 != idx % 3; i += 1; k }); }
                }
                prop_assert_eq!(p.len(), model.len());
                prop_assert_eq!(&texts(&p), &model);
                for (i, m) in model.iter().enumerate() {
                    let found = p.find(m, 1).expect("present");
                    prop_assert_eq!(&model[found], m);
                    prop_assert!(found <= i);
                }
                let again = PackedList::from_entries(model.iter().map(Vec::as_slice));
                prop_assert_eq!(&again, &p);
            }
        }
    }
}
