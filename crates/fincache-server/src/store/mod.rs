//! The keyspace: `databases` numbered databases, each split into shards by cluster hash slot.
//!
//! Locking (ORDER: gate, then shards in ascending index, never the other way):
//! - every command holds the keyspace [`Keyspace::gate`] for reading while it runs; commands that
//!   must see or change everything at once (FLUSHALL, SWAPDB, and later EXEC and scripts) hold it
//!   for writing, which makes them atomic with respect to every other client;
//! - a single-key command locks one shard; a multi-key command locks the shards it needs in
//!   ascending order ([`Db::lock_many`]);
//! - no lock is held across an `.await` or any I/O.

pub mod blocking;
pub mod entry;
pub mod evict;
pub mod expire;
pub mod shard;
pub mod slot;
pub mod watch;

pub use entry::{Entry, Value};
pub use shard::{DetachedContents, Shard};

use parking_lot::{Mutex, MutexGuard, RwLock};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shards per database; a power of two so a slot maps to a shard with a mask.
pub const SHARDS_PER_DB: usize = 16;

/// One database (`SELECT n`).
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    pub fn new() -> Self {
        Db {
            shards: (0..SHARDS_PER_DB)
                .map(|_| Mutex::new(Shard::new()))
                .collect(),
        }
    }

    /// The shard index that owns `key`.
    #[inline]
    pub fn shard_index(key: &[u8]) -> usize {
        slot::key_hash_slot(key) as usize & (SHARDS_PER_DB - 1)
    }

    /// Locks the shard that owns `key`.
    #[inline]
    pub fn lock(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        self.shards[Self::shard_index(key)].lock()
    }

    /// Locks shard `i` directly (iteration, SCAN, expiry cycles).
    #[inline]
    pub fn lock_shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock()
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Locks every shard that owns one of `keys`, in ascending shard order (ORDER: deadlock-free).
    pub fn lock_many<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) -> ShardSet<'_> {
        let mut wanted = [false; SHARDS_PER_DB];
        for k in keys {
            wanted[Self::shard_index(k)] = true;
        }
        let mut guards: [Option<MutexGuard<'_, Shard>>; SHARDS_PER_DB] = Default::default();
        for (i, w) in wanted.iter().enumerate() {
            if *w {
                guards[i] = Some(self.shards[i].lock());
            }
        }
        ShardSet { guards }
    }

    /// Locks every shard (in ascending order).
    pub fn lock_all(&self) -> ShardSet<'_> {
        let mut guards: [Option<MutexGuard<'_, Shard>>; SHARDS_PER_DB] = Default::default();
        for (i, g) in guards.iter_mut().enumerate() {
            *g = Some(self.shards[i].lock());
        }
        ShardSet { guards }
    }

    /// Number of keys (including expired keys not yet collected, as Redis's DBSIZE does).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn expires_len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().expires_len()).sum()
    }

    pub fn expired_keys(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().expired_keys).sum()
    }

    pub fn clear(&self) {
        for s in self.shards.iter() {
            s.lock().clear();
        }
    }

    /// Empties every shard and returns the old contents, for the caller to free (FLUSHDB
    /// ASYNC hands them to [`free_in_background`]).
    pub fn take_contents(&self) -> Vec<DetachedContents> {
        self.shards
            .iter()
            .map(|s| s.lock().take_contents())
            .collect()
    }
}

/// Frees detached shard contents on a short-lived thread, so a large FLUSHALL/FLUSHDB ASYNC
/// returns at once (Redis's lazyfree).
pub fn free_in_background(contents: Vec<DetachedContents>) {
    if contents.iter().all(DetachedContents::is_empty) {
        return;
    }
    // If no thread can start, `spawn` drops the closure, which frees the contents right here.
    let _ = std::thread::Builder::new()
        .name("fincache-lazyfree".into())
        .spawn(move || drop(contents));
}

/// A set of locked shards of one database, addressed by key.
pub struct ShardSet<'a> {
    guards: [Option<MutexGuard<'a, Shard>>; SHARDS_PER_DB],
}

impl<'a> ShardSet<'a> {
    /// The locked shard owning `key`. Panics only on a programming error: asking for a key
    /// whose shard was not locked, which the callers' key lists rule out.
    #[inline]
    pub fn shard(&mut self, key: &[u8]) -> &mut Shard {
        self.guards[Db::shard_index(key)]
            .as_deref_mut()
            .expect("shard of this key was locked by lock_many")
    }

    /// The locked shard with index `i`, if it is in the set.
    pub fn shard_at(&mut self, i: usize) -> Option<&mut Shard> {
        self.guards[i].as_deref_mut()
    }

    /// Every locked shard, in shard order.
    pub fn iter(&self) -> impl Iterator<Item = &Shard> {
        self.guards.iter().filter_map(|g| g.as_deref())
    }
}

/// All databases plus the gate that makes multi-shard operations atomic.
pub struct Keyspace {
    dbs: Box<[Db]>,
    /// Read-held by every command, write-held by commands that must be atomic across shards.
    pub gate: RwLock<()>,
    /// Keyspace statistics shared by every database.
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    /// Set by FLUSHALL/FLUSHDB/SWAPDB so cursors and watchers can notice.
    pub epoch: AtomicU64,
    /// WATCHed keys ([`watch`]): flushes and swaps touch them here.
    pub watches: watch::Watches,
    /// Where the next active expiry cycle starts: `db * SHARDS_PER_DB + shard`.
    pub expire_cursor: AtomicUsize,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            gate: RwLock::new(()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            expire_cursor: AtomicUsize::new(0),
            watches: watch::Watches::new(databases),
        }
    }

    pub fn db_count(&self) -> usize {
        self.dbs.len()
    }

    /// Touches the watched keys of database `i` that exist in it (or in database `other`,
    /// for SWAPDB): Redis's `touchAllWatchedKeysInDb`. Existence is the raw one, expired but
    /// uncollected keys included, as Redis's `dictFind`. The caller holds the gate for writing.
    fn touch_watched_existing(&self, i: usize, other: Option<usize>) {
        if !self.watches.active() {
            return;
        }
        let exists = |db: usize, key: &[u8]| self.dbs[db].lock(key).peek(key, 0).is_some();
        self.watches.touch_db_where(i, |key| {
            exists(i, key) || other.is_some_and(|o| exists(o, key))
        });
    }

    /// Database `i`. Callers validate `i` against [`db_count`](Self::db_count) first (SELECT does).
    #[inline]
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    pub fn dbs(&self) -> &[Db] {
        &self.dbs
    }

    #[inline]
    pub fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Empties database `i` (FLUSHDB). With `lazy` the memory is freed on another thread.
    /// The caller holds the gate for writing.
    pub fn flush_db(&self, i: usize, lazy: bool) {
        self.touch_watched_existing(i, None);
        let contents = self.dbs[i].take_contents();
        if lazy {
            free_in_background(contents);
        }
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// Empties every database (FLUSHALL). With `lazy` the memory is freed on another thread.
    /// The caller holds the gate for writing.
    pub fn flush_all(&self, lazy: bool) {
        let mut contents = Vec::new();
        for i in 0..self.dbs.len() {
            self.touch_watched_existing(i, None);
        }
        for db in self.dbs.iter() {
            contents.extend(db.take_contents());
        }
        if lazy {
            free_in_background(contents);
        }
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// Swaps the contents of two databases. The caller holds the gate for writing.
    pub fn swap_dbs(&self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.touch_watched_existing(a, Some(b));
        self.touch_watched_existing(b, Some(a));
        for i in 0..SHARDS_PER_DB {
            // ORDER: lower database first.
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            let mut x = self.dbs[lo].lock_shard(i);
            let mut y = self.dbs[hi].lock_shard(i);
            x.swap_contents(&mut y);
        }
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }
}
