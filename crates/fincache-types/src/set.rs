//! `SetValue`: a set of byte strings, in Redis 7.2's three encodings.
//!
//! - **intset**: every member is a canonical 64-bit integer; kept sorted in an [`IntSet`], so
//!   SMEMBERS lists it in ascending order exactly as Redis does;
//! - **listpack**: a [`PackedList`] of members in insertion order (a removed member closes its
//!   gap), as Redis 7.2 keeps small sets;
//! - **hashtable**: an `IndexSet<CompactBytes>`: O(1) membership and O(1) access by position
//!   (SPOP, SRANDMEMBER, SSCAN). Removal is `swap_remove`.
//!
//! The rules of `t_set.c` (7.2) are followed exactly, since they decide OBJECT ENCODING and the
//! order small sets reply in: [`SetValue::create`] is `setTypeCreate`, [`SetValue::maybe_convert`]
//! is `setTypeMaybeConvert`, [`SetValue::add`] is `setTypeAddAux` (an intset meeting a
//! non-integer becomes a listpack when it fits, else a hash table; an intset passing
//! `set-max-intset-entries` becomes a hash table), [`SetValue::convert_to_intset_if_integers`]
//! is `maybeConvertToIntset`. Conversions towards a hash table are never undone by removals.
//!
//! Memory: the value is 16 bytes. The two small encodings share one untyped block whose first
//! byte tells them apart (0: packed list, 2/4/8: intset width).

use crate::hash::FieldHasher;
use crate::intset::{self, IntSet};
use crate::packed::{self, PackedList, MAX_SAFE_BYTES, PACKED_TAG};
use crate::{num, CompactBytes};

use indexmap::IndexSet;

/// The large form of a set.
pub type SetTable = IndexSet<CompactBytes, FieldHasher>;

/// Makes room for one more member, growing by a quarter (see `hash::reserve_one`).
fn reserve_one(t: &mut SetTable) {
    if t.len() >= t.capacity() {
        t.reserve_exact((t.len() / 4).max(8));
    }
}

/// Gives memory back after many removals (Redis's `htNeedsResize`).
fn maybe_shrink(t: &mut SetTable) {
    let cap = t.capacity();
    if cap > 64 && t.len() * 8 < cap {
        t.shrink_to(t.len() * 2);
    }
}

/// The encoding thresholds (`set-max-intset-entries`, `set-max-listpack-entries`,
/// `set-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLimits {
    pub max_intset_entries: usize,
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for SetLimits {
    fn default() -> Self {
        SetLimits {
            max_intset_entries: 512,
            max_listpack_entries: 128,
            max_listpack_value: 64,
        }
    }
}

impl SetLimits {
    /// Redis's `intsetMaxEntries`: the intset limit, capped at 2^30 by the intset's layout.
    fn intset_max(&self) -> usize {
        self.max_intset_entries.min(1 << 30)
    }
}

/// A set member: an integer (from an intset, or held in binary by a listpack), or bytes.
/// The same member may come as either (`Int(7)` and `Bytes(b"7")` are equal members).
pub use crate::packed::Entry as Member;

#[derive(Clone)]
pub struct SetValue {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// An intset or packed-list block, told apart by its first byte.
    Small(Box<[u8]>),
    Table(Box<SetTable>),
}

/// Which encoding a set is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    IntSet,
    Listpack,
    HashTable,
}

impl SetValue {
    /// An empty intset.
    pub fn new_intset() -> Self {
        SetValue {
            repr: Repr::Small(IntSet::new().into_raw()),
        }
    }

    /// An empty listpack set.
    pub fn new_listpack() -> Self {
        SetValue {
            repr: Repr::Small(PackedList::new().into_raw()),
        }
    }

    fn new_table(capacity: usize) -> Self {
        SetValue {
            repr: Repr::Table(Box::new(SetTable::with_capacity_and_hasher(
                capacity,
                FieldHasher::default(),
            ))),
        }
    }

    /// Redis's `setTypeCreate`: the empty set that will receive `first` and about `size_hint`
    /// members: an intset if `first` is an integer and the hint fits `set-max-intset-entries`,
    /// else a listpack if the hint fits `set-max-listpack-entries`, else a presized hash table.
    pub fn create(first: &[u8], size_hint: usize, limits: &SetLimits) -> Self {
        if num::parse_i64(first).is_some() && size_hint <= limits.max_intset_entries {
            Self::new_intset()
        } else if size_hint <= limits.max_listpack_entries {
            Self::new_listpack()
        } else {
            Self::new_table(size_hint)
        }
    }

    /// A set of `members` built with the usual conversions.
    pub fn from_members<'a>(
        members: impl IntoIterator<Item = &'a [u8]>,
        limits: &SetLimits,
    ) -> Self {
        let mut s = Self::new_intset();
        for m in members {
            s.add(Member::Bytes(m), limits);
        }
        s
    }

    pub fn encoding(&self) -> Encoding {
        match &self.repr {
            Repr::Small(b) if intset::is_intset_tag(b.first().copied().unwrap_or(2)) => {
                Encoding::IntSet
            }
            Repr::Small(_) => Encoding::Listpack,
            Repr::Table(_) => Encoding::HashTable,
        }
    }

    /// The OBJECT ENCODING name: `intset`, `listpack` or `hashtable`.
    pub fn encoding_name(&self) -> &'static str {
        match self.encoding() {
            Encoding::IntSet => "intset",
            Encoding::Listpack => "listpack",
            Encoding::HashTable => "hashtable",
        }
    }

    /// The small block as an intset, if it is one.
    fn ints(&self) -> Option<IntSet<&[u8]>> {
        match &self.repr {
            Repr::Small(b) if intset::is_intset_tag(b.first().copied().unwrap_or(2)) => {
                Some(IntSet::from_raw(&b[..]))
            }
            _ => None,
        }
    }

    /// The small block as a packed list, if it is one.
    fn packed(&self) -> Option<PackedList<&[u8]>> {
        match &self.repr {
            Repr::Small(b) if b.first() == Some(&PACKED_TAG) => Some(PackedList::from_raw(&b[..])),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Table(t) => t.len(),
            Repr::Small(_) => match self.ints() {
                Some(i) => i.len(),
                None => self.packed().map_or(0, |p| p.len()),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: Member<'_>) -> bool {
        if let Some(ints) = self.ints() {
            return m.as_int().is_some_and(|n| ints.contains(n));
        }
        let mut buf = itoa::Buffer::new();
        let bytes = m.as_bytes(&mut buf);
        match &self.repr {
            Repr::Table(t) => t.contains(bytes),
            Repr::Small(_) => self.packed().is_some_and(|p| p.find(bytes, 1).is_some()),
        }
    }

    /// Runs `f` on the small block as an owned intset and stores it back (`None` for a hash
    /// table; callers check the encoding first).
    fn with_intset<R>(&mut self, f: impl FnOnce(&mut IntSet) -> R) -> Option<R> {
        let Repr::Small(block) = &mut self.repr else {
            return None;
        };
        let mut ints = IntSet::from_raw(std::mem::take(block));
        let r = f(&mut ints);
        *block = ints.into_raw();
        Some(r)
    }

    /// Runs `f` on the small block as an owned packed list and stores it back (`None` for a
    /// hash table).
    fn with_packed<R>(&mut self, f: impl FnOnce(&mut PackedList) -> R) -> Option<R> {
        let Repr::Small(block) = &mut self.repr else {
            return None;
        };
        let mut list = PackedList::from_raw(std::mem::take(block));
        let r = f(&mut list);
        *block = list.into_raw();
        Some(r)
    }

    /// Converts to a hash table presized for `capacity` members.
    fn convert_to_table(&mut self, capacity: usize) {
        if matches!(self.repr, Repr::Table(_)) {
            return;
        }
        let mut t =
            SetTable::with_capacity_and_hasher(capacity.max(self.len()), FieldHasher::default());
        for m in self.iter() {
            t.insert(m.to_compact());
        }
        self.repr = Repr::Table(Box::new(t));
    }

    /// Converts an intset to a listpack (members in ascending order).
    fn convert_intset_to_listpack(&mut self) {
        if let Some(ints) = self.ints() {
            let texts: Vec<String> = ints
                .iter()
                .map(|n| itoa::Buffer::new().format(n).to_string())
                .collect();
            let list = PackedList::from_entries(texts.iter().map(String::as_bytes));
            self.repr = Repr::Small(list.into_raw());
        }
    }

    /// Redis's `setTypeMaybeConvert`: about `size_hint` members are coming; a small set that
    /// could not hold that many converts to a presized hash table now.
    pub fn maybe_convert(&mut self, size_hint: usize, limits: &SetLimits) {
        let convert = match self.encoding() {
            Encoding::Listpack => size_hint > limits.max_listpack_entries,
            Encoding::IntSet => size_hint > limits.max_intset_entries,
            Encoding::HashTable => false,
        };
        if convert {
            self.convert_to_table(size_hint);
        }
    }

    /// Adds `m` (Redis's `setTypeAddAux`); true if it was not a member.
    pub fn add(&mut self, m: Member<'_>, limits: &SetLimits) -> bool {
        match self.encoding() {
            Encoding::HashTable => {
                let Repr::Table(t) = &mut self.repr else {
                    return false;
                };
                let mut buf = itoa::Buffer::new();
                let bytes = m.as_bytes(&mut buf);
                if t.contains(bytes) {
                    return false;
                }
                reserve_one(t);
                t.insert(CompactBytes::new(bytes));
                true
            }
            Encoding::Listpack => {
                let mut buf = itoa::Buffer::new();
                let bytes = m.as_bytes(&mut buf);
                let (len, size) = match self.packed() {
                    Some(p) if p.find(bytes, 1).is_some() => return false,
                    Some(p) => (p.len(), p.byte_len()),
                    None => (0, 0),
                };
                let fits = len < limits.max_listpack_entries
                    && bytes.len() <= limits.max_listpack_value
                    && size + packed::entry_size(bytes) <= MAX_SAFE_BYTES;
                if fits {
                    self.with_packed(|p| p.push(&[bytes]));
                } else {
                    self.convert_to_table(len + 1);
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert(CompactBytes::new(bytes));
                    }
                }
                true
            }
            Encoding::IntSet => {
                if let Some(n) = m.as_int() {
                    let added = self.with_intset(|s| s.insert(n)).unwrap_or(false);
                    if added && self.len() > limits.intset_max() {
                        self.convert_to_table(self.len());
                    }
                    return added;
                }
                // Not an integer: a listpack if every member fits one, else a hash table.
                let ints = self.ints().map(|i| (i.len(), i.min(), i.max()));
                let (n, min, max) = ints.unwrap_or((0, None, None));
                let digits = |v: Option<i64>| v.map_or(0, |v| itoa::Buffer::new().format(v).len());
                let widest = digits(min).max(digits(max));
                let estimate = n.saturating_mul(widest + 2).saturating_add(m.len());
                let fits = n < limits.max_listpack_entries
                    && m.len() <= limits.max_listpack_value
                    && widest <= limits.max_listpack_value
                    && estimate <= MAX_SAFE_BYTES;
                let mut buf = itoa::Buffer::new();
                let bytes = m.as_bytes(&mut buf);
                if fits {
                    self.convert_intset_to_listpack();
                    self.with_packed(|p| p.push(&[bytes]));
                } else {
                    self.convert_to_table(n + 1);
                    if let Repr::Table(t) = &mut self.repr {
                        t.insert(CompactBytes::new(bytes));
                    }
                }
                true
            }
        }
    }

    /// Adds the member `bytes`; true if it was not a member.
    pub fn add_bytes(&mut self, bytes: &[u8], limits: &SetLimits) -> bool {
        self.add(Member::Bytes(bytes), limits)
    }

    /// Removes `m`; true if it was a member.
    pub fn remove(&mut self, m: Member<'_>) -> bool {
        match self.encoding() {
            Encoding::IntSet => match m.as_int() {
                Some(n) => self.with_intset(|s| s.remove(n)).unwrap_or(false),
                None => false,
            },
            Encoding::Listpack => {
                let mut buf = itoa::Buffer::new();
                let bytes = m.as_bytes(&mut buf);
                match self.packed().and_then(|p| p.find(bytes, 1)) {
                    Some(i) => {
                        self.with_packed(|p| p.remove_range(i, 1));
                        true
                    }
                    None => false,
                }
            }
            Encoding::HashTable => {
                let Repr::Table(t) = &mut self.repr else {
                    return false;
                };
                let mut buf = itoa::Buffer::new();
                let removed = t.swap_remove(m.as_bytes(&mut buf));
                if removed {
                    maybe_shrink(t);
                }
                removed
            }
        }
    }

    /// Removes the members at the given positions of [`iter`](Self::iter)'s order (any order,
    /// no duplicates) in one pass for the small encodings.
    pub fn remove_positions(&mut self, positions: &[usize]) {
        match self.encoding() {
            Encoding::HashTable => {
                let Repr::Table(t) = &mut self.repr else {
                    return;
                };
                let doomed: Vec<CompactBytes> = positions
                    .iter()
                    .filter_map(|&i| t.get_index(i).cloned())
                    .collect();
                for m in doomed {
                    t.swap_remove(m.as_slice());
                }
                maybe_shrink(t);
            }
            Encoding::IntSet => {
                let doomed: Vec<i64> = {
                    let ints = self.ints();
                    positions
                        .iter()
                        .filter_map(|&i| ints.as_ref().and_then(|s| s.get(i)))
                        .collect()
                };
                self.with_intset(|s| {
                    for n in doomed {
                        s.remove(n);
                    }
                });
            }
            Encoding::Listpack => {
                let mut doomed = positions.to_vec();
                doomed.sort_unstable();
                self.with_packed(|p| p.retain(|i, _| doomed.binary_search(&i).is_err()));
            }
        }
    }

    /// Redis's `maybeConvertToIntset`: a set whose members are all integers becomes an intset
    /// if it is not one and has at most `set-max-intset-entries` members.
    pub fn convert_to_intset_if_integers(&mut self, limits: &SetLimits) {
        if self.encoding() == Encoding::IntSet || self.len() > limits.intset_max() {
            return;
        }
        let mut ints = IntSet::new();
        for m in self.iter() {
            match m.as_int() {
                Some(n) => {
                    ints.insert(n);
                }
                None => return,
            }
        }
        self.repr = Repr::Small(ints.into_raw());
    }

    /// The members, in the encoding's order (ascending for an intset, insertion order for a
    /// listpack).
    pub fn iter(&self) -> Iter<'_> {
        if let Some(ints) = self.ints() {
            return Iter::Ints(ints.values());
        }
        match &self.repr {
            Repr::Table(t) => Iter::Table(t.iter()),
            Repr::Small(b) => Iter::Packed(PackedList::from_raw(&b[..]).entries()),
        }
    }

    /// The member at position `i` of [`iter`](Self::iter)'s order: O(1) for an intset or a
    /// hash table, O(n) for a listpack.
    pub fn get_index(&self, i: usize) -> Option<Member<'_>> {
        if let Some(ints) = self.ints() {
            return ints.get(i).map(Member::Int);
        }
        match &self.repr {
            Repr::Table(t) => t.get_index(i).map(|m| Member::Bytes(m.as_slice())),
            Repr::Small(_) => self.iter().nth(i),
        }
    }

    /// Random access by position for sampling (SPOP, SRANDMEMBER).
    pub fn indexed(&self) -> Indexed<'_> {
        if let Some(ints) = self.ints() {
            return Indexed::Ints(ints);
        }
        match &self.repr {
            Repr::Table(t) => Indexed::Table(t),
            Repr::Small(b) => Indexed::Packed(PackedList::from_raw(&b[..]).entries().collect()),
        }
    }

    /// Heap bytes owned by the set (O(n) for a hash table).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Small(b) => b.len(),
            Repr::Table(t) => {
                let slots = t.capacity() * (8 + std::mem::size_of::<CompactBytes>());
                let index = t.capacity() * 8 * 9 / 7;
                let strings: usize = t.iter().map(CompactBytes::heap_size).sum();
                std::mem::size_of::<SetTable>() + slots + index + strings
            }
        }
    }
}

impl PartialEq for SetValue {
    /// Same members, whatever the encodings and orders.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(m))
    }
}

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(
                self.iter()
                    .map(|m| String::from_utf8_lossy(m.to_compact().as_slice()).into_owned()),
            )
            .finish()
    }
}

/// The members of a [`SetValue`].
pub enum Iter<'a> {
    Ints(intset::Iter<'a>),
    Packed(packed::Iter<'a>),
    Table(indexmap::set::Iter<'a, CompactBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    #[inline]
    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints(it) => it.next().map(Member::Int),
            Iter::Packed(it) => it.next(),
            Iter::Table(it) => it.next().map(|m| Member::Bytes(m.as_slice())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Iter::Ints(it) => it.len(),
            Iter::Packed(it) => it.len(),
            Iter::Table(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// A set's members addressable by position (see [`SetValue::indexed`]).
pub enum Indexed<'a> {
    Ints(IntSet<&'a [u8]>),
    Packed(Vec<Member<'a>>),
    Table(&'a SetTable),
}

impl<'a> Indexed<'a> {
    pub fn len(&self) -> usize {
        match self {
            Indexed::Ints(s) => s.len(),
            Indexed::Packed(v) => v.len(),
            Indexed::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Member `i` (`i < len()`).
    pub fn get(&self, i: usize) -> Option<Member<'a>> {
        match self {
            Indexed::Ints(s) => s.get(i).map(Member::Int),
            Indexed::Packed(v) => v.get(i).copied(),
            Indexed::Table(t) => t.get_index(i).map(|m| Member::Bytes(m.as_slice())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const SMALL: SetLimits = SetLimits {
        max_intset_entries: 6,
        max_listpack_entries: 4,
        max_listpack_value: 8,
    };

    fn members(s: &SetValue) -> Vec<String> {
        s.iter()
            .map(|m| String::from_utf8_lossy(m.to_compact().as_slice()).into_owned())
            .collect()
    }

    #[test]
    fn is_16_bytes() {
        assert_eq!(std::mem::size_of::<SetValue>(), 16);
    }

    #[test]
    fn encodings_follow_redis() {
        let mut s = SetValue::create(b"3", 1, &SMALL);
        assert_eq!(s.encoding_name(), "intset");
        for m in ["3", "1", "2", "-5"] {
            s.add_bytes(m.as_bytes(), &SMALL);
        }
        assert_eq!(members(&s), ["-5", "1", "2", "3"]);
        // A non-integer turns a small intset into a listpack, sorted integers first.
        assert!(s.add_bytes(b"x", &SMALL));
        assert_eq!(
            s.encoding_name(),
            "hashtable",
            "4 members is the listpack limit"
        );
        let mut s = SetValue::create(b"3", 1, &SMALL);
        s.add_bytes(b"3", &SMALL);
        s.add_bytes(b"1", &SMALL);
        s.add_bytes(b"x", &SMALL);
        assert_eq!(s.encoding_name(), "listpack");
        assert_eq!(members(&s), ["1", "3", "x"]);
        assert!(s.contains(Member::Int(3)));
        assert!(s.contains(Member::Bytes(b"3")));
        assert!(!s.contains(Member::Bytes(b"03")));
        s.add_bytes(b"y", &SMALL);
        assert_eq!(s.encoding_name(), "listpack");
        s.add_bytes(b"z", &SMALL);
        assert_eq!(s.encoding_name(), "hashtable");
        // An intset past its limit becomes a hash table.
        let mut s = SetValue::create(b"1", 1, &SMALL);
        for i in 0..7 {
            s.add(Member::Int(i), &SMALL);
        }
        assert_eq!(s.encoding_name(), "hashtable");
        s.convert_to_intset_if_integers(&SMALL);
        assert_eq!(
            s.encoding_name(),
            "hashtable",
            "7 members exceed the intset limit"
        );
        assert!(s.remove(Member::Int(6)));
        s.convert_to_intset_if_integers(&SMALL);
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(members(&s), ["0", "1", "2", "3", "4", "5"]);
        // Long members go straight to a hash table.
        let mut s = SetValue::create(b"abc", 1, &SMALL);
        s.add_bytes(b"123456789", &SMALL);
        assert_eq!(s.encoding_name(), "hashtable");
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec((0u8..4, prop_oneof![
            (-20i64..20).prop_map(|n| n.to_string()),
            Just("x".to_string()), Just("yy".to_string()), Just("007".to_string()), Just("-0".to_string()),
            Just("a-long-member".to_string()),
        ]), 0..120)) {
            let mut s = SetValue::new_intset();
            let mut model = BTreeSet::new();
            for (op, m) in ops {
                match op {
                    0 | 1 => prop_assert_eq!(s.add_bytes(m.as_bytes(), &SMALL), model.insert(m.clone())),
                    2 => prop_assert_eq!(s.remove(Member::Bytes(m.as_bytes())), model.remove(&m)),
                    _ => {
                        if !model.is_empty() {
                            let victim = members(&s)[0].clone();
                            s.remove_positions(&[0]);
                            model.remove(&victim);
                        }
                    }
                }
                prop_assert_eq!(s.len(), model.len());
                let got: BTreeSet<String> = members(&s).into_iter().collect();
                prop_assert_eq!(&got, &model);
                let idx = s.indexed();
                for i in 0..idx.len() {
                    prop_assert_eq!(idx.get(i), s.get_index(i));
                }
                if s.encoding() == Encoding::IntSet {
                    let v: Vec<i64> = s.iter().filter_map(|m| m.as_int()).collect();
                    let mut sorted = v.clone();
                    sorted.sort();
                    prop_assert_eq!(v, sorted);
                }
            }
        }
    }
}
