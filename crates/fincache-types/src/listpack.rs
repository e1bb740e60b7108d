//! `Listpack`: a small sequence of byte strings packed into one allocation.
//!
//! The compact form of small lists, hashes (field, value, field, value …), sets and sorted sets
//! (member, score …), as Redis's listpack is: one heap block per collection instead of one per
//! element, so 100,000 ten-field hashes cost a fraction of their hash-table form. Operations are
//! O(n) in the number of entries, which the encoding thresholds (`*-max-listpack-entries`,
//! `*-max-listpack-value`) keep small; past them the owner converts to its large form.
//!
//! Layout: each entry is a LEB128 length followed by the bytes. Integers are stored as their
//! decimal text, so every entry reads back as the exact bytes that were stored.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
    len: u32,
}

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

/// Reads a LEB128 length at `pos`; returns (value, bytes used).
fn read_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    let mut i = pos;
    while i < buf.len() {
        let b = buf[i];
        v |= ((b & 0x7f) as usize) << shift;
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

impl Listpack {
    pub fn new() -> Self {
        Listpack::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes used by the packed data (for memory accounting and MEMORY USAGE).
    pub fn bytes(&self) -> usize {
        self.buf.capacity()
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            pos: 0,
            back: self.buf.len(),
            remaining: self.len as usize,
        }
    }

    /// Byte offset of entry `index` (O(n)); `len()` gives the end offset.
    fn offset_of(&self, index: usize) -> usize {
        let mut pos = 0;
        for _ in 0..index {
            let (n, used) = read_varint(&self.buf, pos);
            pos += used + n;
        }
        pos
    }

    /// Entry `index`, if it exists.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.len() {
            return None;
        }
        let pos = self.offset_of(index);
        let (n, used) = read_varint(&self.buf, pos);
        Some(&self.buf[pos + used..pos + used + n])
    }

    pub fn push_back(&mut self, entry: &[u8]) {
        write_varint(&mut self.buf, entry.len());
        self.buf.extend_from_slice(entry);
        self.len += 1;
    }

    pub fn push_front(&mut self, entry: &[u8]) {
        self.insert(0, entry);
    }

    /// Inserts `entry` before position `index` (`index == len()` appends).
    pub fn insert(&mut self, index: usize, entry: &[u8]) {
        let index = index.min(self.len());
        let pos = self.offset_of(index);
        let mut encoded = Vec::with_capacity(varint_len(entry.len()) + entry.len());
        write_varint(&mut encoded, entry.len());
        encoded.extend_from_slice(entry);
        self.buf.splice(pos..pos, encoded);
        self.len += 1;
    }

    /// Removes entry `index`; returns its bytes.
    pub fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        if index >= self.len() {
            return None;
        }
        let pos = self.offset_of(index);
        let (n, used) = read_varint(&self.buf, pos);
        let out = self.buf[pos + used..pos + used + n].to_vec();
        self.buf.drain(pos..pos + used + n);
        self.len -= 1;
        Some(out)
    }

    /// Removes `count` entries starting at `index` (clamped to the end).
    pub fn remove_range(&mut self, index: usize, count: usize) {
        if index >= self.len() || count == 0 {
            return;
        }
        let count = count.min(self.len() - index);
        let start = self.offset_of(index);
        let mut end = start;
        for _ in 0..count {
            let (n, used) = read_varint(&self.buf, end);
            end += used + n;
        }
        self.buf.drain(start..end);
        self.len -= count as u32;
    }

    /// Replaces entry `index` with `entry`.
    pub fn replace(&mut self, index: usize, entry: &[u8]) -> bool {
        if index >= self.len() {
            return false;
        }
        let pos = self.offset_of(index);
        let (n, used) = read_varint(&self.buf, pos);
        let mut encoded = Vec::with_capacity(varint_len(entry.len()) + entry.len());
        write_varint(&mut encoded, entry.len());
        encoded.extend_from_slice(entry);
        self.buf.splice(pos..pos + used + n, encoded);
        true
    }

    /// Position of the first entry equal to `needle`, stepping `step` entries at a time from
    /// `start` (step 2 searches the fields of a field/value listpack).
    pub fn find(&self, needle: &[u8], start: usize, step: usize) -> Option<usize> {
        let step = step.max(1);
        self.iter()
            .enumerate()
            .skip(start)
            .step_by(step)
            .find(|(_, e)| *e == needle)
            .map(|(i, _)| i)
    }

    /// Releases spare capacity (after bulk removals).
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }
}

/// Iterator over the entries, from either end.
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
    back: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let (n, used) = read_varint(self.buf, self.pos);
        let start = self.pos + used;
        self.pos = start + n;
        self.remaining -= 1;
        Some(&self.buf[start..start + n])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        // Walk forward from the cursor to find the last entry before `back`; entries are
        // few (the listpack thresholds), so this stays cheap.
        let mut pos = self.pos;
        let mut last = (pos, pos);
        while pos < self.back {
            let (n, used) = read_varint(self.buf, pos);
            last = (pos + used, pos + used + n);
            pos += used + n;
        }
        self.back = last.0 - varint_len(last.1 - last.0);
        self.remaining -= 1;
        Some(&self.buf[last.0..last.1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_ops() {
        let mut lp = Listpack::new();
        lp.push_back(b"b");
        lp.push_front(b"a");
        lp.push_back(&[b'x'; 300]);
        assert_eq!(lp.len(), 3);
        assert_eq!(lp.get(0), Some(&b"a"[..]));
        assert_eq!(lp.get(2).map(|e| e.len()), Some(300));
        assert_eq!(lp.find(b"b", 0, 1), Some(1));
        assert!(lp.replace(1, b"bee"));
        assert_eq!(lp.remove(0), Some(b"a".to_vec()));
        assert_eq!(lp.iter().next_back().map(|e| e.len()), Some(300));
        lp.remove_range(0, 10);
        assert!(lp.is_empty());
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec((0u8..5, 0usize..20, proptest::collection::vec(any::<u8>(), 0..200)), 0..60)) {
            let mut lp = Listpack::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for (op, idx, data) in ops {
                match op {
                    0 => { lp.push_back(&data); model.push(data); }
                    1 => { let i = idx.min(model.len()); lp.insert(i, &data); model.insert(i, data); }
                    2 => { if idx < model.len() { prop_assert_eq!(lp.remove(idx), Some(model.remove(idx))); } }
                    3 => { if idx < model.len() { lp.replace(idx, &data); model[idx] = data; } }
                    _ => { let n = idx % 3; let i = idx % (model.len() + 1); lp.remove_range(i, n); let end = (i + n).min(model.len()); if i < model.len() { model.drain(i..end); } }
                }
                prop_assert_eq!(lp.len(), model.len());
                let fwd: Vec<Vec<u8>> = lp.iter().map(|e| e.to_vec()).collect();
                prop_assert_eq!(&fwd, &model);
                let mut back: Vec<Vec<u8>> = lp.iter().rev().map(|e| e.to_vec()).collect();
                back.reverse();
                prop_assert_eq!(&back, &model);
            }
        }
    }
}
