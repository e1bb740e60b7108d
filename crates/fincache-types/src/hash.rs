//! `HashValue`: a hash (field → value), in Redis's two encodings.
//!
//! - **listpack**: a [`PackedList`] of `field, value, field, value …` in insertion order (a
//!   changed value stays in place, a removed field closes its gap), as Redis's listpack keeps
//!   small hashes; so HGETALL and friends list a small hash in exactly Redis's order.
//! - **hashtable**: an `IndexMap<CompactBytes, CompactBytes>` (O(1) lookups, O(1) access by
//!   position for HRANDFIELD and HSCAN). Removal is `swap_remove`: the last entry moves into the
//!   hole, which HSCAN's cursor (positions, walked downwards) is built around.
//!
//! A hash starts as a listpack and converts, once and for good, when it would pass
//! `hash-max-listpack-entries` fields or hold a field or value longer than
//! `hash-max-listpack-value` bytes ([`HashLimits`]), following Redis 7.2's `t_hash.c`:
//! [`HashValue::prepare_for`] is `hashTypeTryConversion` (run before a multi-field write) and
//! [`HashValue::set`] is `hashTypeSet`.
//!
//! Memory: the value is 16 bytes (a boxed block or a boxed table) so it sits inside the
//! keyspace's 24-byte value without another allocation; a listpack hash costs one block of
//! exactly its bytes. The table grows its entry array by a quarter at a time (not doubling), so a
//! million-field hash stays under Redis's bytes per field.

use crate::packed::{self, Entry, PackedList, MAX_SAFE_BYTES};
use crate::CompactBytes;
use indexmap::IndexMap;

/// The hasher of hash tables: keyed per table, since clients choose the fields.
pub type FieldHasher = foldhash::fast::RandomState;

/// The large form of a hash.
pub type HashTable = IndexMap<CompactBytes, CompactBytes, FieldHasher>;

/// The encoding thresholds (`hash-max-listpack-entries`, `hash-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            max_listpack_entries: 128,
            max_listpack_value: 64,
        }
    }
}

#[derive(Clone)]
pub struct HashValue {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Packed(PackedList),
    Table(Box<HashTable>),
}

/// Makes room for one more entry, growing the entry array by a quarter (at least 8) instead of
/// `IndexMap`'s doubling: big hashes waste at most 25% of their entry array.
fn reserve_one(map: &mut HashTable) {
    if map.len() >= map.capacity() {
        map.reserve_exact((map.len() / 4).max(8));
    }
}

/// Gives memory back after many removals (Redis's `htNeedsResize` / `dictResize`): a table
/// below an eighth of its capacity shrinks to twice its size.
fn maybe_shrink(map: &mut HashTable) {
    let cap = map.capacity();
    if cap > 64 && map.len() * 8 < cap {
        map.shrink_to(map.len() * 2);
    }
}

impl HashValue {
    /// An empty hash (listpack).
    pub fn new() -> Self {
        HashValue {
            repr: Repr::Packed(PackedList::new()),
        }
    }

    /// A hash of `pairs` built with the usual conversions (tests, COPY-like callers).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        limits: &HashLimits,
    ) -> Self {
        let mut h = HashValue::new();
        for (f, v) in pairs {
            h.set(f, v, limits);
        }
        h
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.len() / 2,
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the hash is in its small (listpack) form.
    pub fn is_packed(&self) -> bool {
        matches!(self.repr, Repr::Packed(_))
    }

    /// The OBJECT ENCODING name: `listpack` or `hashtable`.
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// The value of `field` (an integer a listpack holds in binary comes as `Entry::Int`).
    pub fn get(&self, field: &[u8]) -> Option<Entry<'_>> {
        match &self.repr {
            Repr::Packed(p) => p.find_value(field),
            Repr::Table(t) => t.get(field).map(|v| Entry::Bytes(v)),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to the hash table form, sized for `capacity` fields.
    fn convert_to_table(&mut self, capacity: usize) {
        let Repr::Packed(p) = &self.repr else {
            return;
        };
        let mut t =
            HashTable::with_capacity_and_hasher(capacity.max(p.len() / 2), FieldHasher::default());
        let mut it = p.iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            t.insert(f.to_compact(), v.to_compact());
        }
        self.repr = Repr::Table(Box::new(t));
    }

    /// Redis's `hashTypeTryConversion`, run before writing the field/value pairs `args`: a
    /// listpack converts when more new fields than `max_listpack_entries` are coming (presized
    /// for them), when any argument is longer than `max_listpack_value`, or when the block
    /// would pass its safety size.
    pub fn prepare_for(&mut self, args: &[&[u8]], limits: &HashLimits) {
        let Repr::Packed(p) = &self.repr else {
            return;
        };
        let fields = p.len() / 2;
        let new_fields = args.len() / 2;
        let capacity = if new_fields > limits.max_listpack_entries {
            Some(new_fields)
        } else {
            let too_long = args.iter().any(|a| a.len() > limits.max_listpack_value);
            let sum = args.iter().fold(0usize, |s, a| s.saturating_add(a.len()));
            (too_long || p.byte_len().saturating_add(sum) > MAX_SAFE_BYTES).then_some(fields + 1)
        };
        if let Some(capacity) = capacity {
            self.convert_to_table(capacity);
        }
    }

    /// Sets `field` to `value` (Redis's `hashTypeSet`); true if the field is new. A listpack
    /// converts first if either is longer than `max_listpack_value`, and after if it now has
    /// more than `max_listpack_entries` fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        if let Repr::Packed(p) = &self.repr {
            let too_long =
                field.len() > limits.max_listpack_value || value.len() > limits.max_listpack_value;
            let extra = packed::entry_size(field) + packed::entry_size(value);
            if too_long || p.byte_len().saturating_add(extra) > MAX_SAFE_BYTES {
                let capacity = p.len() / 2 + 1;
                self.convert_to_table(capacity);
            }
        }
        match &mut self.repr {
            Repr::Packed(p) => {
                if let Some(i) = p.find(field, 2) {
                    p.replace(i + 1, value);
                    return false;
                }
                p.push(&[field, value]);
                if p.len() / 2 > limits.max_listpack_entries {
                    self.convert_to_table(0);
                }
                true
            }
            Repr::Table(t) => {
                if let Some(v) = t.get_mut(field) {
                    *v = CompactBytes::new(value);
                    return false;
                }
                reserve_one(t);
                t.insert(CompactBytes::new(field), CompactBytes::new(value));
                true
            }
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(p) => match p.find(field, 2) {
                Some(i) => {
                    p.remove_range(i, 2);
                    true
                }
                None => false,
            },
            Repr::Table(t) => {
                let removed = t.swap_remove(field).is_some();
                if removed {
                    maybe_shrink(t);
                }
                removed
            }
        }
    }

    /// The fields and values, in the encoding's order (insertion order for a listpack).
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Packed(p) => Iter::Packed(p.iter()),
            Repr::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// The pair at position `i` of [`iter`](Self::iter)'s order: O(1) for a table, O(n) for a
    /// listpack.
    pub fn get_index(&self, i: usize) -> Option<Pair<'_>> {
        match &self.repr {
            Repr::Packed(_) => self.iter().nth(i),
            Repr::Table(t) => t
                .get_index(i)
                .map(|(f, v)| (Entry::Bytes(f), Entry::Bytes(v))),
        }
    }

    /// Random access by position for sampling (HRANDFIELD): O(n) once for a listpack, then
    /// O(1) per pick.
    pub fn indexed(&self) -> Indexed<'_> {
        match &self.repr {
            Repr::Packed(p) => Indexed::Packed(p.iter().collect()),
            Repr::Table(t) => Indexed::Table(t),
        }
    }

    /// Heap bytes owned by the hash (O(n) for a hash table: long fields and values are
    /// counted one by one).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.byte_len(),
            Repr::Table(t) => {
                let slots = t.capacity() * (8 + 2 * std::mem::size_of::<CompactBytes>());
                let index = t.capacity() * 8 * 9 / 7;
                let strings: usize = t.iter().map(|(f, v)| f.heap_size() + v.heap_size()).sum();
                std::mem::size_of::<HashTable>() + slots + index + strings
            }
        }
    }
}

impl Default for HashValue {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for HashValue {
    /// Same fields and values, whatever the encodings and orders.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.iter().all(|(f, v)| {
                let mut buf = itoa::Buffer::new();
                let theirs = other.get(f.as_bytes(&mut buf)).map(|e| e.to_vec());
                theirs == Some(v.to_vec())
            })
    }
}

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| {
                (
                    String::from_utf8_lossy(&k.to_vec()).into_owned(),
                    String::from_utf8_lossy(&v.to_vec()).into_owned(),
                )
            }))
            .finish()
    }
}

/// A field and its value.
pub type Pair<'a> = (Entry<'a>, Entry<'a>);

/// The (field, value) pairs of a [`HashValue`].
pub enum Iter<'a> {
    Packed(packed::Iter<'a>),
    Table(indexmap::map::Iter<'a, CompactBytes, CompactBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Pair<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Packed(it) => Some((it.next()?, it.next()?)),
            Iter::Table(it) => it.next().map(|(f, v)| (Entry::Bytes(f), Entry::Bytes(v))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Iter::Packed(it) => it.len() / 2,
            Iter::Table(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// A hash's pairs addressable by position (see [`HashValue::indexed`]).
pub enum Indexed<'a> {
    /// Every entry of a listpack: field at `2i`, value at `2i + 1`.
    Packed(Vec<Entry<'a>>),
    Table(&'a HashTable),
}

impl<'a> Indexed<'a> {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        match self {
            Indexed::Packed(v) => v.len() / 2,
            Indexed::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pair `i` (`i < len()`).
    pub fn get(&self, i: usize) -> Option<Pair<'a>> {
        match self {
            Indexed::Packed(v) => Some((*v.get(2 * i)?, *v.get(2 * i + 1)?)),
            Indexed::Table(t) => t
                .get_index(i)
                .map(|(f, v)| (Entry::Bytes(f), Entry::Bytes(v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    const SMALL: HashLimits = HashLimits {
        max_listpack_entries: 4,
        max_listpack_value: 8,
    };

    #[test]
    fn is_16_bytes() {
        assert_eq!(std::mem::size_of::<HashValue>(), 16);
    }

    #[test]
    fn listpack_keeps_insertion_order_and_converts() {
        let mut h = HashValue::new();
        assert!(h.set(b"b", b"1", &SMALL));
        assert!(h.set(b"a", b"2", &SMALL));
        assert!(!h.set(b"b", b"3", &SMALL));
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(
            pairs,
            vec![
                (Entry::Bytes(b"b"), Entry::Int(3)),
                (Entry::Bytes(b"a"), Entry::Int(2))
            ]
        );
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.encoding_name(), "listpack");
        for f in [&b"c"[..], b"d", b"e", b"f"] {
            h.set(f, b"v", &SMALL);
        }
        assert_eq!(h.len(), 5);
        assert_eq!(h.encoding_name(), "hashtable");
        let mut long = HashValue::new();
        long.set(b"f", b"123456789", &SMALL);
        assert_eq!(long.encoding_name(), "hashtable");
        let mut many = HashValue::new();
        many.prepare_for(
            &[b"a", b"1", b"a", b"2", b"a", b"3", b"a", b"4", b"a", b"5"],
            &SMALL,
        );
        assert_eq!(many.encoding_name(), "hashtable");
    }

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((0u8..3, 0u8..12, proptest::collection::vec(any::<u8>(), 0..12)), 0..120)) {
            let mut h = HashValue::new();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for (op, f, v) in ops {
                let field = vec![b'f', f];
                match op {
                    0 | 1 => prop_assert_eq!(h.set(&field, &v, &SMALL), model.insert(field.clone(), v).is_none()),
                    _ => prop_assert_eq!(h.remove(&field), model.remove(&field).is_some()),
                }
                prop_assert_eq!(h.len(), model.len());
                for (k, val) in &model {
                    prop_assert_eq!(h.get(k).map(|e| e.to_vec()), Some(val.clone()));
                }
                let idx = h.indexed();
                prop_assert_eq!(idx.len(), model.len());
                for i in 0..idx.len() {
                    let (k, val) = idx.get(i).unwrap();
                    prop_assert_eq!(model.get(&k.to_vec()), Some(&val.to_vec()));
                    prop_assert_eq!(h.get_index(i), Some((k, val)));
                }
            }
        }
    }
}
