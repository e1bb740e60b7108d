//! `ExecCtx`: what a handler sees while it runs, plus the blocking-command API
//! ([`ExecCtx::block_on`], [`ExecCtx::signal_ready`], timeout parsing) described in
//! `store::blocking`.

use super::error::CmdError;
use crate::client::ClientState;
use crate::notify::{KeyEvent, NotifyClass};
use crate::server::Server;
use crate::store::blocking::{BlockRequest, ReadyTest, TimeoutReply};
use crate::store::{Db, Entry, Shard};
use fincache_resp::ReplyEncoder;
use fincache_types::longdouble::LongDouble;
use fincache_types::{num, CompactBytes};
use std::sync::Arc;

pub struct ExecCtx<'a> {
    pub server: &'a Arc<Server>,
    pub client: &'a mut ClientState,
    pub out: &'a mut ReplyEncoder,
    /// The command's clock: one reading per command, so a command sees one instant (as Redis's
    /// `server.mstime` during a call).
    pub now_ms: u64,
    /// The LRU clock to stamp touched keys with.
    pub lru: u32,
}

impl<'a> ExecCtx<'a> {
    /// The client's selected database.
    #[inline]
    pub fn db(&self) -> &'a Db {
        let server: &'a Server = self.server;
        server.keyspace.db(self.client.db)
    }

    /// Raises a keyspace event on `key` of the client's database, with Redis's event name
    /// (`"set"`, `"del"`, `"expire"` …). One relaxed atomic load when the class is off; the
    /// event is published once the command finished ([`crate::notify`]).
    #[inline]
    pub fn notify(&self, class: NotifyClass, event: &'static str, key: &[u8]) {
        self.notify_in(self.client.db, class, event, key);
    }

    /// [`notify`](Self::notify) for a key of another database (MOVE's `move_to`, COPY … DB).
    #[inline]
    pub fn notify_in(&self, db: usize, class: NotifyClass, event: &'static str, key: &[u8]) {
        if self.server.notify.wants(class) {
            self.client.events.borrow_mut().push(KeyEvent {
                db,
                event,
                key: CompactBytes::new(key),
            });
        }
    }

    /// Whether events of `class` are published: lets a handler skip work only an event needs
    /// (a lookup to know whether a key is `new`).
    #[inline]
    pub fn notifying(&self, class: NotifyClass) -> bool {
        self.server.notify.wants(class)
    }

    /// Counts a keyspace miss of a read lookup and raises `keymiss` (Redis's `lookupKey`
    /// without `LOOKUP_NONOTIFY`).
    #[inline]
    pub fn key_miss(&self, key: &[u8]) {
        self.server.keyspace.miss();
        self.notify(NotifyClass::KeyMiss, "keymiss", key);
    }

    /// Redis's `lookupKeyRead`: the live entry (expiring the key if due), counting a keyspace
    /// hit, or a miss with its `keymiss` event.
    #[inline]
    pub fn read_lookup<'s>(&self, shard: &'s mut Shard, key: &[u8]) -> Option<&'s Entry> {
        let found = shard.get(key, self.now_ms, self.lru);
        if found.is_some() {
            self.server.keyspace.hit();
        } else {
            self.key_miss(key);
        }
        found
    }

    /// Asks to block on `keys` until one holds a value `ready` accepts, or until `deadline_ms`
    /// (`None`: forever). The handler returns `Ok(())` right after, without a reply.
    ///
    /// When the client may not block (MULTI, scripts) this writes the timeout reply at once,
    /// as Redis does; when the command is being re-executed for a waiter it records that the
    /// waiter was not served (it keeps waiting).
    pub fn block_on(
        &mut self,
        keys: &[&[u8]],
        deadline_ms: Option<u64>,
        ready: ReadyTest,
        on_timeout: TimeoutReply,
    ) {
        let state = &mut self.client.blocking;
        if state.serving {
            state.not_served = true;
        } else if self.client.deny_blocking {
            write_timeout_reply(self.out, on_timeout);
        } else {
            state.request = Some(BlockRequest {
                keys: keys.iter().map(|k| CompactBytes::new(k)).collect(),
                deadline_ms,
                ready,
                on_timeout,
            });
        }
    }

    /// Signals that `key` (in the client's database) may now serve blocked clients: call it
    /// after adding elements. One atomic load when nobody is blocked.
    #[inline]
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.signal_ready_in(db, key);
    }

    /// [`signal_ready`](Self::signal_ready) for a key of another database (MOVE, COPY … DB).
    #[inline]
    pub fn signal_ready_in(&mut self, db: usize, key: &[u8]) {
        if self.server.blocking.has_waiters() {
            let ready = &mut self.client.blocking.ready;
            if !ready.iter().any(|(d, k)| *d == db && k.as_slice() == key) {
                ready.push((db, CompactBytes::new(key)));
            }
        }
    }

    /// Parses a blocking timeout in seconds (BLPOP, BZPOPMIN …) into a deadline, as Redis
    /// 7.2's `getTimeoutFromObjectOrReply(UNIT_SECONDS)`: a `long double`, multiplied by 1000
    /// and rounded up to whole milliseconds; 0 (or anything rounding to 0) waits forever.
    pub fn block_timeout_secs(&self, arg: &[u8]) -> Result<Option<u64>, CmdError> {
        let not_float = || CmdError::err("timeout is not a float or out of range");
        let secs = LongDouble::parse(arg).ok_or_else(not_float)?;
        let ms = long_double_to_f64(secs) * 1000.0;
        if ms > i64::MAX as f64 {
            return Err(CmdError::err("timeout is out of range"));
        }
        // `(long long) ceill(x)`: -inf (and anything below i64::MIN) lands on i64::MIN.
        let ms = if ms.is_nan() { 0 } else { ms.ceil() as i64 };
        self.deadline_after(ms)
    }

    /// Parses a blocking timeout in milliseconds (XREAD BLOCK), as Redis's
    /// `getTimeoutFromObjectOrReply(UNIT_MILLISECONDS)`.
    pub fn block_timeout_ms(&self, arg: &[u8]) -> Result<Option<u64>, CmdError> {
        let ms = num::parse_i64(arg)
            .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
        self.deadline_after(ms)
    }

    fn deadline_after(&self, ms: i64) -> Result<Option<u64>, CmdError> {
        if ms < 0 {
            return Err(CmdError::err("timeout is negative"));
        }
        if ms == 0 {
            return Ok(None);
        }
        let now = i64::try_from(self.now_ms).unwrap_or(i64::MAX);
        if ms > i64::MAX - now {
            return Err(CmdError::err("timeout is out of range"));
        }
        Ok(Some((now + ms) as u64))
    }
}

/// Writes what a blocked command answers on timeout.
pub fn write_timeout_reply(out: &mut ReplyEncoder, kind: TimeoutReply) {
    match kind {
        TimeoutReply::NullArray => out.null_array(),
        TimeoutReply::NullBulk => out.null(),
    }
}

/// The nearest f64 of an 80-bit value (the timeout only needs millisecond precision).
fn long_double_to_f64(v: LongDouble) -> f64 {
    match v {
        LongDouble::Zero { .. } | LongDouble::NaN => 0.0,
        LongDouble::Inf { neg } => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        LongDouble::Finite { neg, mant, exp } => {
            // mant · 2^exp; powi saturates to inf / 0 beyond f64's range.
            let m = mant as f64 * 2f64.powi(exp.clamp(-2000, 2000));
            if neg {
                -m
            } else {
                m
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fincache_resp::Protocol;

    /// Runs one command for a client that may not block (as inside MULTI or a script).
    fn run_denied(server: &Arc<Server>, argv: &[&[u8]]) -> (Vec<u8>, bool) {
        let handle = server.clients.register(None, None, -1, 0);
        let mut client = ClientState::new(handle);
        client.deny_blocking = true;
        let mut out = ReplyEncoder::new(Protocol::Resp2);
        let mut ctx = ExecCtx {
            server,
            client: &mut client,
            out: &mut out,
            now_ms: crate::server::now_ms(),
            lru: 0,
        };
        crate::cmd::dispatch::execute(&mut ctx, argv);
        let blocked = client.blocking.wait.is_some() || client.blocking.request.is_some();
        (out.buf, blocked)
    }

    #[test]
    fn denied_blocking_answers_as_on_timeout() {
        let server = Server::new(crate::config::Config::default());
        let (reply, blocked) = run_denied(&server, &[b"BLPOP", b"k", b"0"]);
        assert_eq!((reply.as_slice(), blocked), (&b"*-1\r\n"[..], false));
        let (reply, blocked) =
            run_denied(&server, &[b"BLMOVE", b"k", b"d", b"LEFT", b"LEFT", b"0"]);
        assert_eq!((reply.as_slice(), blocked), (&b"$-1\r\n"[..], false));
        let (reply, _) = run_denied(&server, &[b"BLMPOP", b"0", b"1", b"k", b"LEFT"]);
        assert_eq!(reply, b"*-1\r\n");
        // Arguments are still checked, and a non-empty list is still served.
        let (reply, _) = run_denied(&server, &[b"BLPOP", b"k", b"-1"]);
        assert_eq!(reply, b"-ERR timeout is negative\r\n");
        run_denied(&server, &[b"RPUSH", b"k", b"v"]);
        let (reply, _) = run_denied(&server, &[b"BRPOP", b"k", b"0"]);
        assert_eq!(reply, b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
        assert!(server.blocking.is_empty());
    }

    #[test]
    fn long_double_conversion() {
        let f = |s: &str| long_double_to_f64(LongDouble::parse(s.as_bytes()).unwrap());
        assert_eq!(f("0.5"), 0.5);
        assert_eq!(f("-2"), -2.0);
        assert_eq!(f("0x10"), 16.0);
        assert_eq!(f("1e300") * 1e300, f64::INFINITY);
        assert_eq!(f("inf"), f64::INFINITY);
        assert!((f("0.1") - 0.1).abs() < 1e-15);
    }
}
