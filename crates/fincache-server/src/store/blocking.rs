//! Blocking-key waiters: the clients parked by BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (and,
//! through the same API, BZPOPMIN, BZPOPMAX, BZMPOP and XREAD/XREADGROUP BLOCK) until a key
//! they wait for becomes ready, their timeout passes, CLIENT UNBLOCK frees them or their
//! connection ends.
//!
//! The model is Redis 7's (`blocked.c`): a blocked command is **re-executed** when one of its
//! keys becomes ready, so the serving logic is the command itself and a family needs no
//! blocking-specific code beyond one call.
//!
//! How a blocking command uses it:
//! 1. The handler parses its arguments (the timeout with `ctx.block_timeout_secs` /
//!    `ctx.block_timeout_ms`), looks at its keys, and serves at once when it can. When it finds
//!    nothing, it calls `ctx.block_on(keys, deadline, ready_test, TimeoutReply)` and returns
//!    `Ok(())` without writing a reply. `ready_test` says which values can serve it
//!    (`|v| matches!(v, Value::List(_))`); `TimeoutReply` is what it answers on timeout. When
//!    the client may not block (`ctx.client.deny_blocking`: inside MULTI, a script),
//!    `block_on` writes the timeout reply right away instead, as Redis does.
//! 2. `dispatch::run`, after the handler, turns the request into a [`Waiter`] (client id, db,
//!    its keys, its own copy of argv, its protocol, the test, a [`WaitSlot`]) registered FIFO
//!    on each key, then serves those keys once: this re-check closes the window between the
//!    handler seeing an empty key and the registration, during which another client may have
//!    pushed (that pusher saw no waiter and signalled nothing).
//! 3. Any command that may make a key ready calls `ctx.signal_ready(key)` — one atomic load
//!    when nobody waits. `dispatch::run` also signals by itself every key position of a write
//!    command, and every waited key after an `EXCLUSIVE` write (SWAPDB, MOVE, FLUSHALL …),
//!    while anyone waits, so RENAME onto a waited key or a future ZADD wakes waiters even
//!    without an explicit call.
//! 4. At the end of the outermost command (`dispatch::run`, still under the keyspace gate),
//!    [`Blocking::serve`] walks the ready keys. For each, waiters in the order they blocked:
//!    the key must exist and pass the waiter's test, else serving that key stops (the element
//!    was consumed, or the type is not the awaited one: the waiter keeps waiting, as in
//!    Redis); the waiter's command is then re-executed for it (its db, its protocol) in
//!    *serving* mode, where `block_on` only records "not served" — such a waiter keeps its
//!    place. A produced reply goes into the waiter's slot and the waiter leaves every queue.
//!    Serving may make further keys ready (BLMOVE pushes to its destination): the walk goes
//!    on until no key is left. A served command touches WATCHed keys and raises its keyspace
//!    events (published after those of the command that woke it) like any other command.
//! 5. The connection task of the blocked client stops reading commands (pipelined ones wait,
//!    in order), awaits its slot, its deadline, CLIENT UNBLOCK, CLIENT KILL, a disconnect or
//!    shutdown — on tokio, never blocking a worker — and then leaves with [`Blocking::cancel`].
//!
//! Invariants (why no element is ever lost):
//! - all registry changes and the whole serve walk happen under one mutex; a waiter's reply is
//!   stored in its slot under that mutex and the waiter is removed at the same time;
//! - a connection that stops waiting for any reason calls [`Blocking::cancel`] under the same
//!   mutex and then reads its slot: a reply stored before the cancel is used (written, or lost
//!   with the connection, exactly like a reply Redis had already queued); after the cancel no
//!   reply can arrive;
//! - a waiter whose client was killed is skipped and dropped before its command runs, so a
//!   push that finds it goes to the next waiter or stays in the list.
//!
//! ORDER: registry mutex, then shard locks (serving re-executes commands, which lock shards).
//! Nothing takes the registry mutex while holding a shard lock: `signal_ready` only appends to
//! the running client's own list.
//!
//! COMPAT: Redis 7.2 moves a waiter whose re-executed command blocks again to the back of its
//! queues; FinCache leaves it in place (fairer; it only matters for XREAD-style commands that
//! can be signalled without being servable).

use super::entry::Value;
use super::Keyspace;
use crate::client::ClientHandle;
use fincache_resp::Protocol;
use fincache_types::CompactBytes;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Which values can serve a waiter (e.g. `|v| matches!(v, Value::List(_))`).
pub type ReadyTest = fn(&Value) -> bool;

/// A key that may have become ready: (database, key).
pub type ReadyKey = (usize, CompactBytes);

/// What a blocked command answers when its timeout passes (or CLIENT UNBLOCK … TIMEOUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// RESP2 `*-1`, RESP3 `_` (BLPOP, BRPOP, BLMPOP, BZPOPMIN/MAX, BZMPOP, XREAD).
    NullArray,
    /// RESP2 `$-1`, RESP3 `_` (BLMOVE, BRPOPLPUSH).
    NullBulk,
}

/// A handler's request to block, taken by `dispatch::run` once the handler returns.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    pub keys: Vec<CompactBytes>,
    /// Unix milliseconds; `None` waits forever (timeout 0).
    pub deadline_ms: Option<u64>,
    pub ready: ReadyTest,
    pub on_timeout: TimeoutReply,
}

/// How a wait ended, when something other than the waiting connection ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The re-executed command's encoded reply (possibly an error reply).
    Served(Vec<u8>),
    /// CLIENT UNBLOCK id [TIMEOUT]: answer as on timeout.
    TimedOut,
    /// CLIENT UNBLOCK id ERROR: answer `-UNBLOCKED client unblocked via CLIENT UNBLOCK`.
    Unblocked,
}

/// Where the registry leaves a waiter's outcome; the waiting connection awaits `notify`.
#[derive(Debug, Default)]
pub struct WaitSlot {
    outcome: Mutex<Option<Outcome>>,
    pub notify: Notify,
}

impl WaitSlot {
    /// Takes the outcome, if one was stored.
    pub fn take(&self) -> Option<Outcome> {
        self.outcome.lock().take()
    }

    fn fill(&self, outcome: Outcome) {
        *self.outcome.lock() = Some(outcome);
        // notify_one stores a permit: a connection not yet awaiting still sees it.
        self.notify.notify_one();
    }
}

/// One blocked client.
#[derive(Debug)]
pub struct Waiter {
    pub client_id: u64,
    pub db: usize,
    /// Distinct keys, in the order the command named them.
    pub keys: Vec<CompactBytes>,
    /// The command as the client sent it, re-executed when a key is ready.
    pub argv: Vec<Vec<u8>>,
    pub protocol: Protocol,
    pub handle: Arc<ClientHandle>,
    pub ready: ReadyTest,
    pub on_timeout: TimeoutReply,
    slot: Arc<WaitSlot>,
}

impl Waiter {
    /// Builds a waiter from a handler's request; `argv` is copied.
    pub fn new(
        handle: Arc<ClientHandle>,
        db: usize,
        protocol: Protocol,
        argv: &[&[u8]],
        req: BlockRequest,
    ) -> Waiter {
        let mut keys: Vec<CompactBytes> = Vec::with_capacity(req.keys.len());
        for k in req.keys {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        Waiter {
            client_id: handle.id,
            db,
            keys,
            argv: argv.iter().map(|a| a.to_vec()).collect(),
            protocol,
            handle,
            ready: req.ready,
            on_timeout: req.on_timeout,
            slot: Arc::new(WaitSlot::default()),
        }
    }
}

/// A blocked client's view of its wait, kept in its `ClientState` between the blocking command
/// and the moment it unblocks.
#[derive(Debug, Clone)]
pub struct BlockedWait {
    pub slot: Arc<WaitSlot>,
    pub deadline_ms: Option<u64>,
    pub on_timeout: TimeoutReply,
    /// CLIENT REPLY OFF/SKIP applied to the blocking command: its reply is dropped.
    pub reply_suppressed: bool,
}

/// Per-client blocking scratch state (lives in `ClientState`).
#[derive(Debug, Default)]
pub struct ClientBlocking {
    /// Set by `ctx.block_on` in a normal run; taken by `dispatch::run`.
    pub request: Option<BlockRequest>,
    /// This state belongs to a waiter's command being re-executed by [`Blocking::serve`].
    pub serving: bool,
    /// In serving mode: the handler found nothing and asked to block again.
    pub not_served: bool,
    /// Keys signalled ready by the running command, served when the outermost command ends.
    pub ready: Vec<ReadyKey>,
    /// The wait in progress, set when the command blocked; the connection task awaits it.
    pub wait: Option<BlockedWait>,
}

#[derive(Debug, Default)]
struct Inner {
    waiters: HashMap<u64, Waiter>,
    queues: HashMap<ReadyKey, VecDeque<u64>>,
}

impl Inner {
    /// Removes a waiter from the registry and from every queue it is in.
    fn remove(&mut self, id: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&id)?;
        for key in &w.keys {
            let qk = (w.db, key.clone());
            if let Some(q) = self.queues.get_mut(&qk) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.queues.remove(&qk);
                }
            }
        }
        Some(w)
    }
}

/// The registry of blocked clients (one per server).
#[derive(Debug, Default)]
pub struct Blocking {
    /// Number of registered waiters, read without the lock by [`has_waiters`](Self::has_waiters).
    count: AtomicUsize,
    inner: Mutex<Inner>,
}

impl Blocking {
    /// Whether anyone waits at all: the cheap test in front of every signal.
    #[inline]
    pub fn has_waiters(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }

    /// Number of blocked clients.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct keys someone waits on (all databases).
    pub fn waited_key_count(&self) -> usize {
        self.inner.lock().queues.len()
    }

    /// Registers a waiter at the back of each of its keys' queues and returns its slot.
    /// `gauge` is INFO's `blocked_clients`. The caller must then serve the waiter's keys once
    /// (see the module docs, step 2).
    pub fn register(&self, waiter: Waiter, gauge: &AtomicU64) -> Arc<WaitSlot> {
        let slot = waiter.slot.clone();
        let mut inner = self.inner.lock();
        if inner.remove(waiter.client_id).is_some() {
            self.count.fetch_sub(1, Ordering::SeqCst);
            gauge.fetch_sub(1, Ordering::Relaxed);
        }
        for key in &waiter.keys {
            inner
                .queues
                .entry((waiter.db, key.clone()))
                .or_default()
                .push_back(waiter.client_id);
        }
        inner.waiters.insert(waiter.client_id, waiter);
        // ORDER: counted before the caller's re-check reads the keys, so a push that the
        // re-check misses sees the count and signals.
        self.count.fetch_add(1, Ordering::SeqCst);
        gauge.fetch_add(1, Ordering::Relaxed);
        slot
    }

    /// Stops waiting (timeout, disconnect, kill, shutdown). Afterwards no outcome can reach the
    /// slot; one stored before is still there for the caller to take.
    pub fn cancel(&self, client_id: u64, gauge: &AtomicU64) {
        let mut inner = self.inner.lock();
        if inner.remove(client_id).is_some() {
            self.count.fetch_sub(1, Ordering::SeqCst);
            gauge.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// CLIENT UNBLOCK: ends a client's wait as a timeout (`error` false) or with the UNBLOCKED
    /// error. Returns false if the client was not blocked on keys.
    pub fn unblock(&self, client_id: u64, error: bool, gauge: &AtomicU64) -> bool {
        let mut inner = self.inner.lock();
        let Some(w) = inner.remove(client_id) else {
            return false;
        };
        self.count.fetch_sub(1, Ordering::SeqCst);
        gauge.fetch_sub(1, Ordering::Relaxed);
        w.slot.fill(if error {
            Outcome::Unblocked
        } else {
            Outcome::TimedOut
        });
        true
    }

    /// Every (db, key) someone waits on: signalled after commands whose keys are not in their
    /// arguments (SWAPDB, MOVE, FLUSHALL, …).
    pub fn waited_keys(&self) -> Vec<ReadyKey> {
        self.inner.lock().queues.keys().cloned().collect()
    }

    /// Serves the waiters of the keys in `ready` (and of any key made ready while serving),
    /// first blocked first served. `exec` re-executes a waiter's command: it returns the
    /// encoded reply, or `None` when the command would block again; keys its command made
    /// ready are appended to the vector it is given. `ready` is left empty.
    pub fn serve<F>(
        &self,
        keyspace: &Keyspace,
        ready: &mut Vec<ReadyKey>,
        now_ms: u64,
        gauge: &AtomicU64,
        mut exec: F,
    ) where
        F: FnMut(&Waiter, &mut Vec<ReadyKey>) -> Option<Vec<u8>>,
    {
        let mut inner = self.inner.lock();
        let mut next = 0;
        let mut more = Vec::new();
        while next < ready.len() {
            let key = ready[next].clone();
            next += 1;
            let Some(queue) = inner.queues.get(&key) else {
                continue;
            };
            let ids: Vec<u64> = queue.iter().copied().collect();
            for id in ids {
                let Some(w) = inner.waiters.get(&id) else {
                    continue;
                };
                if w.handle.is_killed() {
                    // Its connection is closing: it must not swallow an element.
                    inner.remove(id);
                    self.count.fetch_sub(1, Ordering::SeqCst);
                    gauge.fetch_sub(1, Ordering::Relaxed);
                    continue;
                }
                if !key_is_ready(keyspace, &key, now_ms, w.ready) {
                    break;
                }
                let Some(reply) = exec(w, &mut more) else {
                    continue;
                };
                if let Some(w) = inner.remove(id) {
                    self.count.fetch_sub(1, Ordering::SeqCst);
                    gauge.fetch_sub(1, Ordering::Relaxed);
                    w.slot.fill(Outcome::Served(reply));
                }
                // Keys made ready by this waiter's command (BLMOVE's destination) join the
                // walk, unless already pending.
                for k in more.drain(..) {
                    if !ready[next..].contains(&k) {
                        ready.push(k);
                    }
                }
            }
        }
        ready.clear();
    }
}

/// Whether `key` holds a value that can serve a waiter with test `ready`.
fn key_is_ready(keyspace: &Keyspace, key: &ReadyKey, now_ms: u64, ready: ReadyTest) -> bool {
    let (db, k) = key;
    if *db >= keyspace.db_count() {
        return false;
    }
    let shard = keyspace.db(*db).lock(k);
    shard.peek(k, now_ms).is_some_and(|e| ready(&e.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientRegistry;

    fn is_str(v: &Value) -> bool {
        matches!(v, Value::Str(_))
    }

    fn waiter(reg: &ClientRegistry, keys: &[&str]) -> Waiter {
        let h = reg.register(None, None, -1, 0);
        let argv: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        Waiter::new(
            h,
            0,
            Protocol::Resp2,
            &argv,
            BlockRequest {
                keys: keys
                    .iter()
                    .map(|k| CompactBytes::new(k.as_bytes()))
                    .collect(),
                deadline_ms: None,
                ready: is_str,
                on_timeout: TimeoutReply::NullArray,
            },
        )
    }

    fn rk(k: &str) -> ReadyKey {
        (0, CompactBytes::new(k.as_bytes()))
    }

    #[test]
    fn fifo_per_key_and_removal_from_every_queue() {
        let clients = ClientRegistry::default();
        let ks = Keyspace::new(1);
        let gauge = AtomicU64::new(0);
        let b = Blocking::default();
        let s1 = b.register(waiter(&clients, &["a", "b"]), &gauge);
        let s2 = b.register(waiter(&clients, &["a"]), &gauge);
        assert_eq!(b.len(), 2);
        assert_eq!(gauge.load(Ordering::Relaxed), 2);
        // Nothing is served while the key is missing.
        let mut ready = vec![rk("a")];
        b.serve(&ks, &mut ready, 0, &gauge, |_, _| Some(b"x".to_vec()));
        assert!(s1.take().is_none());
        // Two "elements": each serve consumes one.
        ks.db(0)
            .lock(b"a")
            .set(b"a", Value::Str(CompactBytes::new(b"v")), 0);
        let mut served = Vec::new();
        let mut ready = vec![rk("a")];
        b.serve(&ks, &mut ready, 0, &gauge, |w, _| {
            served.push(w.client_id);
            Some(b"x".to_vec())
        });
        assert_eq!(served, vec![1, 2]);
        assert_eq!(s1.take(), Some(Outcome::Served(b"x".to_vec())));
        assert_eq!(s2.take(), Some(Outcome::Served(b"x".to_vec())));
        assert!(b.is_empty());
        assert_eq!(b.waited_key_count(), 0);
        assert_eq!(gauge.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn wrong_type_or_not_served_keeps_waiting() {
        let clients = ClientRegistry::default();
        let ks = Keyspace::new(1);
        let gauge = AtomicU64::new(0);
        let b = Blocking::default();
        let s = b.register(waiter(&clients, &["k"]), &gauge);
        ks.db(0).lock(b"k").set(b"k", Value::Int(1), 0);
        let mut ready = vec![rk("k")];
        b.serve(&ks, &mut ready, 0, &gauge, |_, _| Some(b"x".to_vec()));
        assert!(s.take().is_none());
        ks.db(0)
            .lock(b"k")
            .set(b"k", Value::Str(CompactBytes::new(b"v")), 0);
        let mut ready = vec![rk("k")];
        b.serve(&ks, &mut ready, 0, &gauge, |_, _| None);
        assert!(s.take().is_none());
        assert_eq!(b.len(), 1);
        assert!(b.unblock(1, true, &gauge));
        assert_eq!(s.take(), Some(Outcome::Unblocked));
        assert!(!b.unblock(1, false, &gauge));
    }

    #[test]
    fn killed_waiters_are_skipped_and_cancel_is_final() {
        let clients = ClientRegistry::default();
        let ks = Keyspace::new(1);
        let gauge = AtomicU64::new(0);
        let b = Blocking::default();
        let w1 = waiter(&clients, &["k"]);
        let h1 = w1.handle.clone();
        let s1 = b.register(w1, &gauge);
        let s2 = b.register(waiter(&clients, &["k"]), &gauge);
        h1.kill();
        ks.db(0)
            .lock(b"k")
            .set(b"k", Value::Str(CompactBytes::new(b"v")), 0);
        let mut ready = vec![rk("k")];
        let mut calls = 0;
        b.serve(&ks, &mut ready, 0, &gauge, |_, _| {
            calls += 1;
            Some(b"x".to_vec())
        });
        assert_eq!(calls, 1);
        assert!(s1.take().is_none());
        assert!(s2.take().is_some());
        let s3 = b.register(waiter(&clients, &["k"]), &gauge);
        b.cancel(3, &gauge);
        let mut ready = vec![rk("k")];
        b.serve(&ks, &mut ready, 0, &gauge, |_, _| Some(b"x".to_vec()));
        assert!(s3.take().is_none());
        assert_eq!(gauge.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn serving_follows_keys_made_ready() {
        let clients = ClientRegistry::default();
        let ks = Keyspace::new(1);
        let gauge = AtomicU64::new(0);
        let b = Blocking::default();
        let s1 = b.register(waiter(&clients, &["src"]), &gauge);
        let s2 = b.register(waiter(&clients, &["dst"]), &gauge);
        ks.db(0)
            .lock(b"src")
            .set(b"src", Value::Str(CompactBytes::new(b"v")), 0);
        ks.db(0)
            .lock(b"dst")
            .set(b"dst", Value::Str(CompactBytes::new(b"v")), 0);
        let mut ready = vec![rk("src")];
        let mut order = Vec::new();
        b.serve(&ks, &mut ready, 0, &gauge, |w, more| {
            order.push(w.client_id);
            if w.client_id == 1 {
                more.push(rk("dst"));
            }
            Some(b"x".to_vec())
        });
        assert_eq!(order, vec![1, 2]);
        assert!(s1.take().is_some() && s2.take().is_some());
    }
}
