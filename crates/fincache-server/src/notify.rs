//! Keyspace notifications (`notify-keyspace-events`), as Redis 7's `notify.c`, and the
//! dispatcher's after-command hook that also feeds client-side caching ([`crate::tracking`]).
//!
//! A family raises an event with [`ExecCtx::notify`] (`ctx.notify(NotifyClass::String, "set",
//! key)`), using Redis's event names. The call costs one relaxed atomic load when the class is
//! off. Wanted events are queued on the client and published by [`after_command`] once the
//! handler returned and its shard locks are released: to `__keyspace@<db>__:<key>` (message:
//! the event) with `K`, and to `__keyevent@<db>__:<event>` (message: the key) with `E`, in that
//! order, as Redis publishes them.
//!
//! `expired` events come from the shards' expired-key logs ([`Shard::set_record_expired`]),
//! which are on only while something consumes them (an `x` class or a tracking client):
//! - lazy expiry during a command: drained right after it from the shards of its keys (every
//!   shard of the database for keyless commands such as SCAN and RANDOMKEY, of every database
//!   for commands that span databases), and published before the command's own events, the
//!   order Redis publishes them in (a lookup expires the key before the command changes it);
//! - active expiry, and anything missed above (a key of another database): drained by the cron
//!   right after each active expiry cycle ([`drain_all_expired`]).
//!
//! `evicted` events: eviction calls [`key_evicted`] for every key it removes.
//!
//! ORDER: no shard lock is held while publishing; each drain locks one shard at a time.
//!
//! COMPAT: each client's events are published in the order its commands ran, but events that
//! two clients raise on the same key at the same moment may be published in the other order
//! than the writes took effect (Redis, single-threaded, publishes in execution order).
//!
//! [`ExecCtx::notify`]: crate::cmd::ExecCtx::notify
//! [`Shard::set_record_expired`]: crate::store::Shard::set_record_expired

use crate::cmd::registry::CommandRef;
use crate::cmd::spec::Flags;
use crate::cmd::ExecCtx;
use crate::server::Server;
use crate::store::SHARDS_PER_DB;
use fincache_types::CompactBytes;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Redis's `NOTIFY_*` bits.
mod bits {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 12;
    pub const NEW: u32 = 1 << 13;
    /// `A`: every class but key-miss and new-key events.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// The class of a keyspace event (the letter that enables it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyClass {
    /// `g`: DEL, EXPIRE, RENAME, … (type-independent commands).
    Generic,
    /// `$`
    String,
    /// `l`
    List,
    /// `s`
    Set,
    /// `h`
    Hash,
    /// `z`
    Zset,
    /// `x`: a key deleted because its TTL passed.
    Expired,
    /// `e`: a key evicted by `maxmemory`.
    Evicted,
    /// `t`
    Stream,
    /// `m`: a read of a missing key (`keymiss`).
    KeyMiss,
    /// `d`
    Module,
    /// `n`: a key added to the database (`new`).
    New,
}

impl NotifyClass {
    pub const fn bit(self) -> u32 {
        match self {
            NotifyClass::Generic => bits::GENERIC,
            NotifyClass::String => bits::STRING,
            NotifyClass::List => bits::LIST,
            NotifyClass::Set => bits::SET,
            NotifyClass::Hash => bits::HASH,
            NotifyClass::Zset => bits::ZSET,
            NotifyClass::Expired => bits::EXPIRED,
            NotifyClass::Evicted => bits::EVICTED,
            NotifyClass::Stream => bits::STREAM,
            NotifyClass::KeyMiss => bits::KEY_MISS,
            NotifyClass::Module => bits::MODULE,
            NotifyClass::New => bits::NEW,
        }
    }
}

/// Redis's `keyspaceEventsStringToFlags` on an already validated value.
pub fn parse_flags(classes: &str) -> u32 {
    classes.chars().fold(0, |acc, c| {
        acc | match c {
            'A' => bits::ALL,
            'g' => bits::GENERIC,
            '$' => bits::STRING,
            'l' => bits::LIST,
            's' => bits::SET,
            'h' => bits::HASH,
            'z' => bits::ZSET,
            'x' => bits::EXPIRED,
            'e' => bits::EVICTED,
            'K' => bits::KEYSPACE,
            'E' => bits::KEYEVENT,
            't' => bits::STREAM,
            'm' => bits::KEY_MISS,
            'd' => bits::MODULE,
            'n' => bits::NEW,
            _ => 0,
        }
    })
}

/// One event raised by a command, published after it.
#[derive(Debug)]
pub struct KeyEvent {
    pub db: usize,
    pub event: &'static str,
    pub key: CompactBytes,
}

/// The server's notification settings and the expired-key log switch.
#[derive(Debug, Default)]
pub struct Notifier {
    /// Class bits plus K/E; 0 when neither K nor E is set (nothing would be published).
    flags: AtomicU32,
    /// Whether the shards log expired keys for [`after_command`] and the cron to drain.
    expired_log: AtomicBool,
    /// Serialises turning the logs on and off.
    toggle: Mutex<()>,
}

impl Notifier {
    /// Whether events of `class` are published (one relaxed load).
    #[inline]
    pub fn wants(&self, class: NotifyClass) -> bool {
        self.flags.load(Ordering::Relaxed) & class.bit() != 0
    }

    /// Whether the shards log expired keys.
    #[inline]
    pub fn logging_expired(&self) -> bool {
        self.expired_log.load(Ordering::Relaxed)
    }
}

/// Applies `notify-keyspace-events` (at start and after CONFIG SET, from the configuration
/// mirror refresh).
pub fn refresh(server: &Server) {
    let mut flags = parse_flags(&server.config.read().notify_keyspace_events);
    if flags & (bits::KEYSPACE | bits::KEYEVENT) == 0 {
        flags = 0;
    }
    server.notify.flags.store(flags, Ordering::Relaxed);
    update_expired_log(server);
}

/// Turns the shards' expired-key logs on while something consumes them (`expired` events or a
/// tracking client) and off otherwise, so an undrained log never grows. Must not be called
/// with a shard lock held (it locks every shard in turn).
pub fn update_expired_log(server: &Server) {
    let want = || server.notify.wants(NotifyClass::Expired) || server.tracking.active();
    if want() == server.notify.logging_expired() {
        return;
    }
    let _toggle = server.notify.toggle.lock();
    let on = want();
    if on == server.notify.logging_expired() {
        return;
    }
    for db in server.keyspace.dbs() {
        for i in 0..SHARDS_PER_DB {
            db.lock_shard(i).set_record_expired(on);
        }
    }
    server.notify.expired_log.store(on, Ordering::Relaxed);
}

/// Whether [`after_command`] has anything to do (three relaxed loads on the fast path).
#[inline]
pub fn hooks_wanted(ctx: &ExecCtx<'_>) -> bool {
    ctx.server.notify.logging_expired()
        || ctx.server.tracking.active()
        || !ctx.client.events.borrow().is_empty()
}

/// Runs after a command (the dispatcher's hook): publishes the keys its lookups expired, then
/// its own events, then lets client-side caching see it.
pub fn after_command(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]], ok: bool) {
    let server = ctx.server;
    let flags = cmd.spec.flags;
    let keyed =
        (flags.has(Flags::WRITE) || flags.has(Flags::READONLY)) && !flags.has(Flags::PUBSUB);
    if keyed && server.notify.logging_expired() {
        let db = ctx.client.db;
        if flags.has(Flags::EXCLUSIVE) {
            drain_all_expired(server);
        } else {
            let positions = cmd.spec.key_positions(argv);
            let mut shards = [positions.is_empty(); SHARDS_PER_DB];
            for key in positions.iter().filter_map(|&i| argv.get(i)) {
                shards[crate::store::Db::shard_index(key)] = true;
            }
            drain_shards(server, db, &shards);
        }
    }
    let events = std::mem::take(&mut *ctx.client.events.borrow_mut());
    for e in &events {
        publish(server, e.db, e.event, &e.key);
    }
    if server.tracking.active() {
        crate::tracking::after_command(ctx, cmd, argv, ok);
    }
}

/// Drains the expired-key logs of the chosen shards of database `db` and announces the keys.
fn drain_shards(server: &Server, db: usize, shards: &[bool; SHARDS_PER_DB]) {
    let database = server.keyspace.db(db);
    for (i, _) in shards.iter().enumerate().filter(|(_, on)| **on) {
        let expired = {
            let mut shard = database.lock_shard(i);
            if !shard.has_expired_log() {
                continue;
            }
            shard.drain_expired_log()
        };
        for key in expired {
            key_expired(server, db, &key);
        }
    }
}

/// Drains every shard's expired-key log (the cron, after active expiry). Costs one lock per
/// shard while the logs are on, nothing otherwise.
pub fn drain_all_expired(server: &Server) {
    if !server.notify.logging_expired() {
        return;
    }
    for db in 0..server.keyspace.db_count() {
        drain_shards(server, db, &[true; SHARDS_PER_DB]);
    }
}

/// A key was deleted because its TTL passed: `expired` event, and tracking invalidation.
pub fn key_expired(server: &Server, db: usize, key: &[u8]) {
    if server.notify.wants(NotifyClass::Expired) {
        publish(server, db, "expired", key);
    }
    crate::tracking::invalidate(server, None, &[key], true);
}

/// HOOK for eviction (`maxmemory`): call for every key evicted, after releasing its shard
/// lock. Publishes the `evicted` event and invalidates the key for tracking clients, as Redis's
/// `performEvictions` does.
pub fn key_evicted(server: &Server, db: usize, key: &[u8]) {
    if server.notify.wants(NotifyClass::Evicted) {
        publish(server, db, "evicted", key);
    }
    crate::tracking::invalidate(server, None, &[key], true);
}

/// Publishes one event on the keyspace and/or keyevent channel (Redis's `notifyKeyspaceEvent`
/// after its class check).
fn publish(server: &Server, db: usize, event: &str, key: &[u8]) {
    let flags = server.notify.flags.load(Ordering::Relaxed);
    let mut dbbuf = itoa::Buffer::new();
    let db = dbbuf.format(db).as_bytes();
    let channel = |kind: &[u8], tail: &[u8]| {
        let mut ch = Vec::with_capacity(16 + db.len() + tail.len());
        ch.extend_from_slice(kind);
        ch.extend_from_slice(db);
        ch.extend_from_slice(b"__:");
        ch.extend_from_slice(tail);
        ch
    };
    if flags & bits::KEYSPACE != 0 {
        let ch = channel(b"__keyspace@", key);
        server.pubsub.publish(&ch, event.as_bytes());
    }
    if flags & bits::KEYEVENT != 0 {
        let ch = channel(b"__keyevent@", event.as_bytes());
        server.pubsub.publish(&ch, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_letters() {
        assert_eq!(parse_flags(""), 0);
        assert_eq!(parse_flags("KEA") & bits::ALL, bits::ALL);
        assert_eq!(parse_flags("A") & bits::KEY_MISS, 0);
        assert_eq!(parse_flags("A") & bits::NEW, 0);
        assert_eq!(
            parse_flags("Egx$"),
            bits::KEYEVENT | bits::GENERIC | bits::EXPIRED | bits::STRING
        );
        assert_eq!(parse_flags("Km"), bits::KEYSPACE | bits::KEY_MISS);
    }
}
