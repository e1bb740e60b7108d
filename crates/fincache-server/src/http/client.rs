//! [`HttpClient`]: an HTTP request (or a WebSocket / SSE stream) as a client of the command
//! layer, exactly like a RESP connection.
//!
//! Each REST request registers one client (CLIENT LIST shows it, with the HTTP peer's address
//! and `lib-name=fincache-http`), runs its commands through [`dispatch::execute`] with an
//! [`ExecCtx`] of its own, and unregisters when dropped. So authentication, CLIENT PAUSE,
//! MONITOR, keyspace notifications, the slow log and the command statistics see HTTP commands
//! as they see RESP ones; nothing here implements a command.
//!
//! The client speaks RESP3 (maps, doubles, booleans and sets keep their type in JSON), so a
//! subscribed client may still run other commands, as a RESP3 connection may.
//!
//! Commands run synchronously inside the async handler, as the RESP connection task runs them:
//! they are short and hold no lock across an `.await`. A blocking command (BLPOP …) that blocks
//! is awaited here like the connection task awaits it; dropping the request (the HTTP client
//! went away) cancels the wait.

use crate::client::{flag, ClientState};
use crate::cmd::ctx::write_timeout_reply;
use crate::cmd::{dispatch, ExecCtx};
use crate::server::{now_ms, Server};
use crate::stats::Stats;
use crate::store::blocking::Outcome;
use fincache_resp::{parse_reply, Protocol, Reply, ReplyEncoder};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The `lib-name` CLIENT LIST shows for HTTP clients.
pub const LIB_NAME: &[u8] = b"fincache-http";

/// The error a client unblocked by `CLIENT UNBLOCK id ERROR` receives (as over RESP).
const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// One registered command-layer client owned by an HTTP request or stream.
pub struct HttpClient {
    server: Arc<Server>,
    pub state: ClientState,
    out: ReplyEncoder,
    /// A blocking command's wait may be registered with the server (cancelled on drop).
    may_be_blocked: bool,
}

impl HttpClient {
    /// Registers a client for the HTTP peer `peer` (connected to `local`). `authenticated`: the request presented
    /// the `api-key` (or no password is required).
    pub fn new(
        server: &Arc<Server>,
        peer: Option<SocketAddr>,
        local: Option<SocketAddr>,
        authenticated: bool,
    ) -> Self {
        let handle = server.clients.register(peer, local, -1, now_ms());
        handle.resp.store(3, Ordering::Relaxed);
        handle.info.lock().lib_name = Some(LIB_NAME.to_vec());
        let mut state = ClientState::new(handle);
        state.authenticated = authenticated || server.config.read().requirepass.is_empty();
        HttpClient {
            server: server.clone(),
            state,
            out: ReplyEncoder::new(Protocol::Resp3),
            may_be_blocked: false,
        }
    }

    pub fn id(&self) -> u64 {
        self.state.id
    }

    /// Runs one command and returns its encoded reply (RESP3, or RESP2 after `HELLO 2`).
    /// Empty when the command replied nothing (CLIENT REPLY OFF). A blocking command that
    /// blocked is waited for.
    pub async fn call_raw<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> &[u8] {
        let argv: Vec<&[u8]> = argv.iter().map(AsRef::as_ref).collect();
        self.out.buf.clear();
        if argv.is_empty() {
            self.out.error("ERR empty command");
            return &self.out.buf;
        }
        self.wait_pause(&argv).await;
        let handle = &self.state.handle;
        // What CLIENT LIST shows as `cmd=` (0 = unknown command).
        let last = dispatch::resolve(&argv).map_or(0, |c| c.id + 1);
        handle.last_cmd.store(last, Ordering::Relaxed);
        handle
            .last_interaction_ms
            .store(now_ms(), Ordering::Relaxed);
        {
            let mut ctx = ExecCtx {
                server: &self.server,
                client: &mut self.state,
                out: &mut self.out,
                now_ms: now_ms(),
                lru: self.server.lru_clock(),
            };
            dispatch::execute(&mut ctx, &argv);
        }
        if self.state.blocking.wait.is_some() {
            self.wait_blocked().await;
        }
        if self.state.replies_suppressed() {
            self.out.buf.clear();
        }
        self.state.advance_reply_skip();
        let handle = &self.state.handle;
        handle.db.store(self.state.db, Ordering::Relaxed);
        // The protocol follows HELLO, as a connection's encoder does.
        self.out.proto =
            crate::pubsub::message::protocol_of(self.state.handle.resp.load(Ordering::Relaxed));
        &self.out.buf
    }

    /// Runs one command and parses its reply. Several replies (SUBSCRIBE a b) come back as
    /// an array; none as `Null`.
    pub async fn call<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Reply {
        let raw = self.call_raw(argv).await;
        parse_all(raw)
    }

    /// Takes the out-of-band frames (Pub/Sub messages, invalidations) queued for this client.
    pub fn take_pushes(&self) -> Vec<Reply> {
        let bytes = self.state.handle.take_pushes();
        let mut frames = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            match parse_reply(&bytes[pos..]) {
                Ok((r, n)) => {
                    frames.push(r);
                    pos += n;
                }
                Err(_) => break,
            }
        }
        frames
    }

    /// Waits while a CLIENT PAUSE holds this command back (as the connection task does).
    async fn wait_pause(&mut self, argv: &[&[u8]]) {
        if !self.server.client_pause.is_set() || self.state.monitor {
            return;
        }
        let Ok(cmd) = dispatch::resolve(argv) else {
            return;
        };
        let write_like = dispatch::write_like(&self.server, &self.state, cmd, argv);
        let server = self.server.clone();
        let handle = self.state.handle.clone();
        handle.set_flag(flag::BLOCKED, true);
        loop {
            let changed = server.client_pause.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = now_ms();
            let Some(until) = server.client_pause.blocks(write_like, now) else {
                break;
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(until.saturating_sub(now))) => {}
                _ = changed => {}
            }
        }
        handle.set_flag(flag::BLOCKED, false);
    }

    /// Awaits a blocked command's answer: served, timed out, CLIENT UNBLOCK, or the end of the
    /// server (then the reply is the timeout reply). Writes it into the output.
    async fn wait_blocked(&mut self) {
        let Some(wait) = self.state.blocking.wait.take() else {
            return;
        };
        self.may_be_blocked = true;
        let server = self.server.clone();
        let handle = self.state.handle.clone();
        let id = self.state.id;
        let gauge = &server.stats.blocked_clients;
        handle.set_flag(flag::BLOCKED, true);
        let mut shutdown = server.shutdown.subscribe();
        let outcome = loop {
            if let Some(outcome) = wait.slot.take() {
                break Some(outcome);
            }
            let deadline = async {
                match wait.deadline_ms {
                    None => std::future::pending::<()>().await,
                    Some(at) => {
                        let ms = at.saturating_sub(now_ms());
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                }
            };
            tokio::select! {
                _ = wait.slot.notify.notified() => {}
                _ = deadline => {
                    server.blocking.cancel(id, gauge);
                    break wait.slot.take();
                }
                _ = handle.kill_notify.notified() => break None,
                _ = super::stopped(&mut shutdown) => break None,
            }
        };
        server.blocking.cancel(id, gauge);
        handle.set_flag(flag::BLOCKED, false);
        self.may_be_blocked = false;
        if matches!(outcome, Some(Outcome::Unblocked)) {
            Stats::add(&server.stats.total_error_replies, 1);
            server.stats.count_error(UNBLOCKED);
        }
        if wait.reply_suppressed {
            return;
        }
        match outcome {
            Some(Outcome::Served(reply)) => self.out.raw(&reply),
            Some(Outcome::Unblocked) => self.out.error(UNBLOCKED),
            Some(Outcome::TimedOut) | None => write_timeout_reply(&mut self.out, wait.on_timeout),
        }
    }
}

impl Drop for HttpClient {
    /// What the connection task does when a client goes: leave MONITOR, Pub/Sub, MULTI,
    /// tracking and any blocking wait, then the registry.
    fn drop(&mut self) {
        let server = &self.server;
        if self.may_be_blocked {
            server
                .blocking
                .cancel(self.state.id, &server.stats.blocked_clients);
        }
        if self.state.monitor {
            server.monitors.remove(self.state.id);
        }
        crate::pubsub::release_client(&server.pubsub, &mut self.state);
        crate::cmd::family::tx::release_client(server, &mut self.state);
        crate::tracking::disable(server, &mut self.state);
        server.clients.unregister(self.state.id);
    }
}

/// Parses every reply in `raw`: one reply as itself, several as an array, none as `Null`.
pub fn parse_all(raw: &[u8]) -> Reply {
    let mut replies = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        match parse_reply(&raw[pos..]) {
            Ok((r, n)) => {
                replies.push(r);
                pos += n;
            }
            Err(e) => {
                replies.push(Reply::Error(format!("ERR unreadable reply: {e}")));
                break;
            }
        }
    }
    match replies.len() {
        0 => Reply::Null,
        1 => replies.pop().unwrap_or(Reply::Null),
        _ => Reply::Array(replies),
    }
}
