//! Functions: FUNCTION LOAD | LIST | DELETE | FLUSH | DUMP | RESTORE | STATS | KILL | HELP,
//! FCALL and FCALL_RO. Libraries are kept by [`crate::script::function`].
//!
//! FCALL runs with the keyspace gate held for writing, like EVAL. FUNCTION STATS and KILL
//! read only the run state, so they answer while a busy function holds the engine.

use super::script::{split_keys, RO_KEYS, RUN_FLAGS, RUN_RO_FLAGS, RW_KEYS};
use crate::cmd::dispatch;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::{args, CmdError, ExecCtx};
use crate::script::dump::{self, RestoreError};
use crate::script::function::RestorePolicy;
use crate::script::{flags, Scripting};

/// Publishes the library and function counts FUNCTION STATS reports without the engine lock.
fn refresh_counts(scripting: &Scripting, libraries: usize, functions: usize) {
    scripting.set_function_counts(libraries, functions);
}

fn fcall_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], ro: bool) -> CmdResult {
    if ctx.server.monitors.active() {
        dispatch::feed_monitors_line(ctx, argv);
    }
    let server = ctx.server;
    let mut engine = server.scripting.functions.lock();
    if engine.flags_of(argv[1]).is_none() {
        return Err(CmdError::err("Function not found"));
    }
    let (keys, rest) = split_keys(argv, || CmdError::err("Bad number of keys provided"))?;
    engine.call(ctx, argv[1], ro, keys, rest, argv)
}

/// `FCALL function numkeys [key ...] [arg ...]` — the function's return value as a reply.
fn fcall(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    fcall_generic(ctx, argv, false)
}

/// `FCALL_RO function numkeys [key ...] [arg ...]` — as FCALL for `no-writes` functions.
fn fcall_ro(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    fcall_generic(ctx, argv, true)
}

/// `FUNCTION LOAD [REPLACE] code` — the library name.
fn function_load(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut replace = false;
    let last = argv.len() - 1;
    for opt in &argv[2..last] {
        if args::is(opt, "REPLACE") {
            replace = true;
        } else {
            return Err(CmdError::err(format!(
                "Unknown option given: {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    let scripting = &ctx.server.scripting;
    let mut engine = scripting.functions.lock();
    let name = engine.load(argv[last], replace).map_err(CmdError::err)?;
    refresh_counts(
        scripting,
        engine.libs.libraries.len(),
        engine.libs.function_count(),
    );
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]` — per library: name, engine, functions
/// (name, description, flags), and the code with WITHCODE.
fn function_list(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if !with_code && args::is(a, "WITHCODE") {
            with_code = true;
        } else if pattern.is_none() && args::is(a, "LIBRARYNAME") {
            if i >= argv.len() - 1 {
                return Err(CmdError::err("library name argument was not given"));
            }
            i += 1;
            pattern = Some(argv[i]);
        } else {
            return Err(CmdError::err(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let engine = ctx.server.scripting.functions.lock();
    let libs: Vec<_> = engine
        .libs
        .libraries
        .values()
        .filter(|lib| match pattern {
            None => true,
            Some(p) => fincache_types::glob_match(p, lib.name.as_bytes(), true),
        })
        .collect();
    let out = &mut *ctx.out;
    out.array_len(libs.len());
    for lib in libs {
        out.map_len(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(lib.engine.as_bytes());
        out.bulk(b"functions");
        out.array_len(lib.functions.len());
        for f in &lib.functions {
            out.map_len(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let set: Vec<&str> = flags::NAMES
                .iter()
                .filter(|(bit, _)| f.flags & bit != 0)
                .map(|(_, n)| *n)
                .collect();
            out.set_len(set.len());
            for name in set {
                out.simple(name);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// `FUNCTION DELETE library` — `+OK`, or `Library not found`.
fn function_delete(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let scripting = &ctx.server.scripting;
    let mut engine = scripting.functions.lock();
    let name = String::from_utf8_lossy(argv[2]);
    if !engine.delete(&name) {
        return Err(CmdError::err("Library not found"));
    }
    refresh_counts(
        scripting,
        engine.libs.libraries.len(),
        engine.libs.function_count(),
    );
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION FLUSH [ASYNC | SYNC]` — `+OK` after deleting every library.
fn function_flush(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(super::server::subcommand_syntax_error(argv, "FUNCTION"));
    }
    if argv.len() == 3 && !args::is(argv[2], "SYNC") && !args::is(argv[2], "ASYNC") {
        return Err(CmdError::err(
            "FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    let scripting = &ctx.server.scripting;
    scripting.functions.lock().flush();
    refresh_counts(scripting, 0, 0);
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION DUMP` — a payload of every library, for FUNCTION RESTORE (Redis's format).
fn function_dump(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let engine = ctx.server.scripting.functions.lock();
    let payload = dump::dump(engine.libs.libraries.values().map(|l| l.code.as_slice()));
    ctx.out.bulk(&payload);
    Ok(())
}

/// `FUNCTION RESTORE payload [FLUSH | APPEND | REPLACE]` — `+OK` after loading the payload's
/// libraries (APPEND, the default, fails on a name collision; REPLACE replaces; FLUSH first
/// deletes every library).
fn function_restore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 4 {
        return Err(super::server::subcommand_syntax_error(argv, "FUNCTION"));
    }
    let policy = match argv.get(3) {
        None => RestorePolicy::Append,
        Some(p) if args::is(p, "APPEND") => RestorePolicy::Append,
        Some(p) if args::is(p, "REPLACE") => RestorePolicy::Replace,
        Some(p) if args::is(p, "FLUSH") => RestorePolicy::Flush,
        Some(_) => {
            return Err(CmdError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ))
        }
    };
    let codes = dump::parse(argv[2]).map_err(|e| match e {
        RestoreError::Checksum => CmdError::err("DUMP payload version or checksum are wrong"),
        RestoreError::Other(msg) => CmdError::err(msg),
    })?;
    let scripting = &ctx.server.scripting;
    let mut engine = scripting.functions.lock();
    engine.restore(&codes, policy).map_err(CmdError::err)?;
    refresh_counts(
        scripting,
        engine.libs.libraries.len(),
        engine.libs.function_count(),
    );
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION STATS` — the running function (name, calling command, duration) or null, and
/// per engine the library and function counts. `BUSY` while an EVAL script runs.
fn function_stats(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let scripting = &ctx.server.scripting;
    if scripting.eval_running() {
        return Err(CmdError::Other(crate::script::BUSY_EVAL.into()));
    }
    let out = &mut *ctx.out;
    out.map_len(2);
    out.bulk(b"running_script");
    match scripting.running_function() {
        None => out.null(),
        Some((name, command, ms)) => {
            out.map_len(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array_len(command.len());
            for a in &command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(i64::try_from(ms).unwrap_or(i64::MAX));
        }
    }
    let (libraries, functions) = scripting.function_counts();
    out.bulk(b"engines");
    out.map_len(1);
    out.bulk(b"LUA");
    out.map_len(2);
    out.bulk(b"libraries_count");
    out.int(libraries as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
    Ok(())
}

/// `FUNCTION KILL` — `+OK` once the running function (which has not written) is asked to
/// stop; `NOTBUSY` when none runs.
fn function_kill(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.server.scripting.kill(false)?;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION HELP`.
fn function_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    super::server::reply_help(
        ctx.out,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}

const SCRIPTING: AclCats = AclCats::SCRIPTING;
const NOSCRIPT: Flags = Flags::NOSCRIPT;
const WRITE_NOSCRIPT: Flags = Flags(Flags::WRITE.0 | Flags::NOSCRIPT.0);
const WRITE_DENYOOM_NOSCRIPT: Flags = Flags(Flags::WRITE.0 | Flags::DENYOOM.0 | Flags::NOSCRIPT.0);
const BUSY_OK: Flags = Flags(Flags::NOSCRIPT.0 | Flags::ALLOW_BUSY.0);

const FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, WRITE_NOSCRIPT, SCRIPTING, function_delete)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc("scripting", "7.0.0", "Delete a function by name", "O(1)"),
    CommandSpec::new("dump", 2, NOSCRIPT, SCRIPTING, function_dump).doc(
        "scripting",
        "7.0.0",
        "Dump all functions into a serialized binary payload",
        "O(N) where N is the number of functions",
    ),
    CommandSpec::new("flush", -2, WRITE_NOSCRIPT, SCRIPTING, function_flush)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            "scripting",
            "7.0.0",
            "Deleting all functions",
            "O(N) where N is the number of functions deleted",
        ),
    CommandSpec::new(
        "help",
        2,
        Flags(Flags::LOADING.0 | Flags::STALE.0),
        SCRIPTING,
        function_help,
    )
    .doc(
        "scripting",
        "7.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
    CommandSpec::new("kill", 2, BUSY_OK, SCRIPTING, function_kill)
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .doc(
            "scripting",
            "7.0.0",
            "Kill the function currently in execution.",
            "O(1)",
        ),
    CommandSpec::new("list", -2, NOSCRIPT, SCRIPTING, function_list)
        .tips(&["nondeterministic_output_order"])
        .doc(
            "scripting",
            "7.0.0",
            "List information about all the functions",
            "O(N) where N is the number of functions",
        ),
    CommandSpec::new("load", -3, WRITE_DENYOOM_NOSCRIPT, SCRIPTING, function_load)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            "scripting",
            "7.0.0",
            "Create a function with the given arguments (name, code, description)",
            "O(1) (considering compilation time is redundant)",
        ),
    CommandSpec::new(
        "restore",
        -3,
        WRITE_DENYOOM_NOSCRIPT,
        SCRIPTING,
        function_restore,
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .doc(
        "scripting",
        "7.0.0",
        "Restore all the functions on the given payload",
        "O(N) where N is the number of functions on the payload",
    ),
    CommandSpec::new("stats", 2, BUSY_OK, SCRIPTING, function_stats)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .doc(
            "scripting",
            "7.0.0",
            "Return information about the function currently running (name, description, duration)",
            "O(1)",
        ),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("fcall", -3, RUN_FLAGS, SCRIPTING, fcall)
        .key_specs(RW_KEYS)
        .doc(
            "scripting",
            "7.0.0",
            "Invoke a function",
            "Depends on the function that is executed.",
        ),
    CommandSpec::new("fcall_ro", -3, RUN_RO_FLAGS, SCRIPTING, fcall_ro)
        .key_specs(RO_KEYS)
        .doc(
            "scripting",
            "7.0.0",
            "Invoke a read-only function",
            "Depends on the function that is executed.",
        ),
    CommandSpec::container(
        "function",
        -2,
        Flags::NONE,
        AclCats::NONE,
        FUNCTION_SUBCOMMANDS,
    )
    .doc(
        "scripting",
        "7.0.0",
        "A container for function commands",
        "Depends on subcommand.",
    ),
];
