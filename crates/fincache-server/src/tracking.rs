//! Server-assisted client-side caching (CLIENT TRACKING), as Redis 7's `tracking.c`.
//!
//! - **Default mode**: for a read-only command of a tracking client, the keys it names (the
//!   command table's key positions) are remembered (before it reads them, see
//!   [`before_command`]) in the tracking table, key → client ids.
//!   The next write to such a key by anyone sends each remembered client one invalidation
//!   message `["invalidate", [key]]` and forgets the key (a client must read it again to be
//!   told again). OPTIN tracks only the command right after `CLIENT CACHING YES`; OPTOUT tracks
//!   all but the command right after `CLIENT CACHING NO`.
//! - **BCAST mode**: no table; a client registers key prefixes (none = every key) and gets, per
//!   write command and prefix, one message listing the written keys under that prefix (sorted,
//!   as Redis's radix tree lists them).
//! - **NOLOOP**: no message about keys the client itself wrote.
//! - Delivery: a RESP3 push on the client's own connection, or with `REDIRECT id` on another
//!   connection: as a push if that one speaks RESP3, as a Pub/Sub `message` on
//!   `__redis__:invalidate` if it is a RESP2 connection in subscribed mode. A redirect target
//!   that went away marks the client `broken_redirect` (and RESP3 clients are told with
//!   `["tracking-redir-broken", id]`).
//! - FLUSHALL and FLUSHDB send every tracking client a null invalidation (everything is
//!   invalid) and empty the table; keys deleted by expiry (and, later, eviction) are
//!   invalidated like writes.
//!
//! Cost: every hook starts with [`Tracking::active`], one relaxed load of the number of
//! tracking clients, so nothing is paid while nobody tracks.
//!
//! Locking (ORDER): a table shard (never two at once) or the prefix table, released before any
//! message is delivered; delivery takes the receiver's push buffer only. Called after the
//! command's handler, so no keyspace shard lock is held.

use crate::client::{flag, ClientHandle, ClientState};
use crate::cmd::registry::CommandRef;
use crate::cmd::spec::{Flags, KeyFlags};
use crate::cmd::ExecCtx;
use crate::pubsub::message::protocol_of;
use crate::server::Server;
use bytes::Bytes;
use fincache_resp::ReplyEncoder;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The channel RESP2 redirect targets receive invalidations on.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// The most keys the tracking table remembers; past it, keys are invalidated to make room.
// COMPAT: Redis's `tracking-table-max-keys` default; FinCache does not offer the setting yet.
pub const MAX_TRACKED_KEYS: usize = 1_000_000;

const TABLE_SHARDS: usize = 16;

type Hasher = foldhash::fast::RandomState;
/// One shard of the tracking table: key → ids of the clients that may cache it.
type KeyTable = HashMap<Box<[u8]>, Vec<u64>, Hasher>;
/// The receivers of one BCAST prefix and the keys to tell them about.
type Broadcast<'k> = (Vec<Arc<ClientHandle>>, Vec<&'k [u8]>);

/// What CLIENT TRACKING ON asked for (validated by the command).
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Client id to send invalidations to (0 = this connection).
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Bytes>,
}

/// A client's own tracking state besides its handle flags.
#[derive(Debug, Default)]
pub struct ClientTracking {
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) was given for the next command.
    pub caching: bool,
    /// The BCAST prefixes, sorted.
    pub prefixes: Vec<Bytes>,
}

/// The server's tracking state.
pub struct Tracking {
    clients: AtomicUsize,
    table: Box<[Mutex<KeyTable>]>,
    keys: AtomicUsize,
    items: AtomicUsize,
    /// BCAST prefix → its clients.
    prefixes: RwLock<BTreeMap<Bytes, Vec<Arc<ClientHandle>>>>,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            clients: AtomicUsize::new(0),
            table: (0..TABLE_SHARDS)
                .map(|_| Mutex::new(HashMap::default()))
                .collect(),
            keys: AtomicUsize::new(0),
            items: AtomicUsize::new(0),
            prefixes: RwLock::new(BTreeMap::new()),
        }
    }
}

impl Tracking {
    /// Whether any client tracks (the only cost the hooks pay otherwise).
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Ordering::Relaxed) != 0
    }

    /// INFO `tracking_clients`.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// INFO `tracking_total_keys`: keys in the table.
    pub fn total_keys(&self) -> usize {
        self.keys.load(Ordering::Relaxed)
    }

    /// INFO `tracking_total_items`: (key, client) pairs in the table.
    pub fn total_items(&self) -> usize {
        self.items.load(Ordering::Relaxed)
    }

    /// INFO `tracking_total_prefixes`.
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.read().len()
    }

    fn shard(&self, key: &[u8]) -> &Mutex<KeyTable> {
        &self.table[crate::store::Db::shard_index(key) % TABLE_SHARDS]
    }
}

/// CLIENT TRACKING ON with checked options (Redis's `enableTracking`): options replace the
/// previous ones; BCAST prefixes add to those already registered.
pub fn enable(server: &Server, client: &mut ClientState, opts: Options) {
    let t = &server.tracking;
    let h = &client.handle;
    if h.flags() & flag::TRACKING == 0 {
        t.clients.fetch_add(1, Ordering::Relaxed);
    }
    for bit in [
        flag::TRACKING_BROKEN_REDIR,
        flag::TRACKING_BCAST,
        flag::TRACKING_OPTIN,
        flag::TRACKING_OPTOUT,
        flag::TRACKING_NOLOOP,
    ] {
        h.set_flag(bit, false);
    }
    h.tracking_redirect.store(opts.redirect, Ordering::Relaxed);
    if opts.bcast {
        h.set_flag(flag::TRACKING_BCAST, true);
        let wanted = if opts.prefixes.is_empty() {
            vec![Bytes::new()]
        } else {
            opts.prefixes
        };
        let mut table = t.prefixes.write();
        for p in wanted {
            if client.tracking.prefixes.contains(&p) {
                continue;
            }
            table.entry(p.clone()).or_default().push(h.clone());
            let at = client.tracking.prefixes.partition_point(|q| q < &p);
            client.tracking.prefixes.insert(at, p);
        }
    }
    h.set_flag(flag::TRACKING_OPTIN, opts.optin);
    h.set_flag(flag::TRACKING_OPTOUT, opts.optout);
    h.set_flag(flag::TRACKING_NOLOOP, opts.noloop);
    h.set_flag(flag::TRACKING, true);
    crate::notify::update_expired_log(server);
}

/// CLIENT TRACKING OFF, RESET and disconnects (Redis's `disableTracking`). The client's keys
/// stay in the table and are dropped lazily when next invalidated.
pub fn disable(server: &Server, client: &mut ClientState) {
    let t = &server.tracking;
    let h = &client.handle;
    let flags = h.flags();
    if flags & flag::TRACKING_BCAST != 0 {
        let mut table = t.prefixes.write();
        for p in std::mem::take(&mut client.tracking.prefixes) {
            if let Some(list) = table.get_mut(&p) {
                list.retain(|c| c.id != client.id);
                if list.is_empty() {
                    table.remove(&p);
                }
            }
        }
    }
    if flags & flag::TRACKING != 0 {
        // The client's keys stay in the table (as in Redis): clearing it here could race with
        // another client remembering a key, which would then never be invalidated.
        t.clients.fetch_sub(1, Ordering::Relaxed);
        for bit in [
            flag::TRACKING,
            flag::TRACKING_BROKEN_REDIR,
            flag::TRACKING_BCAST,
            flag::TRACKING_OPTIN,
            flag::TRACKING_OPTOUT,
            flag::TRACKING_NOLOOP,
        ] {
            h.set_flag(bit, false);
        }
        client.tracking.caching = false;
        crate::notify::update_expired_log(server);
    }
}

/// The dispatcher's hook before a command runs, while someone tracks: remembers the keys a
/// read-only command of this (default mode) client names.
///
/// ORDER: keys are remembered *before* they are read, and invalidated *after* they are written,
/// so a write racing with a read on another thread is never missed: either the writer finds
/// the reader in the table and tells it, or the write happened before the remembering, hence
/// before the read, which then sees the new value. (Remembering after the read, as
/// single-threaded Redis does, would let such a client cache a stale value for good.)
pub fn before_command(ctx: &ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) {
    let flags = cmd.spec.flags;
    // Shard channels are keys to the table, not to caches (Redis skips them too).
    if flags.has(Flags::READONLY) && !flags.has(Flags::PUBSUB) {
        remember(ctx.server, ctx.client, cmd, argv);
    }
}

/// The dispatcher's hook after a command ran, while someone tracks: invalidates the keys a
/// successful write command names, and ends a CLIENT CACHING that applied to this command.
// COMPAT: Redis invalidates a key when a command actually modifies it; FinCache invalidates
// every key a successful write command names (a SET NX that did not set still invalidates).
// Clients only re-read a value they could have kept, never keep a stale one.
pub fn after_command(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]], ok: bool) {
    let server = ctx.server;
    let flags = cmd.spec.flags;
    if ok && flags.has(Flags::WRITE) && !flags.has(Flags::PUBSUB) {
        let keys: Vec<&[u8]> = written_positions(cmd, argv)
            .into_iter()
            .filter_map(|i| argv.get(i).copied())
            .collect();
        if !keys.is_empty() {
            invalidate(server, Some(&ctx.client.handle), &keys, true);
        }
    }
    // CLIENT CACHING applies to the next command only; CLIENT commands keep it.
    let is_client_cmd = cmd.parent.is_some_and(|p| p.name == "client");
    if ctx.client.tracking.caching && !is_client_cmd {
        ctx.client.tracking.caching = false;
    }
}

/// Positions of the keys a write command may change: those of its key specs that are not
/// read-only (all of them for commands that find their keys themselves).
fn written_positions(cmd: CommandRef, argv: &[&[u8]]) -> Vec<usize> {
    if cmd.spec.key_finder.is_some() {
        return cmd.spec.key_positions(argv);
    }
    let specs = cmd.spec.effective_key_specs();
    let changes = KeyFlags(KeyFlags::RW.0 | KeyFlags::OW.0 | KeyFlags::RM.0);
    let mut out = Vec::new();
    for spec in specs.as_slice() {
        if spec.flags.0 & changes.0 != 0 || !spec.flags.has(KeyFlags::RO) {
            spec.positions(argv, &mut out);
        }
    }
    out
}

/// Redis's `trackingRememberKeys` for a default-mode client.
fn remember(server: &Server, client: &ClientState, cmd: CommandRef, argv: &[&[u8]]) {
    let flags = client.handle.flags();
    if flags & flag::TRACKING == 0 || flags & flag::TRACKING_BCAST != 0 {
        return;
    }
    let caching = client.tracking.caching;
    if (flags & flag::TRACKING_OPTIN != 0 && !caching)
        || (flags & flag::TRACKING_OPTOUT != 0 && caching)
    {
        return;
    }
    let t = &server.tracking;
    for pos in cmd.spec.key_positions(argv) {
        let Some(key) = argv.get(pos) else { continue };
        let mut shard = t.shard(key).lock();
        let ids = match shard.get_mut(*key) {
            Some(ids) => ids,
            None => {
                t.keys.fetch_add(1, Ordering::Relaxed);
                shard.entry(Box::from(*key)).or_default()
            }
        };
        if !ids.contains(&client.id) {
            ids.push(client.id);
            t.items.fetch_add(1, Ordering::Relaxed);
        }
    }
    if t.keys.load(Ordering::Relaxed) > MAX_TRACKED_KEYS {
        limit_table(server);
    }
}

/// Redis's `trackingLimitUsedSlots`: invalidates keys (as if modified, without broadcasting)
/// until the table is back under [`MAX_TRACKED_KEYS`].
fn limit_table(server: &Server) {
    let t = &server.tracking;
    for shard in t.table.iter() {
        while t.keys.load(Ordering::Relaxed) > MAX_TRACKED_KEYS {
            let victim = shard.lock().keys().next().cloned();
            let Some(key) = victim else { break };
            invalidate(server, None, &[&key], false);
        }
    }
}

/// A key was modified (or expired, or evicted): tells the clients that may cache it.
/// `writer` is the client that modified it (None for expiry and eviction), which NOLOOP
/// clients are not told about; `bcast` also notifies BCAST clients whose prefix matches.
pub fn invalidate(server: &Server, writer: Option<&ClientHandle>, keys: &[&[u8]], bcast: bool) {
    let t = &server.tracking;
    if !t.active() {
        return;
    }
    if bcast {
        broadcast(server, writer, keys);
    }
    for key in keys {
        let removed = t.shard(key).lock().remove(*key);
        let Some(ids) = removed else { continue };
        t.keys.fetch_sub(1, Ordering::Relaxed);
        t.items.fetch_sub(ids.len(), Ordering::Relaxed);
        for id in ids {
            let Some(target) = server.clients.get(id) else {
                continue;
            };
            let f = target.flags();
            if f & flag::TRACKING == 0 || f & flag::TRACKING_BCAST != 0 {
                continue;
            }
            if f & flag::TRACKING_NOLOOP != 0 && writer.is_some_and(|w| w.id == id) {
                continue;
            }
            send(server, &target, Payload::Keys(&[key]));
        }
    }
}

/// The BCAST part of [`invalidate`]: one message per prefix with the keys under it.
// COMPAT: Redis gathers the keys of a whole event-loop iteration into one message per prefix;
// FinCache sends one per write command.
fn broadcast(server: &Server, writer: Option<&ClientHandle>, keys: &[&[u8]]) {
    let table = server.tracking.prefixes.read();
    if table.is_empty() {
        return;
    }
    let mut sends: Vec<Broadcast<'_>> = Vec::new();
    for (prefix, clients) in table.iter() {
        let mut matched: Vec<&[u8]> = keys
            .iter()
            .copied()
            .filter(|k| k.starts_with(prefix))
            .collect();
        if matched.is_empty() {
            continue;
        }
        matched.sort_unstable();
        matched.dedup();
        let to: Vec<Arc<ClientHandle>> = clients
            .iter()
            .filter(|c| {
                !(c.flags() & flag::TRACKING_NOLOOP != 0 && writer.is_some_and(|w| w.id == c.id))
            })
            .cloned()
            .collect();
        sends.push((to, matched));
    }
    drop(table);
    for (clients, matched) in sends {
        for c in clients {
            send(server, &c, Payload::Keys(&matched));
        }
    }
}

/// FLUSHALL / FLUSHDB: every tracking client gets a null invalidation (all its keys are
/// invalid) and the table is emptied (Redis's `trackingInvalidateKeysOnFlush`).
pub fn invalidate_all(server: &Server) {
    let t = &server.tracking;
    if !t.active() && t.total_keys() == 0 {
        return;
    }
    for h in server.clients.snapshot() {
        if h.flags() & flag::TRACKING != 0 {
            send(server, &h, Payload::All);
        }
    }
    clear_table(t);
}

/// Empties the tracking table.
fn clear_table(t: &Tracking) {
    for shard in t.table.iter() {
        let mut s = shard.lock();
        t.keys.fetch_sub(s.len(), Ordering::Relaxed);
        t.items
            .fetch_sub(s.values().map(Vec::len).sum(), Ordering::Relaxed);
        *s = HashMap::default();
    }
}

/// What an invalidation message names.
enum Payload<'k> {
    Keys(&'k [&'k [u8]]),
    /// Everything (after a flush): a null.
    All,
}

/// Redis's `sendTrackingMessage`: delivers an invalidation for `target`, to it or to its
/// redirect target.
// COMPAT: the null of a flush is encoded in the receiving connection's protocol (Redis uses
// the tracking client's, which can put a RESP3 null inside a RESP2 message).
fn send(server: &Server, target: &ClientHandle, payload: Payload<'_>) {
    let redirect = target.tracking_redirect.load(Ordering::Relaxed);
    let redirected;
    let dest: &ClientHandle = if redirect == 0 {
        target
    } else {
        match server.clients.get(redirect) {
            Some(h) => {
                redirected = h;
                &redirected
            }
            None => {
                target.set_flag(flag::TRACKING_BROKEN_REDIR, true);
                if target.resp.load(Ordering::Relaxed) == 3 {
                    let mut out = ReplyEncoder {
                        buf: Vec::with_capacity(48),
                        proto: fincache_resp::Protocol::Resp3,
                    };
                    out.push_len(2);
                    out.bulk(b"tracking-redir-broken");
                    out.int(i64::try_from(redirect).unwrap_or(i64::MAX));
                    server.pubsub.deliver(target, &out.buf);
                }
                return;
            }
        }
    };
    let proto = protocol_of(dest.resp.load(Ordering::Relaxed));
    let mut out = ReplyEncoder {
        buf: Vec::with_capacity(64),
        proto,
    };
    if out.is_resp3() {
        out.push_len(2);
        out.bulk(b"invalidate");
    } else if redirect != 0 && dest.flags() & flag::PUBSUB != 0 {
        out.array_len(3);
        out.bulk(crate::pubsub::message::MESSAGE);
        out.bulk(INVALIDATE_CHANNEL);
    } else {
        // A RESP2 connection cannot receive pushes outside subscribed mode.
        return;
    }
    match payload {
        Payload::Keys(keys) => {
            out.array_len(keys.len());
            for k in keys {
                out.bulk(k);
            }
        }
        Payload::All => out.null(),
    }
    server.pubsub.deliver(dest, &out.buf);
}
