//! The per-client task: read, parse every complete command in the buffer, run them in order,
//! write all replies with one write.
//!
//! A pipeline of N commands costs one read and one write system call. No lock is held across an
//! `.await`: commands run synchronously between the read and the write.
//!
//! Besides the socket the task waits on: its kill signal (CLIENT KILL, output limits), server
//! shutdown, the idle `timeout`, and its push buffer (MONITOR lines, later Pub/Sub messages),
//! which is written between batches so an out-of-band frame never splits a reply.
//!
//! A blocking command that blocked (`store::blocking`) ends the batch: the task awaits its
//! answer (served, timeout, CLIENT UNBLOCK) while still delivering pushes and buffering input,
//! then runs the commands pipelined after it, in order.
//!
//! ORDER of the checks made here around [`dispatch::run`] (Redis's `processCommand`): lookup and
//! arity → (authentication, inside `run`) → a MONITOR client may not touch the keyspace → CLIENT
//! PAUSE (the batch stops and the task waits asynchronously, then resumes at the same command)
//! → run (MONITOR is fed inside, after the command) → CLIENT REPLY suppression.

use crate::client::{flag, ClientHandle, ClientState};
use crate::cmd::ctx::write_timeout_reply;
use crate::cmd::dispatch;
use crate::cmd::spec::Flags;
use crate::cmd::{CmdError, ExecCtx};
use crate::server::{now_ms, Server, Shutdown};
use crate::stats::Stats;
use crate::store::blocking::Outcome;
use bytes::{Buf, BytesMut};
use fincache_resp::{parse_command, Limits, Parsed, Protocol, ReplyEncoder};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

const READ_CHUNK: usize = 16 * 1024;
/// Output buffers larger than this are released after a write instead of kept for reuse.
const OUT_KEEP: usize = 64 * 1024;
/// Read buffers larger than this (after a big bulk) are released once empty.
const READ_KEEP: usize = 1024 * 1024;

/// How processing a batch of input ended.
enum BatchEnd {
    /// Every complete command ran; read more.
    Drained,
    /// Close after writing the replies (QUIT, protocol error, CLIENT KILL of itself).
    Close,
    /// A CLIENT PAUSE holds the next command back until this Unix millisecond (or UNPAUSE).
    Paused(u64),
    /// A blocking command blocked; the commands after it wait until it is answered.
    Blocked,
    /// The replies so far passed [`OUT_FLUSH_AT`]: write them before running more commands.
    OutputFull,
}

/// Replies buffered past this size are written before the next pipelined command runs, so a
/// client pipelining large reads (and reading slowly) holds at most about this much reply
/// memory instead of the replies to its whole read buffer.
const OUT_FLUSH_AT: usize = 1024 * 1024;

/// Registers a just-accepted client (ids follow the order of `accept`, as in Redis).
pub fn register(server: &Server, stream: &TcpStream, peer: SocketAddr) -> Arc<ClientHandle> {
    server.clients.register(
        Some(peer),
        stream.local_addr().ok(),
        raw_fd(stream),
        now_ms(),
    )
}

/// Serves one registered client until it quits, is killed, misbehaves, or the server stops.
pub async fn run(server: Arc<Server>, mut stream: TcpStream, handle: Arc<ClientHandle>) {
    let mut client = ClientState::new(handle.clone());
    client.authenticated = server.config.read().requirepass.is_empty();
    let mut out = ReplyEncoder::new(Protocol::Resp2);
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut shutdown = server.shutdown.subscribe();
    handle.rbs.store(out.buf.capacity(), Ordering::Relaxed);

    'conn: loop {
        let idle = if client.idle_timeout_applies() {
            server.config.read().timeout
        } else {
            0
        };
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        let read = tokio::select! {
            r = stream.read_buf(&mut rbuf) => Some(r),
            _ = handle.push_notify.notified() => None,
            _ = handle.kill_notify.notified() => break,
            _ = shutdown.wait_for(|s| *s != Shutdown::Running) => break,
            _ = idle_timer(idle) => {
                tracing::debug!(client = client.id, "closing idle client");
                break;
            }
        };
        if handle.is_killed() {
            break;
        }
        let mut have_input = false;
        if let Some(read) = read {
            match read {
                Ok(0) | Err(_) => break,
                Ok(n) => Stats::add(&server.stats.net_input_bytes, n as u64),
            }
            handle
                .last_interaction_ms
                .store(now_ms(), Ordering::Relaxed);
            have_input = true;
        }
        loop {
            let end = if have_input {
                process_input(&server, &mut client, &mut out, &mut rbuf)
            } else {
                BatchEnd::Drained
            };
            publish_batch_state(&handle, &client, &rbuf, &out);
            take_pushes(&handle, &client, &mut out);
            // `client-output-buffer-limit` applies to replies too (a client past it is closed
            // without them).
            if !server.pubsub.check_replies(&handle, out.buf.len()) {
                break 'conn;
            }
            if !flush(&mut stream, &mut out, &server, &handle).await {
                break 'conn;
            }
            if handle.is_killed() || client.close_after_reply {
                break 'conn;
            }
            match end {
                BatchEnd::Drained => break,
                BatchEnd::Close => break 'conn,
                BatchEnd::OutputFull => have_input = true,
                BatchEnd::Paused(until) => {
                    handle.set_flag(flag::BLOCKED, true);
                    let go_on = wait_pause(&server, &handle, &mut shutdown, until).await;
                    handle.set_flag(flag::BLOCKED, false);
                    if !go_on {
                        break 'conn;
                    }
                    // Run what the pause held back, then whatever followed it.
                    have_input = true;
                }
                BatchEnd::Blocked => {
                    let waited = wait_blocked(
                        &server,
                        &mut client,
                        &mut stream,
                        &mut rbuf,
                        &mut out,
                        &mut shutdown,
                    )
                    .await;
                    if !waited {
                        break 'conn;
                    }
                    // The reply is in `out`; run the commands that arrived meanwhile.
                    have_input = true;
                }
            }
        }
        if rbuf.is_empty() && rbuf.capacity() > READ_KEEP {
            rbuf = BytesMut::with_capacity(READ_CHUNK);
        }
    }
    if client.monitor {
        server.monitors.remove(client.id);
    }
    crate::pubsub::release_client(&server.pubsub, &mut client);
    crate::cmd::family::tx::release_client(&server, &mut client);
    crate::tracking::disable(&server, &mut client);
    let _ = stream.shutdown().await;
    server.clients.unregister(client.id);
}

#[cfg(unix)]
fn raw_fd(stream: &TcpStream) -> i64 {
    use std::os::fd::AsRawFd;
    i64::from(stream.as_raw_fd())
}

#[cfg(not(unix))]
fn raw_fd(_stream: &TcpStream) -> i64 {
    -1
}

async fn idle_timer(seconds: u64) {
    if seconds == 0 {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
}

/// Writes the output buffer (if any) and keeps it small. Returns false when the client is gone
/// or was killed while the write waited on a slow reader.
async fn flush(
    stream: &mut TcpStream,
    out: &mut ReplyEncoder,
    server: &Server,
    handle: &ClientHandle,
) -> bool {
    if out.buf.is_empty() {
        return true;
    }
    // What is being written still counts against the client's output buffer limit.
    handle.set_inflight(out.buf.len());
    let written = tokio::select! {
        r = stream.write_all(&out.buf) => r.is_ok(),
        _ = handle.kill_notify.notified() => false,
    };
    handle.set_inflight(0);
    if !written {
        return false;
    }
    Stats::add(&server.stats.net_output_bytes, out.buf.len() as u64);
    handle.rbp.fetch_max(out.buf.len(), Ordering::Relaxed);
    handle
        .last_interaction_ms
        .store(now_ms(), Ordering::Relaxed);
    out.buf.clear();
    if out.buf.capacity() > OUT_KEEP {
        out.buf = Vec::with_capacity(READ_CHUNK);
        handle.rbp.store(0, Ordering::Relaxed);
    }
    handle.rbs.store(out.buf.capacity(), Ordering::Relaxed);
    true
}

/// Appends queued pushes to the output. A MONITOR client under CLIENT REPLY OFF loses them, as
/// in Redis (monitor lines are ordinary replies there).
fn take_pushes(handle: &ClientHandle, client: &ClientState, out: &mut ReplyEncoder) {
    let pushed = handle.take_pushes();
    if pushed.is_empty() || (client.monitor && client.reply_off) {
        return;
    }
    if out.buf.is_empty() {
        out.buf = pushed;
    } else {
        out.buf.extend_from_slice(&pushed);
    }
}

/// What CLIENT LIST shows of this client between batches.
fn publish_batch_state(
    handle: &ClientHandle,
    client: &ClientState,
    rbuf: &BytesMut,
    out: &ReplyEncoder,
) {
    handle.db.store(client.db, Ordering::Relaxed);
    handle.qbuf.store(rbuf.len(), Ordering::Relaxed);
    handle
        .qbuf_free
        .store(rbuf.capacity() - rbuf.len(), Ordering::Relaxed);
    handle.rbp.fetch_max(out.buf.len(), Ordering::Relaxed);
}

/// Waits for a CLIENT PAUSE to end (its deadline, UNPAUSE, or a new pause to re-check), still
/// delivering pushes meanwhile. Returns false if the client must close instead.
async fn wait_pause(
    server: &Server,
    handle: &ClientHandle,
    shutdown: &mut watch::Receiver<Shutdown>,
    until: u64,
) -> bool {
    let changed = server.client_pause.changed.notified();
    tokio::pin!(changed);
    // Register before re-checking, so an UNPAUSE in between is not missed.
    changed.as_mut().enable();
    let now = now_ms();
    if server.client_pause.blocks(true, now).is_none() || until <= now {
        return true;
    }
    let wait = Duration::from_millis(until - now);
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = changed => true,
        // The caller writes the pushes and comes back here if the pause still holds.
        _ = handle.push_notify.notified() => true,
        _ = handle.kill_notify.notified() => false,
        _ = shutdown.wait_for(|s| *s != Shutdown::Running) => false,
    }
}

/// Input buffered while a client is blocked beyond this is left in the socket until it
/// unblocks (a disconnect is then noticed only after the wait).
const BLOCKED_READ_LIMIT: usize = 1024 * 1024;

/// Waits for a blocked command's answer (`store::blocking`): a served reply, its deadline,
/// CLIENT UNBLOCK, or the end of the client (disconnect, CLIENT KILL, shutdown). Meanwhile
/// pushes are delivered and input is buffered for later. Writes the answer into `out` and
/// returns true; returns false when the client must close. No lock is held across an await.
async fn wait_blocked(
    server: &Server,
    client: &mut ClientState,
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
    out: &mut ReplyEncoder,
    shutdown: &mut watch::Receiver<Shutdown>,
) -> bool {
    let Some(wait) = client.blocking.wait.take() else {
        return true;
    };
    let handle = client.handle.clone();
    let gauge = &server.stats.blocked_clients;
    handle.set_flag(flag::BLOCKED, true);
    // Some(outcome): answer it (None = timed out); None: close.
    let ended: Option<Option<Outcome>> = loop {
        if let Some(outcome) = wait.slot.take() {
            break Some(Some(outcome));
        }
        let can_read = rbuf.len() < BLOCKED_READ_LIMIT;
        if can_read && rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        // The select only picks the event; nothing is awaited inside its arms.
        let pushes = tokio::select! {
            _ = wait.slot.notify.notified() => false,
            _ = deadline_timer(wait.deadline_ms) => {
                server.blocking.cancel(client.id, gauge);
                break Some(wait.slot.take());
            }
            r = stream.read_buf(rbuf), if can_read => match r {
                Ok(0) | Err(_) => break None,
                Ok(n) => {
                    Stats::add(&server.stats.net_input_bytes, n as u64);
                    handle.last_interaction_ms.store(now_ms(), Ordering::Relaxed);
                    false
                }
            },
            _ = handle.push_notify.notified() => true,
            _ = handle.kill_notify.notified() => break None,
            _ = shutdown.wait_for(|s| *s != Shutdown::Running) => break None,
        };
        if pushes {
            take_pushes(&handle, client, out);
            if !flush(stream, out, server, &handle).await {
                break None;
            }
        }
    };
    // After this no answer can arrive; one that arrived before is in the slot.
    server.blocking.cancel(client.id, gauge);
    handle.set_flag(flag::BLOCKED, false);
    let Some(outcome) = ended else {
        return false;
    };
    let unblocked_error = matches!(outcome, Some(Outcome::Unblocked));
    if unblocked_error {
        Stats::add(&server.stats.total_error_replies, 1);
        server.stats.count_error(UNBLOCKED);
    }
    if !wait.reply_suppressed {
        match outcome {
            Some(Outcome::Served(reply)) => out.raw(&reply),
            Some(Outcome::Unblocked) => out.error(UNBLOCKED),
            Some(Outcome::TimedOut) | None => write_timeout_reply(out, wait.on_timeout),
        }
    }
    true
}

/// The error a client unblocked by `CLIENT UNBLOCK id ERROR` receives.
const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// Sleeps until a blocked command's deadline (Unix ms), or forever without one.
async fn deadline_timer(deadline_ms: Option<u64>) {
    match deadline_ms {
        None => std::future::pending::<()>().await,
        Some(at) => {
            let wait = at.saturating_sub(now_ms());
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }
}

/// Runs every complete command in `rbuf`, appending replies to `out`, and consumes them.
fn process_input(
    server: &Arc<Server>,
    client: &mut ClientState,
    out: &mut ReplyEncoder,
    rbuf: &mut BytesMut,
) -> BatchEnd {
    let (max_bulk_len, no_password) = {
        let c = server.config.read();
        (c.proto_max_bulk_len, c.requirepass.is_empty())
    };
    handle_qbuf(&client.handle, rbuf);
    let limits = Limits {
        max_bulk_len,
        authenticated: client.authenticated || no_password,
        ..Limits::default()
    };
    let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
    let mut pos = 0;
    let mut end = BatchEnd::Drained;
    let mut need: Option<usize> = None;
    while pos < rbuf.len() && !client.close_after_reply {
        if out.buf.len() >= OUT_FLUSH_AT {
            end = BatchEnd::OutputFull;
            break;
        }
        match parse_command(&rbuf[pos..], &limits, &mut argv) {
            Ok(Parsed::Complete(n)) => {
                if !argv.is_empty() {
                    if let Some(until) = run_command(server, client, out, &argv) {
                        end = BatchEnd::Paused(until);
                        break;
                    }
                }
                pos += n;
                if client.blocking.wait.is_some() {
                    end = BatchEnd::Blocked;
                    break;
                }
            }
            Ok(Parsed::Owned { consumed, args }) => {
                let owned: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                if !owned.is_empty() {
                    if let Some(until) = run_command(server, client, out, &owned) {
                        end = BatchEnd::Paused(until);
                        break;
                    }
                }
                pos += consumed;
                if client.blocking.wait.is_some() {
                    end = BatchEnd::Blocked;
                    break;
                }
            }
            Ok(Parsed::Incomplete { hint }) => {
                need = hint;
                break;
            }
            Err(e) => {
                // Redis answers a protocol error and closes the connection.
                tracing::debug!(client = client.id, error = %e, "protocol error");
                if !client.replies_suppressed() {
                    let text = e.to_string();
                    if text.starts_with("ERR ") {
                        out.error(&text);
                    } else {
                        out.error(&format!("ERR {text}"));
                    }
                }
                end = BatchEnd::Close;
                pos = rbuf.len();
                break;
            }
        }
    }
    drop(argv);
    rbuf.advance(pos);
    if let Some(total) = need {
        // A large bulk is on its way: make room once instead of growing chunk by chunk.
        rbuf.reserve(total.saturating_sub(rbuf.len()));
    }
    end
}

/// What CLIENT LIST shows as `qbuf` while the batch runs.
#[inline]
fn handle_qbuf(handle: &ClientHandle, rbuf: &BytesMut) {
    handle.qbuf.store(rbuf.len(), Ordering::Relaxed);
    handle
        .qbuf_free
        .store(rbuf.capacity() - rbuf.len(), Ordering::Relaxed);
}

/// Runs one command with the checks that belong to the connection. Returns the end of a CLIENT
/// PAUSE when the command must wait (nothing was run or replied then).
#[inline]
fn run_command(
    server: &Arc<Server>,
    client: &mut ClientState,
    out: &mut ReplyEncoder,
    argv: &[&[u8]],
) -> Option<u64> {
    let now = now_ms();
    let mark = out.len();
    let mut ctx = ExecCtx {
        server,
        client,
        out,
        now_ms: now,
        lru: server.lru_clock(),
    };
    match dispatch::resolve(argv) {
        // Lookup and arity errors: `execute` resolves again and rejects with the accounting.
        Err(_) => {
            ctx.client.handle.last_cmd.store(0, Ordering::Relaxed);
            dispatch::execute(&mut ctx, argv);
        }
        Ok(cmd) => {
            ctx.client
                .handle
                .last_cmd
                .store(cmd.id + 1, Ordering::Relaxed);
            let flags = cmd.spec.flags;
            let rejected_for_auth = !ctx.client.authenticated
                && !flags.has(Flags::NO_AUTH)
                && crate::cmd::family::connection::auth_required(server);
            let touches_keyspace = flags.has(Flags::WRITE)
                || flags.has(Flags::READONLY)
                || flags.has(Flags::MAY_REPLICATE);
            if rejected_for_auth {
                dispatch::run(&mut ctx, cmd, argv);
            } else if ctx.client.monitor && touches_keyspace {
                // MONITOR clients are replicas to Redis, which may not use the keyspace (this
                // also keeps them from slipping past a CLIENT PAUSE, which replicas ignore).
                let e = CmdError::err("Replica can't interact with the keyspace");
                dispatch::reject(&mut ctx, Some(cmd), &e);
            } else {
                if !ctx.client.monitor && server.client_pause.is_set() {
                    // EXEC with queued writes and scripts that may write count as writes.
                    let write_like = dispatch::write_like(server, ctx.client, cmd, argv);
                    if let Some(until) = server.client_pause.blocks(write_like, now) {
                        return Some(until);
                    }
                }
                // MONITOR is fed by the dispatcher, after the command ran.
                dispatch::run(&mut ctx, cmd, argv);
            }
        }
    }
    if ctx.client.replies_suppressed() {
        ctx.out.truncate(mark);
    }
    if ctx.client.monitor || ctx.client.handle.has_pushes() {
        // ORDER: a monitor's own command shows right after its reply, as in Redis, and under
        // the CLIENT REPLY state of that moment. Pub/Sub messages and invalidations the
        // command sent to this client itself also follow its reply (Redis 7.2 defers them).
        take_pushes(&ctx.client.handle, ctx.client, ctx.out);
    }
    ctx.client.advance_reply_skip();
    None
}
