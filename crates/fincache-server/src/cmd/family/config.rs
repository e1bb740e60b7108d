//! CONFIG GET/SET/RESETSTAT/REWRITE/HELP over the settings table ([`crate::config::table`]).
//!
//! Mirrors Redis 7's `config.c`: names match case-insensitively, CONFIG GET takes several
//! patterns and replies with a map, CONFIG SET takes several pairs and applies all or none.
//! ORDER: CONFIG SET holds the configuration's write lock from reading the current values to
//! storing the new ones, so two concurrent CONFIG SETs cannot lose each other's changes.

use crate::cmd::family::server::reply_help;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::{CmdError, ExecCtx};
use crate::config::set::{config_set, Caller};
use crate::config::{rewrite, table};
use fincache_types::glob_match;
use std::sync::atomic::Ordering;

/// `CONFIG GET parameter [parameter ...]`
///
/// Map of each matching setting to its value (RESP2: flat array of name, value …). A name
/// without `*`, `?` or `[` matches itself or an alias, and is echoed as the client spelled it;
/// a glob matches every setting and alias, case-insensitively. Each setting appears once.
fn config_get(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut found: Vec<(String, &'static table::Setting)> = Vec::new();
    let seen = |found: &Vec<(String, &table::Setting)>, name: &[u8]| {
        found
            .iter()
            .any(|(k, _)| k.as_bytes().eq_ignore_ascii_case(name))
    };
    for &pattern in &argv[2..] {
        if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            if let Some((setting, _)) = table::find(pattern) {
                if !seen(&found, pattern) {
                    found.push((String::from_utf8_lossy(pattern).into_owned(), setting));
                }
            }
            continue;
        }
        for (name, setting) in table::names() {
            if glob_match(pattern, name.as_bytes(), true) && !seen(&found, name.as_bytes()) {
                found.push((name.to_string(), setting));
            }
        }
    }
    let config = ctx.server.config.read().clone();
    ctx.out.map_len(found.len());
    for (name, setting) in found {
        ctx.out.bulk(name.as_bytes());
        ctx.out.bulk((setting.get)(&config).as_bytes());
    }
    Ok(())
}

/// `CONFIG SET parameter value [parameter value ...]`
///
/// `+OK` once every pair is applied; otherwise nothing changes and the error is Redis's:
/// `Unknown option or number of arguments for CONFIG SET - '<name>'`, or `CONFIG SET failed
/// (possibly related to argument '<name>') - <reason>` (bad value, `can't set immutable
/// config`, `can't set protected config`, `duplicate parameter`). An odd argument count is a
/// syntax error.
///
/// COMPAT: `port` and `bind` cannot change at run time (Redis re-binds); values that need a
/// feature FinCache does not have yet (`appendonly yes`, `save` rules, `maxmemory` above 0 …)
/// are refused with a message naming the setting.
fn config_set_cmd(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if !argv.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = argv[2..].chunks(2).map(|p| (p[0], p[1])).collect();
    let caller = match ctx.client.handle.addr {
        Some(addr) if !addr.ip().is_loopback() => Caller::Remote,
        _ => Caller::Local,
    };
    let mut config = ctx.server.config.write();
    let next = config_set(&config, &pairs, caller).map_err(|e| e.into_cmd_error())?;
    *config = next;
    drop(config);
    ctx.out.ok();
    Ok(())
}

/// `CONFIG RESETSTAT`
///
/// `+OK`. Zeroes what Redis's `resetServerStats` and `resetCommandTableStats` zero: the server
/// counters, error statistics, per-command statistics, keyspace hits and misses, expired keys.
fn config_resetstat(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let server = ctx.server;
    server.stats.reset();
    for stat in server.command_stats.iter() {
        stat.reset();
    }
    server.keyspace.hits.store(0, Ordering::Relaxed);
    server.keyspace.misses.store(0, Ordering::Relaxed);
    for db in server.keyspace.dbs() {
        for i in 0..db.shard_count() {
            db.lock_shard(i).expired_keys = 0;
        }
    }
    ctx.out.ok();
    Ok(())
}

/// `CONFIG REWRITE`
///
/// `+OK` after writing the running configuration into the YAML file given with `--config`
/// (keeping its layout and comments); `ERR The server is running without a config file`
/// without one; `ERR Rewriting config file: <reason>` when it cannot be written.
fn config_rewrite(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let config = ctx.server.config.read().clone();
    let Some(path) = &config.config_file else {
        return Err(CmdError::err("The server is running without a config file"));
    };
    if let Err(reason) = rewrite::rewrite_file(path, &config) {
        tracing::warn!(%reason, "CONFIG REWRITE failed");
        return Err(CmdError::err(format!("Rewriting config file: {reason}")));
    }
    tracing::warn!("CONFIG REWRITE executed with success.");
    ctx.out.ok();
    Ok(())
}

/// `CONFIG HELP` — the subcommands, one status line each.
fn config_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    reply_help(
        ctx.out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

const ADMIN: Flags = Flags(Flags::ADMIN.0 | Flags::NOSCRIPT.0 | Flags::LOADING.0 | Flags::STALE.0);

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, ADMIN, AclCats::NONE, config_get).doc(
        "server",
        "2.0.0",
        "Get the values of configuration parameters",
        "O(N) when N is the number of configuration parameters provided",
    ),
    CommandSpec::new("set", -4, ADMIN, AclCats::NONE, config_set_cmd)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "server",
            "2.0.0",
            "Set configuration parameters to the given values",
            "O(N) when N is the number of configuration parameters provided",
        ),
    CommandSpec::new("resetstat", 2, ADMIN, AclCats::NONE, config_resetstat).doc(
        "server",
        "2.0.0",
        "Reset the stats returned by INFO",
        "O(1)",
    ),
    CommandSpec::new("rewrite", 2, ADMIN, AclCats::NONE, config_rewrite).doc(
        "server",
        "2.8.0",
        "Rewrite the configuration file with the in memory configuration",
        "O(1)",
    ),
    CommandSpec::new(
        "help",
        2,
        Flags(Flags::LOADING.0 | Flags::STALE.0),
        AclCats::NONE,
        config_help,
    )
    .doc(
        "server",
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
];

pub const COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::container("config", -2, Flags::NONE, AclCats::NONE, SUBCOMMANDS).doc(
            "server",
            "2.0.0",
            "A container for server configuration commands",
            "Depends on subcommand.",
        ),
    ];
