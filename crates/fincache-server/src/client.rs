//! Per-client state: what a connection's commands read and change (`ClientState`, owned by the
//! connection task) and what other clients may see or act on (`ClientHandle`, shared through the
//! [`ClientRegistry`] for CLIENT LIST/KILL/INFO, MONITOR and, later, Pub/Sub delivery).
//!
//! Also the server-wide [`ClientPause`] of CLIENT PAUSE / UNPAUSE.
//!
//! Invariants: a `ClientHandle`'s atomics are written only by its own connection task (except
//! `killed` and the push buffer, which others write); readers treat them as a snapshot that may be
//! one batch old. The push buffer is bounded: a producer that would exceed the bound kills the
//! client instead of buffering without limit.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// What a client's own commands may change; lives in the connection task, no locks.
#[derive(Debug)]
pub struct ClientState {
    pub id: u64,
    /// The selected database.
    pub db: usize,
    pub handle: Arc<ClientHandle>,
    /// Set by QUIT-style commands: close after the pending replies are written.
    pub close_after_reply: bool,
    /// Whether the client passed AUTH (or connected while no password was required).
    pub authenticated: bool,
    /// In MONITOR mode: receives every command others run, may not touch the keyspace.
    pub monitor: bool,
    /// CLIENT REPLY OFF: no replies at all until CLIENT REPLY ON.
    pub reply_off: bool,
    /// CLIENT REPLY SKIP took effect: the reply of the command now running is dropped.
    pub reply_skip: bool,
    /// CLIENT REPLY SKIP was just given: drop the reply of the next command.
    pub reply_skip_next: bool,
    /// Blocking commands may not block (MULTI/EXEC and scripts set it while they run): they
    /// answer as on timeout instead, as Redis's `CLIENT_DENY_BLOCKING`.
    pub deny_blocking: bool,
    /// MULTI queue and WATCHed keys ([`crate::cmd::family::tx`]).
    pub tx: crate::cmd::family::tx::TxState,
    /// Set while a Lua script this client runs executes its `redis.call`s (MONITOR shows them
    /// as `lua`).
    pub in_script: bool,
    /// Blocking-command state: a pending block request, keys signalled ready, the wait in
    /// progress (see `store::blocking`).
    pub blocking: crate::store::blocking::ClientBlocking,
    /// Pub/Sub subscriptions (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE).
    pub subs: crate::pubsub::ClientSubs,
    /// Client-side caching state besides the handle's tracking flags (CLIENT TRACKING).
    pub tracking: crate::tracking::ClientTracking,
    /// Keyspace events the running command raised, published once it finished
    /// ([`crate::notify`]); empty unless `notify-keyspace-events` is on.
    pub events: std::cell::RefCell<Vec<crate::notify::KeyEvent>>,
}

impl ClientState {
    pub fn new(handle: Arc<ClientHandle>) -> Self {
        ClientState {
            id: handle.id,
            db: 0,
            handle,
            close_after_reply: false,
            authenticated: true,
            monitor: false,
            reply_off: false,
            reply_skip: false,
            reply_skip_next: false,
            deny_blocking: false,
            tx: Default::default(),
            in_script: false,
            blocking: Default::default(),
            subs: Default::default(),
            tracking: Default::default(),
            events: Default::default(),
        }
    }

    /// Whether replies of the command that just ran must be dropped (CLIENT REPLY OFF/SKIP).
    #[inline]
    pub fn replies_suppressed(&self) -> bool {
        self.reply_off || self.reply_skip
    }

    /// Called after each command: a SKIP given by this command applies to the next one only.
    #[inline]
    pub fn advance_reply_skip(&mut self) {
        self.reply_skip = self.reply_skip_next;
        self.reply_skip_next = false;
    }

    /// Whether the idle `timeout` may close this client. Redis exempts replicas (MONITOR clients
    /// are flagged as replicas), blocked and Pub/Sub clients.
    pub fn idle_timeout_applies(&self) -> bool {
        !self.monitor && self.handle.flags() & (flag::BLOCKED | flag::PUBSUB) == 0
    }
}

/// Bits of [`ClientHandle::flags`], shown by CLIENT LIST as Redis's flag letters.
pub mod flag {
    /// MONITOR mode (`O`).
    pub const MONITOR: u32 = 1 << 0;
    /// Subscribed to a channel or pattern (`P`).
    pub const PUBSUB: u32 = 1 << 1;
    /// Inside MULTI (`x`).
    pub const MULTI: u32 = 1 << 2;
    /// Blocked or waiting for a CLIENT PAUSE to end (`b`).
    pub const BLOCKED: u32 = 1 << 3;
    /// A WATCHed key changed (`d`).
    pub const DIRTY_CAS: u32 = 1 << 4;
    /// Closes once its reply is written (`c`).
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 5;
    /// CLIENT NO-EVICT ON (`e`).
    pub const NO_EVICT: u32 = 1 << 6;
    /// CLIENT TRACKING ON (`t`).
    pub const TRACKING: u32 = 1 << 7;
    /// The REDIRECT target of tracking went away (`R`).
    pub const TRACKING_BROKEN_REDIR: u32 = 1 << 8;
    /// Tracking in BCAST mode (`B`).
    pub const TRACKING_BCAST: u32 = 1 << 9;
    /// Tracking options Redis does not show as letters.
    pub const TRACKING_OPTIN: u32 = 1 << 10;
    pub const TRACKING_OPTOUT: u32 = 1 << 11;
    pub const TRACKING_NOLOOP: u32 = 1 << 12;

    /// In the order Redis prints them (`catClientInfoString`).
    pub(crate) const LETTERS: &[(u32, char)] = &[
        (MONITOR, 'O'),
        (PUBSUB, 'P'),
        (MULTI, 'x'),
        (BLOCKED, 'b'),
        (TRACKING, 't'),
        (TRACKING_BROKEN_REDIR, 'R'),
        (TRACKING_BCAST, 'B'),
        (DIRTY_CAS, 'd'),
        (CLOSE_AFTER_REPLY, 'c'),
        (NO_EVICT, 'e'),
    ];
}

/// Client types of CLIENT LIST TYPE / CLIENT KILL TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    Master,
    Pubsub,
}

impl ClientType {
    /// Redis's `getClientTypeByName` (`slave` is an alias of `replica`).
    pub fn parse(name: &[u8]) -> Option<ClientType> {
        let t = match name.to_ascii_lowercase().as_slice() {
            b"normal" => ClientType::Normal,
            b"slave" | b"replica" => ClientType::Replica,
            b"master" => ClientType::Master,
            b"pubsub" => ClientType::Pubsub,
            _ => return None,
        };
        Some(t)
    }
}

/// The part of a client other clients can see (CLIENT LIST) or act on (CLIENT KILL, MONITOR
/// feeds, Pub/Sub messages).
#[derive(Debug)]
pub struct ClientHandle {
    pub id: u64,
    pub addr: Option<SocketAddr>,
    pub local_addr: Option<SocketAddr>,
    /// The socket's file descriptor (-1 when unknown), shown as `fd=`.
    pub fd: i64,
    /// Unix milliseconds of connection.
    pub created_ms: u64,
    /// Unix milliseconds of the last read or write.
    pub last_interaction_ms: AtomicU64,
    /// [`flag`] bits.
    flags: AtomicU32,
    /// The selected database, refreshed after every batch of commands.
    pub db: AtomicUsize,
    /// 2 or 3 (HELLO).
    pub resp: AtomicU8,
    /// Registry id + 1 of the last command (0 = none yet), shown as `cmd=`.
    pub last_cmd: AtomicUsize,
    /// Bytes of the read buffer holding unprocessed input, and its spare capacity.
    pub qbuf: AtomicUsize,
    pub qbuf_free: AtomicUsize,
    /// Capacity of the reply buffer and the most it held since it was allocated.
    pub rbs: AtomicUsize,
    pub rbp: AtomicUsize,
    pub info: Mutex<ClientInfo>,
    /// Set to ask the connection task to close; `kill_notify` wakes it.
    pub killed: AtomicBool,
    pub kill_notify: Notify,
    /// Out-of-band data (MONITOR lines, later Pub/Sub messages), already encoded, waiting for
    /// the connection task to write it; `push_notify` wakes the task.
    push: Mutex<Vec<u8>>,
    push_len: AtomicUsize,
    pub push_notify: Notify,
    /// Bytes of output the task is writing right now (part of the pending output the
    /// `client-output-buffer-limit` counts).
    inflight: AtomicUsize,
    /// Unix ms since which the pending output is over the soft limit (0 = it is not).
    soft_limit_since_ms: AtomicU64,
    /// Subscription counts shown by CLIENT LIST (`sub`, `psub`, `ssub`).
    pub subs: crate::pubsub::SubCounts,
    /// CLIENT TRACKING … REDIRECT id (0 = none), shown as `redir`.
    pub tracking_redirect: AtomicU64,
}

/// Mutable descriptive fields shown by CLIENT LIST/INFO.
#[derive(Debug, Default, Clone)]
pub struct ClientInfo {
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
}

/// Why a push was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// The client is closing; nothing was queued.
    Closed,
    /// The client's pending output passed the limit; it was killed.
    OverLimit,
}

/// The fields of a CLIENT LIST line only the client's own task knows exactly; given when a
/// client describes itself (CLIENT INFO, its own CLIENT LIST line).
#[derive(Debug, Clone, Copy)]
pub struct SelfView {
    pub db: usize,
    /// Bytes of the running command's arguments (`argv-mem`).
    pub argv_mem: usize,
    /// Bytes of replies produced but not yet written (`obl`).
    pub pending_reply: usize,
    /// Capacity of the reply buffer (`rbs`).
    pub reply_capacity: usize,
}

impl ClientHandle {
    /// Marks the client for closing and wakes its task.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    #[inline]
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    #[inline]
    pub fn set_flag(&self, bit: u32, on: bool) {
        if on {
            self.flags.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Queues already-encoded out-of-band bytes for this client. A client whose pending pushes
    /// would pass `limit` bytes is killed instead (a slow consumer must not grow memory without
    /// bound).
    pub fn push(&self, data: &[u8], limit: usize) -> Result<(), PushError> {
        self.enqueue(data, |pending| {
            (pending > limit).then(|| format!("{pending} bytes pending, limit {limit}"))
        })
    }

    /// Queues already-encoded out-of-band bytes under a `client-output-buffer-limit` class,
    /// as Redis's `checkClientOutputBufferLimits`: the client is killed (and logged) when its
    /// pending output (queued plus being written) would reach the hard limit, or has stayed at
    /// or over the soft limit for more than the soft seconds. A limit of 0 is off.
    pub fn push_limited(
        &self,
        data: &[u8],
        limit: &crate::config::OutputBufferLimit,
        now_ms: u64,
    ) -> Result<(), PushError> {
        self.enqueue(data, |pending| {
            self.output_limit_reached(pending, limit, now_ms)
        })
    }

    /// Whether `pending` bytes of output break `limit` (why, if so): at or past the hard limit,
    /// or at or past the soft limit for more than its seconds (the soft clock starts at the
    /// first check over it and stops at the first check under it).
    pub fn output_limit_reached(
        &self,
        pending: usize,
        limit: &crate::config::OutputBufferLimit,
        now_ms: u64,
    ) -> Option<String> {
        let used = pending as u64;
        if limit.hard_bytes != 0 && used >= limit.hard_bytes {
            return Some(format!(
                "{used} bytes pending, hard limit {}",
                limit.hard_bytes
            ));
        }
        if limit.soft_bytes == 0 || used < limit.soft_bytes {
            self.soft_limit_since_ms.store(0, Ordering::Relaxed);
            return None;
        }
        let since = self.soft_limit_since_ms.load(Ordering::Relaxed);
        if since == 0 {
            self.soft_limit_since_ms
                .store(now_ms.max(1), Ordering::Relaxed);
            return None;
        }
        // Whole seconds, as Redis's `server.unixtime` arithmetic.
        let elapsed = (now_ms / 1000).saturating_sub(since / 1000);
        (elapsed > limit.soft_seconds).then(|| {
            format!(
                "{used} bytes pending, over the soft limit {} for {elapsed} s",
                limit.soft_bytes
            )
        })
    }

    /// Kills the client for passing its output buffer limit, logging why (Redis's "scheduled
    /// to be closed ASAP for overcoming of output buffer limits").
    pub fn kill_for_output_limit(&self, reason: &str) {
        tracing::warn!(
            client = self.id,
            addr = %self.peer_id(),
            reason = %reason,
            "closing client for overcoming of output buffer limits"
        );
        self.kill();
    }

    /// Appends `data` to the push buffer unless `over` (given the pending output the push
    /// would make) names a reason to kill the client instead.
    fn enqueue(
        &self,
        data: &[u8],
        over: impl FnOnce(usize) -> Option<String>,
    ) -> Result<(), PushError> {
        if self.is_killed() {
            return Err(PushError::Closed);
        }
        {
            let mut buf = self.push.lock();
            let pending = buf
                .len()
                .saturating_add(data.len())
                .saturating_add(self.inflight.load(Ordering::Relaxed));
            if let Some(reason) = over(pending) {
                drop(buf);
                self.kill_for_output_limit(&reason);
                return Err(PushError::OverLimit);
            }
            buf.extend_from_slice(data);
            self.push_len.store(buf.len(), Ordering::Relaxed);
        }
        self.push_notify.notify_one();
        Ok(())
    }

    /// Whether pushes are waiting (one relaxed load).
    #[inline]
    pub fn has_pushes(&self) -> bool {
        self.push_len.load(Ordering::Relaxed) != 0
    }

    /// Records how many bytes the task is writing now (0 once written).
    #[inline]
    pub fn set_inflight(&self, bytes: usize) {
        self.inflight.store(bytes, Ordering::Relaxed);
    }

    /// Output queued or being written (CLIENT LIST `omem`).
    pub fn pending_output(&self) -> usize {
        self.push_len.load(Ordering::Relaxed) + self.inflight.load(Ordering::Relaxed)
    }

    /// Takes every queued push (called by the connection task).
    pub fn take_pushes(&self) -> Vec<u8> {
        if self.push_len.load(Ordering::Relaxed) == 0 {
            return Vec::new();
        }
        let mut buf = self.push.lock();
        self.push_len.store(0, Ordering::Relaxed);
        std::mem::take(&mut *buf)
    }

    /// The client's type for CLIENT LIST/KILL TYPE. MONITOR clients count as normal, as in Redis.
    pub fn client_type(&self) -> ClientType {
        if self.flags() & flag::PUBSUB != 0 {
            ClientType::Pubsub
        } else {
            ClientType::Normal
        }
    }

    /// `ip:port` of the peer, as Redis's `getClientPeerId` (`?:0` when unknown).
    pub fn peer_id(&self) -> String {
        self.addr
            .map_or_else(|| "?:0".to_string(), |a| a.to_string())
    }

    /// `ip:port` of the local end (`laddr`).
    pub fn sock_name(&self) -> String {
        self.local_addr
            .map_or_else(|| "?:0".to_string(), |a| a.to_string())
    }

    /// Seconds since connection, as Redis computes it (whole seconds minus whole seconds).
    pub fn age_secs(&self, now_ms: u64) -> u64 {
        (now_ms / 1000).saturating_sub(self.created_ms / 1000)
    }

    /// Appends one CLIENT LIST line (without the newline) in Redis 7.2's field layout.
    /// `me` is given when the client describes itself, so fields reflect the running command.
    pub fn write_info_line(&self, s: &mut String, now_ms: u64, me: Option<SelfView>) {
        let info = self.info.lock().clone();
        let flags = self.flags();
        let mut letters = String::new();
        for &(bit, c) in flag::LETTERS {
            if flags & bit != 0 {
                letters.push(c);
            }
        }
        if letters.is_empty() {
            letters.push('N');
        }
        let db = me.map_or_else(|| self.db.load(Ordering::Relaxed), |m| m.db);
        let qbuf = self.qbuf.load(Ordering::Relaxed);
        let qbuf_free = self.qbuf_free.load(Ordering::Relaxed);
        let argv_mem = me.map_or(0, |m| m.argv_mem);
        let rbs = me.map_or_else(|| self.rbs.load(Ordering::Relaxed), |m| m.reply_capacity);
        let rbp = self
            .rbp
            .load(Ordering::Relaxed)
            .max(me.map_or(0, |m| m.pending_reply));
        let obl = me.map_or(0, |m| m.pending_reply);
        let omem = self.pending_output();
        // Redis prints the redirection of a tracking client (0 without REDIRECT), else -1.
        let redir = if flags & flag::TRACKING != 0 {
            self.tracking_redirect.load(Ordering::Relaxed) as i64
        } else {
            -1
        };
        let tot_mem = qbuf
            + qbuf_free
            + rbs
            + omem
            + argv_mem
            + std::mem::size_of::<ClientHandle>()
            + std::mem::size_of::<ClientState>();
        let cmd = match self.last_cmd.load(Ordering::Relaxed) {
            0 => "NULL".to_string(),
            n => crate::cmd::registry::get()
                .all()
                .get(n - 1)
                .map_or_else(|| "NULL".to_string(), |c| c.full_name()),
        };
        let text = |v: &Option<Vec<u8>>| {
            v.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let _ = write!(
            s,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} \
             ssub={} multi=-1 qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} \
             oll=0 omem={} tot-mem={} events=r cmd={} user=default redir={} resp={} \
             lib-name={} lib-ver={}",
            self.id,
            self.peer_id(),
            self.sock_name(),
            self.fd,
            text(&info.name),
            self.age_secs(now_ms),
            (now_ms / 1000).saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed) / 1000),
            letters,
            db,
            self.subs.channels(),
            self.subs.patterns(),
            self.subs.shard_channels(),
            qbuf,
            qbuf_free,
            argv_mem,
            rbs,
            rbp,
            obl,
            omem,
            tot_mem,
            cmd,
            redir,
            self.resp.load(Ordering::Relaxed),
            text(&info.lib_name),
            text(&info.lib_ver),
        );
    }
}

/// Every connected client, by id (ordered, as CLIENT LIST prints them).
#[derive(Debug, Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl ClientRegistry {
    pub fn register(
        &self,
        addr: Option<SocketAddr>,
        local_addr: Option<SocketAddr>,
        fd: i64,
        now_ms: u64,
    ) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            local_addr,
            fd,
            created_ms: now_ms,
            last_interaction_ms: AtomicU64::new(now_ms),
            flags: AtomicU32::new(0),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_cmd: AtomicUsize::new(0),
            qbuf: AtomicUsize::new(0),
            qbuf_free: AtomicUsize::new(0),
            rbs: AtomicUsize::new(0),
            rbp: AtomicUsize::new(0),
            info: Mutex::new(ClientInfo::default()),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
            push: Mutex::new(Vec::new()),
            push_len: AtomicUsize::new(0),
            push_notify: Notify::new(),
            inflight: AtomicUsize::new(0),
            soft_limit_since_ms: AtomicU64::new(0),
            subs: Default::default(),
            tracking_redirect: AtomicU64::new(0),
        });
        self.clients.lock().insert(id, handle.clone());
        handle
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Kills a client: it leaves the registry at once (CLIENT LIST no longer shows it, as after
    /// Redis's synchronous `freeClient`) and its task closes the socket promptly.
    pub fn kill(&self, id: u64) -> bool {
        let removed = self.clients.lock().remove(&id);
        match removed {
            Some(h) => {
                h.kill();
                true
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of the handles (no lock held while the caller formats them).
    pub fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients.lock().get(&id).cloned()
    }
}

/// What a CLIENT PAUSE holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum PauseMode {
    None = 0,
    /// Commands that write or may replicate (WRITE|MAY_REPLICATE flags).
    Write = 1,
    /// Every command.
    All = 2,
}

/// The server-wide CLIENT PAUSE state. Checking it costs one relaxed atomic load when no pause
/// is set; an expired pause is treated as none without anyone having to clear it.
#[derive(Debug, Default)]
pub struct ClientPause {
    /// `PauseMode` as u8; `None` means no pause (the fast path).
    mode: AtomicU8,
    /// Unix milliseconds at which the pause ends.
    end_ms: AtomicU64,
    /// Serialises PAUSE/UNPAUSE so mode and end change together.
    update: Mutex<()>,
    /// Woken on UNPAUSE and on every new PAUSE, so waiting clients re-check.
    pub changed: Notify,
}

impl ClientPause {
    /// CLIENT PAUSE: pauses until `end_ms`. As Redis 7.2 (`pauseClientsByClient`): the more
    /// restrictive mode and the later end win over a pause already in effect.
    pub fn pause(&self, end_ms: u64, mode: PauseMode, now_ms: u64) {
        let _guard = self.update.lock();
        let (cur_mode, cur_end) = self.current(now_ms);
        let mode = if cur_end > now_ms {
            mode.max(cur_mode)
        } else {
            mode
        };
        let end_ms = end_ms.max(cur_end);
        self.end_ms.store(end_ms, Ordering::Relaxed);
        self.mode.store(mode as u8, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// CLIENT UNPAUSE.
    pub fn unpause(&self) {
        let _guard = self.update.lock();
        self.mode.store(PauseMode::None as u8, Ordering::Release);
        self.end_ms.store(0, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    fn current(&self, now_ms: u64) -> (PauseMode, u64) {
        let mode = match self.mode.load(Ordering::Acquire) {
            1 => PauseMode::Write,
            2 => PauseMode::All,
            _ => return (PauseMode::None, 0),
        };
        let end = self.end_ms.load(Ordering::Relaxed);
        if end <= now_ms {
            (PauseMode::None, 0)
        } else {
            (mode, end)
        }
    }

    /// Whether a pause holding back writes is in effect (expiry and eviction must then leave
    /// the dataset alone, as in Redis).
    pub fn writes_paused(&self, now_ms: u64) -> bool {
        self.current(now_ms).0 != PauseMode::None
    }

    /// Whether a CLIENT PAUSE may be in effect (one relaxed load; it may have expired).
    #[inline]
    pub fn is_set(&self) -> bool {
        self.mode.load(Ordering::Relaxed) != PauseMode::None as u8
    }

    /// Until when a command must wait, or None to run it now. `write_like` is whether the
    /// command writes or may replicate.
    #[inline]
    pub fn blocks(&self, write_like: bool, now_ms: u64) -> Option<u64> {
        if self.mode.load(Ordering::Relaxed) == PauseMode::None as u8 {
            return None;
        }
        match self.current(now_ms) {
            (PauseMode::All, end) => Some(end),
            (PauseMode::Write, end) if write_like => Some(end),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_keeps_the_more_restrictive_mode_and_later_end() {
        let p = ClientPause::default();
        assert_eq!(p.blocks(true, 1000), None);
        p.pause(2000, PauseMode::All, 1000);
        p.pause(1500, PauseMode::Write, 1000);
        assert_eq!(p.blocks(false, 1000), Some(2000));
        assert_eq!(p.blocks(false, 2000), None);
        p.pause(3000, PauseMode::Write, 2500);
        assert_eq!(p.blocks(false, 2500), None);
        assert_eq!(p.blocks(true, 2500), Some(3000));
        p.unpause();
        assert_eq!(p.blocks(true, 2500), None);
    }

    #[test]
    fn push_over_limit_kills() {
        let r = ClientRegistry::default();
        let h = r.register(None, None, -1, 0);
        assert_eq!(h.push(b"abc", 5), Ok(()));
        assert_eq!(h.push(b"abc", 5), Err(PushError::OverLimit));
        assert!(h.is_killed());
        assert_eq!(h.take_pushes(), b"abc");
        assert_eq!(h.push(b"x", 5), Err(PushError::Closed));
    }

    #[test]
    fn info_line_layout() {
        let r = ClientRegistry::default();
        let h = r.register(None, None, 7, 5_000);
        h.info.lock().name = Some(b"app".to_vec());
        h.set_flag(flag::MONITOR, true);
        let mut s = String::new();
        h.write_info_line(&mut s, 9_000, None);
        assert!(s.starts_with("id=1 addr=?:0 laddr=?:0 fd=7 name=app age=4 idle=4 flags=O db=0 "));
        assert!(s.ends_with(" cmd=NULL user=default redir=-1 resp=2 lib-name= lib-ver="));
    }
}
