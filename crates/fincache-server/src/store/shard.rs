//! One shard of one database: an insertion-ordered hash map of keys plus the deadlines of the
//! keys that have a TTL.
//!
//! Invariants:
//! - a key is in `expires` iff its entry has `has_expire` set;
//! - an expired key is never returned: every lookup checks the deadline first and deletes the key
//!   (lazy expiry), counting it in `expired_keys`;
//! - the map is a `KeyMap` (a compact IndexMap) so a random key is O(1) (RANDOMKEY, eviction and expiry sampling)
//!   and SCAN can walk positions. Removal is `swap_remove`, which moves the last entry into the
//!   hole; SCAN walks positions from high to low so that move never hides an unvisited key;
//! - the active expiry cycle walks the expires table from `expire_cursor` upwards, wrapping, so
//!   every volatile key is checked once per pass (a removal swaps the last key into the current
//!   position, which is checked next).

use super::entry::{Entry, Value};
use fincache_types::CompactBytes;

pub use fincache_types::keymap::{KeyHasher, KeyMap};

#[derive(Debug, Default)]
pub struct Shard {
    map: KeyMap<Entry>,
    expires: KeyMap<u64>,
    /// Keys deleted because their TTL passed (lazily or actively), for INFO `expired_keys`.
    pub expired_keys: u64,
    /// Keys expired since the last drain, for notifications and propagation as DEL. Only
    /// filled while `record_expired` is on: nothing drains it yet, and an undrained log would
    /// grow without bound.
    expired_log: Vec<CompactBytes>,
    record_expired: bool,
    /// Next position of `expires` the active expiry cycle checks.
    expire_cursor: usize,
}

/// The maps of a shard taken out by [`Shard::take_contents`], to be dropped elsewhere
/// (FLUSHALL ASYNC frees memory off the command path).
#[derive(Debug, Default)]
pub struct DetachedContents {
    map: KeyMap<Entry>,
    expires: KeyMap<u64>,
}

impl DetachedContents {
    pub fn is_empty(&self) -> bool {
        self.map.is_empty() && self.expires.is_empty()
    }
}

impl Shard {
    pub fn new() -> Self {
        Shard::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// Deletes `key` if its deadline is at or before `now_ms`. Returns true if it was deleted.
    #[inline]
    fn expire_if_due(&mut self, key: &[u8], now_ms: u64) -> bool {
        match self.expires.get(key) {
            Some(&at) if at <= now_ms => {
                self.expires.swap_remove(key);
                if let Some((k, _)) = self.map.swap_remove_entry(key) {
                    self.note_expired(k);
                }
                true
            }
            _ => false,
        }
    }

    fn note_expired(&mut self, key: CompactBytes) {
        self.expired_keys += 1;
        if self.record_expired {
            self.expired_log.push(key);
        }
    }

    /// Looks a key up for reading or writing, expiring it first if due, and touches its LRU clock.
    #[inline]
    pub fn get_mut(&mut self, key: &[u8], now_ms: u64, lru: u32) -> Option<&mut Entry> {
        // One hash probe for the common case (no TTL): later accesses go by position.
        let idx = self.map.get_index_of(key)?;
        if self.map[idx].has_expire && self.expire_if_due(key, now_ms) {
            return None;
        }
        let e = &mut self.map[idx];
        e.lru = super::evict::touch(e.lru, lru);
        Some(e)
    }

    /// Like [`get_mut`](Self::get_mut) without a mutable result.
    #[inline]
    pub fn get(&mut self, key: &[u8], now_ms: u64, lru: u32) -> Option<&Entry> {
        self.get_mut(key, now_ms, lru).map(|e| &*e)
    }

    /// Looks a key up like [`get`](Self::get) (expiring it if due) without touching its LRU
    /// clock: Redis's `LOOKUP_NOTOUCH` (EXISTS, TYPE, TTL, OBJECT).
    pub fn get_notouch(&mut self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        let idx = self.map.get_index_of(key)?;
        if self.map[idx].has_expire && self.expire_if_due(key, now_ms) {
            return None;
        }
        Some(&self.map[idx])
    }

    /// Looks a key up without touching its LRU clock or deleting it (OBJECT, TYPE-free peeks);
    /// an expired key still reads as absent.
    pub fn peek(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        let e = self.map.get(key)?;
        if e.has_expire {
            if let Some(&at) = self.expires.get(key) {
                if at <= now_ms {
                    return None;
                }
            }
        }
        Some(e)
    }

    /// Whether the key exists (expiring it if due).
    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        match self.map.get(key) {
            None => false,
            Some(e) if e.has_expire => !self.expire_if_due(key, now_ms),
            Some(_) => true,
        }
    }

    /// Stores `value` under `key`, replacing any old value and clearing its TTL (SET semantics).
    #[inline]
    pub fn set(&mut self, key: &[u8], value: Value, lru: u32) {
        if key.len() <= fincache_types::bytes::INLINE_CAP {
            // Building an inline key costs no allocation, so one probe does insert-or-replace.
            let (idx, old) = self
                .map
                .insert_full(CompactBytes::new(key), Entry::new(value, lru));
            if let Some(old) = old {
                if old.has_expire {
                    self.expires.swap_remove(key);
                }
                if lru & super::evict::LFU_FLAG != 0 {
                    // Redis's `dbSetValue` under LFU: an overwrite keeps the touched counter.
                    self.map[idx].lru = super::evict::touch(old.lru, lru);
                }
            }
            return;
        }
        if let Some(e) = self.map.get_mut(key) {
            if e.has_expire {
                self.expires.swap_remove(key);
            }
            let kept = e.lru;
            *e = Entry::new(value, lru);
            if lru & super::evict::LFU_FLAG != 0 {
                e.lru = super::evict::touch(kept, lru);
            }
        } else {
            self.map
                .insert(CompactBytes::new(key), Entry::new(value, lru));
        }
    }

    /// Stores `value`, keeping the key's current TTL if it has one (KEEPTTL, SETRANGE, APPEND…).
    #[inline]
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value, lru: u32) {
        if let Some(e) = self.map.get_mut(key) {
            e.value = value;
            e.lru = super::evict::touch(e.lru, lru);
        } else {
            self.map
                .insert(CompactBytes::new(key), Entry::new(value, lru));
        }
    }

    /// Inserts a whole entry under an owned key (RENAME, MOVE, COPY), with an optional deadline.
    pub fn insert_entry(&mut self, key: CompactBytes, mut entry: Entry, expire_at: Option<u64>) {
        entry.has_expire = expire_at.is_some();
        if let Some(at) = expire_at {
            self.expires.insert(key.clone(), at);
        } else {
            self.expires.swap_remove(key.as_slice());
        }
        self.map.insert(key, entry);
    }

    /// Removes a key; returns its entry and deadline. Does not check expiry.
    pub fn remove(&mut self, key: &[u8]) -> Option<(CompactBytes, Entry, Option<u64>)> {
        let (k, e) = self.map.swap_remove_entry(key)?;
        let at = if e.has_expire {
            self.expires.swap_remove(key)
        } else {
            None
        };
        Some((k, e, at))
    }

    /// The deadline of a live key, in Unix milliseconds.
    pub fn expire_at(&self, key: &[u8]) -> Option<u64> {
        self.expires.get(key).copied()
    }

    /// Sets the deadline of an existing key; returns false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at_ms: u64) -> bool {
        let Some(e) = self.map.get_mut(key) else {
            return false;
        };
        e.has_expire = true;
        if let Some(slot) = self.expires.get_mut(key) {
            *slot = at_ms;
        } else {
            self.expires.insert(CompactBytes::new(key), at_ms);
        }
        true
    }

    /// Removes the deadline of a key; returns true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        match self.map.get_mut(key) {
            Some(e) if e.has_expire => {
                e.has_expire = false;
                self.expires.swap_remove(key);
                true
            }
            _ => false,
        }
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        self.map = KeyMap::default();
        self.expires = KeyMap::default();
        self.expire_cursor = 0;
    }

    /// Empties the shard and hands the old contents back, so the caller can free them later
    /// or on another thread (FLUSHALL ASYNC).
    pub fn take_contents(&mut self) -> DetachedContents {
        self.expire_cursor = 0;
        DetachedContents {
            map: std::mem::take(&mut self.map),
            expires: std::mem::take(&mut self.expires),
        }
    }

    /// The key at map position `i` (for random sampling and SCAN), with its deadline.
    pub fn key_at(&self, i: usize) -> Option<(&CompactBytes, &Entry)> {
        self.map.get_index(i)
    }

    /// The volatile key at position `i` of the expires table and its deadline (expiry sampling).
    pub fn volatile_at(&self, i: usize) -> Option<(&CompactBytes, u64)> {
        self.expires.get_index(i).map(|(k, at)| (k, *at))
    }

    /// Deletes `key` as expired if its deadline has passed (active expiry). Returns true if it did.
    pub fn expire_key_if_due(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.expire_if_due(key, now_ms)
    }

    /// Whether the key at map position `i` has a deadline at or before `now_ms`.
    pub fn index_is_expired(&self, i: usize, now_ms: u64) -> bool {
        match self.map.get_index(i) {
            Some((k, e)) if e.has_expire => {
                matches!(self.expires.get(k.as_slice()), Some(&at) if at <= now_ms)
            }
            _ => false,
        }
    }

    /// Deletes the key at map position `i` as expired if its deadline has passed (SCAN,
    /// RANDOMKEY). The last key moves into position `i`. Returns true if it deleted.
    pub fn expire_index_if_due(&mut self, i: usize, now_ms: u64) -> bool {
        if !self.index_is_expired(i, now_ms) {
            return false;
        }
        let Some((k, _)) = self.map.swap_remove_index(i) else {
            return false;
        };
        self.expires.swap_remove(k.as_slice());
        self.note_expired(k);
        true
    }

    /// One sampling round of the active expiry cycle: checks up to `max` volatile keys from
    /// the shard's expire cursor on and deletes those whose deadline has passed.
    /// Returns `(sampled, expired)`.
    pub fn active_expire_round(&mut self, max: usize, now_ms: u64) -> (usize, usize) {
        let (mut sampled, mut expired) = (0, 0);
        while sampled < max && !self.expires.is_empty() {
            if self.expire_cursor >= self.expires.len() {
                self.expire_cursor = 0;
            }
            let i = self.expire_cursor;
            sampled += 1;
            let due = matches!(self.expires.get_index(i), Some((_, &at)) if at <= now_ms);
            if !due {
                self.expire_cursor += 1;
                continue;
            }
            // The last volatile key moves into position `i`: leave the cursor on it.
            if let Some((k, _)) = self.expires.swap_remove_index(i) {
                if self.map.swap_remove(k.as_slice()).is_some() {
                    self.note_expired(k);
                    expired += 1;
                }
            }
        }
        (sampled, expired)
    }

    /// Turns the expired-key log on or off (off by default; see [`drain_expired_log`]).
    ///
    /// [`drain_expired_log`]: Self::drain_expired_log
    pub fn set_record_expired(&mut self, on: bool) {
        self.record_expired = on;
        if !on {
            self.expired_log = Vec::new();
        }
    }

    /// Takes the keys expired since the last call (for notifications and AOF/replica DELs).
    /// Empty unless recording was turned on with [`set_record_expired`](Self::set_record_expired).
    pub fn drain_expired_log(&mut self) -> Vec<CompactBytes> {
        std::mem::take(&mut self.expired_log)
    }

    pub fn has_expired_log(&self) -> bool {
        !self.expired_log.is_empty()
    }

    /// Iterates over all live and not-yet-collected keys (expired ones included; callers filter).
    pub fn iter(&self) -> impl Iterator<Item = (&CompactBytes, &Entry)> {
        self.map.iter()
    }

    /// Swaps the whole contents of two shards (SWAPDB).
    pub fn swap_contents(&mut self, other: &mut Shard) {
        std::mem::swap(&mut self.map, &mut other.map);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.expire_cursor, &mut other.expire_cursor);
    }
}
