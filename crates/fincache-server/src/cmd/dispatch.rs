//! Running one command: resolve it in the table, check it, run it, account for it.
//!
//! ORDER: the checks follow Redis's `processCommand`: lookup and arity → (authentication, MULTI
//! rules, ACL, cluster redirect, memory, persistence errors, read-only replica, subscribed
//! context, loading, busy script: added by the issues that bring them) → run → count.

use super::ctx::ExecCtx;
use super::error::CmdError;
use super::registry::{self, CommandRef};
use super::spec::Flags;
use crate::stats::Stats;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Resolves `argv` to a command or subcommand and checks its arity.
pub fn resolve(argv: &[&[u8]]) -> Result<CommandRef, CmdError> {
    let reg = registry::get();
    let Some(cmd) = reg.lookup(argv[0]) else {
        return Err(CmdError::unknown_command(argv));
    };
    if !cmd.spec.subcommands.is_empty() {
        if argv.len() < 2 {
            return Err(CmdError::WrongArity(cmd.spec.name.to_string()));
        }
        let Some(sub) = reg.lookup_sub(&cmd, argv[1]) else {
            return Err(CmdError::UnknownSubcommand {
                sub: String::from_utf8_lossy(argv[1]).into_owned(),
                container: cmd.spec.name.to_ascii_uppercase(),
            });
        };
        if !sub.spec.arity_ok(argv.len()) {
            return Err(CmdError::WrongArity(sub.full_name()));
        }
        return Ok(sub);
    }
    if !cmd.spec.arity_ok(argv.len()) {
        return Err(CmdError::WrongArity(cmd.spec.name.to_string()));
    }
    Ok(cmd)
}

/// Resolves and runs one command, writing its reply (or error) to `ctx.out`.
pub fn execute(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) {
    match resolve(argv) {
        Ok(cmd) => run(ctx, cmd, argv),
        Err(e) => reply_error(ctx, &e),
    }
}

/// Runs a resolved command: takes the keyspace gate, calls the handler, counts the call.
pub fn run(ctx: &mut ExecCtx<'_>, cmd: CommandRef, argv: &[&[u8]]) {
    let Some(handler) = cmd.spec.handler else {
        reply_error(ctx, &CmdError::Syntax);
        return;
    };
    let server = ctx.server;
    let mark = ctx.out.len();
    let started = Instant::now();
    let result = if cmd.spec.flags.has(Flags::EXCLUSIVE) {
        let _gate = server.keyspace.gate.write();
        handler(ctx, argv)
    } else {
        let _gate = server.keyspace.gate.read();
        handler(ctx, argv)
    };
    let usec = started.elapsed().as_micros() as u64;
    let stat = &server.command_stats[cmd.id];
    stat.calls.fetch_add(1, Ordering::Relaxed);
    stat.usec.fetch_add(usec, Ordering::Relaxed);
    Stats::add(&server.stats.total_commands_processed, 1);
    if let Err(e) = result {
        stat.failed_calls.fetch_add(1, Ordering::Relaxed);
        ctx.out.truncate(mark);
        reply_error(ctx, &e);
    }
}

/// Writes an error reply and counts it.
pub fn reply_error(ctx: &mut ExecCtx<'_>, e: &CmdError) {
    Stats::add(&ctx.server.stats.total_error_replies, 1);
    ctx.out.error(&e.to_string());
}
