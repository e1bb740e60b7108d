//! `ScoreTree`: the order-statistic index of a large sorted set — a counted B+tree of
//! `(score, member)` items in Redis's total order (score, then member bytes).
//!
//! Redis keeps this order in a skiplist with spans; a B+tree gives the same O(log n) insert,
//! delete, rank and select, and O(log n + m) range walks, with far fewer allocations: items sit
//! 64 to a leaf (32 bytes each, one 2 KiB block), and every inner node keeps the item count of
//! each child, so a rank is a sum of counts along one root-to-leaf path.
//!
//! Invariants:
//! - every leaf is at the same depth; leaves are sorted and hold at most [`LEAF_CAP`] items;
//!   inner nodes hold at most [`INNER_CAP`] children and at least one;
//! - `seps[j]` separates `children[j]` and `children[j + 1]`: every item of the first is below it,
//!   every item of the second is at or above it. A separator may be a copy of an item that was
//!   deleted since; it stays a valid bound;
//! - `counts[j]` is the number of items under `children[j]`;
//! - no score is NaN (callers refuse NaN before they get here); `-0.0 == 0.0` as in Redis, so
//!   two such items order by member.
//!
//! Leaves are kept full: an item for a full leaf first moves one item over to a neighbouring
//! leaf with room (as a B*-tree does; random inserts then fill leaves to about 83% instead of
//! 69%), and a split favours the common financial patterns — an item appended past the end of
//! a full leaf starts a new leaf instead of halving the old one (timestamps, sequence numbers,
//! prices arriving in order keep leaves full), and likewise for an item put in front.

use crate::CompactBytes;
use std::cmp::Ordering;

/// Items per leaf: 64 × 32 bytes = one 2 KiB allocation.
pub const LEAF_CAP: usize = 64;
/// Children per inner node.
pub const INNER_CAP: usize = 64;
/// A leaf or inner node with fewer entries than this is merged with or refilled from a sibling.
const MIN_FILL: usize = 16;

/// One member of the sorted set with its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub score: f64,
    pub member: CompactBytes,
}

impl Item {
    pub fn new(score: f64, member: &[u8]) -> Self {
        Item {
            score,
            member: CompactBytes::new(member),
        }
    }
}

/// Redis's sorted-set order: by score, then by member bytes (`memcmp`, shorter first on a tie).
#[inline]
pub fn cmp_key(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    if a_score < b_score {
        Ordering::Less
    } else if a_score > b_score {
        Ordering::Greater
    } else {
        a_member.cmp(b_member)
    }
}

#[inline]
fn cmp_item(a: &Item, score: f64, member: &[u8]) -> Ordering {
    cmp_key(a.score, &a.member, score, member)
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Vec<Item>),
    Inner(Box<Inner>),
}

#[derive(Debug, Clone)]
struct Inner {
    seps: Vec<Item>,
    children: Vec<Node>,
    counts: Vec<usize>,
}

impl Node {
    /// Entries of this node: items of a leaf, children of an inner node.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(i) => i.children.len(),
        }
    }
}

impl Inner {
    /// The child that holds (or would hold) the key: the number of separators at or below it.
    #[inline]
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        self.seps
            .partition_point(|s| cmp_item(s, score, member) != Ordering::Greater)
    }

    /// The child holding rank `rank` (0-based under this node) and the rank inside it.
    #[inline]
    fn child_at_rank(&self, mut rank: usize) -> (usize, usize) {
        for (i, &c) in self.counts.iter().enumerate() {
            if rank < c {
                return (i, rank);
            }
            rank -= c;
        }
        // Only reached for rank == total (one past the end): the end of the last child.
        let last = self.counts.len() - 1;
        (last, rank + self.counts[last])
    }
}

/// Result of inserting into a subtree that had to split: the separator, the new right
/// sibling and its item count.
type Split = (Item, Node, usize);

/// The counted B+tree. See the module documentation.
#[derive(Debug, Clone)]
pub struct ScoreTree {
    root: Node,
    len: usize,
    /// Leaf and inner node counts, for memory accounting without a walk.
    leaves: usize,
    inners: usize,
}

impl Default for ScoreTree {
    fn default() -> Self {
        Self::new()
    }
}

impl ScoreTree {
    pub fn new() -> Self {
        ScoreTree {
            root: Node::Leaf(Vec::new()),
            len: 0,
            leaves: 1,
            inners: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Approximate heap bytes of the nodes (not of long members' own buffers).
    pub fn heap_size(&self) -> usize {
        let item = std::mem::size_of::<Item>();
        let node = std::mem::size_of::<Node>();
        // Leaves run between half and full; count them at 3/4 of capacity.
        self.leaves * LEAF_CAP * item * 3 / 4
            + self.inners * INNER_CAP * (item + node + std::mem::size_of::<usize>()) * 3 / 4
    }

    /// Inserts an item. The caller guarantees no item with the same member is present (the
    /// member → score map is the authority), as Redis's `zslInsert` assumes.
    pub fn insert(&mut self, score: f64, member: CompactBytes) {
        let item = Item { score, member };
        let total = self.len + 1;
        if let Some((sep, right, right_count)) = self.insert_rec_root(item) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            self.root = Node::Inner(Box::new(Inner {
                seps: vec![sep],
                children: vec![left, right],
                counts: vec![total - right_count, right_count],
            }));
            self.inners += 1;
        }
        self.len = total;
    }

    fn insert_rec_root(&mut self, item: Item) -> Option<Split> {
        let mut leaves = 0;
        let mut inners = 0;
        let r = insert_rec(&mut self.root, item, &mut leaves, &mut inners);
        self.leaves += leaves;
        self.inners += inners;
        r
    }

    /// Removes the item `(score, member)`; returns whether it was there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let mut freed = (0, 0);
        let removed = remove_rec(&mut self.root, score, member, &mut freed);
        if removed {
            self.len -= 1;
            self.leaves -= freed.0;
            self.inners -= freed.1;
            self.collapse_root();
        }
        removed
    }

    /// Removes and returns the item at `rank` (0-based), if there is one.
    pub fn remove_at(&mut self, rank: usize) -> Option<Item> {
        if rank >= self.len {
            return None;
        }
        let mut freed = (0, 0);
        let item = remove_at_rec(&mut self.root, rank, &mut freed);
        self.len -= 1;
        self.leaves -= freed.0;
        self.inners -= freed.1;
        self.collapse_root();
        Some(item)
    }

    /// Replaces an inner root that has a single child by that child (the tree shrinks by a
    /// level), repeatedly.
    fn collapse_root(&mut self) {
        loop {
            let single = matches!(&self.root, Node::Inner(i) if i.children.len() == 1);
            if !single {
                return;
            }
            let old = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            if let Node::Inner(mut inner) = old {
                if let Some(child) = inner.children.pop() {
                    self.root = child;
                    self.inners -= 1;
                }
            }
        }
    }

    /// The 0-based rank of `(score, member)`, if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut node = &self.root;
        let mut rank = 0;
        loop {
            match node {
                Node::Inner(inner) => {
                    let j = inner.child_for(score, member);
                    rank += inner.counts[..j].iter().sum::<usize>();
                    node = &inner.children[j];
                }
                Node::Leaf(v) => {
                    return v
                        .binary_search_by(|x| cmp_item(x, score, member))
                        .ok()
                        .map(|i| rank + i);
                }
            }
        }
    }

    /// The item at 0-based `rank`.
    pub fn get(&self, rank: usize) -> Option<&Item> {
        if rank >= self.len {
            return None;
        }
        let mut node = &self.root;
        let mut rank = rank;
        loop {
            match node {
                Node::Inner(inner) => {
                    let (j, r) = inner.child_at_rank(rank);
                    rank = r;
                    node = &inner.children[j];
                }
                Node::Leaf(v) => return v.get(rank),
            }
        }
    }

    pub fn first(&self) -> Option<&Item> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&Item> {
        self.len.checked_sub(1).and_then(|r| self.get(r))
    }

    /// The number of leading items (in order) for which `pred` holds. `pred` must be monotone
    /// over the whole key order (true, then false), as range bounds are: "score below min",
    /// "member at or below max" on equal scores, and so on.
    pub fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut node = &self.root;
        let mut rank = 0;
        loop {
            match node {
                Node::Inner(inner) => {
                    let j = inner.seps.partition_point(|s| pred(s.score, &s.member));
                    rank += inner.counts[..j].iter().sum::<usize>();
                    node = &inner.children[j];
                }
                Node::Leaf(v) => {
                    return rank + v.partition_point(|x| pred(x.score, &x.member));
                }
            }
        }
    }

    /// Walks `count` items from `rank` on, upwards (or downwards with `rev`: `rank` is then the
    /// highest rank yielded). Clamped to the items that exist.
    pub fn iter_from(&self, rank: usize, count: usize, rev: bool) -> Iter<'_> {
        let mut it = Iter {
            stack: Vec::new(),
            leaf: &[],
            pos: 0,
            remaining: 0,
            rev,
        };
        if rank >= self.len {
            return it;
        }
        it.remaining = if rev {
            count.min(rank + 1)
        } else {
            count.min(self.len - rank)
        };
        let mut node = &self.root;
        let mut r = rank;
        loop {
            match node {
                Node::Inner(inner) => {
                    let (j, rr) = inner.child_at_rank(r);
                    it.stack.push((&**inner, j));
                    r = rr;
                    node = &inner.children[j];
                }
                Node::Leaf(v) => {
                    it.leaf = v;
                    it.pos = if rev { r + 1 } else { r };
                    return it;
                }
            }
        }
    }

    /// Every item in order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, self.len, false)
    }

    /// Checks every invariant; for tests.
    #[doc(hidden)]
    pub fn check(&self) -> Result<(), String> {
        fn walk(
            node: &Node,
            depth: usize,
            leaf_depth: &mut Option<usize>,
            out: &mut Vec<(f64, Vec<u8>)>,
            counts: &mut (usize, usize),
        ) -> Result<usize, String> {
            match node {
                Node::Leaf(v) => {
                    counts.0 += 1;
                    if v.len() > LEAF_CAP {
                        return Err(format!("leaf over capacity: {}", v.len()));
                    }
                    match leaf_depth {
                        Some(d) if *d != depth => return Err("leaves at different depths".into()),
                        _ => *leaf_depth = Some(depth),
                    }
                    out.extend(v.iter().map(|i| (i.score, i.member.to_vec())));
                    Ok(v.len())
                }
                Node::Inner(inner) => {
                    counts.1 += 1;
                    if inner.children.is_empty() || inner.children.len() > INNER_CAP {
                        return Err(format!("inner width {}", inner.children.len()));
                    }
                    if inner.seps.len() + 1 != inner.children.len()
                        || inner.counts.len() != inner.children.len()
                    {
                        return Err("inner vectors out of step".into());
                    }
                    let mut total = 0;
                    for (j, child) in inner.children.iter().enumerate() {
                        let start = out.len();
                        let n = walk(child, depth + 1, leaf_depth, out, counts)?;
                        if n != inner.counts[j] {
                            return Err(format!("count {} != {}", inner.counts[j], n));
                        }
                        for (s, m) in &out[start..] {
                            if j > 0 {
                                let lo = &inner.seps[j - 1];
                                if cmp_item(lo, *s, m) == Ordering::Greater {
                                    return Err("item below its lower separator".into());
                                }
                            }
                            if j < inner.seps.len() {
                                let hi = &inner.seps[j];
                                if cmp_item(hi, *s, m) != Ordering::Greater {
                                    return Err("item at or above its upper separator".into());
                                }
                            }
                        }
                        total += n;
                    }
                    Ok(total)
                }
            }
        }
        let mut out = Vec::new();
        let mut counts = (0, 0);
        let n = walk(&self.root, 0, &mut None, &mut out, &mut counts)?;
        if n != self.len {
            return Err(format!("len {} but {} items", self.len, n));
        }
        if counts != (self.leaves, self.inners) {
            return Err(format!(
                "node counters {:?} but tree has {:?}",
                (self.leaves, self.inners),
                counts
            ));
        }
        for w in out.windows(2) {
            if cmp_key(w[0].0, &w[0].1, w[1].0, &w[1].1) != Ordering::Less {
                return Err("items out of order".into());
            }
        }
        Ok(())
    }
}

fn insert_rec(
    node: &mut Node,
    item: Item,
    leaves: &mut usize,
    inners: &mut usize,
) -> Option<Split> {
    match node {
        Node::Leaf(v) => {
            let pos =
                v.partition_point(|x| cmp_item(x, item.score, &item.member) == Ordering::Less);
            if v.len() < LEAF_CAP {
                v.insert(pos, item);
                return None;
            }
            *leaves += 1;
            if pos == v.len() {
                // Appending past a full leaf: start a new one, keep this one full.
                let mut right = Vec::with_capacity(LEAF_CAP);
                let sep = item.clone();
                right.push(item);
                return Some((sep, Node::Leaf(right), 1));
            }
            if pos == 0 {
                // Prepending: the new item gets a leaf of its own on the left.
                let mut left = Vec::with_capacity(LEAF_CAP);
                left.push(item);
                let right = std::mem::replace(v, left);
                let sep = right[0].clone();
                let n = right.len();
                return Some((sep, Node::Leaf(right), n));
            }
            let mut right = v.split_off(LEAF_CAP / 2);
            if pos <= v.len() {
                v.insert(pos, item);
            } else {
                right.insert(pos - v.len(), item);
            }
            let sep = right[0].clone();
            let n = right.len();
            Some((sep, Node::Leaf(right), n))
        }
        Node::Inner(inner) => {
            let j = inner.child_for(item.score, &item.member);
            let item = match shift_into_sibling(inner, j, item) {
                Ok(()) => return None,
                Err(item) => item,
            };
            inner.counts[j] += 1;
            let (sep, right, right_count) =
                insert_rec(&mut inner.children[j], item, leaves, inners)?;
            inner.counts[j] -= right_count;
            inner.seps.insert(j, sep);
            inner.children.insert(j + 1, right);
            inner.counts.insert(j + 1, right_count);
            if inner.children.len() <= INNER_CAP {
                return None;
            }
            *inners += 1;
            let mid = inner.children.len() / 2;
            let children = inner.children.split_off(mid);
            let counts = inner.counts.split_off(mid);
            let seps = inner.seps.split_off(mid);
            // The separator between the halves moves up.
            let up = inner.seps.pop()?;
            let n = counts.iter().sum();
            Some((
                up,
                Node::Inner(Box::new(Inner {
                    seps,
                    children,
                    counts,
                })),
                n,
            ))
        }
    }
}

/// Inserting `item` into the full leaf `children[j]`: when a neighbouring leaf has room, one
/// item moves over to it instead of the leaf splitting (as a B*-tree does), which keeps leaves
/// fuller under random inserts. Gives the item back when no neighbour has room.
fn shift_into_sibling(inner: &mut Inner, j: usize, item: Item) -> Result<(), Item> {
    let full = matches!(&inner.children[j], Node::Leaf(v) if v.len() >= LEAF_CAP);
    if !full {
        return Err(item);
    }
    let has_room = |n: &Node| matches!(n, Node::Leaf(v) if v.len() < LEAF_CAP);
    if j > 0 && has_room(&inner.children[j - 1]) {
        let (l, r) = inner.children.split_at_mut(j);
        if let (Node::Leaf(left), Node::Leaf(v)) = (&mut l[j - 1], &mut r[0]) {
            let pos =
                v.partition_point(|x| cmp_item(x, item.score, &item.member) == Ordering::Less);
            if pos == 0 {
                // The new item is the smallest: it goes to the end of the left leaf.
                left.push(item);
            } else {
                left.push(v.remove(0));
                v.insert(pos - 1, item);
            }
            inner.seps[j - 1] = v[0].clone();
            inner.counts[j - 1] += 1;
            return Ok(());
        }
    }
    if j + 1 < inner.children.len() && has_room(&inner.children[j + 1]) {
        let (l, r) = inner.children.split_at_mut(j + 1);
        if let (Node::Leaf(v), Node::Leaf(right)) = (&mut l[j], &mut r[0]) {
            let pos =
                v.partition_point(|x| cmp_item(x, item.score, &item.member) == Ordering::Less);
            let moved = if pos == v.len() {
                // The new item is the largest: it starts the right leaf.
                item
            } else {
                let Some(last) = v.pop() else {
                    return Err(item);
                };
                v.insert(pos, item);
                last
            };
            inner.seps[j] = moved.clone();
            right.insert(0, moved);
            inner.counts[j + 1] += 1;
            return Ok(());
        }
    }
    Err(item)
}

fn remove_rec(node: &mut Node, score: f64, member: &[u8], freed: &mut (usize, usize)) -> bool {
    match node {
        Node::Leaf(v) => match v.binary_search_by(|x| cmp_item(x, score, member)) {
            Ok(i) => {
                v.remove(i);
                true
            }
            Err(_) => false,
        },
        Node::Inner(inner) => {
            let j = inner.child_for(score, member);
            if !remove_rec(&mut inner.children[j], score, member, freed) {
                return false;
            }
            inner.counts[j] -= 1;
            fix_underflow(inner, j, freed);
            true
        }
    }
}

fn remove_at_rec(node: &mut Node, rank: usize, freed: &mut (usize, usize)) -> Item {
    match node {
        Node::Leaf(v) => v.remove(rank),
        Node::Inner(inner) => {
            let (j, r) = inner.child_at_rank(rank);
            let item = remove_at_rec(&mut inner.children[j], r, freed);
            inner.counts[j] -= 1;
            fix_underflow(inner, j, freed);
            item
        }
    }
}

/// After a removal under `children[j]`: if that child is under-filled, merge it with a
/// neighbour or move entries over from one.
fn fix_underflow(inner: &mut Inner, j: usize, freed: &mut (usize, usize)) {
    if inner.children[j].width() >= MIN_FILL || inner.children.len() < 2 {
        return;
    }
    let left = if j + 1 < inner.children.len() {
        j
    } else {
        j - 1
    };
    let (a, b) = inner.children.split_at_mut(left + 1);
    let (a, b) = (&mut a[left], &mut b[0]);
    let merged = match (a, b) {
        (Node::Leaf(a), Node::Leaf(b)) => {
            if a.len() + b.len() <= LEAF_CAP {
                a.append(b);
                freed.0 += 1;
                true
            } else {
                let total = a.len() + b.len();
                let want_left = total / 2;
                if a.len() < want_left {
                    let k = want_left - a.len();
                    a.extend(b.drain(..k));
                } else {
                    let k = a.len() - want_left;
                    let moved: Vec<Item> = a.drain(a.len() - k..).collect();
                    b.splice(0..0, moved);
                }
                inner.seps[left] = b[0].clone();
                inner.counts[left] = a.len();
                inner.counts[left + 1] = b.len();
                false
            }
        }
        (Node::Inner(a), Node::Inner(b)) => {
            if a.children.len() + b.children.len() <= INNER_CAP {
                let sep = inner.seps[left].clone();
                a.seps.push(sep);
                a.seps.append(&mut b.seps);
                a.children.append(&mut b.children);
                a.counts.append(&mut b.counts);
                freed.1 += 1;
                true
            } else {
                let total = a.children.len() + b.children.len();
                let want_left = total / 2;
                while a.children.len() < want_left {
                    // Rotate one child from b to a through the parent separator.
                    let down = std::mem::replace(&mut inner.seps[left], b.seps.remove(0));
                    a.seps.push(down);
                    a.children.push(b.children.remove(0));
                    a.counts.push(b.counts.remove(0));
                }
                while a.children.len() > want_left {
                    let (Some(up), Some(child), Some(count)) =
                        (a.seps.pop(), a.children.pop(), a.counts.pop())
                    else {
                        break;
                    };
                    let down = std::mem::replace(&mut inner.seps[left], up);
                    b.seps.insert(0, down);
                    b.children.insert(0, child);
                    b.counts.insert(0, count);
                }
                inner.counts[left] = a.counts.iter().sum();
                inner.counts[left + 1] = b.counts.iter().sum();
                false
            }
        }
        // Siblings are always at the same depth.
        _ => false,
    };
    if merged {
        drop_right(inner, left);
    }
}

/// Removes `children[left + 1]` (already emptied into `children[left]`) and its separator,
/// folding its count into the left child.
fn drop_right(inner: &mut Inner, left: usize) {
    inner.seps.remove(left);
    inner.children.remove(left + 1);
    let c = inner.counts.remove(left + 1);
    inner.counts[left] += c;
}

/// A walk over a run of consecutive ranks, in either direction.
pub struct Iter<'a> {
    /// Inner nodes from the root down to the current leaf, with the child index taken.
    stack: Vec<(&'a Inner, usize)>,
    leaf: &'a [Item],
    /// Forward: index of the next item; backward: one past the next item.
    pos: usize,
    remaining: usize,
    rev: bool,
}

impl<'a> Iter<'a> {
    /// Moves to the next (or previous) leaf.
    fn step_leaf(&mut self) -> bool {
        // Climb until a node has a sibling child in the walking direction.
        loop {
            let Some((inner, j)) = self.stack.pop() else {
                return false;
            };
            let next = if self.rev {
                j.checked_sub(1)
            } else if j + 1 < inner.children.len() {
                Some(j + 1)
            } else {
                None
            };
            if let Some(k) = next {
                self.stack.push((inner, k));
                let mut node = &inner.children[k];
                loop {
                    match node {
                        Node::Inner(i) => {
                            let c = if self.rev { i.children.len() - 1 } else { 0 };
                            self.stack.push((&**i, c));
                            node = &i.children[c];
                        }
                        Node::Leaf(v) => {
                            self.leaf = v;
                            self.pos = if self.rev { v.len() } else { 0 };
                            return true;
                        }
                    }
                }
            }
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Item;

    fn next(&mut self) -> Option<&'a Item> {
        if self.remaining == 0 {
            return None;
        }
        if self.rev {
            while self.pos == 0 {
                if !self.step_leaf() {
                    self.remaining = 0;
                    return None;
                }
            }
            self.pos -= 1;
        } else {
            while self.pos >= self.leaf.len() {
                if !self.step_leaf() {
                    self.remaining = 0;
                    return None;
                }
            }
            self.pos += 1;
        }
        self.remaining -= 1;
        let i = if self.rev { self.pos } else { self.pos - 1 };
        self.leaf.get(i)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// A score with a total order for the model (NaN never occurs; -0 and 0 are equal as in
    /// Redis, which `cmp_key` also does).
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct OrderedScore(f64);
    impl Eq for OrderedScore {}
    impl PartialOrd for OrderedScore {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for OrderedScore {
        fn cmp(&self, o: &Self) -> Ordering {
            self.0.partial_cmp(&o.0).unwrap_or(Ordering::Equal)
        }
    }

    type Model = BTreeSet<(OrderedScore, Vec<u8>)>;

    fn items(t: &ScoreTree) -> Vec<(f64, Vec<u8>)> {
        t.iter().map(|i| (i.score, i.member.to_vec())).collect()
    }

    fn model_items(m: &Model) -> Vec<(f64, Vec<u8>)> {
        m.iter().map(|(s, v)| (s.0, v.clone())).collect()
    }

    #[test]
    fn ascending_and_descending_inserts_fill_leaves() {
        let mut t = ScoreTree::new();
        for i in 0..10_000 {
            t.insert(i as f64, CompactBytes::new(format!("m{i}").as_bytes()));
        }
        t.check().unwrap();
        assert!(t.leaves <= 10_000 / LEAF_CAP + 2, "leaves {}", t.leaves);
        let mut t = ScoreTree::new();
        for i in (0..10_000).rev() {
            t.insert(i as f64, CompactBytes::new(format!("m{i}").as_bytes()));
        }
        t.check().unwrap();
        assert!(t.leaves <= 10_000 / LEAF_CAP + 2, "leaves {}", t.leaves);
        assert_eq!(t.get(0).map(|i| i.score), Some(0.0));
        assert_eq!(t.rank(9999.0, b"m9999"), Some(9999));
        let back: Vec<f64> = t.iter_from(9999, 3, true).map(|i| i.score).collect();
        assert_eq!(back, vec![9999.0, 9998.0, 9997.0]);
        // Delete most of it and check rebalancing keeps the invariants.
        for i in 0..9_990 {
            assert!(t.remove(i as f64, format!("m{i}").as_bytes()));
            if i % 997 == 0 {
                t.check().unwrap();
            }
        }
        t.check().unwrap();
        assert_eq!(t.len(), 10);
        assert_eq!(t.first().map(|i| i.score), Some(9990.0));
    }

    #[test]
    fn random_inserts_keep_leaves_mostly_full() {
        let mut t = ScoreTree::new();
        let mut seed = 7u64;
        for i in 0..50_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            t.insert(
                (seed % 1_000_000) as f64,
                CompactBytes::new(format!("m{i}").as_bytes()),
            );
        }
        t.check().unwrap();
        let fill = 50_000.0 / (t.leaves * LEAF_CAP) as f64;
        assert!(fill > 0.78, "leaves only {:.0}% full", fill * 100.0);
    }

    #[test]
    fn equal_scores_order_by_member() {
        let mut t = ScoreTree::new();
        for m in ["b", "a", "c", "ab", ""] {
            t.insert(1.0, CompactBytes::new(m.as_bytes()));
        }
        t.insert(-0.0, CompactBytes::new(b"z"));
        t.insert(0.0, CompactBytes::new(b"y"));
        let got: Vec<Vec<u8>> = t.iter().map(|i| i.member.to_vec()).collect();
        let want: Vec<Vec<u8>> = ["y", "z", "", "a", "ab", "b", "c"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        assert_eq!(got, want);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(i16, Vec<u8>),
        Remove(usize),
        RemoveAt(usize),
        Rank(usize),
        Get(usize),
        Range(usize, usize, bool),
        ScoreBound(i16),
        LexBound(Vec<u8>),
    }

    fn op() -> impl Strategy<Value = Op> {
        let member = proptest::collection::vec(b'a'..b'e', 0..4);
        prop_oneof![
            6 => (-50i16..50, member.clone()).prop_map(|(s, m)| Op::Insert(s, m)),
            3 => any::<usize>().prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::RemoveAt),
            1 => any::<usize>().prop_map(Op::Rank),
            1 => any::<usize>().prop_map(Op::Get),
            1 => (any::<usize>(), 0usize..200, any::<bool>()).prop_map(|(a, b, c)| Op::Range(a, b, c)),
            1 => (-60i16..60).prop_map(Op::ScoreBound),
            1 => member.prop_map(Op::LexBound),
        ]
    }

    fn run(ops: Vec<Op>, fill: usize) -> Result<(), TestCaseError> {
        let mut t = ScoreTree::new();
        let mut m = Model::new();
        // A pre-filled base so the tree has several levels.
        for i in 0..fill {
            let s = (i % 97) as f64 / 2.0 - 20.0;
            let name = format!("base{i}").into_bytes();
            if m.insert((OrderedScore(s), name.clone())) {
                t.insert(s, CompactBytes::new(&name));
            }
        }
        for op in ops {
            match op {
                Op::Insert(s, member) => {
                    let s = f64::from(s) / 4.0;
                    // Members are unique in a sorted set: drop any old entry of this member.
                    let old = m.iter().find(|(_, v)| *v == member).cloned();
                    if let Some((os, _)) = &old {
                        prop_assert!(t.remove(os.0, &member));
                        m.remove(&(*os, member.clone()));
                    }
                    t.insert(s, CompactBytes::new(&member));
                    m.insert((OrderedScore(s), member));
                }
                Op::Remove(i) => {
                    if !m.is_empty() {
                        let k = m.iter().nth(i % m.len()).cloned().unwrap();
                        prop_assert!(t.remove(k.0 .0, &k.1));
                        m.remove(&k);
                    }
                    prop_assert!(!t.remove(1e9, b"absent"));
                }
                Op::RemoveAt(i) => {
                    if !m.is_empty() {
                        let r = i % m.len();
                        let k = m.iter().nth(r).cloned().unwrap();
                        let got = t.remove_at(r).unwrap();
                        prop_assert_eq!((got.score, got.member.to_vec()), (k.0 .0, k.1.clone()));
                        m.remove(&k);
                    }
                    prop_assert!(t.remove_at(m.len()).is_none());
                }
                Op::Rank(i) => {
                    if !m.is_empty() {
                        let r = i % m.len();
                        let k = m.iter().nth(r).unwrap();
                        prop_assert_eq!(t.rank(k.0 .0, &k.1), Some(r));
                        prop_assert_eq!(t.get(r).map(|x| x.member.to_vec()), Some(k.1.clone()));
                    }
                    prop_assert_eq!(t.rank(0.125, b"zzzz"), None);
                }
                Op::Get(i) => {
                    prop_assert_eq!(t.get(m.len() + i % 3), None);
                }
                Op::Range(start, count, rev) => {
                    let all = model_items(&m);
                    let start = if all.is_empty() {
                        0
                    } else {
                        start % (all.len() + 2)
                    };
                    let got: Vec<(f64, Vec<u8>)> = t
                        .iter_from(start, count, rev)
                        .map(|i| (i.score, i.member.to_vec()))
                        .collect();
                    let want: Vec<(f64, Vec<u8>)> = if start >= all.len() {
                        Vec::new()
                    } else if rev {
                        all[..=start].iter().rev().take(count).cloned().collect()
                    } else {
                        all[start..].iter().take(count).cloned().collect()
                    };
                    prop_assert_eq!(got, want);
                }
                Op::ScoreBound(b) => {
                    let b = f64::from(b) / 4.0;
                    let below = m.iter().filter(|(s, _)| s.0 < b).count();
                    let at_or_below = m.iter().filter(|(s, _)| s.0 <= b).count();
                    prop_assert_eq!(t.partition_point(|s, _| s < b), below);
                    prop_assert_eq!(t.partition_point(|s, _| s <= b), at_or_below);
                }
                Op::LexBound(bound) => {
                    // Lex bounds are monotone on the key order only among equal scores: check
                    // with a predicate that is monotone on the whole order.
                    let pred = |s: f64, mem: &[u8]| s < 0.0 || (s == 0.0 && mem < &bound[..]);
                    let want = m.iter().filter(|(s, v)| pred(s.0, v)).count();
                    prop_assert_eq!(t.partition_point(pred), want);
                }
            }
            prop_assert_eq!(t.len(), m.len());
        }
        t.check().map_err(TestCaseError::fail)?;
        prop_assert_eq!(items(&t), model_items(&m));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn small_tree_behaves_like_a_btreeset(ops in proptest::collection::vec(op(), 0..300)) {
            run(ops, 0)?;
        }

        #[test]
        fn deep_tree_drains_like_a_btreeset(
            ops in proptest::collection::vec(prop_oneof![
                4 => any::<usize>().prop_map(Op::RemoveAt),
                2 => any::<usize>().prop_map(Op::Remove),
                1 => any::<usize>().prop_map(Op::Rank),
                1 => (any::<usize>(), 0usize..300, any::<bool>()).prop_map(|(a, b, c)| Op::Range(a, b, c)),
            ], 0..1500),
            fill in 1000usize..5000,
        ) {
            run(ops, fill)?;
        }

        #[test]
        fn deep_tree_behaves_like_a_btreeset(ops in proptest::collection::vec(op(), 0..200), fill in 0usize..6000) {
            run(ops, fill)?;
        }
    }
}
