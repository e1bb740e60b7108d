//! `List`: the list type, as Redis 7.2 stores it — one packed node while small (OBJECT ENCODING
//! `listpack`), a deque of packed nodes once it grows (`quicklist`).
//!
//! A node is one allocation holding its entries back to back; each entry is a LEB128 length,
//! the bytes, and the length of those two again written backwards, so a node can be walked
//! from either end and its last entry is reached in O(1). Push and pop at both ends touch one
//! node (at most one node's worth of bytes is moved), an index is found by skipping whole
//! nodes by their counts, from the nearer end, as Redis's quicklist does.
//!
//! Encoding decisions follow Redis 7.2 exactly, so OBJECT ENCODING agrees: every node tracks
//! the byte size Redis's listpack would have for the same entries ([`lp_entry_size`]; integers
//! count in their compact integer encoding), and the callers apply Redis's rules through
//! [`List::grow_check`] (listpack → quicklist before adding, against `list-max-listpack-size`)
//! and [`List::shrink_check`] (quicklist → listpack after removing, once a single node is
//! below half the limit). In quicklist mode pushes, LINSERT (with node splits and merges) and
//! deletions shape nodes as `quicklist.c` does, since whether a list is down to one node
//! decides when it converts back.
//!
//! COMPAT: `list-compress-depth` is accepted but nodes are never LZF-compressed.

use std::collections::VecDeque;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// Redis's listpack header (6 bytes) plus end marker (1 byte).
const LP_OVERHEAD: usize = 7;
/// Redis's `SIZE_ESTIMATE_OVERHEAD`: what `_quicklistNodeAllowInsert` adds per new entry.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Redis's `SIZE_SAFETY_LIMIT`: largest node when the fill is a count.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Node byte limits of fill -1 … -5 (`optimization_level`).
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// `quicklistNodeLimit`: (byte limit, count limit) of a node for `fill`
/// (`list-max-listpack-size`): negative = bytes (-1 4 KB … -5 64 KB), positive = entries.
fn node_limit(fill: i32) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, if fill == 0 { 1 } else { fill as usize })
    } else {
        let level = (fill.unsigned_abs() as usize - 1).min(OPTIMIZATION_LEVEL.len() - 1);
        (OPTIMIZATION_LEVEL[level], u32::MAX as usize)
    }
}

/// `quicklistNodeExceedsLimit`.
fn exceeds_limit(fill: i32, new_sz: usize, new_count: usize) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != usize::MAX {
        new_sz > sz_limit
    } else {
        new_sz > SIZE_SAFETY_LIMIT || new_count > count_limit
    }
}

/// The value of `v` if Redis's listpack stores it as an integer (`lpStringToInt64`: the
/// canonical decimal form of an i64, at most 20 bytes).
fn lp_int(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 20 {
        return None;
    }
    if v == b"0" {
        return Some(0);
    }
    let (neg, digits) = match v[0] {
        b'-' => (true, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut acc: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if acc > i64::MAX as u64 + 1 {
            return None;
        }
        Some((acc as i64).wrapping_neg())
    } else {
        i64::try_from(acc).ok()
    }
}

/// Bytes Redis's listpack uses for an entry holding `v` (encoding, data and back-length).
pub fn lp_entry_size(v: &[u8]) -> usize {
    let encoded = match lp_int(v) {
        Some(n) if (0..=127).contains(&n) => 1,
        Some(n) if (-4096..=4095).contains(&n) => 2,
        Some(n) if (-32768..=32767).contains(&n) => 3,
        Some(n) if (-8_388_608..=8_388_607).contains(&n) => 4,
        Some(n) if i32::try_from(n).is_ok() => 5,
        Some(_) => 9,
        None if v.len() < 64 => 1 + v.len(),
        None if v.len() < 4096 => 2 + v.len(),
        None => 5 + v.len(),
    };
    let backlen = match encoded {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    encoded + backlen
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 value at `pos`: (value, bytes used).
fn get_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let (mut v, mut shift, mut i) = (0usize, 0, pos);
    while let Some(&b) = buf.get(i) {
        v |= usize::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (v, i - pos)
}

/// Writes `v` so that it reads back from its end: 7-bit digits, most significant first, each
/// but the most significant flagged.
fn put_backlen(out: &mut Vec<u8>, v: usize) {
    let n = varint_len(v);
    for i in (0..n).rev() {
        let digit = (v >> (7 * i)) as u8 & 0x7f;
        out.push(if i + 1 < n { digit | 0x80 } else { digit });
    }
}

/// Reads a back-length ending at `end` (exclusive): (value, bytes used).
fn get_backlen(buf: &[u8], end: usize) -> (usize, usize) {
    let (mut v, mut shift, mut p) = (0usize, 0, end);
    while p > 0 {
        p -= 1;
        let b = buf[p];
        v |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    (v, end - p)
}

/// Bytes one entry of `len` data bytes takes in a node.
fn encoded_len(len: usize) -> usize {
    let head = varint_len(len) + len;
    head + varint_len(head)
}

/// One packed node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    buf: Vec<u8>,
    count: usize,
    /// Redis's `lpBytes` for the same entries.
    sz: usize,
}

impl Node {
    fn new() -> Node {
        Node {
            buf: Vec::new(),
            count: 0,
            sz: LP_OVERHEAD,
        }
    }

    /// The data range of the entry starting at byte `pos`, and the start of the next entry.
    fn entry_at(&self, pos: usize) -> (std::ops::Range<usize>, usize) {
        let (len, used) = get_varint(&self.buf, pos);
        let start = pos + used;
        let head = used + len;
        (start..start + len, pos + head + varint_len(head))
    }

    /// The data range of the entry ending at byte `end`, and that entry's start.
    fn entry_before(&self, end: usize) -> (std::ops::Range<usize>, usize) {
        let (head, used) = get_backlen(&self.buf, end);
        let pos = end - used - head;
        let (len, lused) = get_varint(&self.buf, pos);
        (pos + lused..pos + lused + len, pos)
    }

    /// Byte offset of entry `index` (`index == count` gives the end), from the nearer end.
    fn offset_of(&self, index: usize) -> usize {
        if index <= self.count / 2 {
            let mut pos = 0;
            for _ in 0..index {
                pos = self.entry_at(pos).1;
            }
            pos
        } else {
            let mut pos = self.buf.len();
            for _ in index..self.count {
                pos = self.entry_before(pos).1;
            }
            pos
        }
    }

    fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.count {
            return None;
        }
        let (range, _) = self.entry_at(self.offset_of(index));
        Some(&self.buf[range])
    }

    fn encode(v: &[u8]) -> Vec<u8> {
        let mut e = Vec::with_capacity(encoded_len(v.len()));
        put_varint(&mut e, v.len());
        e.extend_from_slice(v);
        put_backlen(&mut e, varint_len(v.len()) + v.len());
        e
    }

    /// Grows the buffer by `extra` bytes with bounded slack (a quarter), like Redis's exact
    /// reallocations but amortised.
    fn reserve(&mut self, extra: usize) {
        let free = self.buf.capacity() - self.buf.len();
        if free < extra {
            self.buf.reserve_exact(extra.max(self.buf.len() / 4));
        }
    }

    fn insert(&mut self, index: usize, v: &[u8]) {
        let pos = self.offset_of(index.min(self.count));
        let n = encoded_len(v.len());
        self.reserve(n);
        if pos == self.buf.len() {
            put_varint(&mut self.buf, v.len());
            self.buf.extend_from_slice(v);
            put_backlen(&mut self.buf, varint_len(v.len()) + v.len());
        } else {
            // Open a gap and write the entry into it (no temporary buffer: LPUSH's path).
            let old = self.buf.len();
            self.buf.resize(old + n, 0);
            self.buf.copy_within(pos..old, pos + n);
            let head = varint_len(v.len());
            let slot = &mut self.buf[pos..pos + n];
            let mut len = v.len();
            for b in slot.iter_mut().take(head) {
                *b = (len as u8 & 0x7f) | if len >= 0x80 { 0x80 } else { 0 };
                len >>= 7;
            }
            slot[head..head + v.len()].copy_from_slice(v);
            let back = head + v.len();
            let digits = varint_len(back);
            for (i, b) in slot[back..].iter_mut().enumerate() {
                let d = digits - 1 - i;
                let digit = (back >> (7 * d)) as u8 & 0x7f;
                *b = if d + 1 < digits { digit | 0x80 } else { digit };
            }
        }
        self.count += 1;
        self.sz += lp_entry_size(v);
    }

    fn push(&mut self, end: End, v: &[u8]) {
        match end {
            End::Head => self.insert(0, v),
            End::Tail => self.insert(self.count, v),
        }
    }

    fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        if index >= self.count {
            return None;
        }
        let pos = self.offset_of(index);
        let (range, next) = self.entry_at(pos);
        let value = self.buf[range].to_vec();
        self.buf.drain(pos..next);
        self.count -= 1;
        self.sz -= lp_entry_size(&value);
        self.shrink();
        Some(value)
    }

    /// Removes `n` entries from `index` on (clamped).
    fn remove_range(&mut self, index: usize, n: usize) {
        if index >= self.count || n == 0 {
            return;
        }
        let n = n.min(self.count - index);
        let start = self.offset_of(index);
        let mut end = start;
        for _ in 0..n {
            let (range, next) = self.entry_at(end);
            self.sz -= lp_entry_size(&self.buf[range]);
            end = next;
        }
        self.buf.drain(start..end);
        self.count -= n;
        self.shrink();
    }

    fn replace(&mut self, index: usize, v: &[u8]) -> bool {
        if index >= self.count {
            return false;
        }
        let pos = self.offset_of(index);
        let (range, next) = self.entry_at(pos);
        self.sz = self.sz - lp_entry_size(&self.buf[range]) + lp_entry_size(v);
        self.buf.splice(pos..next, Node::encode(v));
        true
    }

    /// Splits off entries `[at, count)` into a new node.
    fn split_off(&mut self, at: usize) -> Node {
        let pos = self.offset_of(at);
        let tail = Node::from_bytes(self.buf[pos..].to_vec(), self.count - at);
        self.buf.truncate(pos);
        self.count = at;
        self.sz = self.sz - tail.sz + LP_OVERHEAD;
        self.shrink();
        tail
    }

    /// A node over already-encoded entries.
    fn from_bytes(buf: Vec<u8>, count: usize) -> Node {
        let mut node = Node {
            buf,
            count,
            sz: LP_OVERHEAD,
        };
        node.sz += node.iter().map(lp_entry_size).sum::<usize>();
        node
    }

    /// Appends every entry of `other`.
    fn append(&mut self, other: Node) {
        self.reserve(other.buf.len());
        self.buf.extend_from_slice(&other.buf);
        self.count += other.count;
        self.sz += other.sz - LP_OVERHEAD;
    }

    /// Releases capacity after removals once it is mostly unused.
    fn shrink(&mut self) {
        if self.buf.capacity() > 64 && self.buf.capacity() / 2 > self.buf.len() {
            self.buf.shrink_to(self.buf.len() + self.buf.len() / 4);
        }
    }

    fn iter(&self) -> NodeIter<'_> {
        NodeIter {
            node: self,
            front: 0,
            back: self.buf.len(),
            remaining: self.count,
        }
    }

    /// Entries from `index` on.
    fn iter_from(&self, index: usize) -> NodeIter<'_> {
        NodeIter {
            node: self,
            front: self.offset_of(index.min(self.count)),
            back: self.buf.len(),
            remaining: self.count.saturating_sub(index),
        }
    }

    /// Entries `[0, end)`, to be walked backwards.
    fn iter_until(&self, end: usize) -> NodeIter<'_> {
        let end = end.min(self.count);
        NodeIter {
            node: self,
            front: 0,
            back: self.offset_of(end),
            remaining: end,
        }
    }
}

/// The entries of one node, from either end.
#[derive(Clone)]
struct NodeIter<'a> {
    node: &'a Node,
    front: usize,
    back: usize,
    remaining: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let (range, next) = self.node.entry_at(self.front);
        self.front = next;
        self.remaining -= 1;
        Some(&self.node.buf[range])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for NodeIter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let (range, start) = self.node.entry_before(self.back);
        self.back = start;
        self.remaining -= 1;
        Some(&self.node.buf[range])
    }
}

/// A list value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
    /// Quicklist encoding; otherwise listpack (at most one node).
    quick: bool,
}

impl List {
    /// An empty list in the listpack encoding.
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// OBJECT ENCODING (Redis 7.2 names).
    pub fn encoding_name(&self) -> &'static str {
        if self.quick {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Number of nodes (1 or 0 in the listpack encoding).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Heap bytes owned by the list.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    /// Redis's `lpBytes` of the whole list in the listpack encoding.
    fn lp_bytes(&self) -> usize {
        self.nodes.front().map_or(LP_OVERHEAD, |n| n.sz)
    }

    /// `listTypeTryConvertListpack`: before adding `add_count` values of `add_bytes` total
    /// bytes, a listpack that would pass the `fill` limit becomes a quicklist (its one node
    /// kept whole).
    pub fn grow_check(&mut self, fill: i32, add_bytes: usize, add_count: usize) {
        if self.quick {
            return;
        }
        let new_sz = self.lp_bytes().saturating_add(add_bytes);
        if exceeds_limit(fill, new_sz, self.len.saturating_add(add_count)) {
            self.quick = true;
            self.nodes.retain(|n| n.count > 0);
        }
    }

    /// `listTypeTryConvertQuicklist(shrinking)`: after removals, a quicklist down to one node
    /// within half the `fill` limit becomes a listpack again.
    pub fn shrink_check(&mut self, fill: i32) {
        if !self.quick || self.nodes.len() != 1 {
            return;
        }
        let (sz_limit, count_limit) = node_limit(fill);
        if self.nodes[0].sz <= sz_limit / 2 && self.len <= count_limit / 2 {
            self.quick = false;
        }
    }

    /// `listTypeTryConversion(LIST_CONV_AUTO)`: after building a list in one go (SORT …
    /// STORE, a restored value), picks the encoding Redis would: a listpack past the limit
    /// becomes a quicklist; a quicklist of one node within the (full) limit a listpack.
    pub fn convert_auto(&mut self, fill: i32) {
        if self.quick {
            if self.nodes.len() == 1 {
                let (sz_limit, count_limit) = node_limit(fill);
                if self.nodes[0].sz <= sz_limit && self.len <= count_limit {
                    self.quick = false;
                }
            }
        } else {
            self.grow_check(fill, 0, 0);
        }
    }

    /// A list of `values`, built as RPUSH would build it one value at a time.
    pub fn from_values<'v>(values: impl IntoIterator<Item = &'v [u8]>, fill: i32) -> List {
        let mut list = List::new();
        for v in values {
            list.grow_check(fill, v.len(), 1);
            list.push(End::Tail, v, fill);
        }
        list
    }

    /// `_quicklistNodeAllowInsert`: whether a value of `len` bytes may join `node`.
    fn allow_insert(node: Option<&Node>, fill: i32, len: usize) -> bool {
        node.is_some_and(|n| {
            !exceeds_limit(
                fill,
                n.sz.saturating_add(len)
                    .saturating_add(SIZE_ESTIMATE_OVERHEAD),
                n.count + 1,
            )
        })
    }

    /// `_quicklistNodeAllowMerge`.
    fn allow_merge(&self, a: usize, b: usize, fill: i32) -> bool {
        match (self.nodes.get(a), self.nodes.get(b)) {
            (Some(x), Some(y)) => {
                !exceeds_limit(fill, x.sz + y.sz - LP_OVERHEAD, x.count + y.count)
            }
            _ => false,
        }
    }

    /// Pushes `v` at one end (LPUSH, RPUSH). Call [`grow_check`](Self::grow_check) first.
    pub fn push(&mut self, end: End, v: &[u8], fill: i32) {
        self.len += 1;
        if !self.quick {
            if self.nodes.is_empty() {
                self.nodes.push_back(Node::new());
            }
            self.nodes[0].push(end, v);
            return;
        }
        let edge = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        if Self::allow_insert(edge.as_deref(), fill, v.len()) {
            if let Some(node) = edge {
                node.push(end, v);
                return;
            }
        }
        // The edge node is full: give back its growth slack before opening a new one.
        if let Some(full) = edge {
            full.buf.shrink_to_fit();
        }
        let mut node = Node::new();
        node.push(end, v);
        match end {
            End::Head => self.nodes.push_front(node),
            End::Tail => self.nodes.push_back(node),
        }
    }

    /// Pops the value at one end.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let (node_index, value) = match end {
            End::Head => (0, self.nodes.front_mut()?.remove(0)?),
            End::Tail => {
                let last = self.nodes.len().checked_sub(1)?;
                let node = &mut self.nodes[last];
                let index = node.count.checked_sub(1)?;
                (last, node.remove(index)?)
            }
        };
        self.len -= 1;
        if self.nodes[node_index].count == 0 {
            self.nodes.remove(node_index);
        }
        Some(value)
    }

    /// Resolves a Redis index (negative counts from the tail) to a position.
    pub fn resolve_index(&self, index: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// (node, offset in node) of position `index` < len, seeking from the nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        if index <= self.len / 2 {
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                if acc + n.count > index {
                    return (i, index - acc);
                }
                acc += n.count;
            }
        } else {
            let mut acc = self.len;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                acc -= n.count;
                if acc <= index {
                    return (i, index - acc);
                }
            }
        }
        (self.nodes.len().saturating_sub(1), 0)
    }

    /// The value at `index` (negative counts from the tail; LINDEX).
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        let i = self.resolve_index(index)?;
        let (n, off) = self.locate(i);
        self.nodes[n].get(off)
    }

    /// Replaces the value at `index` (LSET); false when out of range. Call
    /// [`grow_check`](Self::grow_check) before and [`shrink_check`](Self::shrink_check) after.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some(i) = self.resolve_index(index) else {
            return false;
        };
        let (n, off) = self.locate(i);
        self.nodes[n].replace(off, v)
    }

    /// LINSERT: inserts `v` before or after the first value equal to `pivot`. Returns false when
    /// there is no such value. Call [`grow_check`](Self::grow_check) first.
    pub fn insert(&mut self, pivot: &[u8], v: &[u8], after: bool, fill: i32) -> bool {
        let mut found = None;
        'scan: for (ni, node) in self.nodes.iter().enumerate() {
            for (off, e) in node.iter().enumerate() {
                if e == pivot {
                    found = Some((ni, off));
                    break 'scan;
                }
            }
        }
        let Some((ni, off)) = found else {
            return false;
        };
        self.len += 1;
        if !self.quick {
            self.nodes[ni].insert(if after { off + 1 } else { off }, v);
        } else {
            self.quick_insert(ni, off, v, after, fill);
        }
        true
    }

    /// `_quicklistInsert`: inserts next to entry `off` of node `ni`, splitting and merging
    /// nodes as Redis does.
    fn quick_insert(&mut self, ni: usize, off: usize, v: &[u8], after: bool, fill: i32) {
        let count = self.nodes[ni].count;
        let full = !Self::allow_insert(self.nodes.get(ni), fill, v.len());
        let at_tail = after && off + 1 == count;
        let at_head = !after && off == 0;
        let avail_next = at_tail && Self::allow_insert(self.nodes.get(ni + 1), fill, v.len());
        let avail_prev =
            at_head && ni > 0 && Self::allow_insert(self.nodes.get(ni - 1), fill, v.len());
        if !full {
            self.nodes[ni].insert(if after { off + 1 } else { off }, v);
        } else if at_tail && avail_next {
            self.nodes[ni + 1].push(End::Head, v);
        } else if at_head && avail_prev {
            self.nodes[ni - 1].push(End::Tail, v);
        } else if at_tail || at_head {
            let mut node = Node::new();
            node.push(End::Head, v);
            self.nodes.insert(if after { ni + 1 } else { ni }, node);
        } else {
            // Split: with `after` the node keeps [0, off] and the new node takes the rest,
            // headed by `v`; otherwise the new node takes [0, off) followed by `v`.
            let center = if after {
                let mut rest = self.nodes[ni].split_off(off + 1);
                rest.push(End::Head, v);
                self.nodes.insert(ni + 1, rest);
                ni
            } else {
                let node = &mut self.nodes[ni];
                let rest = node.split_off(off);
                let mut head = std::mem::replace(node, rest);
                head.push(End::Tail, v);
                self.nodes.insert(ni, head);
                ni + 1
            };
            self.merge_around(center, fill);
        }
    }

    /// Merges nodes `a` and `a + 1` into `a`.
    fn merge(&mut self, a: usize) {
        if let Some(b) = self.nodes.remove(a + 1) {
            self.nodes[a].append(b);
        }
    }

    /// `_quicklistMergeNodes` around node `center`.
    fn merge_around(&mut self, mut center: usize, fill: i32) {
        if center >= 2 && self.allow_merge(center - 1, center - 2, fill) {
            self.merge(center - 2);
            center -= 1;
        }
        if self.allow_merge(center + 1, center + 2, fill) {
            self.merge(center + 1);
        }
        let target = if center >= 1 && self.allow_merge(center, center - 1, fill) {
            self.merge(center - 1);
            center - 1
        } else {
            center
        };
        if self.allow_merge(target, target + 1, fill) {
            self.merge(target);
        }
    }

    /// Removes `count` values from position `start` on (clamped): LTRIM, LPOP/RPOP with a
    /// count. Nodes emptied go away; none are merged (`quicklistDelRange`).
    pub fn remove_range(&mut self, start: usize, count: usize) {
        if start >= self.len || count == 0 {
            return;
        }
        let mut left = count.min(self.len - start);
        let (mut ni, mut off) = self.locate(start);
        self.len -= left;
        while left > 0 && ni < self.nodes.len() {
            let node = &mut self.nodes[ni];
            let del = left.min(node.count - off);
            if off == 0 && del == node.count {
                self.nodes.remove(ni);
            } else {
                node.remove_range(off, del);
                ni += 1;
            }
            left -= del;
            off = 0;
        }
    }

    /// LREM: removes up to `count` values equal to `v` (0 = all), scanning from the tail when
    /// `from_tail`. Returns how many were removed.
    pub fn remove_value(&mut self, v: &[u8], count: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let order: Vec<usize> = if from_tail {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        for ni in order {
            if count != 0 && removed == count {
                break;
            }
            let node = &mut self.nodes[ni];
            let mut hits: Vec<usize> = Vec::new();
            if from_tail {
                let n = node.count;
                for (k, e) in node.iter().rev().enumerate() {
                    if count != 0 && removed + hits.len() == count {
                        break;
                    }
                    if e == v {
                        hits.push(n - 1 - k);
                    }
                }
            } else {
                for (k, e) in node.iter().enumerate() {
                    if count != 0 && removed + hits.len() == count {
                        break;
                    }
                    if e == v {
                        hits.push(k);
                    }
                }
            }
            if hits.is_empty() {
                continue;
            }
            removed += hits.len();
            hits.sort_unstable();
            node.remove_many(&hits);
        }
        self.nodes.retain(|n| n.count > 0);
        self.len -= removed;
        removed
    }

    /// Values from position `start` on, towards the tail.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        if start >= self.len {
            return Iter::empty(self);
        }
        let (ni, off) = self.locate(start);
        Iter {
            list: self,
            node: ni,
            cur: Some(self.nodes[ni].iter_from(off)),
            remaining: self.len - start,
            rev: false,
        }
    }

    /// Values from position `start` down to the head, towards the head.
    pub fn iter_rev_from(&self, start: usize) -> Iter<'_> {
        if start >= self.len {
            return Iter::empty(self);
        }
        let (ni, off) = self.locate(start);
        Iter {
            list: self,
            node: ni,
            cur: Some(self.nodes[ni].iter_until(off + 1)),
            remaining: start + 1,
            rev: true,
        }
    }

    /// Every value, head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Every value, tail to head.
    pub fn iter_rev(&self) -> Iter<'_> {
        match self.len.checked_sub(1) {
            Some(last) => self.iter_rev_from(last),
            None => Iter::empty(self),
        }
    }

    /// Checks the internal invariants (for tests): counts, Redis sizes, no empty node, one
    /// node at most in the listpack encoding.
    pub fn check(&self) -> Result<(), String> {
        let total: usize = self.nodes.iter().map(|n| n.count).sum();
        if total != self.len {
            return Err(format!("len {} but nodes hold {total}", self.len));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.count == 0 {
                return Err(format!("node {i} is empty"));
            }
            if n.iter().count() != n.count {
                return Err(format!("node {i} count mismatch"));
            }
            let sz = LP_OVERHEAD + n.iter().map(lp_entry_size).sum::<usize>();
            if sz != n.sz {
                return Err(format!("node {i} sz {} but entries make {sz}", n.sz));
            }
        }
        if !self.quick && self.nodes.len() > 1 {
            return Err("listpack with several nodes".into());
        }
        Ok(())
    }

    /// (node count, Σ node sizes) — what Redis's DEBUG OBJECT shows as `ql_nodes` and
    /// `ql_uncompressed_size` for a quicklist.
    pub fn shape(&self) -> (usize, usize) {
        (self.nodes.len(), self.nodes.iter().map(|n| n.sz).sum())
    }
}

impl Node {
    /// Removes the entries at the given sorted positions, in one pass.
    fn remove_many(&mut self, positions: &[usize]) {
        let mut out = Vec::with_capacity(self.buf.len());
        let mut pos = 0;
        let mut next_hit = positions.iter().peekable();
        for i in 0..self.count {
            let (range, next) = self.entry_at(pos);
            if next_hit.peek() == Some(&&i) {
                next_hit.next();
                self.sz -= lp_entry_size(&self.buf[range]);
            } else {
                out.extend_from_slice(&self.buf[pos..next]);
            }
            pos = next;
        }
        self.count -= positions.len();
        self.buf = out;
        self.shrink();
    }
}

/// Iterator over a list's values in one direction.
pub struct Iter<'a> {
    list: &'a List,
    node: usize,
    cur: Option<NodeIter<'a>>,
    remaining: usize,
    rev: bool,
}

impl<'a> Iter<'a> {
    fn empty(list: &'a List) -> Iter<'a> {
        Iter {
            list,
            node: 0,
            cur: None,
            remaining: 0,
            rev: false,
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            let cur = self.cur.as_mut()?;
            let item = if self.rev {
                cur.next_back()
            } else {
                cur.next()
            };
            if let Some(v) = item {
                self.remaining -= 1;
                return Some(v);
            }
            if self.rev {
                self.node = self.node.checked_sub(1)?;
            } else {
                self.node += 1;
            }
            self.cur = Some(self.list.nodes.get(self.node)?.iter());
        }
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

    fn collect(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn entry_sizes_match_redis_listpack() {
        assert_eq!(lp_entry_size(b"0"), 2);
        assert_eq!(lp_entry_size(b"127"), 2);
        assert_eq!(lp_entry_size(b"128"), 3);
        assert_eq!(lp_entry_size(b"-4096"), 3);
        assert_eq!(lp_entry_size(b"40000"), 5);
        assert_eq!(lp_entry_size(b"9223372036854775807"), 10);
        assert_eq!(lp_entry_size(b"-9223372036854775808"), 10);
        assert_eq!(lp_entry_size(b"9223372036854775808"), 21);
        assert_eq!(lp_entry_size(b"01"), 4);
        assert_eq!(lp_entry_size(b"-0"), 4);
        assert_eq!(lp_entry_size(b""), 2);
        assert_eq!(lp_entry_size(b"hello"), 7);
        assert_eq!(lp_entry_size(&[b'a'; 63]), 65);
        assert_eq!(lp_entry_size(&[b'a'; 64]), 67);
        assert_eq!(lp_entry_size(&[b'a'; 125]), 128);
        assert_eq!(lp_entry_size(&[b'a'; 126]), 130);
        assert_eq!(lp_entry_size(&[b'a'; 5000]), 5007);
    }

    #[test]
    fn backlen_round_trip() {
        for v in [0usize, 1, 127, 128, 16383, 16384, 1 << 30] {
            let mut b = vec![9u8];
            put_backlen(&mut b, v);
            assert_eq!(get_backlen(&b, b.len()), (v, varint_len(v)));
        }
    }

    #[test]
    fn converts_like_redis() {
        // 128-byte values take 132 bytes each: the 63rd push would make 7 + 62·132 + 128 >
        // 8192 (the check adds raw lengths), so it converts; that push opens a second node.
        let v = [b'x'; 128];
        assert_eq!(lp_entry_size(&v), 132);
        let mut l = List::new();
        for _ in 0..62 {
            l.grow_check(-2, v.len(), 1);
            l.push(End::Tail, &v, -2);
        }
        assert_eq!(l.encoding_name(), "listpack");
        l.grow_check(-2, v.len(), 1);
        l.push(End::Tail, &v, -2);
        assert_eq!(l.encoding_name(), "quicklist");
        assert_eq!(l.node_count(), 2);
        // Back to one node, then below half the limit.
        l.pop(End::Tail);
        l.shrink_check(-2);
        assert_eq!(l.encoding_name(), "quicklist");
        // Half of 8 KB: 7 + 31·132 = 4099 > 4096, 30 values fit.
        while l.len() > 31 {
            l.pop(End::Head);
        }
        l.shrink_check(-2);
        assert_eq!(l.encoding_name(), "quicklist");
        l.pop(End::Head);
        l.shrink_check(-2);
        assert_eq!(l.encoding_name(), "listpack");
        l.check().unwrap();
        // Positive fill counts entries.
        let mut l = List::new();
        for i in 0..5 {
            l.grow_check(4, 1, 1);
            l.push(End::Tail, format!("{i}").as_bytes(), 4);
        }
        assert_eq!(l.encoding_name(), "quicklist");
        assert_eq!(l.node_count(), 2);
        l.check().unwrap();
    }

    #[test]
    fn built_lists_pick_their_encoding() {
        let small = List::from_values([&b"a"[..], b"b"], -2);
        assert_eq!(small.encoding_name(), "listpack");
        let big_value = vec![b'x'; 5000];
        let mut big = List::from_values([&big_value[..], &big_value[..]], -2);
        assert_eq!(big.encoding_name(), "quicklist");
        assert_eq!(big.len(), 2);
        big.pop(End::Tail);
        // 5007 + 7 bytes fit one 8 KB node: AUTO converts where shrinking (4 KB) would not.
        big.shrink_check(-2);
        assert_eq!(big.encoding_name(), "quicklist");
        big.convert_auto(-2);
        assert_eq!(big.encoding_name(), "listpack");
        big.check().unwrap();
    }

    #[test]
    fn insert_splits_and_merges() {
        let mut l = List::new();
        l.grow_check(2, 0, 100);
        for i in 0..6 {
            l.push(End::Tail, format!("{i}").as_bytes(), 2);
        }
        assert_eq!(l.shape().0, 3);
        assert!(l.insert(b"2", b"x", true, 2));
        assert!(l.insert(b"0", b"y", false, 2));
        assert!(!l.insert(b"nope", b"z", true, 2));
        assert_eq!(
            collect(&l),
            ["y", "0", "1", "2", "x", "3", "4", "5"].map(|s| s.as_bytes().to_vec())
        );
        l.check().unwrap();
    }

    #[test]
    fn reverse_iteration_from_a_position() {
        let mut l = List::new();
        l.grow_check(3, 0, 100);
        for i in 0..10 {
            l.push(End::Tail, format!("{i}").as_bytes(), 3);
        }
        let back: Vec<Vec<u8>> = l.iter_rev_from(6).map(<[u8]>::to_vec).collect();
        assert_eq!(back.len(), 7);
        assert_eq!(back[0], b"6");
        assert_eq!(back[6], b"0");
        let fwd: Vec<Vec<u8>> = l.iter_from(8).map(<[u8]>::to_vec).collect();
        assert_eq!(fwd, vec![b"8".to_vec(), b"9".to_vec()]);
        assert_eq!(l.get(-1), Some(&b"9"[..]));
        assert_eq!(l.get(-11), None);
        assert_eq!(l.get(10), None);
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            (0i64..300).prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(b'a'..b'e', 0..4),
            proptest::collection::vec(any::<u8>(), 0..300),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn behaves_like_a_deque(
            fill in prop_oneof![Just(-1i32), Just(-2), Just(1), Just(3), Just(16)],
            ops in proptest::collection::vec((0u8..9, any::<i16>(), value(), value()), 1..120),
        ) {
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for (op, n, a, b) in ops {
                let n = i64::from(n);
                match op {
                    0 | 1 => {
                        let end = if op == 0 { End::Head } else { End::Tail };
                        l.grow_check(fill, a.len(), 1);
                        l.push(end, &a, fill);
                        if op == 0 { m.push_front(a) } else { m.push_back(a) }
                    }
                    2 | 3 => {
                        let got = if op == 2 { l.pop(End::Head) } else { l.pop(End::Tail) };
                        let want = if op == 2 { m.pop_front() } else { m.pop_back() };
                        prop_assert_eq!(got, want);
                        l.shrink_check(fill);
                    }
                    4 => {
                        let pivot = if m.is_empty() { a.clone() } else { m[(n.unsigned_abs() as usize) % m.len()].clone() };
                        l.grow_check(fill, b.len(), 1);
                        let after = n % 2 == 0;
                        let done = l.insert(&pivot, &b, after, fill);
                        let pos = m.iter().position(|e| *e == pivot);
                        prop_assert_eq!(done, pos.is_some());
                        if let Some(p) = pos { m.insert(if after { p + 1 } else { p }, b); }
                    }
                    5 => {
                        l.grow_check(fill, b.len(), 1);
                        let ok = l.set(n % 12, &b);
                        let idx = if n % 12 < 0 { m.len() as i64 + n % 12 } else { n % 12 };
                        prop_assert_eq!(ok, idx >= 0 && (idx as usize) < m.len());
                        if ok { m[idx as usize] = b; }
                        l.shrink_check(fill);
                    }
                    6 => {
                        let start = (n.unsigned_abs() as usize) % (m.len() + 2);
                        let count = (b.len() % 7) + 1;
                        l.remove_range(start, count);
                        if start < m.len() {
                            let end = (start + count).min(m.len());
                            m.drain(start..end);
                        }
                        l.shrink_check(fill);
                    }
                    7 => {
                        let target = if m.is_empty() { a.clone() } else { m[(n.unsigned_abs() as usize) % m.len()].clone() };
                        let count = (n.unsigned_abs() as usize) % 3;
                        let from_tail = n < 0;
                        let removed = l.remove_value(&target, count, from_tail);
                        let mut want = 0;
                        if from_tail {
                            let mut i = m.len();
                            while i > 0 { i -= 1; if m[i] == target && (count == 0 || want < count) { m.remove(i); want += 1; } }
                        } else {
                            let mut i = 0;
                            while i < m.len() { if m[i] == target && (count == 0 || want < count) { m.remove(i); want += 1; } else { i += 1; } }
                        }
                        prop_assert_eq!(removed, want);
                        l.shrink_check(fill);
                    }
                    _ => {
                        let i = n % 15;
                        let want = if i < 0 { m.len().checked_sub(i.unsigned_abs() as usize) } else { Some(i as usize) };
                        prop_assert_eq!(l.get(i), want.and_then(|w| m.get(w)).map(|v| v.as_slice()));
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                if let Err(e) = l.check() { return Err(TestCaseError::fail(e)); }
                let fwd = collect(&l);
                prop_assert_eq!(&fwd, &m.iter().cloned().collect::<Vec<_>>());
                let mut back: Vec<Vec<u8>> = l.iter_rev().map(<[u8]>::to_vec).collect();
                back.reverse();
                prop_assert_eq!(&back, &fwd);
            }
        }
    }
}
