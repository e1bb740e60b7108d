//! Running one command: resolve it in the table, check it, run it, account for it.
//!
//! ORDER: the checks follow Redis's `processCommand`: lookup and arity → (authentication, MULTI
//! rules, ACL, cluster redirect, memory, persistence errors, read-only replica, subscribed
//! context, loading, busy script: added by the issues that bring them) → run → count.
//!
//! Accounting mirrors Redis's `call()` and `rejectCommand()`:
//! - a command refused before it runs (wrong arity, and every later pre-check) counts a
//!   `rejected_calls` on the command or subcommand it named; an unknown command or subcommand
//!   counts nowhere but in the error statistics;
//! - a command that runs counts `calls` and `usec`, plus `failed_calls` when it replies with an
//!   error, and `total_commands_processed`;
//! - every error reply counts in `total_error_replies` and under its prefix in errorstats;
//! - a blocked client served by another client's write is not counted again;
//! - a command that ran at least `slowlog-log-slower-than` µs goes to the slow log (unless
//!   flagged `skip_slowlog`), and one that ran at least `latency-monitor-threshold` ms is a
//!   `command` (or, for fast commands, `fast-command`) latency event.

use super::ctx::ExecCtx;
use super::error::CmdError;
use super::registry::{self, CommandRef};
use super::spec::Flags;
use crate::client::ClientState;
use crate::server::Server;
use crate::stats::Stats;
use crate::store::blocking::{BlockedWait, ReadyKey, Waiter};
use fincache_resp::ReplyEncoder;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The reply to a command sent before AUTH when a password is required.
const NOAUTH: &str = "NOAUTH Authentication required.";

/// Resolves `argv` to a command or subcommand and checks its arity.
pub fn resolve(argv: &[&[u8]]) -> Result<CommandRef, CmdError> {
    lookup(argv).map_err(|(e, _)| e)
}

/// Like [`resolve`], but an arity error also names the command it was for (for its
/// `rejected_calls`).
fn lookup(argv: &[&[u8]]) -> Result<CommandRef, (CmdError, Option<CommandRef>)> {
    let reg = registry::get();
    let Some(cmd) = reg.lookup(argv[0]) else {
        return Err((CmdError::unknown_command(argv), None));
    };
    // A container called with a subcommand runs the subcommand; called alone it is checked
    // (and, like COMMAND, may run) on its own.
    if !cmd.spec.subcommands.is_empty() && argv.len() >= 2 {
        let Some(sub) = reg.lookup_sub(&cmd, argv[1]) else {
            let shown = &argv[1][..argv[1].len().min(128)];
            return Err((
                CmdError::UnknownSubcommand {
                    sub: String::from_utf8_lossy(shown).into_owned(),
                    container: cmd.spec.name.to_ascii_uppercase(),
                },
                None,
            ));
        };
        if !sub.spec.arity_ok(argv.len()) {
            return Err((CmdError::WrongArity(sub.full_name()), Some(sub)));
        }
        return Ok(sub);
    }
    if !cmd.spec.arity_ok(argv.len()) {
        return Err((CmdError::WrongArity(cmd.spec.name.to_string()), Some(cmd)));
    }
    Ok(cmd)
}

/// Resolves and runs one command, writing its reply (or error) to `ctx.out`.
pub fn execute(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) {
    let cmd = match lookup(argv) {
        Ok(cmd) => cmd,
        Err((e, cmd)) => return reject(ctx, cmd, &e),
    };
    run(ctx, cmd, argv);
}

/// Refuses a command before it runs (Redis's `rejectCommand`): counts a rejected call on the
/// command, if known, and replies with the error. Every pre-run check goes through here.
pub fn reject(ctx: &mut ExecCtx<'_>, cmd: Option<CommandRef>, e: &CmdError) {
    // Inside MULTI a refused command dooms the transaction (Redis's `flagTransaction`).
    super::family::tx::flag_aborted(ctx.client);
    if let Some(cmd) = cmd {
        ctx.server.command_stats[cmd.id]
            .rejected_calls
            .fetch_add(1, Ordering::Relaxed);
        if cmd.parent.is_none() && cmd.spec.name == "exec" {
            // A refused EXEC discards the transaction and says why (`execCommandAbort`).
            super::family::tx::discard_transaction(ctx.server, ctx.client);
            let text = e.to_string();
            let why = text.strip_prefix("ERR ").unwrap_or(&text);
            let abort =
                CmdError::Other(format!("EXECABORT Transaction discarded because of: {why}"));
            return reply_error(ctx, &abort);
        }
    }
    reply_error(ctx, e);
}

/// Runs a resolved command: takes the keyspace gate, calls the handler, counts the call, and
/// feeds the slow log and the latency monitor.
pub fn run(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) {
    // Authentication (Redis's `authRequired`): until AUTH succeeds only `no_auth` commands run.
    // One bool test for authenticated clients; the config is read only for the others.
    if !ctx.client.authenticated
        && !cmd.spec.flags.has(Flags::NO_AUTH)
        && super::family::connection::auth_required(ctx.server)
    {
        return reject(ctx, Some(cmd), &CmdError::Other(NOAUTH.into()));
    }
    // maxmemory (Redis's order: after auth, before the Pub/Sub context and MULTI queueing):
    // evict first; refuse a command that may grow memory when nothing could be freed.
    if ctx.server.evict.maxmemory() != 0 {
        if let Err(e) = crate::store::evict::check_before_command(ctx, cmd, argv) {
            return reject(ctx, Some(cmd), &e);
        }
    }
    // RESP2 subscribed context: only the (un)subscribe family, PING, QUIT and RESET.
    if ctx.client.subs.any()
        && !ctx.out.is_resp3()
        && !crate::pubsub::allowed_when_subscribed(cmd.spec.name, cmd.parent.is_some())
    {
        let e = CmdError::err(format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
             are allowed in this context",
            cmd.full_name()
        ));
        return reject(ctx, Some(cmd), &e);
    }
    // MULTI rules, busy script, queueing inside MULTI (`tx::intercept`); two field loads
    // when not in a transaction and no script runs.
    if (ctx.client.tx.is_active() || ctx.server.scripting.is_running())
        && super::family::tx::intercept(ctx, cmd, argv)
    {
        return;
    }
    if cmd.spec.handler.is_none() {
        reply_error(ctx, &CmdError::Syntax);
        return;
    }
    let gate = match acquire_gate(ctx.server, cmd, argv) {
        Ok(gate) => gate,
        Err(e) => return reject(ctx, Some(cmd), &e),
    };
    call_with_gate(ctx, cmd, argv, gate);
}

/// The keyspace gate as a command holds it ([`acquire_gate`]).
pub enum Gate<'a> {
    Read(parking_lot::RwLockReadGuard<'a, ()>),
    Write(parking_lot::RwLockWriteGuard<'a, ()>),
    /// Not taken: an `allow_busy` command (SCRIPT KILL, MULTI, WATCH …) running while a
    /// script past `busy-reply-threshold` holds the gate; or a command run from inside EXEC
    /// or a script, whose gate is already held.
    Bypass,
}

/// How long a command waits for the gate before checking again whether a script became busy.
const GATE_SLICE: std::time::Duration = std::time::Duration::from_millis(5);

/// Takes the keyspace gate for `cmd`: for writing if the command is `EXCLUSIVE`, else for
/// reading. While a script or EXEC holds it, the wait is cut in short slices so that a script
/// running past `busy-reply-threshold` is noticed: other commands then get `BUSY`, and
/// `allow_busy` ones run without the gate (Redis serves exactly those from inside the busy
/// script). The fast path is one uncontended try-lock.
fn acquire_gate<'s>(
    server: &'s Server,
    cmd: CommandRef,
    argv: &[&[u8]],
) -> Result<Gate<'s>, CmdError> {
    let gate = &server.keyspace.gate;
    let exclusive = cmd.spec.flags.has(Flags::EXCLUSIVE);
    let fast = if exclusive {
        gate.try_write().map(Gate::Write)
    } else {
        gate.try_read().map(Gate::Read)
    };
    if let Some(g) = fast {
        return Ok(g);
    }
    loop {
        if server.scripting.is_busy() {
            if let Some(e) = crate::script::busy_error(server, cmd, argv) {
                return Err(e);
            }
            return Ok(Gate::Bypass);
        }
        let slice = if exclusive {
            gate.try_write_for(GATE_SLICE).map(Gate::Write)
        } else {
            gate.try_read_for(GATE_SLICE).map(Gate::Read)
        };
        if let Some(g) = slice {
            return Ok(g);
        }
    }
}

/// Runs a command from inside EXEC or a script: the keyspace gate is already held and the
/// pre-run checks were made by the caller (Redis's `call()`). Counts it like any command,
/// touches watched keys, and shows it to MONITOR.
pub fn call(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) {
    call_with_gate(ctx, cmd, argv, Gate::Bypass);
}

/// Whether CLIENT PAUSE WRITE holds `cmd` back (Redis's `is_may_replicate_command`): writes
/// and commands that may replicate, an EXEC whose queue holds such commands, and scripts unless
/// they declare `no-writes`.
pub fn write_like(server: &Server, client: &ClientState, cmd: CommandRef, argv: &[&[u8]]) -> bool {
    let flags = cmd.spec.flags;
    if flags.has(Flags::MOVABLE_KEYS) && flags.has(Flags::NOSCRIPT) {
        // EVAL, EVALSHA, FCALL and their _RO forms: decided by the script's flags.
        return crate::script::command_may_write(server, cmd, argv);
    }
    if flags.has(Flags::WRITE) || flags.has(Flags::MAY_REPLICATE) {
        return true;
    }
    cmd.parent.is_none() && cmd.spec.name == "exec" && super::family::tx::queued_writes(client)
}

/// Calls the handler under `gate`, then does the accounting (see the module header).
fn call_with_gate(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]], gate: Gate<'_>) {
    let Some(handler) = cmd.spec.handler else {
        reply_error(ctx, &CmdError::Syntax);
        return;
    };
    let server = ctx.server;
    let mark = ctx.out.len();
    // The clock starts once the gate is held: time spent waiting behind an exclusive command
    // (a DEBUG SLEEP, a FLUSHALL) is not this command's latency, as in single-threaded Redis.
    // ORDER: blocked clients are served (and a blocking command registered) right after the
    // handler, and watched keys touched, still under the gate, before the next command of any
    // client can see the keys.
    let watched = if cmd.spec.flags.has(Flags::WRITE) && server.keyspace.watches.active() {
        watched_presence(ctx, cmd, argv)
    } else {
        Vec::new()
    };
    // Client-side caching remembers the keys of a read before it runs (`tracking`, ORDER).
    if server.tracking.active() {
        crate::tracking::before_command(ctx, cmd, argv);
    }
    // ORDER: a background save in progress serialises the shards this write may touch
    // before it touches them (`persist::bgsave`); one atomic load otherwise.
    if cmd.spec.flags.has(Flags::WRITE) {
        crate::persist::bgsave::before_write(server, ctx.client.db, cmd.spec, argv);
    }
    let started = Instant::now();
    let result = handler(ctx, argv);
    let usec = started.elapsed();
    after_handler(ctx, cmd, argv, result.is_ok());
    if result.is_ok() && !watched.is_empty() {
        touch_watched(ctx, argv, &watched);
    }
    drop(gate);
    let usec = usec.as_micros() as u64;
    // Keyspace notifications and client-side caching, once the shard locks are released.
    if crate::notify::hooks_wanted(ctx) {
        crate::notify::after_command(ctx, cmd, argv, result.is_ok());
    }
    let stat = &server.command_stats[cmd.id];
    stat.calls.fetch_add(1, Ordering::Relaxed);
    stat.usec.fetch_add(usec, Ordering::Relaxed);
    stat.observe_usec(usec);
    Stats::add(&server.stats.total_commands_processed, 1);
    if let Err(e) = result {
        stat.failed_calls.fetch_add(1, Ordering::Relaxed);
        ctx.out.truncate(mark);
        reply_error(ctx, &e);
    } else if cmd.spec.flags.has(Flags::WRITE) {
        Stats::add(&server.stats.dirty, 1);
    }
    if cmd.spec.flags.has(Flags::ADMIN) {
        // CONFIG SET and friends: make a changed threshold apply to the very next command.
        server.refresh_config_mirrors();
    }
    let skip_slowlog = cmd.spec.flags.has(Flags::SKIP_SLOWLOG)
        || cmd.parent.is_some_and(|p| p.flags.has(Flags::SKIP_SLOWLOG));
    if !skip_slowlog {
        record_slow(ctx, cmd, argv, usec);
    }
    if server.monitors.active() {
        feed_monitors(ctx, cmd, argv);
    }
}

/// The watched keys a write command names, with whether each exists before it runs (only
/// called while someone watches).
#[cold]
fn watched_presence(ctx: &ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) -> Vec<(usize, bool)> {
    let db = ctx.client.db;
    let watches = &ctx.server.keyspace.watches;
    cmd.spec
        .key_positions(argv)
        .into_iter()
        .filter_map(|pos| {
            let key = argv.get(pos)?;
            watches
                .is_watched(db, key)
                .then(|| (pos, key_exists(ctx, key)))
        })
        .collect()
}

fn key_exists(ctx: &ExecCtx<'_>, key: &[u8]) -> bool {
    ctx.db().lock(key).peek(key, ctx.now_ms).is_some()
}

/// Marks the watchers of a successful write's keys dirty ([`crate::store::watch`]), except
/// for keys that neither existed before nor exist after (a DEL of a missing key).
// COMPAT: a write that leaves an existing key as it was (a SET NX that did not set, an LREM
// that removed nothing) still touches it; Redis touches only keys it modified. An EXEC may
// then fail where Redis's would run: clients retry, as they must anyway.
#[cold]
fn touch_watched(ctx: &ExecCtx<'_>, argv: &[&[u8]], watched: &[(usize, bool)]) {
    let watches = &ctx.server.keyspace.watches;
    for &(pos, existed) in watched {
        if let Some(key) = argv.get(pos) {
            if existed || key_exists(ctx, key) {
                watches.touch(ctx.client.db, key);
            }
        }
    }
}

/// Shows a command that ran to the MONITOR clients, unless Redis hides it (admin commands and
/// those flagged `skip_monitor`, judged on the subcommand and its container). Fed after the
/// command ran, as Redis 7's `call()`: MULTI, the transaction's commands, then EXEC; a
/// script's commands as `[db lua]` after the EVAL line (which the script family feeds itself).
#[cold]
fn feed_monitors(ctx: &ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) {
    let hidden = Flags(Flags::ADMIN.0 | Flags::SKIP_MONITOR.0);
    if cmd.spec.flags.0 & hidden.0 != 0 || cmd.parent.is_some_and(|p| p.flags.0 & hidden.0 != 0) {
        return;
    }
    feed_monitors_line(ctx, argv);
}

/// Shows `argv` to the MONITOR clients as run by this client (or by the script it runs).
pub fn feed_monitors_line(ctx: &ExecCtx<'_>, argv: &[&[u8]]) {
    let now = crate::server::now_us();
    if ctx.client.in_script {
        ctx.server
            .monitors
            .feed_peer("lua", ctx.client.db, argv, now);
    } else {
        ctx.server
            .monitors
            .feed(&ctx.client.handle, ctx.client.db, argv, now);
    }
}

/// The blocking part of [`run`]: registers a blocking command that asked to block, signals
/// the keys a write may have made ready, and serves blocked clients (`store::blocking`). Only
/// field tests and, for writes, one atomic load when nobody is blocked.
#[inline]
fn after_handler(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]], ok: bool) {
    let state = &ctx.client.blocking;
    if state.request.is_none()
        && state.ready.is_empty()
        && !(cmd.spec.flags.has(Flags::WRITE) && ctx.server.blocking.has_waiters())
    {
        return;
    }
    blocking_after_handler(ctx, cmd, argv, ok);
}

#[inline(never)]
fn blocking_after_handler(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]], ok: bool) {
    let server = ctx.server;
    let request = ctx.client.blocking.request.take();
    if ok {
        signal_command_keys(ctx, cmd, argv);
    }
    if let (true, Some(req)) = (ok, request) {
        let db = ctx.client.db;
        let (deadline_ms, on_timeout) = (req.deadline_ms, req.on_timeout);
        let handle = ctx.client.handle.clone();
        let waiter = Waiter::new(handle, db, ctx.out.proto, argv, req);
        // The re-check of step 2 in `store::blocking`: serve the new waiter's keys once.
        for key in &waiter.keys {
            let ready = &mut ctx.client.blocking.ready;
            if !ready.iter().any(|(d, k)| *d == db && k == key) {
                ready.push((db, key.clone()));
            }
        }
        let slot = server
            .blocking
            .register(waiter, &server.stats.blocked_clients);
        ctx.client.blocking.wait = Some(BlockedWait {
            slot,
            deadline_ms,
            on_timeout,
            reply_suppressed: ctx.client.replies_suppressed(),
        });
    }
    // Inside MULTI or a script the keys wait for the outermost command to finish.
    if !ctx.client.deny_blocking && !ctx.client.blocking.serving {
        serve_ready(ctx);
    }
}

/// Signals the keys a successful write may have made ready: its key arguments, and after an
/// exclusive write (SWAPDB, MOVE, FLUSHALL …) every key someone waits on. Only while someone
/// is blocked.
fn signal_command_keys(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) {
    let server = ctx.server;
    if !cmd.spec.flags.has(Flags::WRITE) || !server.blocking.has_waiters() {
        return;
    }
    for pos in cmd.spec.key_positions(argv) {
        if let Some(key) = argv.get(pos) {
            ctx.signal_ready(key);
        }
    }
    if cmd.spec.flags.has(Flags::EXCLUSIVE) {
        for (db, key) in server.blocking.waited_keys() {
            ctx.signal_ready_in(db, &key);
        }
    }
}

/// Serves the clients blocked on the keys signalled ready (and on those their commands make
/// ready in turn), re-executing each one's command for it.
fn serve_ready(ctx: &mut ExecCtx<'_>) {
    if ctx.client.blocking.ready.is_empty() {
        return;
    }
    let server = ctx.server;
    let (now_ms, lru) = (ctx.now_ms, ctx.lru);
    let mut ready = std::mem::take(&mut ctx.client.blocking.ready);
    // The served commands' keyspace events are published after this command's, as in Redis.
    let events = &ctx.client.events;
    server.blocking.serve(
        &server.keyspace,
        &mut ready,
        now_ms,
        &server.stats.blocked_clients,
        |waiter, more| reexecute(server, waiter, now_ms, lru, more, events),
    );
    ctx.client.blocking.ready = ready;
}

/// Runs a waiter's command again, for it (its database and protocol), in serving mode.
/// Returns its encoded reply, or None when it found nothing and would block again.
fn reexecute(
    server: &Arc<Server>,
    waiter: &Waiter,
    now_ms: u64,
    lru: u32,
    more: &mut Vec<ReadyKey>,
    events: &std::cell::RefCell<Vec<crate::notify::KeyEvent>>,
) -> Option<Vec<u8>> {
    let argv: Vec<&[u8]> = waiter.argv.iter().map(Vec::as_slice).collect();
    let cmd = resolve(&argv).ok()?;
    let handler = cmd.spec.handler?;
    let mut client = ClientState::new(waiter.handle.clone());
    client.db = waiter.db;
    client.blocking.serving = true;
    let mut out = ReplyEncoder::new(waiter.protocol);
    let mut ctx = ExecCtx {
        server,
        client: &mut client,
        out: &mut out,
        now_ms,
        lru,
    };
    let watched = if cmd.spec.flags.has(Flags::WRITE) && server.keyspace.watches.active() {
        watched_presence(&ctx, cmd, &argv)
    } else {
        Vec::new()
    };
    let result = handler(&mut ctx, &argv);
    if ctx.client.blocking.not_served {
        return None;
    }
    match result {
        Ok(()) => {
            signal_command_keys(&mut ctx, cmd, &argv);
            // The keys the served command changed are touched for WATCH, as Redis's call().
            if !watched.is_empty() {
                touch_watched(&ctx, &argv, &watched);
            }
        }
        Err(e) => {
            ctx.out.truncate(0);
            reply_error(&mut ctx, &e);
        }
    }
    more.append(&mut client.blocking.ready);
    events.borrow_mut().append(&mut client.events.borrow_mut());
    Some(out.buf)
}

/// The slow log and latency monitor part of [`run`]; all cheap checks unless something is
/// recorded.
#[inline]
fn record_slow(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]], usec: u64) {
    let server = ctx.server;
    let latency_ms = usec / 1000;
    if server.latency.wants(latency_ms) {
        let event = if cmd.spec.flags.has(Flags::FAST) {
            "fast-command"
        } else {
            "command"
        };
        server
            .latency
            .add(event, latency_ms, crate::server::now_ms() / 1000);
    }
    if server.slowlog.wants(usec) {
        let handle = &ctx.client.handle;
        let peer = handle.addr.map(|a| a.to_string()).unwrap_or_default();
        let name = handle.info.lock().name.clone().unwrap_or_default();
        server
            .slowlog
            .push(argv, usec, crate::server::now_ms() / 1000, peer, name);
    }
}

/// Writes an error reply and counts it (total and per prefix).
pub fn reply_error(ctx: &mut ExecCtx<'_>, e: &CmdError) {
    let text = e.to_string();
    Stats::add(&ctx.server.stats.total_error_replies, 1);
    ctx.server.stats.count_error(&text);
    ctx.out.error(&text);
}
