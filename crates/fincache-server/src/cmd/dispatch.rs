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
//! - a command that ran at least `slowlog-log-slower-than` µs goes to the slow log (unless
//!   flagged `skip_slowlog`), and one that ran at least `latency-monitor-threshold` ms is a
//!   `command` (or, for fast commands, `fast-command`) latency event.

use super::ctx::ExecCtx;
use super::error::CmdError;
use super::registry::{self, CommandRef};
use super::spec::Flags;
use crate::stats::Stats;
use std::sync::atomic::Ordering;
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
    if let Some(cmd) = cmd {
        ctx.server.command_stats[cmd.id]
            .rejected_calls
            .fetch_add(1, Ordering::Relaxed);
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
    let Some(handler) = cmd.spec.handler else {
        reply_error(ctx, &CmdError::Syntax);
        return;
    };
    let server = ctx.server;
    let mark = ctx.out.len();
    // The clock starts once the gate is held: time spent waiting behind an exclusive command
    // (a DEBUG SLEEP, a FLUSHALL) is not this command's latency, as in single-threaded Redis.
    let (result, usec) = if cmd.spec.flags.has(Flags::EXCLUSIVE) {
        let _gate = server.keyspace.gate.write();
        let started = Instant::now();
        (handler(ctx, argv), started.elapsed())
    } else {
        let _gate = server.keyspace.gate.read();
        let started = Instant::now();
        (handler(ctx, argv), started.elapsed())
    };
    let usec = usec.as_micros() as u64;
    let stat = &server.command_stats[cmd.id];
    stat.calls.fetch_add(1, Ordering::Relaxed);
    stat.usec.fetch_add(usec, Ordering::Relaxed);
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
