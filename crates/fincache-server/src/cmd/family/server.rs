//! Server control and diagnostics: TIME, LASTSAVE, SHUTDOWN, SLOWLOG, LATENCY, DEBUG.
//! INFO lives in [`super::info`], COMMAND in [`super::command`].
//!
//! The slow log and the latency monitor are filled by the dispatcher ([`crate::slowlog`],
//! [`crate::latency`]); these commands only read and reset them.

use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::{args, CmdError, ExecCtx};
use crate::store::Value;
use fincache_resp::ReplyEncoder;
use std::sync::atomic::Ordering;

/// Writes Redis's HELP reply: a header line naming `command`, the given lines, then HELP
/// (each a status reply, as Redis's `addReplyHelp`).
pub fn reply_help(out: &mut ReplyEncoder, command: &str, lines: &[&str]) {
    out.array_len(lines.len() + 3);
    out.simple(&format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for line in lines {
        out.simple(line);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// Redis's `addReplySubcommandSyntaxError`: a subcommand that is unknown or got the wrong
/// number of arguments inside a command that parses its own subcommands.
pub fn subcommand_syntax_error(argv: &[&[u8]], command: &str) -> CmdError {
    let sub = argv.get(1).copied().unwrap_or_default();
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {command} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)])
    ))
}

/// `TIME` — `[unix seconds, microseconds]` as two bulk strings.
fn time(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let us = crate::server::now_us();
    ctx.out.array_len(2);
    ctx.out.bulk_int((us / 1_000_000) as i64);
    ctx.out.bulk_int((us % 1_000_000) as i64);
    Ok(())
}

/// `SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]` — stops the server: no reply, the
/// connection closes, the process exits. `ABORT` replies `ERR No shutdown in progress.`
/// (a shutdown here never waits for replicas, so none is ever pending).
///
/// COMPAT: `SAVE` is refused until snapshots exist; the default and `NOSAVE` stop without
/// saving, which is what Redis does when no save points are configured.
fn shutdown(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (mut nosave, mut save, mut abort, mut other) = (false, false, false, false);
    let mut force = false;
    for a in &argv[1..] {
        if args::is(a, "NOSAVE") {
            nosave = true;
        } else if args::is(a, "SAVE") {
            save = true;
        } else if args::is(a, "NOW") || args::is(a, "FORCE") {
            force |= args::is(a, "FORCE");
            other = true;
        } else if args::is(a, "ABORT") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Err(CmdError::Syntax);
    }
    if abort {
        return Err(CmdError::err("No shutdown in progress."));
    }
    // SAVE, or save points configured and not NOSAVE: snapshot first, as Redis. The command
    // is EXCLUSIVE, so the gate is held for writing as the save requires.
    let wants_save = save || (!nosave && crate::persist::has_save_points(ctx.server));
    if wants_save && crate::persist::save_locked(ctx.server).is_err() && !force {
        return Err(CmdError::err("Errors trying to SHUTDOWN. Check logs."));
    }
    ctx.server
        .persist
        .shutdown_handled
        .store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::warn!(client = ctx.client.id, "user requested shutdown");
    ctx.server.request_shutdown();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// `SLOWLOG GET [count]` — the newest `count` entries (default 10, -1 for all), each
/// `[id, unix time, microseconds, [args…], "ip:port", client name]`.
fn slowlog_get(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(subcommand_syntax_error(argv, "SLOWLOG"));
    }
    let count = match argv.get(2) {
        None => Some(10),
        Some(a) => match fincache_types::num::parse_i64(a) {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(CmdError::err("count should be greater than or equal to -1")),
        },
    };
    let entries = ctx.server.slowlog.latest(count);
    ctx.out.array_len(entries.len());
    for e in &entries {
        ctx.out.array_len(6);
        ctx.out.int(e.id as i64);
        ctx.out.int(e.time as i64);
        ctx.out.int(e.duration_us as i64);
        ctx.out.array_len(e.argv.len());
        for a in &e.argv {
            ctx.out.bulk(a);
        }
        ctx.out.bulk(e.peer.as_bytes());
        ctx.out.bulk(&e.name);
    }
    Ok(())
}

/// `SLOWLOG LEN` — the number of entries.
fn slowlog_len(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.int(ctx.server.slowlog.len() as i64);
    Ok(())
}

/// `SLOWLOG RESET` — `+OK` after dropping every entry.
fn slowlog_reset(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.server.slowlog.reset();
    ctx.out.ok();
    Ok(())
}

/// `SLOWLOG HELP`
fn slowlog_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    reply_help(
        ctx.out,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}

/// `LATENCY LATEST` — per event: `[name, unix time of the latest spike, its ms, all-time max ms]`.
fn latency_latest(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let events = ctx.server.latency.latest();
    ctx.out.array_len(events.len());
    for (name, latest, max) in &events {
        ctx.out.array_len(4);
        ctx.out.bulk(name.as_bytes());
        ctx.out.int(latest.time as i64);
        ctx.out.int(latest.latency_ms as i64);
        ctx.out.int(*max as i64);
    }
    Ok(())
}

/// `LATENCY HISTORY event` — `[unix time, ms]` pairs, oldest first; empty for unknown events.
fn latency_history(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let samples = ctx.server.latency.history(argv[2]);
    ctx.out.array_len(samples.len());
    for s in &samples {
        ctx.out.array_len(2);
        ctx.out.int(s.time as i64);
        ctx.out.int(s.latency_ms as i64);
    }
    Ok(())
}

/// `LATENCY RESET [event …]` — the number of event series dropped (all without arguments).
fn latency_reset(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let latency = &ctx.server.latency;
    let dropped = if argv.len() == 2 {
        latency.reset(None)
    } else {
        argv[2..].iter().map(|e| latency.reset(Some(e))).sum()
    };
    ctx.out.int(dropped as i64);
    Ok(())
}

/// `LATENCY HELP`
///
/// COMPAT: lists only the subcommands FinCache has (no DOCTOR, GRAPH or HISTOGRAM yet).
fn latency_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    reply_help(
        ctx.out,
        "LATENCY",
        &[
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
        ],
    );
    Ok(())
}

/// `DEBUG OBJECT key | SLEEP seconds | SET-ACTIVE-EXPIRE 0|1 | HELP`
///
/// - `OBJECT key`: `+Value at:0x… refcount:N encoding:E serializedlength:N lru:N
///   lru_seconds_idle:N`, or `ERR no such key`.
/// - `SLEEP seconds` (decimals allowed; parsed like C's `strtod`, so junk is 0): blocks the whole
///   server for that long, as Redis does. DEBUG runs with the keyspace gate held for writing,
///   so every other command waits; then `+OK`.
/// - `SET-ACTIVE-EXPIRE 0|1` (parsed like `atoi`): switches the cron's active expiry.
///
/// COMPAT: only these subcommands exist; others get Redis's unknown-subcommand error.
fn debug(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let sub = argv[1];
    if args::is(sub, "HELP") && argv.len() == 2 {
        reply_help(
            ctx.out,
            "DEBUG",
            &[
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
        Ok(())
    } else if args::is(sub, "OBJECT") && argv.len() == 3 {
        debug_object(ctx, argv[2])
    } else if args::is(sub, "SLEEP") && argv.len() == 3 {
        let seconds = strtod_prefix(argv[2]);
        if let Ok(d) = std::time::Duration::try_from_secs_f64(seconds) {
            std::thread::sleep(d);
        }
        ctx.out.ok();
        Ok(())
    } else if args::is(sub, "SET-ACTIVE-EXPIRE") && argv.len() == 3 {
        ctx.server
            .active_expire_enabled
            .store(atoi_prefix(argv[2]) != 0, Ordering::Relaxed);
        ctx.out.ok();
        Ok(())
    } else {
        Err(subcommand_syntax_error(argv, "DEBUG"))
    }
}

/// Redis shares the integer objects 0..9999 (refcount `INT_MAX`) unless an LRU/LFU
/// `maxmemory` policy needs per-key access times.
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// DEBUG OBJECT: the key's low-level description, without touching its access time.
fn debug_object(ctx: &mut ExecCtx<'_>, key: &[u8]) -> CmdResult {
    let shares_integers = {
        let c = ctx.server.config.read();
        c.maxmemory == 0
            || !(c.maxmemory_policy.contains("lru") || c.maxmemory_policy.contains("lfu"))
    };
    let db = ctx.db();
    let shard = db.lock(key);
    let Some(entry) = shard.peek(key, ctx.now_ms) else {
        return Err(CmdError::NoSuchKey);
    };
    let refcount = match entry.value {
        Value::Int(n) if shares_integers && (0..SHARED_INTEGERS).contains(&n) => SHARED_REFCOUNT,
        _ => 1,
    };
    let idle = ctx.lru.wrapping_sub(entry.lru);
    let text = format!(
        "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{idle}",
        entry,
        entry.value.encoding_name(),
        serialized_len(&entry.value),
        entry.lru,
    );
    drop(shard);
    ctx.out.simple(&text);
    Ok(())
}

/// Bytes the value takes in an RDB file (DEBUG OBJECT `serializedlength`).
///
/// COMPAT: strings longer than 20 bytes are counted uncompressed; Redis LZF-compresses them
/// when that saves space. Other types are estimated from their heap size until RDB
/// serialization exists.
fn serialized_len(v: &Value) -> usize {
    if let Value::Int(n) = v {
        return int_serialized_len(*n);
    }
    if let Value::Str(s) = v {
        let len = s.as_slice().len();
        return rdb_len_prefix(len) + len;
    }
    if let Value::Raw(r) = v {
        return rdb_len_prefix(r.len()) + r.len();
    }
    v.heap_size()
}

/// An integer string: 8/16/32-bit encodings take 1 type byte plus the integer; wider ones are
/// written as decimal text.
fn int_serialized_len(n: i64) -> usize {
    if i8::try_from(n).is_ok() {
        2
    } else if i16::try_from(n).is_ok() {
        3
    } else if i32::try_from(n).is_ok() {
        5
    } else {
        let digits = itoa::Buffer::new().format(n).len();
        rdb_len_prefix(digits) + digits
    }
}

/// RDB length encoding: 1, 2, 5 or 9 bytes.
fn rdb_len_prefix(len: usize) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if len as u64 <= u64::from(u32::MAX) {
        5
    } else {
        9
    }
}

/// C's `strtod` on the longest numeric prefix (leading spaces skipped; none → 0). Non-finite
/// and negative results sleep zero time in the caller, as Redis's `nanosleep` refuses them.
fn strtod_prefix(arg: &[u8]) -> f64 {
    let start = arg
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(arg.len());
    let s = &arg[start..arg.len().min(start + 64)];
    (1..=s.len())
        .rev()
        .find_map(|n| {
            std::str::from_utf8(&s[..n])
                .ok()
                .filter(|t| !t.ends_with(|c: char| c.is_ascii_whitespace()))
                .and_then(|t| t.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// C's `atoi`: optional spaces and sign, then digits; anything else ends the number.
fn atoi_prefix(arg: &[u8]) -> i64 {
    let mut it = arg
        .iter()
        .skip_while(|c| c.is_ascii_whitespace())
        .peekable();
    let negative = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    for c in it.take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if negative {
        -n
    } else {
        n
    }
}

const ADMIN_STALE: Flags =
    Flags(Flags::ADMIN.0 | Flags::NOSCRIPT.0 | Flags::LOADING.0 | Flags::STALE.0);
const SLOWLOG_ADMIN: Flags = Flags(Flags::ADMIN.0 | Flags::LOADING.0 | Flags::STALE.0);
const HELP_FLAGS: Flags = Flags(Flags::LOADING.0 | Flags::STALE.0);
const FAST_STALE: Flags = Flags(Flags::LOADING.0 | Flags::STALE.0 | Flags::FAST.0);
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];

const SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, SLOWLOG_ADMIN, AclCats::NONE, slowlog_get)
        .tips(&["request_policy:all_nodes", "nondeterministic_output"])
        .doc(
            "server",
            "2.2.12",
            "Returns the slow log's entries.",
            "O(N) where N is the number of entries returned",
        ),
    CommandSpec::new("len", 2, SLOWLOG_ADMIN, AclCats::NONE, slowlog_len)
        .tips(&[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ])
        .doc(
            "server",
            "2.2.12",
            "Returns the number of entries in the slow log.",
            "O(1)",
        ),
    CommandSpec::new("reset", 2, SLOWLOG_ADMIN, AclCats::NONE, slowlog_reset)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "server",
            "2.2.12",
            "Clears all entries from the slow log.",
            "O(N) where N is the number of entries in the slowlog",
        ),
    CommandSpec::new("help", 2, HELP_FLAGS, AclCats::NONE, slowlog_help).doc(
        "server",
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
];

const LATENCY_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

const LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("latest", 2, ADMIN_STALE, AclCats::NONE, latency_latest)
        .tips(LATENCY_TIPS)
        .doc(
            "server",
            "2.8.13",
            "Returns the latest latency samples for all events.",
            "O(1)",
        ),
    CommandSpec::new("history", 3, ADMIN_STALE, AclCats::NONE, latency_history)
        .tips(LATENCY_TIPS)
        .doc(
            "server",
            "2.8.13",
            "Returns timestamp-latency samples for an event.",
            "O(1)",
        ),
    CommandSpec::new("reset", -2, ADMIN_STALE, AclCats::NONE, latency_reset)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "server",
            "2.8.13",
            "Resets the latency data for one or more events.",
            "O(1)",
        ),
    CommandSpec::new("help", 2, HELP_FLAGS, AclCats::NONE, latency_help).doc(
        "server",
        "2.8.13",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("time", 1, FAST_STALE, AclCats::NONE, time)
        .tips(NONDETERMINISTIC)
        .doc("server", "2.6.0", "Returns the server time.", "O(1)"),
    CommandSpec::new(
        "shutdown",
        -1,
        Flags(ADMIN_STALE.0 | Flags::NO_MULTI.0 | Flags::ALLOW_BUSY.0 | Flags::EXCLUSIVE.0),
        AclCats::NONE,
        shutdown,
    )
    .doc("server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server.", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
    CommandSpec::container("slowlog", -2, Flags::NONE, AclCats::NONE, SLOWLOG_SUBCOMMANDS)
        .doc("server", "2.2.12", "A container for slow log commands.", "Depends on subcommand."),
    CommandSpec::container("latency", -2, Flags::NONE, AclCats::NONE, LATENCY_SUBCOMMANDS)
        .doc("server", "2.8.13", "A container for latency diagnostics commands.", "Depends on subcommand."),
    CommandSpec::new("debug", -2, Flags(ADMIN_STALE.0 | Flags::EXCLUSIVE.0), AclCats::NONE, debug)
        .doc("server", "1.0.0", "A container for debugging commands.", "Depends on subcommand."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_c() {
        assert_eq!(strtod_prefix(b"0.1"), 0.1);
        assert_eq!(strtod_prefix(b"  2.5abc"), 2.5);
        assert_eq!(strtod_prefix(b"abc"), 0.0);
        assert_eq!(strtod_prefix(b""), 0.0);
        assert_eq!(strtod_prefix(b"1e-3x"), 0.001);
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi_prefix(b"1"), 1);
        assert_eq!(atoi_prefix(b" -2x"), -2);
        assert_eq!(atoi_prefix(b"abc"), 0);
        assert_eq!(atoi_prefix(b"99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn serialized_lengths() {
        assert_eq!(serialized_len(&Value::from_bytes(b"hello")), 6);
        assert_eq!(serialized_len(&Value::from_bytes(b"123")), 2);
        assert_eq!(serialized_len(&Value::from_bytes(b"1000")), 3);
        assert_eq!(serialized_len(&Value::from_bytes(b"100000")), 5);
        assert_eq!(serialized_len(&Value::from_bytes(b"12345678901")), 12);
        assert_eq!(serialized_len(&Value::from_bytes(&[b'x'; 64])), 66);
    }
}
