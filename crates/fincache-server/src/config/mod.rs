//! One typed configuration for the whole server.
//!
//! Layering (later wins): embedded defaults ← `config.yaml` (only with `--config PATH` or
//! `FINCACHE_CONFIG`) ← `FINCACHE_*` environment ← command-line flags ← `CONFIG SET` at run time.
//! Settings are named as Redis names them (`maxmemory`, `maxmemory-policy` …) so existing tools
//! work; FinCache's own settings (`log-format`, `api-*`, `snapshot-*` …) use the same style.
//!
//! - [`table`]: THE settings table: name, aliases, type, mutability, YAML key, environment names,
//!   meaning, and the parse/print/refuse/apply functions. CONFIG GET/SET, the loaders, CONFIG
//!   REWRITE and `docs/CONFIGURATION.md` all read it.
//! - [`value`]: value parsers with Redis's error words (`memtoull`, yes/no, enums, bounds).
//! - [`load`]: start-up layering (YAML, environment, flags) with errors naming the key and value.
//! - [`set`]: the atomic multi-pair `CONFIG SET`.
//! - [`rewrite`]: `CONFIG REWRITE` of the YAML file, keeping its layout and comments.
//! - [`docs`]: the Markdown table and the example `config.yaml`, generated from the table.
//!
//! Invariant: a [`Config`] held by the server always passed every setting's validation and
//! refusal check; readers take `server.config.read()` briefly and copy what they need.

pub mod docs;
pub mod load;
pub mod rewrite;
pub mod set;
pub mod table;
pub mod value;

pub use value::{OutputBufferLimit, SaveRule};

/// The server's settings. Field names follow Redis's setting names with `-` as `_`; each field
/// is one row of [`table::SETTINGS`] (see there for bounds and meaning).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub bind: String,
    pub port: u16,
    pub databases: usize,
    pub maxclients: usize,
    /// Close a client idle this many seconds (0 = never).
    pub timeout: u64,
    /// TCP keepalive interval in seconds (0 = off).
    pub tcp_keepalive: u64,
    /// `debug`, `verbose`, `notice`, `warning` or `nothing`.
    pub loglevel: String,
    /// `text` or `json`.
    pub log_format: String,
    pub proto_max_bulk_len: usize,
    /// Background task frequency (active expiry cycles per second), kept within 1..=500.
    pub hz: u32,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    pub latency_monitor_threshold: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    /// Password of the default user (empty = no password, as Redis's `nopass`).
    pub requirepass: String,

    /// Log file path; empty = standard error.
    pub logfile: String,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    /// Client memory limit: bytes, or a percentage of `maxmemory` stored negated (`-10` = 10%).
    pub maxmemory_clients: i64,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// Milliseconds a script or function may run before other clients get BUSY.
    pub busy_reply_threshold: u64,
    pub io_threads: u32,
    pub daemonize: bool,
    /// The working directory (absolute once the server has started).
    pub dir: String,
    pub dbfilename: String,
    pub save: Vec<SaveRule>,
    pub appendonly: bool,
    /// `always`, `everysec` or `no`.
    pub appendfsync: String,
    pub appendfilename: String,
    /// Canonical class letters, as CONFIG GET prints them (`AKE`); empty = off.
    pub notify_keyspace_events: String,
    /// Hash encoding thresholds (fields; bytes per field or value).
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    /// Set encoding thresholds (members; bytes per member).
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    /// Sorted-set encoding thresholds (members; bytes per member).
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// List node size: negative = bytes (-1 4 KB … -5 64 KB), positive = entries per node; a
    /// list fitting one node is a listpack.
    pub list_max_listpack_size: i32,
    /// Nodes kept uncompressed at each end of a list (accepted; FinCache does not compress).
    pub list_compress_depth: u32,
    /// Normal, replica and pub/sub client classes, in that order.
    pub client_output_buffer_limit: [OutputBufferLimit; 3],
    /// `no`, `yes` or `local`: whether CONFIG SET may change `dir` and `dbfilename`.
    pub enable_protected_configs: String,
    pub tls_port: u16,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    pub tls_ca_cert_file: String,

    /// FinCache: close a client whose reply cannot be written within this many seconds (0 = off).
    pub write_timeout: u64,
    pub enable_metrics: bool,
    pub enable_health: bool,
    pub ttl_enabled: bool,
    pub snapshot_enabled: bool,
    pub snapshot_path: String,
    /// Seconds between snapshots when `snapshot_enabled`.
    pub snapshot_interval: u64,
    pub api_enabled: bool,
    pub api_port: u16,
    pub api_read_timeout: u64,
    pub api_write_timeout: u64,
    pub api_cors_enabled: bool,
    /// HTTP requests per second per client (0 = unlimited).
    pub api_rate_limit: u64,
    /// Requests a client may send at once above the rate (0 = as many as the rate).
    pub api_rate_burst: u64,
    /// Addresses the HTTP API listens on, as `bind` (empty = the addresses of `bind`).
    pub api_bind: String,
    /// Origins allowed by CORS, space-separated; `*` = any.
    pub api_cors_origins: String,
    /// Largest HTTP request body in bytes.
    pub api_max_body_size: u64,
    /// Key HTTP clients must present (`Authorization: Bearer` or `X-API-Key`); empty = none.
    pub api_key: String,

    /// The YAML file the configuration was loaded from (`--config`), which CONFIG REWRITE
    /// rewrites. Not a setting.
    pub config_file: Option<std::path::PathBuf>,
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
            logfile: String::new(),
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            maxmemory_clients: 0,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            busy_reply_threshold: 5000,
            io_threads: 1,
            daemonize: false,
            dir: String::new(),
            dbfilename: "dump.rdb".into(),
            // COMPAT: Redis's default is "3600 1 300 100 60 10000"; FinCache cannot write
            // snapshots yet, so it starts with no save rules.
            save: Vec::new(),
            appendonly: false,
            appendfsync: "everysec".into(),
            appendfilename: "appendonly.aof".into(),
            notify_keyspace_events: String::new(),
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            client_output_buffer_limit: value::DEFAULT_OUTPUT_BUFFER_LIMITS,
            enable_protected_configs: "no".into(),
            tls_port: 0,
            tls_cert_file: String::new(),
            tls_key_file: String::new(),
            tls_ca_cert_file: String::new(),
            write_timeout: 0,
            enable_metrics: true,
            enable_health: true,
            ttl_enabled: true,
            snapshot_enabled: false,
            snapshot_path: "./data/snapshot.rdb".into(),
            snapshot_interval: 300,
            api_enabled: true,
            api_port: 8080,
            api_read_timeout: 30,
            api_write_timeout: 30,
            api_cors_enabled: true,
            api_rate_limit: 1000,
            api_rate_burst: 0,
            api_bind: String::new(),
            api_cors_origins: "*".into(),
            api_max_body_size: 16 * 1024 * 1024,
            api_key: String::new(),
            config_file: None,
        }
    }
}
