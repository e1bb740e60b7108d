//! One typed configuration for the whole server.
//!
//! Layering (later wins): embedded defaults ← `config.yaml` ← `FINCACHE_*` environment ← command-line
//! flags ← `CONFIG SET` at run time. Settings are named as Redis names them (`maxmemory`,
//! `maxmemory-policy` …) so existing tools work.

/// The server's settings. Field names follow Redis's setting names with `-` as `_`.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub port: u16,
    pub databases: usize,
    pub maxclients: usize,
    /// Close a client idle this many seconds (0 = never).
    pub timeout: u64,
    /// TCP keepalive interval in seconds (0 = off).
    pub tcp_keepalive: u64,
    pub loglevel: String,
    /// `text` or `json`.
    pub log_format: String,
    pub proto_max_bulk_len: usize,
    /// Background task frequency (active expiry cycles per second).
    pub hz: u32,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    pub latency_monitor_threshold: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    /// Password of the default user (empty = no password, as Redis's `nopass`).
    pub requirepass: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 6379,
            databases: 16,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            loglevel: "notice".into(),
            log_format: "text".into(),
            proto_max_bulk_len: 512 * 1024 * 1024,
            hz: 10,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            requirepass: String::new(),
        }
    }
}
