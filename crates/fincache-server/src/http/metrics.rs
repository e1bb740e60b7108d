//! `GET /metrics`: the server's counters in Prometheus's text exposition format (0.0.4).
//!
//! Every value comes from the counters INFO reads (`server.stats`, `command_stats`, the
//! allocator, the Pub/Sub tables, the client registry) and from the HTTP API's own
//! [`HttpStats`](super::HttpStats); `docs/METRICS.md` lists them. INFO stays the RESP view of
//! the same numbers.
//!
//! Cost of a scrape: no keyspace gate and no command runs. Keys per database are read as
//! DBSIZE reads them: each shard's lock is taken in turn only to read its key and expiry
//! counts (two integers), so a scrape never holds more than one shard for a few nanoseconds.

use super::stats::REQUEST_BUCKETS_SECS;
use crate::cmd::registry;
use crate::pubsub::Kind;
use crate::server::Server;
use crate::stats::{allocator_stats, Stats, DURATION_BUCKETS_USEC};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family header: `# HELP` and `# TYPE`.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One family with a single unlabelled sample.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value escaped as the format requires (`\\`, `\"`, `\n`).
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// A float as the format writes it (`+Inf`, `NaN`, shortest round-trip otherwise).
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Display is the shortest text that reads back as the same f64 (`1`, `0.0005`).
        v.to_string()
    }
}

/// Renders every metric.
pub fn render(server: &Server) -> String {
    let mut out = String::with_capacity(16 * 1024);
    build_and_uptime(server, &mut out);
    clients(server, &mut out);
    memory(server, &mut out);
    keyspace(server, &mut out);
    commands(server, &mut out);
    pubsub(server, &mut out);
    persistence(server, &mut out);
    http_requests(server, &mut out);
    out
}

fn build_and_uptime(server: &Server, out: &mut String) {
    family(
        out,
        "fincache_build_info",
        "gauge",
        "Build information: always 1, the labels carry the versions.",
    );
    let _ = writeln!(
        out,
        "fincache_build_info{{version=\"{}\",redis_version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        crate::cmd::family::info::REDIS_VERSION
    );
    single(
        out,
        "fincache_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        server.started.elapsed().as_secs(),
    );
    single(
        out,
        "fincache_start_time_seconds",
        "gauge",
        "Unix time the server started at, in seconds.",
        server.started_unix_ms / 1000,
    );
}

fn clients(server: &Server, out: &mut String) {
    let s = &server.stats;
    let maxclients = server.config.read().maxclients;
    single(
        out,
        "fincache_connected_clients",
        "gauge",
        "Clients connected now (RESP connections and HTTP requests in progress).",
        server.clients.len(),
    );
    single(
        out,
        "fincache_max_clients",
        "gauge",
        "The maxclients setting.",
        maxclients,
    );
    single(
        out,
        "fincache_blocked_clients",
        "gauge",
        "Clients waiting in a blocking command (BLPOP, BZPOPMIN ...).",
        Stats::get(&s.blocked_clients),
    );
    single(
        out,
        "fincache_connections_received_total",
        "counter",
        "RESP connections accepted.",
        Stats::get(&s.total_connections_received),
    );
    single(
        out,
        "fincache_rejected_connections_total",
        "counter",
        "RESP connections refused (maxclients reached).",
        Stats::get(&s.rejected_connections),
    );
    single(
        out,
        "fincache_net_input_bytes_total",
        "counter",
        "Bytes read from RESP clients.",
        Stats::get(&s.net_input_bytes),
    );
    single(
        out,
        "fincache_net_output_bytes_total",
        "counter",
        "Bytes written to RESP clients.",
        Stats::get(&s.net_output_bytes),
    );
}

fn memory(server: &Server, out: &mut String) {
    let a = allocator_stats();
    server.stats.note_memory(a.allocated);
    let maxmemory = server.config.read().maxmemory;
    single(
        out,
        "fincache_memory_used_bytes",
        "gauge",
        "Bytes allocated by the server (INFO used_memory).",
        a.allocated,
    );
    single(
        out,
        "fincache_memory_rss_bytes",
        "gauge",
        "Resident set size of the process (INFO used_memory_rss).",
        rss_bytes(),
    );
    single(
        out,
        "fincache_memory_peak_bytes",
        "gauge",
        "Highest used memory seen (INFO used_memory_peak).",
        Stats::get(&server.stats.used_memory_peak).max(a.allocated),
    );
    single(
        out,
        "fincache_memory_max_bytes",
        "gauge",
        "The maxmemory setting (0 = no limit).",
        maxmemory,
    );
}

/// The process's resident set size, from /proc (0 where unavailable).
fn rss_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn keyspace(server: &Server, out: &mut String) {
    let dbs = server.keyspace.dbs();
    let mut counts = Vec::with_capacity(dbs.len());
    let mut expired = 0u64;
    for db in dbs {
        let (mut keys, mut expiring) = (0usize, 0usize);
        for i in 0..db.shard_count() {
            let shard = db.lock_shard(i);
            keys += shard.len();
            expiring += shard.expires_len();
            expired += shard.expired_keys;
        }
        counts.push((keys, expiring));
    }
    family(
        out,
        "fincache_db_keys",
        "gauge",
        "Keys per database (expired keys not yet collected included, as DBSIZE).",
    );
    for (i, (keys, _)) in counts.iter().enumerate() {
        let _ = writeln!(out, "fincache_db_keys{{db=\"{i}\"}} {keys}");
    }
    family(
        out,
        "fincache_db_keys_expiring",
        "gauge",
        "Keys with a time to live, per database.",
    );
    for (i, (_, expiring)) in counts.iter().enumerate() {
        let _ = writeln!(out, "fincache_db_keys_expiring{{db=\"{i}\"}} {expiring}");
    }
    single(
        out,
        "fincache_expired_keys_total",
        "counter",
        "Keys removed because their time to live passed.",
        expired,
    );
    single(
        out,
        "fincache_evicted_keys_total",
        "counter",
        "Keys evicted to stay under maxmemory.",
        Stats::get(&server.stats.evicted_keys),
    );
    single(
        out,
        "fincache_keyspace_hits_total",
        "counter",
        "Successful key lookups of read commands.",
        server.keyspace.hits.load(Ordering::Relaxed),
    );
    single(
        out,
        "fincache_keyspace_misses_total",
        "counter",
        "Key lookups of read commands that found nothing.",
        server.keyspace.misses.load(Ordering::Relaxed),
    );
}

fn commands(server: &Server, out: &mut String) {
    let s = &server.stats;
    single(
        out,
        "fincache_commands_processed_total",
        "counter",
        "Commands run, all kinds together (INFO total_commands_processed).",
        Stats::get(&s.total_commands_processed),
    );
    single(
        out,
        "fincache_instantaneous_ops_per_second",
        "gauge",
        "Commands per second over the last ~1.6 s (INFO instantaneous_ops_per_sec).",
        s.instantaneous().0,
    );
    let reg = registry::get();
    let used: Vec<_> = reg
        .all()
        .iter()
        .filter_map(|cmd| {
            let st = &server.command_stats[cmd.id];
            let calls = st.calls.load(Ordering::Relaxed);
            let failed = st.failed_calls.load(Ordering::Relaxed);
            let rejected = st.rejected_calls.load(Ordering::Relaxed);
            (calls + failed + rejected > 0).then(|| (escape_label(&cmd.full_name()), st))
        })
        .collect();
    family(
        out,
        "fincache_commands_total",
        "counter",
        "Calls per command (subcommands as container|sub), as INFO commandstats calls.",
    );
    for (name, st) in &used {
        let calls = st.calls.load(Ordering::Relaxed);
        let _ = writeln!(out, "fincache_commands_total{{cmd=\"{name}\"}} {calls}");
    }
    family(
        out,
        "fincache_command_errors_total",
        "counter",
        "Command errors per command: failed (ran and replied an error) or rejected (refused before running).",
    );
    for (name, st) in &used {
        let failed = st.failed_calls.load(Ordering::Relaxed);
        let rejected = st.rejected_calls.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "fincache_command_errors_total{{cmd=\"{name}\",reason=\"failed\"}} {failed}"
        );
        let _ = writeln!(
            out,
            "fincache_command_errors_total{{cmd=\"{name}\",reason=\"rejected\"}} {rejected}"
        );
    }
    family(
        out,
        "fincache_command_duration_seconds",
        "histogram",
        "Time commands took to run, per command.",
    );
    for (name, st) in &used {
        let mut cumulative = 0u64;
        for (i, bound) in DURATION_BUCKETS_USEC.iter().enumerate() {
            cumulative += st.duration_buckets[i].load(Ordering::Relaxed);
            let le = float(*bound as f64 / 1e6);
            let _ = writeln!(
                out,
                "fincache_command_duration_seconds_bucket{{cmd=\"{name}\",le=\"{le}\"}} {cumulative}"
            );
        }
        cumulative += st.duration_buckets[DURATION_BUCKETS_USEC.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "fincache_command_duration_seconds_bucket{{cmd=\"{name}\",le=\"+Inf\"}} {cumulative}"
        );
        let sum = st.usec.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "fincache_command_duration_seconds_sum{{cmd=\"{name}\"}} {}",
            float(sum)
        );
        let _ = writeln!(
            out,
            "fincache_command_duration_seconds_count{{cmd=\"{name}\"}} {cumulative}"
        );
    }
    family(
        out,
        "fincache_error_replies_total",
        "counter",
        "Error replies by error prefix (INFO errorstats).",
    );
    for (prefix, count) in s.error_counts() {
        let _ = writeln!(
            out,
            "fincache_error_replies_total{{prefix=\"{}\"}} {count}",
            escape_label(&prefix)
        );
    }
}

fn pubsub(server: &Server, out: &mut String) {
    single(
        out,
        "fincache_pubsub_channels",
        "gauge",
        "Channels with at least one subscriber.",
        server.pubsub.count(Kind::Channel),
    );
    single(
        out,
        "fincache_pubsub_patterns",
        "gauge",
        "Patterns with at least one subscriber.",
        server.pubsub.count(Kind::Pattern),
    );
    single(
        out,
        "fincache_pubsub_shard_channels",
        "gauge",
        "Shard channels with at least one subscriber.",
        server.pubsub.count(Kind::Shard),
    );
}

/// The persistence figures INFO persistence shows (no snapshot has been written while
/// persistence is not built: the last save time is the start time, as in INFO).
fn persistence(server: &Server, out: &mut String) {
    single(
        out,
        "fincache_loading",
        "gauge",
        "1 while a snapshot or AOF is being loaded.",
        u8::from(server.loading.load(Ordering::Relaxed)),
    );
    single(
        out,
        "fincache_rdb_changes_since_last_save",
        "gauge",
        "Writes since the last snapshot (INFO rdb_changes_since_last_save).",
        Stats::get(&server.stats.dirty)
            .saturating_sub(server.persist.dirty_at_save.load(Ordering::Relaxed)),
    );
    single(
        out,
        "fincache_rdb_last_save_timestamp_seconds",
        "gauge",
        "Unix time of the last successful snapshot (INFO rdb_last_save_time).",
        server.persist.lastsave.load(Ordering::Relaxed),
    );
    single(
        out,
        "fincache_rdb_last_bgsave_success",
        "gauge",
        "1 if the last snapshot succeeded (INFO rdb_last_bgsave_status ok).",
        u8::from(server.persist.last_status_ok.load(Ordering::Relaxed)),
    );
    single(
        out,
        "fincache_aof_enabled",
        "gauge",
        "1 when the append-only file is on.",
        u8::from(server.config.read().appendonly),
    );
}

fn http_requests(server: &Server, out: &mut String) {
    let series = server.http.snapshot();
    family(
        out,
        "fincache_http_requests_total",
        "counter",
        "HTTP requests by route template, method and status.",
    );
    for (k, st) in &series {
        let _ = writeln!(
            out,
            "fincache_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}",
            escape_label(&k.route),
            k.method,
            k.status,
            st.count
        );
    }
    family(
        out,
        "fincache_http_request_duration_seconds",
        "histogram",
        "Time to produce an HTTP response head, by route template, method and status.",
    );
    for (k, st) in &series {
        let labels = format!(
            "route=\"{}\",method=\"{}\",status=\"{}\"",
            escape_label(&k.route),
            k.method,
            k.status
        );
        let mut cumulative = 0u64;
        for (i, bound) in REQUEST_BUCKETS_SECS.iter().enumerate() {
            cumulative += st.buckets[i];
            let _ = writeln!(
                out,
                "fincache_http_request_duration_seconds_bucket{{{labels},le=\"{}\"}} {cumulative}",
                float(*bound)
            );
        }
        cumulative += st.buckets[REQUEST_BUCKETS_SECS.len()];
        let _ = writeln!(
            out,
            "fincache_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "fincache_http_request_duration_seconds_sum{{{labels}}} {}",
            float(st.sum_secs)
        );
        let _ = writeln!(
            out,
            "fincache_http_request_duration_seconds_count{{{labels}}} {cumulative}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_and_labels() {
        assert_eq!(float(0.0005), "0.0005");
        assert_eq!(float(1.0), "1");
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn every_sample_belongs_to_a_declared_family() {
        let server = Server::new(crate::config::Config::default());
        server.http.observe("/health", "GET", 200, 0.001);
        let text = render(&server);
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|b| declared.contains(*b)))
                    .unwrap_or(name);
                assert!(declared.contains(base), "undeclared sample {line}");
            }
        }
        assert!(text.contains(
            "fincache_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 1"
        ));
    }
}
