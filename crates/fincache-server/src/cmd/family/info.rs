//! INFO: the server's state as Redis's `key:value` text, section by section.
//!
//! Sections, headers and field names are Redis 7's, in Redis's order, so tools that parse INFO
//! (redis-cli, exporters, client libraries) read FinCache unchanged. Only fields FinCache can
//! fill truthfully are printed: subsystems that do not exist yet (persistence, replication,
//! modules, cluster) show the values Redis shows when they are idle or disabled.
//!
//! FinCache reports `redis_version` [`REDIS_VERSION`] (7.2.4): the Redis release whose command
//! set and replies it follows. Clients gate features on it (RESP3, `CLIENT SETINFO`, …), so it
//! must be a 7.2 version, not FinCache's own; that one is `fincache_version`.

use crate::cmd::registry;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::ExecCtx;
use crate::server::Server;
use crate::stats::{allocator_stats, Stats};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The Redis version FinCache answers as (INFO `redis_version`, HELLO `version`).
pub const REDIS_VERSION: &str = "7.2.4";

/// INFO sections in the order Redis prints them, with whether `default` includes them.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("cluster", true),
    ("keyspace", true),
];

/// `INFO [section …]` — a bulk string (RESP3: verbatim `txt`) of `# Section` blocks separated
/// by blank lines. Sections: the names of [`SECTIONS`], `default` (no argument), `all` and
/// `everything` (every section); names are case-insensitive, unknown ones are ignored.
///
/// COMPAT: no `latencystats` section (per-command latency histograms are not kept).
fn info(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let wanted = selected_sections(&argv[1..]);
    let text = render(ctx.server, &wanted);
    ctx.out.verbatim("txt", text.as_bytes());
    Ok(())
}

/// Which of [`SECTIONS`] the arguments ask for.
fn selected_sections(args: &[&[u8]]) -> [bool; SECTIONS.len()] {
    let mut wanted = [false; SECTIONS.len()];
    if args.is_empty() {
        for (w, (_, default)) in wanted.iter_mut().zip(SECTIONS) {
            *w = *default;
        }
        return wanted;
    }
    for a in args {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "all" | "everything" => wanted = [true; SECTIONS.len()],
            "default" => {
                for (w, (_, default)) in wanted.iter_mut().zip(SECTIONS) {
                    *w |= *default;
                }
            }
            // Redis 7 prints the module list under this name too.
            "module_list" => wanted[7] = true,
            name => {
                if let Some(i) = SECTIONS.iter().position(|(s, _)| *s == name) {
                    wanted[i] = true;
                }
            }
        }
    }
    wanted
}

/// The INFO text of the selected sections.
pub fn render(server: &Server, wanted: &[bool; SECTIONS.len()]) -> String {
    let mut out = String::with_capacity(4096);
    for (i, (name, _)) in SECTIONS.iter().enumerate() {
        if !wanted[i] {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match *name {
            "server" => server_section(server, &mut out),
            "clients" => clients_section(server, &mut out),
            "memory" => memory_section(server, &mut out),
            "persistence" => persistence_section(server, &mut out),
            "stats" => stats_section(server, &mut out),
            "replication" => replication_section(server, &mut out),
            "cpu" => cpu_section(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "commandstats" => commandstats_section(server, &mut out),
            "errorstats" => errorstats_section(server, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            _ => keyspace_section(server, &mut out),
        }
    }
    out
}

/// Appends `name:value\r\n`.
macro_rules! field {
    ($out:expr, $name:expr, $value:expr) => {
        let _ = write!($out, "{}:{}\r\n", $name, $value);
    };
}

fn server_section(server: &Server, out: &mut String) {
    let (port, hz, config_file) = {
        let c = server.config.read();
        let file = c
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        (c.port, c.hz, file)
    };
    let uptime = server.started.elapsed().as_secs();
    out.push_str("# Server\r\n");
    field!(out, "redis_version", REDIS_VERSION);
    field!(out, "redis_git_sha1", "00000000");
    field!(out, "redis_git_dirty", 0);
    field!(out, "fincache_version", env!("CARGO_PKG_VERSION"));
    field!(out, "redis_mode", "standalone");
    field!(out, "os", os_name());
    field!(out, "arch_bits", usize::BITS);
    field!(out, "process_id", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", server.run_id);
    field!(out, "tcp_port", port);
    field!(out, "server_time_usec", crate::server::now_us());
    field!(out, "uptime_in_seconds", uptime);
    field!(out, "uptime_in_days", uptime / 86_400);
    field!(out, "hz", hz);
    field!(out, "configured_hz", hz);
    field!(
        out,
        "lru_clock",
        server.lru_clock() & !crate::store::evict::LFU_FLAG
    );
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    field!(out, "executable", exe);
    field!(out, "config_file", config_file);
}

/// `Linux 6.1.0 x86_64`, as Redis prints `uname -s -r -m`.
fn os_name() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let sysname = match read("/proc/sys/kernel/ostype") {
        s if s.is_empty() => std::env::consts::OS.to_string(),
        s => s,
    };
    format!(
        "{sysname} {} {}",
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

fn clients_section(server: &Server, out: &mut String) {
    let maxclients = server.config.read().maxclients;
    out.push_str("# Clients\r\n");
    field!(out, "connected_clients", server.clients.len());
    field!(out, "cluster_connections", 0);
    field!(out, "maxclients", maxclients);
    field!(
        out,
        "blocked_clients",
        Stats::get(&server.stats.blocked_clients)
    );
    field!(out, "tracking_clients", server.tracking.clients());
}

fn memory_section(server: &Server, out: &mut String) {
    let (maxmemory, policy) = {
        let c = server.config.read();
        (c.maxmemory, c.maxmemory_policy.clone())
    };
    let a = allocator_stats();
    server.stats.note_memory(a.allocated);
    let used = a.allocated;
    let peak = Stats::get(&server.stats.used_memory_peak).max(used);
    let rss = proc_status_kb("/proc/self/status", "VmRSS:") * 1024;
    let total = proc_status_kb("/proc/meminfo", "MemTotal:") * 1024;
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", used);
    field!(out, "used_memory_human", bytes_to_human(used));
    field!(out, "used_memory_rss", rss);
    field!(out, "used_memory_rss_human", bytes_to_human(rss));
    field!(out, "used_memory_peak", peak);
    field!(out, "used_memory_peak_human", bytes_to_human(peak));
    let peak_perc = if peak == 0 {
        0.0
    } else {
        used as f64 * 100.0 / peak as f64
    };
    field!(out, "used_memory_peak_perc", format!("{peak_perc:.2}%"));
    field!(out, "allocator_allocated", a.allocated);
    field!(out, "allocator_active", a.active);
    field!(out, "allocator_resident", a.resident);
    field!(out, "total_system_memory", total);
    field!(out, "total_system_memory_human", bytes_to_human(total));
    field!(out, "maxmemory", maxmemory);
    field!(out, "maxmemory_human", bytes_to_human(maxmemory));
    field!(out, "maxmemory_policy", policy);
    field!(
        out,
        "allocator_frag_ratio",
        format!("{:.2}", ratio(a.active, a.allocated))
    );
    field!(
        out,
        "allocator_frag_bytes",
        a.active as i64 - a.allocated as i64
    );
    field!(
        out,
        "allocator_rss_ratio",
        format!("{:.2}", ratio(a.resident, a.active))
    );
    field!(
        out,
        "allocator_rss_bytes",
        a.resident as i64 - a.active as i64
    );
    field!(
        out,
        "rss_overhead_ratio",
        format!("{:.2}", ratio(rss, a.resident))
    );
    field!(out, "rss_overhead_bytes", rss as i64 - a.resident as i64);
    field!(
        out,
        "mem_fragmentation_ratio",
        format!("{:.2}", ratio(rss, used))
    );
    field!(out, "mem_fragmentation_bytes", rss as i64 - used as i64);
    field!(out, "mem_allocator", allocator_name());
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// `jemalloc-5.3.0`, from jemalloc's own version string.
fn allocator_name() -> String {
    match tikv_jemalloc_ctl::version::read() {
        Ok(v) => format!("jemalloc-{}", v.split('-').next().unwrap_or(v)),
        Err(_) => "jemalloc".to_string(),
    }
}

/// A `Name:   123 kB` line of a /proc file, in kB (0 when unavailable).
fn proc_status_kb(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Redis's `bytesToHuman`: `943B`, `1.50K`, `2.00M`, `1.00G` …
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u32, &str); 5] = [(1, "K"), (2, "M"), (3, "G"), (4, "T"), (5, "P")];
    if n < 1024 {
        return format!("{n}B");
    }
    for (power, unit) in UNITS {
        let next = 1u128 << (10 * (power + 1));
        if u128::from(n) < next {
            let d = n as f64 / (1u128 << (10 * power)) as f64;
            return format!("{d:.2}{unit}");
        }
    }
    format!("{n}B")
}

fn persistence_section(server: &Server, out: &mut String) {
    out.push_str("# Persistence\r\n");
    let p = &server.persist;
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    field!(out, "loading", u8::from(server.loading.load(relaxed)));
    field!(out, "async_loading", 0);
    field!(
        out,
        "rdb_changes_since_last_save",
        Stats::get(&server.stats.dirty).saturating_sub(p.dirty_at_save.load(relaxed))
    );
    field!(out, "rdb_bgsave_in_progress", u8::from(p.bg.in_progress()));
    field!(out, "rdb_last_save_time", p.lastsave.load(relaxed));
    let status = if p.last_status_ok.load(relaxed) {
        "ok"
    } else {
        "err"
    };
    let duration = p.last_duration_sec.load(relaxed);
    field!(out, "rdb_last_bgsave_status", status);
    field!(out, "rdb_last_bgsave_time_sec", duration);
    field!(out, "rdb_current_bgsave_time_sec", -1);
    field!(out, "rdb_saves", p.saves.load(relaxed));
    field!(out, "aof_enabled", 0);
    field!(out, "aof_rewrite_in_progress", 0);
    field!(out, "aof_rewrite_scheduled", 0);
    field!(out, "aof_last_rewrite_time_sec", -1);
    field!(out, "aof_current_rewrite_time_sec", -1);
    field!(out, "aof_last_bgrewrite_status", "ok");
    field!(out, "aof_rewrites", 0);
    field!(out, "aof_last_write_status", "ok");
}

fn stats_section(server: &Server, out: &mut String) {
    let s = &server.stats;
    let (ops, kbps_in, kbps_out) = s.instantaneous();
    let expired: u64 = server
        .keyspace
        .dbs()
        .iter()
        .map(|db| db.expired_keys())
        .sum();
    out.push_str("# Stats\r\n");
    field!(
        out,
        "total_connections_received",
        Stats::get(&s.total_connections_received)
    );
    field!(
        out,
        "total_commands_processed",
        Stats::get(&s.total_commands_processed)
    );
    field!(out, "instantaneous_ops_per_sec", ops);
    field!(out, "total_net_input_bytes", Stats::get(&s.net_input_bytes));
    field!(
        out,
        "total_net_output_bytes",
        Stats::get(&s.net_output_bytes)
    );
    field!(out, "total_net_repl_input_bytes", 0);
    field!(out, "total_net_repl_output_bytes", 0);
    field!(out, "instantaneous_input_kbps", format!("{kbps_in:.2}"));
    field!(out, "instantaneous_output_kbps", format!("{kbps_out:.2}"));
    field!(out, "instantaneous_input_repl_kbps", "0.00");
    field!(out, "instantaneous_output_repl_kbps", "0.00");
    field!(
        out,
        "rejected_connections",
        Stats::get(&s.rejected_connections)
    );
    field!(out, "sync_full", 0);
    field!(out, "sync_partial_ok", 0);
    field!(out, "sync_partial_err", 0);
    field!(out, "expired_keys", expired);
    field!(out, "evicted_keys", Stats::get(&s.evicted_keys));
    field!(out, "evicted_clients", 0);
    field!(
        out,
        "keyspace_hits",
        server.keyspace.hits.load(Ordering::Relaxed)
    );
    field!(
        out,
        "keyspace_misses",
        server.keyspace.misses.load(Ordering::Relaxed)
    );
    field!(
        out,
        "pubsub_channels",
        server.pubsub.count(crate::pubsub::Kind::Channel)
    );
    field!(
        out,
        "pubsub_patterns",
        server.pubsub.count(crate::pubsub::Kind::Pattern)
    );
    field!(
        out,
        "pubsubshard_channels",
        server.pubsub.count(crate::pubsub::Kind::Shard)
    );
    field!(out, "latest_fork_usec", 0);
    field!(out, "total_forks", 0);
    field!(out, "tracking_total_keys", server.tracking.total_keys());
    field!(out, "tracking_total_items", server.tracking.total_items());
    field!(
        out,
        "tracking_total_prefixes",
        server.tracking.total_prefixes()
    );
    field!(
        out,
        "total_error_replies",
        Stats::get(&s.total_error_replies)
    );
}

fn replication_section(server: &Server, out: &mut String) {
    out.push_str("# Replication\r\n");
    field!(out, "role", "master");
    field!(out, "connected_slaves", 0);
    field!(out, "master_failover_state", "no-failover");
    field!(out, "master_replid", server.replid);
    field!(
        out,
        "master_replid2",
        "0000000000000000000000000000000000000000"
    );
    field!(out, "master_repl_offset", 0);
    field!(out, "second_repl_offset", -1);
    field!(out, "repl_backlog_active", 0);
    field!(out, "repl_backlog_first_byte_offset", 0);
    field!(out, "repl_backlog_histlen", 0);
}

/// CPU time from `/proc/self/stat` (clock ticks of 1/100 s, Linux's fixed `USER_HZ`).
fn cpu_section(out: &mut String) {
    let ticks = proc_self_cpu_ticks();
    let secs = |t: u64| format!("{}.{:06}", t / 100, (t % 100) * 10_000);
    out.push_str("# CPU\r\n");
    field!(out, "used_cpu_sys", secs(ticks[1]));
    field!(out, "used_cpu_user", secs(ticks[0]));
    field!(out, "used_cpu_sys_children", secs(ticks[3]));
    field!(out, "used_cpu_user_children", secs(ticks[2]));
}

/// utime, stime, cutime, cstime of this process (zeros when unavailable).
fn proc_self_cpu_ticks() -> [u64; 4] {
    let mut ticks = [0u64; 4];
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return ticks;
    };
    // Fields after the parenthesised command name; utime is the 14th field overall.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return ticks;
    };
    for (slot, v) in ticks.iter_mut().zip(rest.split_whitespace().skip(11)) {
        *slot = v.parse().unwrap_or(0);
    }
    ticks
}

fn commandstats_section(server: &Server, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    for cmd in registry::get().all() {
        let s = &server.command_stats[cmd.id];
        let calls = s.calls.load(Ordering::Relaxed);
        let failed = s.failed_calls.load(Ordering::Relaxed);
        let rejected = s.rejected_calls.load(Ordering::Relaxed);
        if calls == 0 && failed == 0 && rejected == 0 {
            continue;
        }
        let usec = s.usec.load(Ordering::Relaxed);
        let per_call = if calls == 0 {
            0.0
        } else {
            usec as f64 / calls as f64
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            safe_info_string(&cmd.full_name()),
        );
    }
}

fn errorstats_section(server: &Server, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    for (prefix, count) in server.stats.error_counts() {
        let _ = write!(
            out,
            "errorstat_{}:count={count}\r\n",
            safe_info_string(&prefix)
        );
    }
}

/// Redis's `getSafeInfoString`: characters that would break the format become `_`.
fn safe_info_string(s: &str) -> String {
    s.replace(['#', ':', '\n', '\r'], "_")
}

fn keyspace_section(server: &Server, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    let now = crate::server::now_ms();
    for (i, db) in server.keyspace.dbs().iter().enumerate() {
        let keys = db.len();
        if keys == 0 {
            continue;
        }
        let expires = db.expires_len();
        let _ = write!(
            out,
            "db{i}:keys={keys},expires={expires},avg_ttl={}\r\n",
            avg_ttl(db, now)
        );
    }
}

/// Volatile keys sampled per shard for `avg_ttl`.
const TTL_SAMPLES_PER_SHARD: usize = 16;

/// The mean remaining TTL in ms, estimated from a sample of volatile keys, as Redis's
/// `avg_ttl` is an estimate kept by its expiry cycle's sampling.
fn avg_ttl(db: &crate::store::Db, now_ms: u64) -> u64 {
    let (mut sum, mut n) = (0u128, 0u128);
    for i in 0..db.shard_count() {
        let shard = db.lock_shard(i);
        for j in 0..shard.expires_len().min(TTL_SAMPLES_PER_SHARD) {
            if let Some((_, at)) = shard.volatile_at(j) {
                if at > now_ms {
                    sum += u128::from(at - now_ms);
                    n += 1;
                }
            }
        }
    }
    sum.checked_div(n).map_or(0, |avg| avg as u64)
}

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "info",
    -1,
    Flags(Flags::LOADING.0 | Flags::STALE.0),
    AclCats::DANGEROUS,
    info,
)
.tips(&[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
])
.doc(
    "server",
    "1.0.0",
    "Returns information and statistics about the server.",
    "O(1)",
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(965_952), "943.31K");
        assert_eq!(bytes_to_human(6_586_368), "6.28M");
        assert_eq!(bytes_to_human(25_274_793_984), "23.54G");
    }

    #[test]
    fn section_selection() {
        let d = selected_sections(&[]);
        assert!(d[0] && !d[8]);
        let s = selected_sections(&[b"CommandStats", b"nope"]);
        assert_eq!(s.iter().filter(|w| **w).count(), 1);
        assert!(s[8]);
        assert!(selected_sections(&[b"everything"]).iter().all(|w| *w));
        let s = selected_sections(&[b"default", b"commandstats"]);
        assert!(s.iter().all(|w| *w));
    }
}
