//! WATCH: which clients watch which keys, so a change to a watched key fails their EXEC.
//!
//! Mirrors Redis's `multi.c` watch table: per database, key → the clients watching it. A
//! "touch" marks every watcher of a key dirty (the client flag `DIRTY_CAS`, which CLIENT LIST
//! shows as `d`); EXEC of a dirty client replies with a null array.
//!
//! Who touches:
//! - the dispatcher, after every successful write command, for the watched keys the command
//!   table names, unless the key neither existed before nor exists after (scripts' and
//!   transactions' inner commands included);
//! - FLUSHDB / FLUSHALL / SWAPDB, through [`super::Keyspace`], for the watched keys that exist
//!   in the emptied or swapped databases, as Redis's `touchAllWatchedKeysInDb`;
//! - eviction, through [`Watches::touch`].
//!
//! Expiry needs no hook: WATCH records the key's deadline, and EXEC treats a key whose
//! recorded deadline has passed as changed (Redis 7: a watched key that expired is a change),
//! so lazy, active and never-collected expiries all count alike.
//!
//! Cost when nobody watches: one relaxed atomic load per write ([`Watches::active`]).
//! Locking: the table has its own mutex, taken after any shard lock is released; never held
//! while a shard is locked by the same thread except in [`super::Keyspace`]'s flushes, where
//! the order is gate (write) → watch table → shards.

use crate::client::{flag, ClientHandle};
use fincache_types::CompactBytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

type Watchers = Vec<Arc<ClientHandle>>;

/// The server-wide watch table.
#[derive(Default)]
pub struct Watches {
    /// Number of (database, key) entries; zero means nobody watches anything.
    count: AtomicUsize,
    /// Per database: key → clients watching it.
    dbs: Mutex<Vec<HashMap<CompactBytes, Watchers, foldhash::fast::RandomState>>>,
}

impl Watches {
    pub fn new(databases: usize) -> Self {
        Watches {
            count: AtomicUsize::new(0),
            dbs: Mutex::new((0..databases.max(1)).map(|_| HashMap::default()).collect()),
        }
    }

    /// Whether any client watches any key (the only cost writes pay otherwise).
    #[inline]
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// Registers `client` as a watcher of `key` in database `db`. Returns false if it already
    /// watched it.
    pub fn watch(&self, db: usize, key: &[u8], client: &Arc<ClientHandle>) -> bool {
        let mut dbs = self.dbs.lock();
        let Some(map) = dbs.get_mut(db) else {
            return false;
        };
        if let Some(list) = map.get_mut(key) {
            if list.iter().any(|c| c.id == client.id) {
                return false;
            }
            list.push(client.clone());
            return true;
        }
        map.insert(CompactBytes::new(key), vec![client.clone()]);
        self.count.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Removes `client` from the watchers of each `(db, key)`.
    pub fn unwatch<'k>(&self, client_id: u64, keys: impl IntoIterator<Item = (usize, &'k [u8])>) {
        let mut dbs = self.dbs.lock();
        for (db, key) in keys {
            let Some(map) = dbs.get_mut(db) else {
                continue;
            };
            let emptied = match map.get_mut(key) {
                Some(list) => {
                    list.retain(|c| c.id != client_id);
                    list.is_empty()
                }
                None => false,
            };
            if emptied {
                map.remove(key);
                self.count.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether anyone watches `key` in `db`.
    pub fn is_watched(&self, db: usize, key: &[u8]) -> bool {
        self.active() && self.dbs.lock().get(db).is_some_and(|m| m.contains_key(key))
    }

    /// Marks every watcher of `key` in `db` dirty (a write, an eviction).
    pub fn touch(&self, db: usize, key: &[u8]) {
        if !self.active() {
            return;
        }
        let dbs = self.dbs.lock();
        if let Some(list) = dbs.get(db).and_then(|m| m.get(key)) {
            for c in list {
                c.set_flag(flag::DIRTY_CAS, true);
            }
        }
    }

    /// Marks dirty the watchers of every watched key of `db` for which `affected` says yes
    /// (FLUSHDB, FLUSHALL, SWAPDB: the keys that existed in the emptied or swapped databases).
    pub fn touch_db_where(&self, db: usize, mut affected: impl FnMut(&[u8]) -> bool) {
        if !self.active() {
            return;
        }
        let dbs = self.dbs.lock();
        let Some(map) = dbs.get(db) else {
            return;
        };
        for (key, list) in map.iter() {
            if affected(key.as_slice()) {
                for c in list {
                    c.set_flag(flag::DIRTY_CAS, true);
                }
            }
        }
    }

    /// The number of watched (database, key) entries (INFO `watching_clients`-style counts).
    pub fn watched_keys(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientRegistry;

    #[test]
    fn touch_marks_only_watchers_of_the_key() {
        let reg = ClientRegistry::default();
        let a = reg.register(None, None, -1, 0);
        let b = reg.register(None, None, -1, 0);
        let w = Watches::new(2);
        assert!(!w.active());
        assert!(w.watch(0, b"k", &a));
        assert!(!w.watch(0, b"k", &a));
        assert!(w.watch(1, b"k", &b));
        assert_eq!(w.watched_keys(), 2);
        w.touch(1, b"k");
        assert_eq!(a.flags() & flag::DIRTY_CAS, 0);
        assert_ne!(b.flags() & flag::DIRTY_CAS, 0);
        w.touch_db_where(0, |k| k == b"other");
        assert_eq!(a.flags() & flag::DIRTY_CAS, 0);
        w.touch_db_where(0, |k| k == b"k");
        assert_ne!(a.flags() & flag::DIRTY_CAS, 0);
        w.unwatch(a.id, [(0, &b"k"[..])]);
        w.unwatch(b.id, [(1, &b"k"[..])]);
        assert!(!w.active());
    }
}
