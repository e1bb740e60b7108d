//! `Server`: the state shared by every connection and background task.

use crate::client::ClientRegistry;
use crate::cmd::registry;
use crate::config::Config;
use crate::stats::{CommandStat, Stats};
use crate::store::Keyspace;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// How the server was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Running,
    Stop,
}

pub struct Server {
    pub config: RwLock<Config>,
    pub keyspace: Keyspace,
    pub clients: ClientRegistry,
    pub stats: Stats,
    /// INFO commandstats, indexed by registry command id.
    pub command_stats: Box<[CommandStat]>,
    pub started: Instant,
    pub started_unix_ms: u64,
    /// 40 hex characters, new each start (INFO `run_id`).
    pub run_id: String,
    /// Seconds since start, refreshed by the server cron; stored in entries for LRU/IDLETIME.
    pub lru_clock: AtomicU32,
    pub shutdown: watch::Sender<Shutdown>,
    /// DEBUG SET-ACTIVE-EXPIRE: whether the cron's active expiry runs.
    pub active_expire_enabled: std::sync::atomic::AtomicBool,
    /// SLOWLOG: commands slower than `slowlog-log-slower-than`.
    pub slowlog: crate::slowlog::SlowLog,
    /// LATENCY: events slower than `latency-monitor-threshold`.
    pub latency: crate::latency::LatencyMonitor,
    /// INFO `master_replid`: 40 hex characters, new each start (replication will own it).
    pub replid: String,
    /// The clients in MONITOR mode.
    pub monitors: crate::monitor::Monitors,
    /// CLIENT PAUSE / UNPAUSE.
    pub client_pause: crate::client::ClientPause,
    /// Clients parked by blocking commands (BLPOP …), by key.
    pub blocking: crate::store::blocking::Blocking,
    /// Lua scripts and functions, and the run in progress.
    pub scripting: crate::script::Scripting,
    /// Pub/Sub channels, patterns and shard channels.
    pub pubsub: crate::pubsub::PubSub,
    /// Keyspace notification settings (`notify-keyspace-events`).
    pub notify: crate::notify::Notifier,
    /// Client-side caching (CLIENT TRACKING).
    pub tracking: crate::tracking::Tracking,
    /// Set while a snapshot or AOF is being loaded at start-up: the HTTP `/ready` check answers
    /// 503 meanwhile (persistence sets and clears it around loading).
    pub loading: std::sync::atomic::AtomicBool,
    /// The HTTP API's own counters (requests by route and status, for `/metrics`).
    pub http: crate::http::HttpStats,
    /// Snapshot bookkeeping: LASTSAVE, INFO persistence, the cron's save points.
    pub persist: crate::persist::PersistState,
    /// `maxmemory`: eviction settings, the cached used-memory reading, the eviction pool.
    pub evict: crate::store::evict::Eviction,
}

impl Server {
    pub fn new(config: Config) -> Arc<Server> {
        let (shutdown, _) = watch::channel(Shutdown::Running);
        let run_id = random_hex40();
        let slowlog =
            crate::slowlog::SlowLog::new(config.slowlog_log_slower_than, config.slowlog_max_len);
        let latency = crate::latency::LatencyMonitor::new(config.latency_monitor_threshold);
        let pubsub = crate::pubsub::PubSub::new(config.client_output_buffer_limit);
        let server = Arc::new(Server {
            pubsub,
            notify: crate::notify::Notifier::default(),
            tracking: crate::tracking::Tracking::default(),
            keyspace: Keyspace::new(config.databases),
            config: RwLock::new(config),
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            command_stats: (0..registry::get().len())
                .map(|_| CommandStat::default())
                .collect(),
            started: Instant::now(),
            started_unix_ms: now_ms(),
            run_id,
            lru_clock: AtomicU32::new(0),
            shutdown,
            active_expire_enabled: std::sync::atomic::AtomicBool::new(true),
            slowlog,
            latency,
            replid: random_hex40(),
            monitors: crate::monitor::Monitors::default(),
            client_pause: crate::client::ClientPause::default(),
            blocking: crate::store::blocking::Blocking::default(),
            scripting: crate::script::Scripting::new(),
            loading: std::sync::atomic::AtomicBool::new(false),
            http: crate::http::HttpStats::default(),
            persist: crate::persist::PersistState::default(),
            evict: crate::store::evict::Eviction::default(),
        });
        crate::notify::refresh(&server);
        server.evict.refresh(&server.config.read());
        server.tick_clock();
        server
    }

    /// Copies the settings the dispatcher checks after every command (slow log and latency
    /// thresholds) into their lock-free mirrors. Called after every admin command (CONFIG SET
    /// is one) and by the cron, so a change applies to the very next command.
    pub fn refresh_config_mirrors(&self) {
        let c = self.config.read();
        self.slowlog
            .refresh(c.slowlog_log_slower_than, c.slowlog_max_len);
        self.latency.refresh(c.latency_monitor_threshold);
        self.pubsub.set_output_limits(c.client_output_buffer_limit);
        let lfu_before = self.evict.clock_flag();
        self.evict.refresh(&c);
        drop(c);
        if self.evict.clock_flag() != lfu_before {
            // The policy moved between LRU and LFU: the clock's flag follows at once.
            self.tick_clock();
        }
        // Keyspace notifications (and the expired-key logs they may need).
        crate::notify::refresh(self);
    }

    #[inline]
    pub fn lru_clock(&self) -> u32 {
        self.lru_clock.load(Ordering::Relaxed)
    }

    /// Called by the cron: refreshes the LRU clock (seconds since start, plus
    /// `store::evict::LFU_FLAG` under an LFU policy).
    pub fn tick_clock(&self) {
        let secs = self.started.elapsed().as_secs() as u32 & !crate::store::evict::LFU_FLAG;
        self.lru_clock
            .store(secs | self.evict.clock_flag(), Ordering::Relaxed);
    }

    pub fn request_shutdown(&self) {
        self.shutdown.send_replace(Shutdown::Stop);
    }
}

/// 40 random lower-case hex characters (run ids, replication ids).
fn random_hex40() -> String {
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rand::random::<usize>() % 16]))
        .collect()
}

/// Unix time in milliseconds.
#[inline]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Unix time in microseconds.
#[inline]
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
