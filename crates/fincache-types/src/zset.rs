//! `ZSet`: a sorted set in one of Redis's two encodings.
//!
//! - **listpack** (small sets): one [`Listpack`] of `member, score, member, score …` sorted by
//!   score then member; each score is its 8 IEEE bytes. Everything is a linear scan, which the
//!   `zset-max-listpack-entries`/`-value` thresholds keep short.
//! - **skiplist** (the name Redis reports; here a [`ScoreTree`] counted B+tree): a hash table
//!   member → score for O(1) ZSCORE plus the tree for O(log n) rank, insert and delete and
//!   O(log n + m) range walks.
//!
//! A set converts from listpack to skiplist when an insert would pass either threshold, as
//! Redis's `zsetAdd` does, and back only when a store command builds a new set that fits
//! ([`ZSet::with_hint`], [`ZSet::shrink_to_fit_encoding`]). Scores are never NaN.
//!
//! Ranges are rank intervals: every score or lex range is first turned into `[lo, hi)` ranks
//! with two O(log n) partition searches, then walked. Lex ranges assume equal scores, as Redis
//! documents (with mixed scores the result is unspecified there too).

use crate::listpack::Listpack;
use crate::zset_range::{LexRange, ScoreRange};
use crate::zset_tree::{cmp_key, ScoreTree};
use crate::CompactBytes;
use hashbrown::HashTable;
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// The encoding thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_listpack_entries: 128,
            max_listpack_value: 64,
        }
    }
}

/// ZADD's condition flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What one `zsetAdd` did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    /// A new member with this score.
    Added(f64),
    /// An existing member whose score changed to this.
    Updated(f64),
    /// An existing member processed but left with the same score (INCR by 0, same score).
    Unchanged(f64),
    /// Nothing done: NX on an existing member, XX on a missing one, GT/LT refused the score.
    Skipped,
    /// INCR produced NaN (`inf + -inf`); nothing changed.
    NotANumber,
}

#[derive(Debug, Clone)]
struct DictEntry {
    member: CompactBytes,
    score: f64,
}

/// The large encoding: member → score table plus the order index.
#[derive(Debug, Clone)]
pub struct BigZSet {
    dict: HashTable<DictEntry>,
    tree: ScoreTree,
    hasher: foldhash::fast::RandomState,
    /// Heap bytes of members too long to sit inline (stored twice: table and tree).
    long_member_bytes: usize,
}

impl BigZSet {
    fn new(capacity: usize) -> Self {
        BigZSet {
            dict: HashTable::with_capacity(capacity),
            tree: ScoreTree::new(),
            hasher: foldhash::fast::RandomState::default(),
            long_member_bytes: 0,
        }
    }

    #[inline]
    fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        let h = self.hash(member);
        self.dict
            .find(h, |e| e.member.as_slice() == member)
            .map(|e| e.score)
    }

    /// Inserts a member known to be absent.
    fn insert_new(&mut self, member: &[u8], score: f64) {
        let m = CompactBytes::new(member);
        self.long_member_bytes += m.heap_size();
        self.tree.insert(score, m.clone());
        let h = self.hash(member);
        let hasher = &self.hasher;
        self.dict
            .insert_unique(h, DictEntry { member: m, score }, |e| {
                hasher.hash_one(e.member.as_slice())
            });
    }

    /// Changes the score of a present member.
    fn update(&mut self, member: &[u8], old: f64, new: f64) {
        let h = self.hash(member);
        if let Some(e) = self.dict.find_mut(h, |e| e.member.as_slice() == member) {
            e.score = new;
            let m = e.member.clone();
            self.tree.remove(old, member);
            self.tree.insert(new, m);
        }
    }

    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let h = self.hash(member);
        let entry = self
            .dict
            .find_entry(h, |e| e.member.as_slice() == member)
            .ok()?;
        let (e, _) = entry.remove();
        self.long_member_bytes -= e.member.heap_size();
        self.tree.remove(e.score, member);
        Some(e.score)
    }

    fn remove_at(&mut self, rank: usize) -> Option<(CompactBytes, f64)> {
        let item = self.tree.remove_at(rank)?;
        let h = self.hash(&item.member);
        if let Ok(entry) = self.dict.find_entry(h, |e| e.member == item.member) {
            entry.remove();
        }
        self.long_member_bytes -= item.member.heap_size();
        Some((item.member, item.score))
    }

    fn shrink(&mut self) {
        let hasher = &self.hasher;
        if self.dict.capacity() > 4 * self.dict.len().max(16) {
            self.dict
                .shrink_to_fit(|e| hasher.hash_one(e.member.as_slice()));
        }
    }
}

/// A sorted set. See the module documentation.
#[derive(Debug, Clone)]
pub enum ZSet {
    Pack(Listpack),
    Big(Box<BigZSet>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Pack(Listpack::new())
    }
}

/// Two sets are equal when they hold the same members with the same scores, whatever their
/// encodings.
impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

/// Reads the score stored after a member in the listpack.
#[inline]
fn decode_score(b: &[u8]) -> f64 {
    let mut raw = [0u8; 8];
    if b.len() == 8 {
        raw.copy_from_slice(b);
    }
    f64::from_le_bytes(raw)
}

impl ZSet {
    /// An empty set in the listpack encoding.
    pub fn new() -> Self {
        ZSet::default()
    }

    /// An empty set in the encoding Redis's `zsetTypeCreate` picks for `size_hint` members of
    /// at most `value_len_hint` bytes.
    pub fn with_hint(size_hint: usize, value_len_hint: usize, limits: Limits) -> Self {
        if size_hint <= limits.max_listpack_entries && value_len_hint <= limits.max_listpack_value {
            ZSet::Pack(Listpack::new())
        } else {
            ZSet::Big(Box::new(BigZSet::new(size_hint.min(1 << 20))))
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Pack(lp) => lp.len() / 2,
            ZSet::Big(b) => b.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self, ZSet::Pack(_))
    }

    /// `OBJECT ENCODING`'s name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSet::Pack(_) => "listpack",
            ZSet::Big(_) => "skiplist",
        }
    }

    /// Heap bytes owned by the set (approximate for the large encoding; O(1)).
    pub fn heap_size(&self) -> usize {
        match self {
            ZSet::Pack(lp) => lp.bytes(),
            ZSet::Big(b) => {
                std::mem::size_of::<BigZSet>()
                    + b.dict.allocation_size()
                    + b.tree.heap_size()
                    + 2 * b.long_member_bytes
            }
        }
    }

    /// Decodes the listpack into `(member, score)` pairs in order.
    fn pack_pairs(lp: &Listpack) -> Vec<(&[u8], f64)> {
        let mut out = Vec::with_capacity(lp.len() / 2);
        let mut it = lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            out.push((m, decode_score(s)));
        }
        out
    }

    /// Position (pair index) and score of `member` in a listpack.
    fn pack_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
        let mut it = lp.iter();
        let mut i = 0;
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            if m == member {
                return Some((i, decode_score(s)));
            }
            i += 1;
        }
        None
    }

    /// Inserts into a listpack at the sorted position (member known to be absent). A listpack
    /// keeps -0 as 0, as Redis's does (it stores integral scores as integers).
    fn pack_insert(lp: &mut Listpack, member: &[u8], score: f64) {
        let score = if score == 0.0 { 0.0 } else { score };
        let mut it = lp.iter();
        let mut i = 0;
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            if cmp_key(decode_score(s), m, score, member) == Ordering::Greater {
                break;
            }
            i += 1;
        }
        lp.insert(2 * i, member);
        lp.insert(2 * i + 1, &score.to_le_bytes());
    }

    /// Converts a listpack set to the large encoding (with room for `capacity` members).
    fn convert_to_big(&mut self, capacity: usize) {
        if let ZSet::Pack(lp) = self {
            let mut big = BigZSet::new(capacity.max(lp.len() / 2));
            for (m, s) in Self::pack_pairs(lp) {
                big.insert_new(m, s);
            }
            *self = ZSet::Big(Box::new(big));
        }
    }

    /// Converts a large set that fits the thresholds back to a listpack (Redis's
    /// `zsetConvertToListpackIfNeeded`, used when a store command builds a result).
    pub fn shrink_to_fit_encoding(&mut self, limits: Limits) {
        if let ZSet::Big(b) = self {
            let fits = b.tree.len() <= limits.max_listpack_entries
                && b.tree
                    .iter()
                    .all(|i| i.member.len() <= limits.max_listpack_value);
            if fits {
                let mut lp = Listpack::new();
                for i in b.tree.iter() {
                    let score = if i.score == 0.0 { 0.0 } else { i.score };
                    lp.push_back(&i.member);
                    lp.push_back(&score.to_le_bytes());
                }
                *self = ZSet::Pack(lp);
            }
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(lp) => Self::pack_find(lp, member).map(|(_, s)| s),
            ZSet::Big(b) => b.score(member),
        }
    }

    /// Redis's `zsetAdd`: adds `member` or updates its score under ZADD's flags, converting
    /// the encoding when the set outgrows the listpack thresholds.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: Limits,
    ) -> AddOutcome {
        if score.is_nan() {
            return AddOutcome::NotANumber;
        }
        match self.score(member) {
            Some(current) => {
                if flags.nx {
                    return AddOutcome::Skipped;
                }
                let mut new = score;
                if flags.incr {
                    new += current;
                    if new.is_nan() {
                        return AddOutcome::NotANumber;
                    }
                }
                if (flags.lt && new >= current) || (flags.gt && new <= current) {
                    return AddOutcome::Skipped;
                }
                // -0 and 0 compare equal: no update, the old sign stays (as in Redis).
                if new == current {
                    return AddOutcome::Unchanged(new);
                }
                self.set_existing(member, current, new);
                AddOutcome::Updated(new)
            }
            None if flags.xx => AddOutcome::Skipped,
            None => {
                self.insert_new(member, score, limits);
                // The reply shows the score as computed, even where a listpack stores -0 as 0.
                AddOutcome::Added(score)
            }
        }
    }

    /// Changes a present member's score from `old` to `new`.
    fn set_existing(&mut self, member: &[u8], old: f64, new: f64) {
        match self {
            ZSet::Pack(lp) => {
                if let Some((i, _)) = Self::pack_find(lp, member) {
                    lp.remove_range(2 * i, 2);
                    Self::pack_insert(lp, member, new);
                }
            }
            ZSet::Big(b) => b.update(member, old, new),
        }
    }

    /// Inserts a member known to be absent, converting to the large encoding first when the
    /// listpack would pass a threshold.
    pub fn insert_new(&mut self, member: &[u8], score: f64, limits: Limits) {
        if let ZSet::Pack(lp) = self {
            if lp.len() / 2 + 1 > limits.max_listpack_entries
                || member.len() > limits.max_listpack_value
            {
                let n = lp.len() / 2 + 1;
                self.convert_to_big(n);
            }
        }
        match self {
            ZSet::Pack(lp) => Self::pack_insert(lp, member, score),
            ZSet::Big(b) => b.insert_new(member, score),
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(lp) => {
                let (i, s) = Self::pack_find(lp, member)?;
                lp.remove_range(2 * i, 2);
                Some(s)
            }
            ZSet::Big(b) => {
                let s = b.remove(member);
                b.shrink();
                s
            }
        }
    }

    /// The 0-based ascending rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Pack(lp) => Self::pack_find(lp, member),
            ZSet::Big(b) => {
                let s = b.score(member)?;
                b.tree.rank(s, member).map(|r| (r, s))
            }
        }
    }

    /// The member and score at ascending rank `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Pack(lp) => {
                let m = lp.get(2 * rank)?;
                let s = lp.get(2 * rank + 1)?;
                Some((m, decode_score(s)))
            }
            ZSet::Big(b) => b.tree.get(rank).map(|i| (i.member.as_slice(), i.score)),
        }
    }

    /// Number of leading members (in order) for which `pred(score, member)` holds; `pred` must
    /// be monotone over the order.
    pub fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Pack(lp) => {
                let mut n = 0;
                let mut it = lp.iter();
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if !pred(decode_score(s), m) {
                        break;
                    }
                    n += 1;
                }
                n
            }
            ZSet::Big(b) => b.tree.partition_point(pred),
        }
    }

    /// The ranks `[lo, hi)` of the members whose score is in `range` (empty when `hi <= lo`).
    pub fn score_range_ranks(&self, range: &ScoreRange) -> (usize, usize) {
        let lo = self.partition_point(|s, _| !range.gte_min(s));
        let hi = self.partition_point(|s, _| range.lte_max(s));
        (lo, hi.max(lo))
    }

    /// The ranks `[lo, hi)` of the members in the lexical `range`.
    pub fn lex_range_ranks(&self, range: &LexRange) -> (usize, usize) {
        let lo = self.partition_point(|_, m| !range.gte_min(m));
        let hi = self.partition_point(|_, m| range.lte_max(m));
        (lo, hi.max(lo))
    }

    /// Walks `count` members from ascending rank `start` on; with `rev`, downwards from rank
    /// `start`. Clamped to what exists.
    pub fn range(&self, start: usize, count: usize, rev: bool) -> RangeIter<'_> {
        match self {
            ZSet::Pack(lp) => {
                let pairs = Self::pack_pairs(lp);
                let picked: Vec<(&[u8], f64)> = if start >= pairs.len() {
                    Vec::new()
                } else if rev {
                    pairs[..=start].iter().rev().take(count).copied().collect()
                } else {
                    pairs[start..].iter().take(count).copied().collect()
                };
                RangeIter::Pack(picked.into_iter())
            }
            ZSet::Big(b) => RangeIter::Tree(b.tree.iter_from(start, count, rev)),
        }
    }

    /// Every member in ascending order.
    pub fn iter(&self) -> RangeIter<'_> {
        self.range(0, self.len(), false)
    }

    /// Removes the members at ascending ranks `start .. start + count`; returns how many.
    pub fn remove_ranks(&mut self, start: usize, count: usize) -> usize {
        let n = count.min(self.len().saturating_sub(start));
        match self {
            ZSet::Pack(lp) => lp.remove_range(2 * start, 2 * n),
            ZSet::Big(b) => {
                for _ in 0..n {
                    b.remove_at(start);
                }
                b.shrink();
            }
        }
        n
    }

    /// Removes and returns the lowest (or, with `max`, the highest) member.
    pub fn pop(&mut self, max: bool) -> Option<(CompactBytes, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let rank = if max { len - 1 } else { 0 };
        match self {
            ZSet::Pack(lp) => {
                let m = lp.get(2 * rank).map(CompactBytes::new)?;
                let s = lp.get(2 * rank + 1).map(decode_score)?;
                lp.remove_range(2 * rank, 2);
                Some((m, s))
            }
            ZSet::Big(b) => b.remove_at(rank),
        }
    }

    /// A view for picking members by rank many times (ZRANDMEMBER): the listpack is decoded
    /// once instead of scanned per pick.
    pub fn sampler(&self) -> Sampler<'_> {
        match self {
            ZSet::Pack(lp) => Sampler::Pack(Self::pack_pairs(lp)),
            ZSet::Big(b) => Sampler::Tree(&b.tree),
        }
    }

    /// One step of ZSCAN from `cursor`: calls `f` for the members visited and returns the next
    /// cursor (0 when done). A listpack set is returned whole in one call, as Redis does. The
    /// large encoding walks hash-table buckets in Redis's reverse-binary cursor order, so
    /// members present for the whole scan are returned (while the table is not resized).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match self {
            ZSet::Pack(_) => {
                for (m, s) in self.iter() {
                    f(m, s);
                }
                0
            }
            ZSet::Big(b) => {
                let buckets = b.dict.num_buckets() as u64;
                if buckets == 0 {
                    return 0;
                }
                let mask = buckets - 1;
                let mut v = cursor;
                let mut emitted = 0;
                let mut budget = count.saturating_mul(10).max(1);
                loop {
                    if let Some(e) = b.dict.get_bucket((v & mask) as usize) {
                        f(&e.member, e.score);
                        emitted += 1;
                    }
                    // Increment the reversed cursor (Redis's dictScan).
                    v |= !mask;
                    v = v.reverse_bits().wrapping_add(1).reverse_bits();
                    budget -= 1;
                    if v == 0 || budget == 0 || emitted >= count {
                        return v;
                    }
                }
            }
        }
    }
}

/// Members picked by rank; see [`ZSet::sampler`].
pub enum Sampler<'a> {
    Pack(Vec<(&'a [u8], f64)>),
    Tree(&'a ScoreTree),
}

impl<'a> Sampler<'a> {
    pub fn get(&self, rank: usize) -> Option<(&'a [u8], f64)> {
        match self {
            Sampler::Pack(v) => v.get(rank).copied(),
            Sampler::Tree(t) => t.get(rank).map(|i| (i.member.as_slice(), i.score)),
        }
    }
}

/// An iterator over `(member, score)` in rank order; see [`ZSet::range`].
pub enum RangeIter<'a> {
    Pack(std::vec::IntoIter<(&'a [u8], f64)>),
    Tree(crate::zset_tree::Iter<'a>),
}

impl<'a> Iterator for RangeIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        match self {
            RangeIter::Pack(it) => it.next(),
            RangeIter::Tree(it) => it.next().map(|i| (i.member.as_slice(), i.score)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            RangeIter::Pack(it) => it.size_hint(),
            RangeIter::Tree(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for RangeIter<'_> {}

#[cfg(test)]
mod tests;
