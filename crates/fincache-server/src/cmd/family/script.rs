//! Lua scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD | EXISTS |
//! FLUSH | KILL | HELP. The engine lives in [`crate::script`].
//!
//! EVAL and friends run with the keyspace gate held for writing (`EXCLUSIVE`): a script is
//! atomic with respect to every other client. They feed MONITOR themselves, before the
//! script's own commands, as Redis does.
// COMPAT: SCRIPT DEBUG (the Lua debugger) is not implemented; SCRIPT HELP does not list it.

use crate::cmd::dispatch;
use crate::cmd::spec::{
    AclCats, BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec,
};
use crate::cmd::{args, CmdError, ExecCtx};
use crate::script::eval::{noscript, sha_key};

/// Keys and arguments of an EVAL-style command.
pub(super) type KeysAndArgs<'a> = (&'a [&'a [u8]], &'a [&'a [u8]]);

/// Splits `<numkeys> key… arg…` (from `argv[2]`) into keys and arguments, with Redis's errors.
pub(super) fn split_keys<'a>(
    argv: &'a [&'a [u8]],
    bad_number: impl FnOnce() -> CmdError,
) -> Result<KeysAndArgs<'a>, CmdError> {
    let numkeys = fincache_types::num::parse_i64(argv[2]).ok_or_else(bad_number)?;
    let rest = &argv[3..];
    if numkeys > rest.len() as i64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    Ok(rest.split_at(numkeys as usize))
}

/// EVAL / EVALSHA and their `_RO` forms.
fn eval_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], by_sha: bool, ro: bool) -> CmdResult {
    if ctx.server.monitors.active() {
        dispatch::feed_monitors_line(ctx, argv);
    }
    if by_sha && argv[1].len() != 40 {
        return Err(noscript());
    }
    let (keys, rest) = split_keys(argv, || CmdError::NotInteger)?;
    let server = ctx.server;
    let mut engine = server.scripting.eval.lock();
    let sha = if by_sha {
        let sha = sha_key(argv[1]).ok_or_else(noscript)?;
        if !engine.exists(&sha) {
            return Err(noscript());
        }
        sha
    } else {
        engine.create(argv[1])?
    };
    engine.run(&server.scripting, ctx, &sha, ro, keys, rest)
}

/// `EVAL script numkeys [key ...] [arg ...]` — the script's return value converted to a
/// reply (see `script::convert`), or its error.
fn eval(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, argv, false, false)
}

/// `EVALSHA sha1 numkeys [key ...] [arg ...]` — as EVAL for a cached script; `NOSCRIPT` when
/// the script is not cached.
fn evalsha(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, argv, true, false)
}

/// `EVAL_RO script numkeys [key ...] [arg ...]` — as EVAL; the script may not write.
fn eval_ro(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, argv, false, true)
}

/// `EVALSHA_RO sha1 numkeys [key ...] [arg ...]` — as EVALSHA; the script may not write.
fn evalsha_ro(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, argv, true, true)
}

/// `SCRIPT LOAD script` — the script's SHA1 after compiling and caching it.
fn script_load(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let sha = ctx.server.scripting.eval.lock().create(argv[2])?;
    ctx.out.bulk(&sha);
    Ok(())
}

/// `SCRIPT EXISTS sha1 [sha1 ...]` — an array of 1 (cached) or 0.
fn script_exists(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let engine = ctx.server.scripting.eval.lock();
    ctx.out.array_len(argv.len() - 2);
    for sha in &argv[2..] {
        ctx.out.int(i64::from(engine.exists(sha)));
    }
    Ok(())
}

/// `SCRIPT FLUSH [ASYNC | SYNC]` — `+OK` after emptying the script cache (and starting a
/// fresh Lua state).
fn script_flush(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    match argv {
        [_, _] => {}
        [_, _, mode] if args::is(mode, "SYNC") || args::is(mode, "ASYNC") => {}
        _ => return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
    let fresh = crate::script::eval::EvalEngine::new();
    let old = std::mem::replace(&mut *ctx.server.scripting.eval.lock(), fresh);
    drop(old);
    ctx.out.ok();
    Ok(())
}

/// `SCRIPT KILL` — `+OK` once the running script (which has not written) is asked to stop;
/// `NOTBUSY` when none runs, `UNKILLABLE` once it wrote.
fn script_kill(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.server.scripting.kill(true)?;
    ctx.out.ok();
    Ok(())
}

/// `SCRIPT HELP`.
fn script_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    super::server::reply_help(
        ctx.out,
        "SCRIPT",
        &[
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}

/// The key spec of EVAL-style commands: a key count at argument 2, keys after it.
pub(super) const fn numkeys_spec(flags: KeyFlags) -> KeySpec {
    KeySpec {
        flags,
        begin: BeginSearch::Index(2),
        find: FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            keystep: 1,
        },
    }
}

pub(super) const RW_KEYS: &[KeySpec] = &[numkeys_spec(KeyFlags(
    KeyFlags::RW.0 | KeyFlags::ACCESS.0 | KeyFlags::UPDATE.0,
))];
pub(super) const RO_KEYS: &[KeySpec] =
    &[numkeys_spec(KeyFlags(KeyFlags::RO.0 | KeyFlags::ACCESS.0))];

/// EVAL, EVALSHA, FCALL: atomic (gate held for writing) and replicated as their effects.
pub(super) const RUN_FLAGS: Flags = Flags(
    Flags::NOSCRIPT.0
        | Flags::SKIP_MONITOR.0
        | Flags::MAY_REPLICATE.0
        | Flags::NO_MANDATORY_KEYS.0
        | Flags::STALE.0
        | Flags::MOVABLE_KEYS.0
        | Flags::EXCLUSIVE.0,
);
pub(super) const RUN_RO_FLAGS: Flags = Flags(
    Flags::READONLY.0
        | Flags::NOSCRIPT.0
        | Flags::SKIP_MONITOR.0
        | Flags::NO_MANDATORY_KEYS.0
        | Flags::STALE.0
        | Flags::MOVABLE_KEYS.0
        | Flags::EXCLUSIVE.0,
);

const SCRIPTING: AclCats = AclCats::SCRIPTING;

const SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("exists", -3, Flags::NOSCRIPT, SCRIPTING, script_exists)
        .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"])
        .doc(
            "scripting",
            "2.6.0",
            "Check existence of scripts in the script cache.",
            "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        ),
    CommandSpec::new("flush", -2, Flags::NOSCRIPT, SCRIPTING, script_flush)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "scripting",
            "2.6.0",
            "Remove all the scripts from the script cache.",
            "O(N) with N being the number of scripts in cache",
        ),
    CommandSpec::new(
        "help",
        2,
        Flags(Flags::LOADING.0 | Flags::STALE.0),
        SCRIPTING,
        script_help,
    )
    .doc("scripting", "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new(
        "kill",
        2,
        Flags(Flags::NOSCRIPT.0 | Flags::ALLOW_BUSY.0),
        SCRIPTING,
        script_kill,
    )
    .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
    .doc(
        "scripting",
        "2.6.0",
        "Kill the script currently in execution.",
        "O(1)",
    ),
    CommandSpec::new(
        "load",
        3,
        Flags(Flags::NOSCRIPT.0 | Flags::STALE.0),
        SCRIPTING,
        script_load,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .doc(
        "scripting",
        "2.6.0",
        "Load the specified Lua script into the script cache.",
        "O(N) with N being the length in bytes of the script body.",
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, RUN_FLAGS, SCRIPTING, eval)
        .key_specs(RW_KEYS)
        .doc(
            "scripting",
            "2.6.0",
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
        ),
    CommandSpec::new("evalsha", -3, RUN_FLAGS, SCRIPTING, evalsha)
        .key_specs(RW_KEYS)
        .doc(
            "scripting",
            "2.6.0",
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
        ),
    CommandSpec::new("eval_ro", -3, RUN_RO_FLAGS, SCRIPTING, eval_ro)
        .key_specs(RO_KEYS)
        .doc(
            "scripting",
            "7.0.0",
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
        ),
    CommandSpec::new("evalsha_ro", -3, RUN_RO_FLAGS, SCRIPTING, evalsha_ro)
        .key_specs(RO_KEYS)
        .doc(
            "scripting",
            "7.0.0",
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
        ),
    CommandSpec::container("script", -2, Flags::NONE, AclCats::NONE, SCRIPT_SUBCOMMANDS).doc(
        "scripting",
        "2.6.0",
        "A container for Lua scripts management commands",
        "Depends on subcommand.",
    ),
];
