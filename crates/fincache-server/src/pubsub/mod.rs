//! Pub/Sub: the server's channel, pattern and shard-channel tables, message fan-out, and the
//! output limits that keep a slow subscriber from growing memory without bound.
//!
//! Mirrors Redis 7's `pubsub.c`:
//! - a client's subscriptions live in its [`ClientState`] ([`ClientSubs`], insertion-ordered);
//!   the server keeps, per channel / pattern / shard channel, its subscribers in subscription
//!   order. A name with no subscriber left is removed, so PUBSUB CHANNELS lists active ones;
//! - PUBLISH delivers to the channel's subscribers first, then to every pattern that matches
//!   (Redis's `stringmatchlen`, [`glob_match`]), once per (pattern, client); SPUBLISH only to
//!   the shard channel's subscribers. The reply is the number of deliveries;
//! - the subscription count in (un)subscribe replies is channels + patterns for SUBSCRIBE and
//!   PSUBSCRIBE, shard channels only for SSUBSCRIBE, as Redis counts them.
//!
//! Delivery appends the frame (encoded once per protocol, [`message::PerProtocol`]) to each
//! subscriber's push buffer ([`ClientHandle::push_limited`]) under its
//! `client-output-buffer-limit` class: `pubsub` while it is subscribed, `normal` otherwise
//! (tracking invalidations to a RESP3 client). A subscriber past the hard limit, or over the
//! soft limit for longer than its seconds, is disconnected and logged.
//!
//! Locking (ORDER): a table lock (read to publish, write to (un)subscribe), then a subscriber's
//! push buffer. Nothing here takes a shard lock, so keyspace notifications may publish while
//! the keyspace gate is held. No lock is held across I/O: the connection task writes.
//!
//! Messages from one publisher reach each subscriber in publishing order: each PUBLISH appends
//! to the buffers before it replies.

pub mod message;

use crate::client::{flag, ClientHandle, ClientState};
use crate::config::OutputBufferLimit;
use crate::server::now_ms;
use bytes::Bytes;
use fincache_types::glob_match;
use indexmap::{IndexMap, IndexSet};
use message::{protocol_of, PerProtocol};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

type Hasher = foldhash::fast::RandomState;
/// The subscribers of one name, in subscription order.
type Subscribers = IndexMap<u64, Arc<ClientHandle>, Hasher>;

/// The most a client may have pending when its class has no hard limit (`0`).
// COMPAT: Redis's `normal` class is unlimited by default (and any class may be set to 0); an
// unread stream of messages or invalidations would then grow without bound, so FinCache caps
// every class at 64 MiB unless a larger hard limit is configured.
pub const UNLIMITED_CLASS_CAP: u64 = 64 * 1024 * 1024;

/// Which table a name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

/// A client's subscription counts, readable by other clients (CLIENT LIST).
#[derive(Debug, Default)]
pub struct SubCounts {
    channels: AtomicUsize,
    patterns: AtomicUsize,
    shard: AtomicUsize,
}

impl SubCounts {
    pub fn channels(&self) -> usize {
        self.channels.load(Ordering::Relaxed)
    }
    pub fn patterns(&self) -> usize {
        self.patterns.load(Ordering::Relaxed)
    }
    pub fn shard_channels(&self) -> usize {
        self.shard.load(Ordering::Relaxed)
    }
}

/// One client's subscriptions, owned by its connection task.
#[derive(Debug, Default)]
pub struct ClientSubs {
    channels: IndexSet<Bytes, Hasher>,
    patterns: IndexSet<Bytes, Hasher>,
    shard: IndexSet<Bytes, Hasher>,
}

impl ClientSubs {
    fn set(&self, kind: Kind) -> &IndexSet<Bytes, Hasher> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn set_mut(&mut self, kind: Kind) -> &mut IndexSet<Bytes, Hasher> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count an (un)subscribe reply of `kind` shows: channels + patterns, or shard
    /// channels (Redis's `clientSubscriptionsCount` / `clientShardSubscriptionsCount`).
    pub fn reply_count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard.len(),
        }
    }

    /// Whether the client is subscribed to anything (Redis's `CLIENT_PUBSUB`).
    #[inline]
    pub fn any(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }

    /// The names of `kind` the client is subscribed to, in subscription order.
    pub fn names(&self, kind: Kind) -> Vec<Bytes> {
        self.set(kind).iter().cloned().collect()
    }
}

/// The server's Pub/Sub state.
pub struct PubSub {
    channels: RwLock<HashMap<Bytes, Subscribers, Hasher>>,
    /// Ordered, so a client subscribed to several matching patterns gets them in order.
    patterns: RwLock<IndexMap<Bytes, Subscribers, Hasher>>,
    shard_channels: RwLock<HashMap<Bytes, Subscribers, Hasher>>,
    /// Distinct patterns; PUBLISH skips the pattern scan while it is 0.
    pattern_count: AtomicUsize,
    /// `client-output-buffer-limit`, mirrored from the configuration.
    limits: RwLock<[OutputBufferLimit; 3]>,
}

impl PubSub {
    pub fn new(limits: [OutputBufferLimit; 3]) -> Self {
        PubSub {
            channels: RwLock::new(HashMap::default()),
            patterns: RwLock::new(IndexMap::default()),
            shard_channels: RwLock::new(HashMap::default()),
            pattern_count: AtomicUsize::new(0),
            limits: RwLock::new(limits),
        }
    }

    /// Applies a changed `client-output-buffer-limit` (from the configuration mirror refresh).
    pub fn set_output_limits(&self, limits: [OutputBufferLimit; 3]) {
        *self.limits.write() = limits;
    }

    /// The limits of the normal and the pubsub class, with the COMPAT cap applied.
    fn class_limits(&self) -> ClassLimits {
        let l = self.limits.read();
        let capped = |mut c: OutputBufferLimit| {
            if c.hard_bytes == 0 {
                c.hard_bytes = UNLIMITED_CLASS_CAP;
            }
            c
        };
        ClassLimits {
            normal: capped(l[0]),
            pubsub: capped(l[2]),
            now_ms: now_ms(),
        }
    }

    /// Checks a batch of replies about to be written (`reply_bytes`, plus whatever is queued)
    /// against the client's class limit, as Redis checks every reply it buffers. A client over
    /// it is killed (and logged) and false is returned: its replies are not sent. Unlike
    /// deliveries, replies are not capped when the class has no limit (a large reply a client
    /// asked for is its own business).
    pub fn check_replies(&self, client: &ClientHandle, reply_bytes: usize) -> bool {
        let limit = {
            let l = self.limits.read();
            if client.flags() & flag::PUBSUB != 0 {
                l[2]
            } else {
                l[0]
            }
        };
        if limit.hard_bytes == 0 && limit.soft_bytes == 0 {
            return true;
        }
        let pending = reply_bytes.saturating_add(client.pending_output());
        match client.output_limit_reached(pending, &limit, now_ms()) {
            None => true,
            Some(reason) => {
                client.kill_for_output_limit(&reason);
                false
            }
        }
    }

    /// Appends one out-of-band frame to a client's output under its class limits. Used by
    /// PUBLISH and by client-side caching invalidations.
    pub fn deliver(&self, to: &ClientHandle, frame: &[u8]) {
        self.class_limits().deliver(to, frame);
    }

    /// `PUBLISH channel message`: delivers to the channel's subscribers and to the clients of
    /// every matching pattern. Returns the number of deliveries.
    pub fn publish(&self, channel: &[u8], payload: &[u8]) -> usize {
        let limits = self.class_limits();
        let mut receivers = 0;
        {
            let table = self.channels.read();
            if let Some(subs) = table.get(channel) {
                let mut frame = PerProtocol::default();
                for h in subs.values() {
                    let bytes = frame.get(protocol_of(h.resp.load(Ordering::Relaxed)), |p| {
                        message::message(p, message::MESSAGE, channel, payload)
                    });
                    limits.deliver(h, bytes);
                    receivers += 1;
                }
            }
        }
        if self.pattern_count.load(Ordering::Relaxed) == 0 {
            return receivers;
        }
        let patterns = self.patterns.read();
        for (pattern, subs) in patterns.iter() {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            let mut frame = PerProtocol::default();
            for h in subs.values() {
                let bytes = frame.get(protocol_of(h.resp.load(Ordering::Relaxed)), |p| {
                    message::pmessage(p, pattern, channel, payload)
                });
                limits.deliver(h, bytes);
                receivers += 1;
            }
        }
        receivers
    }

    /// `SPUBLISH shardchannel message`: delivers to the shard channel's subscribers (patterns
    /// do not apply). Returns the number of deliveries.
    pub fn spublish(&self, channel: &[u8], payload: &[u8]) -> usize {
        let limits = self.class_limits();
        let table = self.shard_channels.read();
        let Some(subs) = table.get(channel) else {
            return 0;
        };
        let mut frame = PerProtocol::default();
        for h in subs.values() {
            let bytes = frame.get(protocol_of(h.resp.load(Ordering::Relaxed)), |p| {
                message::message(p, message::SMESSAGE, channel, payload)
            });
            limits.deliver(h, bytes);
        }
        subs.len()
    }

    fn add(&self, kind: Kind, name: Bytes, client: &Arc<ClientHandle>) {
        let entry = |subs: &mut Subscribers| {
            subs.insert(client.id, client.clone());
        };
        match kind {
            Kind::Channel => entry(self.channels.write().entry(name).or_default()),
            Kind::Shard => entry(self.shard_channels.write().entry(name).or_default()),
            Kind::Pattern => {
                let mut table = self.patterns.write();
                entry(table.entry(name).or_default());
                self.pattern_count.store(table.len(), Ordering::Relaxed);
            }
        }
    }

    fn remove(&self, kind: Kind, name: &[u8], id: u64) {
        match kind {
            Kind::Channel => remove_from(&mut self.channels.write(), name, id),
            Kind::Shard => remove_from(&mut self.shard_channels.write(), name, id),
            Kind::Pattern => {
                let mut table = self.patterns.write();
                if let Some(subs) = table.get_mut(name) {
                    subs.shift_remove(&id);
                    if subs.is_empty() {
                        // Keep the others in subscription order.
                        table.shift_remove(name);
                    }
                }
                self.pattern_count.store(table.len(), Ordering::Relaxed);
            }
        }
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: the active names, optionally filtered by a glob.
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let keep = |name: &Bytes| pattern.is_none_or(|p| glob_match(p, name, false));
        match kind {
            Kind::Channel => self
                .channels
                .read()
                .keys()
                .filter(|n| keep(n))
                .cloned()
                .collect(),
            Kind::Shard => self
                .shard_channels
                .read()
                .keys()
                .filter(|n| keep(n))
                .cloned()
                .collect(),
            Kind::Pattern => self
                .patterns
                .read()
                .keys()
                .filter(|n| keep(n))
                .cloned()
                .collect(),
        }
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: the subscribers of one channel (patterns not counted).
    pub fn subscribers(&self, kind: Kind, name: &[u8]) -> usize {
        let count = |t: &HashMap<Bytes, Subscribers, Hasher>| t.get(name).map_or(0, |s| s.len());
        match kind {
            Kind::Channel => count(&self.channels.read()),
            Kind::Shard => count(&self.shard_channels.read()),
            Kind::Pattern => self.patterns.read().get(name).map_or(0, |s| s.len()),
        }
    }

    /// INFO `pubsub_channels` / `pubsub_patterns` / `pubsubshard_channels`, and PUBSUB NUMPAT.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel => self.channels.read().len(),
            Kind::Pattern => self.pattern_count.load(Ordering::Relaxed),
            Kind::Shard => self.shard_channels.read().len(),
        }
    }
}

fn remove_from(table: &mut HashMap<Bytes, Subscribers, Hasher>, name: &[u8], id: u64) {
    if let Some(subs) = table.get_mut(name) {
        subs.shift_remove(&id);
        if subs.is_empty() {
            table.remove(name);
        }
    }
}

/// The limits one delivery round applies, read once per PUBLISH.
struct ClassLimits {
    normal: OutputBufferLimit,
    pubsub: OutputBufferLimit,
    now_ms: u64,
}

impl ClassLimits {
    fn deliver(&self, to: &ClientHandle, frame: &[u8]) {
        let limit = if to.flags() & flag::PUBSUB != 0 {
            &self.pubsub
        } else {
            &self.normal
        };
        // A client over its limit is killed by `push_limited` (and logged there); its task
        // then unsubscribes it. The delivery still counts, as in Redis.
        let _ = to.push_limited(frame, limit, self.now_ms);
    }
}

/// Subscribes the client to `name`; returns false if it already was. Updates the counts others
/// see and the PUBSUB flag.
pub fn subscribe(pubsub: &PubSub, client: &mut ClientState, kind: Kind, name: &[u8]) -> bool {
    if client.subs.set(kind).contains(name) {
        return false;
    }
    let name = Bytes::copy_from_slice(name);
    client.subs.set_mut(kind).insert(name.clone());
    pubsub.add(kind, name, &client.handle);
    publish_counts(client);
    true
}

/// Unsubscribes the client from `name`; returns false if it was not subscribed.
pub fn unsubscribe(pubsub: &PubSub, client: &mut ClientState, kind: Kind, name: &[u8]) -> bool {
    if !client.subs.set_mut(kind).shift_remove(name) {
        return false;
    }
    pubsub.remove(kind, name, client.id);
    publish_counts(client);
    true
}

/// Drops every subscription (disconnect, RESET), without replies.
pub fn release_client(pubsub: &PubSub, client: &mut ClientState) {
    if !client.subs.any() {
        return;
    }
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in client.subs.names(kind) {
            unsubscribe(pubsub, client, kind, &name);
        }
    }
}

/// Mirrors the client's subscription counts into its handle and sets or clears its PUBSUB
/// flag (CLIENT LIST `sub`/`psub`/`ssub`, flag `P`, CLIENT KILL TYPE PUBSUB, and the output
/// limit class).
fn publish_counts(client: &ClientState) {
    let (subs, counts) = (&client.subs, &client.handle.subs);
    counts
        .channels
        .store(subs.channels.len(), Ordering::Relaxed);
    counts
        .patterns
        .store(subs.patterns.len(), Ordering::Relaxed);
    counts.shard.store(subs.shard.len(), Ordering::Relaxed);
    client.handle.set_flag(flag::PUBSUB, subs.any());
}

/// Whether a RESP2 client in subscribed mode may run this command (Redis's `processCommand`
/// list): (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET.
pub fn allowed_when_subscribed(name: &str, is_subcommand: bool) -> bool {
    !is_subcommand
        && matches!(
            name,
            "subscribe"
                | "ssubscribe"
                | "psubscribe"
                | "unsubscribe"
                | "sunsubscribe"
                | "punsubscribe"
                | "ping"
                | "quit"
                | "reset"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientRegistry;
    use crate::config::value::DEFAULT_OUTPUT_BUFFER_LIMITS;

    fn client(reg: &ClientRegistry) -> ClientState {
        ClientState::new(reg.register(None, None, -1, 0))
    }

    #[test]
    fn publish_counts_channel_and_pattern_deliveries() {
        let ps = PubSub::new(DEFAULT_OUTPUT_BUFFER_LIMITS);
        let reg = ClientRegistry::default();
        let mut a = client(&reg);
        let mut b = client(&reg);
        assert!(subscribe(&ps, &mut a, Kind::Channel, b"news"));
        assert!(!subscribe(&ps, &mut a, Kind::Channel, b"news"));
        assert!(subscribe(&ps, &mut a, Kind::Pattern, b"n*"));
        assert!(subscribe(&ps, &mut b, Kind::Pattern, b"n*"));
        assert_eq!(ps.publish(b"news", b"hi"), 3);
        assert_eq!(ps.publish(b"other", b"hi"), 0);
        assert_eq!(ps.count(Kind::Pattern), 1);
        let got = a.handle.take_pushes();
        assert!(got.starts_with(b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n*4\r\n"));
        assert_eq!(a.handle.subs.channels(), 1);
        assert!(a.handle.flags() & flag::PUBSUB != 0);
        release_client(&ps, &mut a);
        assert!(a.handle.flags() & flag::PUBSUB == 0);
        assert_eq!(ps.count(Kind::Channel), 0);
        assert_eq!(ps.publish(b"news", b"x"), 1);
    }

    #[test]
    fn shard_channels_are_separate() {
        let ps = PubSub::new(DEFAULT_OUTPUT_BUFFER_LIMITS);
        let reg = ClientRegistry::default();
        let mut a = client(&reg);
        subscribe(&ps, &mut a, Kind::Shard, b"s");
        assert_eq!(a.subs.reply_count(Kind::Shard), 1);
        assert_eq!(a.subs.reply_count(Kind::Channel), 0);
        assert_eq!(ps.publish(b"s", b"x"), 0);
        assert_eq!(ps.spublish(b"s", b"x"), 1);
        assert_eq!(ps.subscribers(Kind::Shard, b"s"), 1);
        assert_eq!(
            ps.active(Kind::Shard, Some(b"s*")),
            vec![Bytes::from_static(b"s")]
        );
    }

    #[test]
    fn a_subscriber_over_the_hard_limit_is_killed() {
        let mut limits = DEFAULT_OUTPUT_BUFFER_LIMITS;
        limits[2].hard_bytes = 1000;
        let ps = PubSub::new(limits);
        let reg = ClientRegistry::default();
        let mut a = client(&reg);
        subscribe(&ps, &mut a, Kind::Channel, b"c");
        for _ in 0..100 {
            ps.publish(b"c", &[b'x'; 100]);
        }
        assert!(a.handle.is_killed());
        assert!(a.handle.pending_output() < 1000);
    }
}
