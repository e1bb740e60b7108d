//! `IntSet`: a sorted set of 64-bit integers packed into one exact-size heap block, as
//! Redis's `intset.c` keeps small sets of integers.
//!
//! Layout: `[width][value…]`: every value takes `width` bytes (2, 4 or 8), little-endian,
//! in ascending order. The width is the smallest that holds every value ever added; adding a
//! value that needs more rewrites the whole block at the new width, and removals never shrink
//! it back (as Redis's intset). The width byte doubles as the tag that tells an intset block
//! from a [`PackedList`](crate::packed::PackedList) one (tag 0).
//!
//! Generic over storage like `PackedList`: `IntSet<&[u8]>` reads a borrowed block.

#[derive(Clone, PartialEq, Eq)]
pub struct IntSet<B = Box<[u8]>> {
    buf: B,
}

/// The narrowest width (2, 4 or 8 bytes) that holds `v`.
#[inline]
pub fn width_for(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Whether `tag` (the first byte of a block) marks an intset.
#[inline]
pub fn is_intset_tag(tag: u8) -> bool {
    matches!(tag, 2 | 4 | 8)
}

#[inline]
fn read_at(buf: &[u8], width: usize, i: usize) -> i64 {
    let start = 1 + i * width;
    match buf.get(start..start + width) {
        Some(b) => match width {
            2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
            4 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        },
        None => 0,
    }
}

#[inline]
fn write_value(out: &mut Vec<u8>, width: usize, v: i64) {
    match width {
        2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
        4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
        _ => out.extend_from_slice(&v.to_le_bytes()),
    }
}

impl<B: AsRef<[u8]>> IntSet<B> {
    /// Reads an existing block (as made by [`IntSet::into_raw`]).
    pub fn from_raw(buf: B) -> Self {
        IntSet { buf }
    }

    #[inline]
    fn raw(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Bytes per value: 2, 4 or 8.
    #[inline]
    pub fn width(&self) -> usize {
        match self.raw().first() {
            Some(&w) if is_intset_tag(w) => w as usize,
            _ => 2,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.raw().len().saturating_sub(1) / self.width()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size of the block in bytes.
    pub fn byte_len(&self) -> usize {
        self.raw().len()
    }

    /// The value at sorted position `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<i64> {
        (i < self.len()).then(|| read_at(self.raw(), self.width(), i))
    }

    /// Binary search: `Ok(position)` if present, else `Err(insertion point)`.
    pub fn search(&self, v: i64) -> Result<usize, usize> {
        let (buf, width) = (self.raw(), self.width());
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match read_at(buf, width, mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        // A value wider than the set's width cannot be in it (Redis's shortcut).
        width_for(v) as usize <= self.width() && self.search(v).is_ok()
    }

    pub fn min(&self) -> Option<i64> {
        self.get(0)
    }

    pub fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The values in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: self.raw(),
            width: self.width(),
            next: 0,
            end: self.len(),
        }
    }
}

impl<'a> IntSet<&'a [u8]> {
    /// The values of a borrowed block, tied to the block rather than to this view.
    pub fn values(self) -> Iter<'a> {
        Iter {
            buf: self.buf,
            width: self.width(),
            next: 0,
            end: self.len(),
        }
    }
}

impl IntSet {
    /// An empty set (2-byte width).
    pub fn new() -> Self {
        IntSet {
            buf: vec![2u8].into_boxed_slice(),
        }
    }

    /// The block itself, for an owner that stores it untyped.
    pub fn into_raw(self) -> Box<[u8]> {
        self.buf
    }

    /// Adds `v`; false if it was already present.
    pub fn insert(&mut self, v: i64) -> bool {
        let width = self.width();
        let needed = width_for(v) as usize;
        if needed > width {
            // Upgrade: `v` is beyond every stored value, so it goes first or last.
            let len = self.len();
            let mut out = Vec::with_capacity(1 + (len + 1) * needed);
            out.push(needed as u8);
            if v < 0 {
                write_value(&mut out, needed, v);
            }
            for x in self.iter() {
                write_value(&mut out, needed, x);
            }
            if v >= 0 {
                write_value(&mut out, needed, v);
            }
            self.buf = out.into_boxed_slice();
            return true;
        }
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(pos) => pos,
        };
        let mut buf = std::mem::take(&mut self.buf).into_vec();
        if buf.is_empty() {
            buf.push(width as u8);
        }
        let mut encoded = Vec::with_capacity(width);
        write_value(&mut encoded, width, v);
        buf.reserve_exact(width);
        let at = 1 + pos * width;
        buf.splice(at..at, encoded);
        self.buf = buf.into_boxed_slice();
        true
    }

    /// Removes `v`; false if it was not present.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_for(v) as usize > self.width() {
            return false;
        }
        match self.search(v) {
            Ok(pos) => {
                let width = self.width();
                let mut buf = std::mem::take(&mut self.buf).into_vec();
                let at = 1 + pos * width;
                buf.drain(at..at + width);
                self.buf = buf.into_boxed_slice();
                true
            }
            Err(_) => false,
        }
    }
}

impl Default for IntSet {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: AsRef<[u8]>> std::fmt::Debug for IntSet<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The values of an [`IntSet`] in ascending order.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    width: usize,
    next: usize,
    end: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    #[inline]
    fn next(&mut self) -> Option<i64> {
        if self.next >= self.end {
            return None;
        }
        let v = read_at(self.buf, self.width, self.next);
        self.next += 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn upgrades_width() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(-70000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MAX));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-70000, 5, i64::MAX]);
        assert!(s.remove(i64::MAX));
        assert_eq!(s.width(), 8, "removal never narrows");
        assert!(!s.remove(1 << 40));
        assert_eq!(s.byte_len(), 1 + 2 * 8);
        assert_eq!((s.min(), s.max()), (Some(-70000), Some(5)));
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec((any::<bool>(), prop_oneof![-300i64..300, any::<i64>(), -100_000i64..100_000]), 0..200)) {
            let mut s = IntSet::new();
            let mut model = BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), model.insert(v));
                } else {
                    prop_assert_eq!(s.remove(v), model.remove(&v));
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert!(s.iter().eq(model.iter().copied()));
                prop_assert!(s.contains(v) == model.contains(&v));
            }
        }
    }
}
