//! Server-wide counters behind INFO (and later Prometheus). Relaxed atomics: each counter is
//! independent and read for reporting only.
//!
//! Besides plain counters this holds what Redis computes in its cron or on error replies:
//! - the instantaneous rates (`instantaneous_ops_per_sec`, `instantaneous_input_kbps` …), sampled
//!   every 100 ms into a ring of 16 and reported as the ring's mean, as Redis's
//!   `trackInstantaneousMetric` does ([`Stats::sample_instantaneous`], called by the cron);
//! - INFO errorstats: replies counted by error prefix (the first word), at most 128 prefixes;
//!   one more replaces them all with `ERRORSTATS_DISABLED` until the stats are reset
//!   (Redis's `incrementErrorCount`).

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// How many distinct error prefixes errorstats tracks (Redis's `ERROR_STATS_NUMBER`).
pub const MAX_ERROR_PREFIXES: usize = 128;
/// Samples averaged by an instantaneous metric (Redis's `STATS_METRIC_SAMPLES`).
const METRIC_SAMPLES: usize = 16;
/// Minimum time between two samples of the instantaneous metrics (Redis's cron period).
const METRIC_PERIOD_MS: u128 = 100;

#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub expired_keys_active: AtomicU64,
    pub evicted_keys: AtomicU64,
    /// Keyspace changes since the last save (INFO `rdb_changes_since_last_save`). The
    /// dispatcher adds one per successful write command; persistence resets it on save.
    pub dirty: AtomicU64,
    /// Clients parked by a blocking command (INFO `blocked_clients`); the blocking code keeps it.
    pub blocked_clients: AtomicU64,
    /// Highest `used_memory` seen (INFO `used_memory_peak`).
    pub used_memory_peak: AtomicU64,
    errors: Mutex<ErrorStats>,
    instantaneous: Mutex<Instantaneous>,
}

impl Stats {
    #[inline]
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    #[inline]
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts one error reply under its prefix (`ERR`, `WRONGTYPE` …). `msg` is the full error
    /// text without the leading `-`; the prefix is its first word within 32 bytes, else `ERR`.
    pub fn count_error(&self, msg: &str) {
        let head = &msg.as_bytes()[..msg.len().min(32)];
        let prefix = match head.iter().position(|&c| c == b' ') {
            Some(n) if n > 0 => &msg[..n],
            _ => "ERR",
        };
        self.errors.lock().count(prefix);
    }

    /// INFO errorstats: (prefix, count), sorted by prefix.
    pub fn error_counts(&self) -> Vec<(String, u64)> {
        let e = self.errors.lock();
        e.counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Keeps `used_memory_peak` at least `used`.
    pub fn note_memory(&self, used: u64) {
        self.used_memory_peak.fetch_max(used, Ordering::Relaxed);
    }

    /// Takes one sample of the instantaneous rates if 100 ms passed since the last one.
    /// Called by the server cron.
    pub fn sample_instantaneous(&self) {
        let now = Instant::now();
        let mut m = self.instantaneous.lock();
        let elapsed_ms = match m.last {
            Some(last) => now.duration_since(last).as_millis(),
            None => {
                m.last = Some(now);
                m.ops.last = Self::get(&self.total_commands_processed);
                m.net_in.last = Self::get(&self.net_input_bytes);
                m.net_out.last = Self::get(&self.net_output_bytes);
                return;
            }
        };
        if elapsed_ms < METRIC_PERIOD_MS {
            return;
        }
        m.last = Some(now);
        let elapsed = elapsed_ms as u64;
        m.ops
            .sample(Self::get(&self.total_commands_processed), elapsed);
        m.net_in.sample(Self::get(&self.net_input_bytes), elapsed);
        m.net_out.sample(Self::get(&self.net_output_bytes), elapsed);
    }

    /// (ops/sec, input KiB/s, output KiB/s), each the mean of the last 16 samples.
    pub fn instantaneous(&self) -> (u64, f64, f64) {
        let m = self.instantaneous.lock();
        (
            m.ops.mean(),
            m.net_in.mean() as f64 / 1024.0,
            m.net_out.mean() as f64 / 1024.0,
        )
    }

    /// CONFIG RESETSTAT: zeroes the counters Redis's `resetServerStats` zeroes.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.total_error_replies,
            &self.expired_keys_active,
            &self.evicted_keys,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        *self.errors.lock() = ErrorStats::default();
        *self.instantaneous.lock() = Instantaneous::default();
    }
}

/// The cron's statistics work, `hz` times per second: samples the instantaneous rates (at most
/// every 100 ms), keeps the memory peak, and refreshes the config mirrors of the slow log and
/// latency monitor.
pub fn cron_sample(server: &crate::server::Server) {
    server.stats.sample_instantaneous();
    server.stats.note_memory(allocator_stats().allocated);
    server.refresh_config_mirrors();
}

/// What jemalloc reports, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocatorStats {
    /// Bytes allocated by the application (Redis's `used_memory`).
    pub allocated: u64,
    /// Bytes in active pages.
    pub active: u64,
    /// Bytes in physically resident data pages mapped by the allocator.
    pub resident: u64,
}

/// Reads jemalloc's statistics (after advancing its epoch so they are current). All zero when
/// the statistics cannot be read.
pub fn allocator_stats() -> AllocatorStats {
    use tikv_jemalloc_ctl::{epoch, stats};
    if epoch::advance().is_err() {
        return AllocatorStats::default();
    }
    AllocatorStats {
        allocated: stats::allocated::read().unwrap_or(0) as u64,
        active: stats::active::read().unwrap_or(0) as u64,
        resident: stats::resident::read().unwrap_or(0) as u64,
    }
}

/// Per-command counters for INFO commandstats, indexed by the registry's command id.
#[derive(Debug, Default)]
pub struct CommandStat {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
    /// Calls by duration: `duration_buckets[i]` counts calls that took at most
    /// [`DURATION_BUCKETS_USEC`]`[i]` µs (and more than the bucket before); the last slot counts
    /// slower calls. Prometheus's `fincache_command_duration_seconds` histogram.
    pub duration_buckets: [AtomicU64; DURATION_BUCKETS_USEC.len() + 1],
}

/// Upper bounds (µs) of the command duration histogram buckets.
pub const DURATION_BUCKETS_USEC: [u64; 12] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 5_000, 25_000, 100_000, 1_000_000,
];

impl CommandStat {
    /// Counts one call's duration in its histogram bucket (one relaxed atomic add).
    #[inline]
    pub fn observe_usec(&self, usec: u64) {
        let i = DURATION_BUCKETS_USEC.partition_point(|&bound| bound < usec);
        self.duration_buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn reset(&self) {
        for c in [
            &self.calls,
            &self.usec,
            &self.rejected_calls,
            &self.failed_calls,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        for b in &self.duration_buckets {
            b.store(0, Ordering::Relaxed);
        }
    }
}

#[derive(Debug)]
struct ErrorStats {
    counts: BTreeMap<String, u64>,
    enabled: bool,
}

impl Default for ErrorStats {
    fn default() -> Self {
        ErrorStats {
            counts: BTreeMap::new(),
            enabled: true,
        }
    }
}

impl ErrorStats {
    fn count(&mut self, prefix: &str) {
        if !self.enabled {
            return;
        }
        if let Some(n) = self.counts.get_mut(prefix) {
            *n += 1;
            return;
        }
        if self.counts.len() >= MAX_ERROR_PREFIXES {
            tracing::warn!(
                "errorstats stopped tracking errors: more than {MAX_ERROR_PREFIXES} different \
                 error prefixes; CONFIG RESETSTAT enables it again"
            );
            self.counts.clear();
            self.counts.insert("ERRORSTATS_DISABLED".to_string(), 1);
            self.enabled = false;
            return;
        }
        self.counts.insert(prefix.to_string(), 1);
    }
}

#[derive(Debug, Default)]
struct Instantaneous {
    last: Option<Instant>,
    ops: Metric,
    net_in: Metric,
    net_out: Metric,
}

/// One rate: the last counter reading and a ring of per-second rates.
#[derive(Debug, Default)]
struct Metric {
    last: u64,
    samples: [u64; METRIC_SAMPLES],
    idx: usize,
}

impl Metric {
    fn sample(&mut self, current: u64, elapsed_ms: u64) {
        let delta = current.saturating_sub(self.last);
        self.last = current;
        let rate = delta.saturating_mul(1000) / elapsed_ms.max(1);
        self.samples[self.idx] = rate;
        self.idx = (self.idx + 1) % METRIC_SAMPLES;
    }

    fn mean(&self) -> u64 {
        self.samples.iter().sum::<u64>() / METRIC_SAMPLES as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_prefixes() {
        let s = Stats::default();
        s.count_error("ERR syntax error");
        s.count_error("WRONGTYPE Operation against a key");
        s.count_error("ERR x");
        s.count_error("NOSPACEATALL");
        assert_eq!(
            s.error_counts(),
            vec![("ERR".to_string(), 3), ("WRONGTYPE".to_string(), 1)]
        );
    }

    #[test]
    fn error_prefix_cap() {
        let s = Stats::default();
        for i in 0..MAX_ERROR_PREFIXES {
            s.count_error(&format!("E{i} x"));
        }
        assert_eq!(s.error_counts().len(), MAX_ERROR_PREFIXES);
        s.count_error("ONEMORE x");
        s.count_error("ERR x");
        assert_eq!(
            s.error_counts(),
            vec![("ERRORSTATS_DISABLED".to_string(), 1)]
        );
        s.reset();
        s.count_error("ERR x");
        assert_eq!(s.error_counts(), vec![("ERR".to_string(), 1)]);
    }

    #[test]
    fn metric_mean() {
        let mut m = Metric::default();
        m.sample(100, 100); // 1000/s
        m.sample(100, 100); // 0/s
        assert_eq!(m.mean(), 1000 / 16);
    }
}
