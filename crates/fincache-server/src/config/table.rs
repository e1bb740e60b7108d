//! The settings table: one row per setting, read by everything that names a setting: CONFIG
//! GET/SET/REWRITE, the YAML, environment and flag loaders, and the generated documentation.
//!
//! A row holds the Redis name (and alias), the type, whether CONFIG SET may change it, its
//! `config.yaml` key, an old environment name if it had one, its meaning, and four functions:
//! `get` (print as CONFIG GET does), `set` (parse, validate, store: Redis's error words),
//! `refuse` (the feature behind this value is not available: start-up and CONFIG SET fail with
//! the message), `apply` (side effects of a change at run time).
//!
//! FEATURE-GATE: each `.refuse(...)` marks a value FinCache parses and validates but cannot honour
//! yet. Remove the gate in the same change that brings the feature.

use super::value;
use super::Config;

/// How a value is parsed and shown (for the docs, the YAML writer and flag parsing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// Bytes, with Redis's units (`1gb`, `512mb`, `100kb`, `1000`).
    Memory,
    MemoryOrPercent,
    Enum(&'static [&'static str]),
    Str,
    /// Whole seconds; files and the environment may write `30s`, `5m`, `1h`.
    Seconds,
    /// Several words in one value (`save 3600 1`, `bind a b`); flags may pass them as
    /// separate arguments.
    Words,
}

/// Whether CONFIG SET may change a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Mutable,
    /// `can't set immutable config`.
    Immutable,
    /// `can't set protected config` unless `enable-protected-configs` allows it.
    Protected,
}

/// Where a value comes from: `Lenient` (YAML file, environment) also takes `true`/`false` for
/// booleans, durations such as `30s`, and the old `eviction_policy` names (`lru`,
/// `allkeys_lru`); `Strict` (flags, CONFIG SET) takes exactly what Redis takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Lenient,
}

/// The `config.yaml` sections.
pub const SECTIONS: [&str; 4] = ["server", "log", "store", "api"];

pub type Getter = fn(&Config) -> String;
pub type Setter = fn(&mut Config, &str, Mode) -> Result<(), String>;
pub type Refuser = fn(&Config) -> Option<String>;
pub type Applier = fn(&Config) -> Result<(), String>;

/// One setting. Build with [`Setting::new`] and the chained `const fn`s.
#[derive(Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub access: Access,
    /// Index into [`SECTIONS`].
    pub section: usize,
    /// Key inside the section; `None` = the name with `-` as `_`.
    yaml_key: Option<&'static str>,
    /// An environment variable the old FinCache used, besides `FINCACHE_<NAME>`.
    pub legacy_env: Option<&'static str>,
    pub meaning: &'static str,
    /// Shown instead of the default value in the docs (`dir`).
    pub doc_default: Option<&'static str>,
    /// A FinCache setting Redis does not have.
    pub fincache_only: bool,
    pub get: Getter,
    pub set: Setter,
    pub refuse: Option<Refuser>,
    pub apply: Option<Applier>,
}

impl Setting {
    pub const fn new(name: &'static str, kind: Kind, get: Getter, set: Setter) -> Self {
        Setting {
            name,
            alias: None,
            kind,
            access: Access::Immutable,
            section: 0,
            yaml_key: None,
            legacy_env: None,
            meaning: "",
            doc_default: None,
            fincache_only: false,
            get,
            set,
            refuse: None,
            apply: None,
        }
    }
    const fn alias(mut self, a: &'static str) -> Self {
        self.alias = Some(a);
        self
    }
    const fn mutable(mut self) -> Self {
        self.access = Access::Mutable;
        self
    }
    const fn protected(mut self) -> Self {
        self.access = Access::Protected;
        self
    }
    /// Section index and (optionally) a key other than the snake-case name.
    const fn yaml(mut self, section: usize, key: Option<&'static str>) -> Self {
        self.section = section;
        self.yaml_key = key;
        self
    }
    const fn env(mut self, legacy: &'static str) -> Self {
        self.legacy_env = Some(legacy);
        self
    }
    const fn doc(mut self, meaning: &'static str) -> Self {
        self.meaning = meaning;
        self
    }
    const fn fincache(mut self) -> Self {
        self.fincache_only = true;
        self
    }
    const fn refuse(mut self, f: Refuser) -> Self {
        self.refuse = Some(f);
        self
    }
    const fn apply(mut self, f: Applier) -> Self {
        self.apply = Some(f);
        self
    }
    const fn doc_default(mut self, d: &'static str) -> Self {
        self.doc_default = Some(d);
        self
    }

    /// The key inside its `config.yaml` section.
    pub fn yaml_key(&self) -> String {
        match self.yaml_key {
            Some(k) => k.to_string(),
            None => self.name.replace('-', "_"),
        }
    }

    /// `section.key`, as the docs and error messages print it.
    pub fn yaml_path(&self) -> String {
        format!("{}.{}", SECTIONS[self.section], self.yaml_key())
    }

    /// `FINCACHE_` + the name upper-cased with `-` as `_`.
    pub fn env_name(name: &str) -> String {
        format!("FINCACHE_{}", name.to_ascii_uppercase().replace('-', "_"))
    }

    /// Whether the setting takes several words (flags collect arguments up to the next `--`).
    pub fn multi_word(&self) -> bool {
        self.kind == Kind::Words
    }
}

const I32MAX: i64 = i32::MAX as i64;
const SERVER: usize = 0;
const LOG: usize = 1;
const STORE: usize = 2;
const API: usize = 3;

/// An integer setting stored in `$field` of type `$ty`, bounds as Redis's.
macro_rules! int {
    ($name:literal, $field:ident, $ty:ty, $min:expr, $max:expr) => {
        Setting::new(
            $name,
            Kind::Int {
                min: $min,
                max: $max,
            },
            |c| c.$field.to_string(),
            |c, v, _| {
                c.$field = value::int(v, $min, $max)? as $ty;
                Ok(())
            },
        )
    };
}

/// A yes/no setting stored in the bool `$field`.
macro_rules! boolean {
    ($name:literal, $field:ident) => {
        Setting::new(
            $name,
            Kind::Bool,
            |c| value::format_yes_no(c.$field),
            |c, v, mode| {
                c.$field = value::yes_no(v, mode == Mode::Lenient)?;
                Ok(())
            },
        )
    };
}

/// A setting with a fixed set of names, stored as the canonical name in the String `$field`.
macro_rules! one_of {
    ($name:literal, $field:ident, $names:expr) => {
        Setting::new(
            $name,
            Kind::Enum($names),
            |c| c.$field.clone(),
            |c, v, _| {
                c.$field = value::one_of(v, $names)?.to_string();
                Ok(())
            },
        )
    };
}

/// A free string stored in the String `$field`.
macro_rules! string {
    ($name:literal, $field:ident) => {
        Setting::new(
            $name,
            Kind::Str,
            |c| c.$field.clone(),
            |c, v, _| {
                c.$field = v.to_string();
                Ok(())
            },
        )
    };
}

/// Whole seconds (FinCache settings), stored in the u64 `$field`.
macro_rules! seconds {
    ($name:literal, $field:ident, $max:expr) => {
        Setting::new(
            $name,
            Kind::Seconds,
            |c| c.$field.to_string(),
            |c, v, _| {
                c.$field = value::seconds(v, $max)?;
                Ok(())
            },
        )
    };
}

pub const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning", "nothing"];
pub const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

/// Every setting, in the order CONFIG GET `*` and the docs list them.
pub static SETTINGS: &[Setting] = &[
    // ---- server: network and clients
    Setting::new("bind", Kind::Words, |c| c.bind.clone(), set_bind)
        .yaml(SERVER, Some("host"))
        .env("FINCACHE_HOST")
        .doc("Addresses to listen on, space-separated; a leading `-` marks one as optional."),
    int!("port", port, u16, 0, 65535)
        .yaml(SERVER, None)
        .doc("TCP port for RESP clients (0 = any free port)."),
    int!("maxclients", maxclients, usize, 1, u32::MAX as i64)
        .mutable()
        .yaml(SERVER, Some("max_connections"))
        .env("FINCACHE_MAX_CONNECTIONS")
        .doc("Most clients connected at once; more are refused with `ERR max number of clients reached`."),
    Setting::new("timeout", Kind::Int { min: 0, max: I32MAX }, |c| c.timeout.to_string(), set_timeout)
        .mutable()
        .yaml(SERVER, Some("read_timeout"))
        .doc("Close a client idle for this many seconds (0 = never). The file may write `30s`."),
    int!("tcp-keepalive", tcp_keepalive, u64, 0, I32MAX)
        .mutable()
        .yaml(SERVER, None)
        .doc("TCP keepalive interval in seconds (0 = off)."),
    seconds!("write-timeout", write_timeout, I32MAX as u64)
        .mutable()
        .fincache()
        .yaml(SERVER, None)
        .refuse(|c| (c.write_timeout != 0).then(|| not_yet("write-timeout above 0", "replies are not timed out")))
        .doc("Close a client whose replies cannot be written within this many seconds (0 = off)."),
    Setting::new("proto-max-bulk-len", Kind::Memory, |c| c.proto_max_bulk_len.to_string(), |c, v, _| {
        c.proto_max_bulk_len = value::memory_i64(v, 1024 * 1024, i64::MAX)? as usize;
        Ok(())
    })
    .mutable()
    .yaml(SERVER, None)
    .doc("Largest bulk string a client may send."),
    Setting::new("hz", Kind::Int { min: 0, max: I32MAX }, |c| c.hz.to_string(), |c, v, _| {
        // As Redis: out-of-range values are accepted and kept within 1..=500.
        c.hz = value::int(v, 0, I32MAX)?.clamp(1, 500) as u32;
        Ok(())
    })
    .mutable()
    .yaml(SERVER, None)
    .doc("Background task frequency per second (active expiry, clocks); kept within 1..500."),
    int!("io-threads", io_threads, u32, 1, 128)
        .yaml(SERVER, None)
        .refuse(|c| (c.io_threads != 1).then(|| "io-threads must be 1: FinCache serves every client on its own multi-threaded runtime, there are no separate I/O threads".to_string()))
        .doc("Accepted for redis.conf compatibility; must be 1 (FinCache is multi-threaded by design)."),
    boolean!("daemonize", daemonize)
        .yaml(SERVER, None)
        .refuse(|c| c.daemonize.then(|| "daemonize yes is not supported: run FinCache in the foreground under a supervisor (systemd, Docker)".to_string()))
        .doc("Must be `no`: FinCache runs in the foreground."),
    Setting::new("requirepass", Kind::Str, |c| c.requirepass.clone(), |c, v, _| {
        c.requirepass = v.to_string();
        Ok(())
    })
    .mutable()
    .yaml(SERVER, None)
    .doc("Password of the default user (empty = none, clients need not AUTH)."),
    one_of!("enable-protected-configs", enable_protected_configs, &["no", "yes", "local"])
        .yaml(SERVER, None)
        .doc("Whether CONFIG SET may change `dir` and `dbfilename`: `no`, `yes`, or `local` (loopback clients)."),
    Setting::new("client-output-buffer-limit", Kind::Words, |c| value::format_output_buffer_limits(&c.client_output_buffer_limit), |c, v, _| {
        c.client_output_buffer_limit = value::output_buffer_limits(v, &c.client_output_buffer_limit)?;
        Ok(())
    })
    .mutable()
    .yaml(SERVER, None)
    .doc("`<class> <hard> <soft> <seconds>` per client class (normal, replica, pubsub)."),
    int!("busy-reply-threshold", busy_reply_threshold, u64, 0, i64::MAX)
        .alias("lua-time-limit")
        .mutable()
        .yaml(SERVER, None)
        .doc("Milliseconds a script may run before other clients get `BUSY`."),
    int!("tls-port", tls_port, u16, 0, 65535)
        .mutable()
        .yaml(SERVER, None)
        .refuse(|c| (c.tls_port != 0).then(|| not_yet("tls-port above 0", "it has no TLS listener")))
        .doc("TLS port (0 = off)."),
    string!("tls-cert-file", tls_cert_file)
        .mutable()
        .yaml(SERVER, None)
        .refuse(|c| (!c.tls_cert_file.is_empty()).then(|| not_yet("tls-cert-file", "it has no TLS listener")))
        .doc("Server certificate (PEM)."),
    string!("tls-key-file", tls_key_file)
        .mutable()
        .yaml(SERVER, None)
        .refuse(|c| (!c.tls_key_file.is_empty()).then(|| not_yet("tls-key-file", "it has no TLS listener")))
        .doc("Server private key (PEM)."),
    string!("tls-ca-cert-file", tls_ca_cert_file)
        .mutable()
        .yaml(SERVER, None)
        .refuse(|c| (!c.tls_ca_cert_file.is_empty()).then(|| not_yet("tls-ca-cert-file", "it has no TLS listener")))
        .doc("CA certificates to verify clients with (PEM)."),
    boolean!("enable-metrics", enable_metrics)
        .mutable()
        .fincache()
        .yaml(SERVER, None)
        .doc("Serve Prometheus metrics at `/metrics` on the HTTP API port."),
    boolean!("enable-health", enable_health)
        .mutable()
        .fincache()
        .yaml(SERVER, None)
        .doc("Serve `/health` and `/ready` on the HTTP API port."),
    // ---- log
    one_of!("loglevel", loglevel, LOGLEVELS)
        .mutable()
        .yaml(LOG, Some("level"))
        .apply(|c| crate::logging::set_level(&c.loglevel))
        .doc("`debug`, `verbose`, `notice`, `warning` or `nothing`; changes at run time."),
    one_of!("log-format", log_format, &["text", "json"])
        .fincache()
        .yaml(LOG, Some("format"))
        .doc("`text` (one line per event) or `json` (one JSON object per line)."),
    string!("logfile", logfile)
        .yaml(LOG, Some("file"))
        .doc("Log file, appended to; empty = standard error."),
    int!("slowlog-log-slower-than", slowlog_log_slower_than, i64, -1, i64::MAX)
        .mutable()
        .yaml(LOG, None)
        .doc("Log commands slower than this many microseconds (-1 = off, 0 = every command)."),
    int!("slowlog-max-len", slowlog_max_len, usize, 0, i64::MAX)
        .mutable()
        .yaml(LOG, None)
        .doc("Entries kept in the slow log."),
    int!("latency-monitor-threshold", latency_monitor_threshold, u64, 0, i64::MAX)
        .mutable()
        .yaml(LOG, None)
        .doc("Record events slower than this many milliseconds for LATENCY (0 = off)."),
    // ---- store: keyspace and memory
    int!("databases", databases, usize, 1, 10_000)
        .yaml(STORE, None)
        .doc("Number of databases (`SELECT 0` … `databases-1`)."),
    Setting::new("maxmemory", Kind::Memory, |c| c.maxmemory.to_string(), |c, v, _| {
        c.maxmemory = value::memory_u64(v)?;
        Ok(())
    })
    .mutable()
    .yaml(STORE, Some("max_memory"))
    .env("FINCACHE_MAX_MEMORY")
    .doc("Memory limit in bytes (`1gb`, `512mb`, `100kb`); 0 = none."),
    Setting::new("maxmemory-policy", Kind::Enum(POLICIES), |c| c.maxmemory_policy.clone(), set_policy)
        .mutable()
        .yaml(STORE, Some("eviction_policy"))
        .env("FINCACHE_EVICTION_POLICY")
        .doc("What to evict at `maxmemory`. Files and environment also take `lru`, `lfu`, `random`, `ttl` and `_` for `-`."),
    int!("maxmemory-samples", maxmemory_samples, u32, 1, I32MAX)
        .mutable()
        .yaml(STORE, None)
        .doc("Keys sampled per eviction."),
    int!("maxmemory-eviction-tenacity", maxmemory_eviction_tenacity, u32, 0, 100)
        .mutable()
        .yaml(STORE, None)
        .doc("How hard one eviction pass works (0..100)."),
    Setting::new("maxmemory-clients", Kind::MemoryOrPercent, |c| value::format_memory_or_percent(c.maxmemory_clients), |c, v, _| {
        c.maxmemory_clients = value::memory_or_percent(v, -100, i64::MAX)?;
        Ok(())
    })
    .mutable()
    .yaml(STORE, None)
    .refuse(|c| (c.maxmemory_clients != 0).then(|| not_yet("maxmemory-clients above 0", "client eviction is not implemented")))
    .doc("Memory all clients may use together (bytes or % of maxmemory); 0 = no limit."),
    int!("lfu-log-factor", lfu_log_factor, u32, 0, I32MAX)
        .mutable()
        .yaml(STORE, None)
        .doc("LFU counter logarithm factor."),
    int!("lfu-decay-time", lfu_decay_time, u32, 0, I32MAX)
        .mutable()
        .yaml(STORE, None)
        .doc("Minutes after which an LFU counter halves."),
    boolean!("ttl-enabled", ttl_enabled)
        .fincache()
        .yaml(STORE, None)
        .refuse(|c| (!c.ttl_enabled).then(|| "ttl-enabled no is not available: keys with a TTL always expire, as in Redis".to_string()))
        .doc("Keys with a TTL expire (must be `yes`)."),
    // Redis prints `A` without the `n` it still honours (`KEAn` reads back as `AKE`); the
    // stored value keeps a trailing `n` after `A` so the class stays on, and CONFIG GET hides it.
    Setting::new("notify-keyspace-events", Kind::Str, |c| {
        let v = &c.notify_keyspace_events;
        if v.starts_with('A') { v.replace('n', "") } else { v.clone() }
    }, |c, v, _| {
        let mut canonical = value::keyspace_events(v)?;
        if canonical.starts_with('A') && v.contains('n') {
            canonical.push('n');
        }
        c.notify_keyspace_events = canonical;
        Ok(())
    })
    .mutable()
    .yaml(STORE, None)
    .doc("Keyspace notification classes (`KEA` …); empty = off."),
    // ---- store: hash and set encodings
    int!("hash-max-listpack-entries", hash_max_listpack_entries, usize, 0, i64::MAX)
        .alias("hash-max-ziplist-entries")
        .mutable()
        .yaml(STORE, None)
        .doc("A hash with more fields than this leaves its compact (listpack) form."),
    Setting::new("hash-max-listpack-value", Kind::Memory, |c| c.hash_max_listpack_value.to_string(), |c, v, _| {
        c.hash_max_listpack_value = value::memory_i64(v, 0, i64::MAX)? as usize;
        Ok(())
    })
    .alias("hash-max-ziplist-value")
    .mutable()
    .yaml(STORE, None)
    .doc("A hash with a field or value longer than this (bytes) leaves its compact form."),
    int!("set-max-intset-entries", set_max_intset_entries, usize, 0, i64::MAX)
        .mutable()
        .yaml(STORE, None)
        .doc("A set of integers with more members than this leaves its intset form."),
    int!("set-max-listpack-entries", set_max_listpack_entries, usize, 0, i64::MAX)
        .mutable()
        .yaml(STORE, None)
        .doc("A set with more members than this leaves its compact (listpack) form (Redis 7.2)."),
    Setting::new("set-max-listpack-value", Kind::Memory, |c| c.set_max_listpack_value.to_string(), |c, v, _| {
        c.set_max_listpack_value = value::memory_i64(v, 0, i64::MAX)? as usize;
        Ok(())
    })
    .mutable()
    .yaml(STORE, None)
    .doc("A set with a member longer than this (bytes) leaves its compact form (Redis 7.2)."),
    int!("zset-max-listpack-entries", zset_max_listpack_entries, usize, 0, i64::MAX)
        .alias("zset-max-ziplist-entries")
        .mutable()
        .yaml(STORE, None)
        .doc("A sorted set with more members than this leaves its compact (listpack) form."),
    Setting::new("zset-max-listpack-value", Kind::Memory, |c| c.zset_max_listpack_value.to_string(), |c, v, _| {
        c.zset_max_listpack_value = value::memory_i64(v, 0, i64::MAX)? as usize;
        Ok(())
    })
    .alias("zset-max-ziplist-value")
    .mutable()
    .yaml(STORE, None)
    .doc("A sorted set with a member longer than this (bytes) leaves its compact form."),
    // ---- store: list encoding
    int!("list-max-listpack-size", list_max_listpack_size, i32, i32::MIN as i64, I32MAX)
        .alias("list-max-ziplist-size")
        .mutable()
        .yaml(STORE, None)
        .doc("Size of a list node: -1 … -5 = 4, 8, 16, 32, 64 KB; a positive number = entries. A list that fits one node uses the compact listpack form."),
    int!("list-compress-depth", list_compress_depth, u32, 0, I32MAX)
        .mutable()
        .yaml(STORE, None)
        .doc("List nodes left uncompressed at each end (accepted for compatibility; FinCache does not compress list nodes)."),
    // ---- store: persistence
    Setting::new("dir", Kind::Str, get_dir, set_dir)
        .protected()
        .yaml(STORE, None)
        .apply(apply_dir)
        .doc_default("(working directory)")
        .doc("Working directory, where snapshot and AOF files go."),
    Setting::new("dbfilename", Kind::Str, |c| c.dbfilename.clone(), |c, v, _| {
        if !value::is_base_name(v) {
            return Err("dbfilename can't be a path, just a filename".into());
        }
        c.dbfilename = v.to_string();
        Ok(())
    })
    .protected()
    .yaml(STORE, None)
    .doc("Snapshot (RDB) file name inside `dir`."),
    Setting::new("save", Kind::Words, |c| value::format_save_rules(&c.save), |c, v, _| {
        c.save = value::save_rules(v)?;
        Ok(())
    })
    .mutable()
    .yaml(STORE, None)
    .doc("Snapshot rules `<seconds> <changes> …`: save when at least `changes` writes happened in `seconds`; empty = none. Default (none) differs from Redis."),
    boolean!("appendonly", appendonly)
        .mutable()
        .yaml(STORE, None)
        .refuse(|c| c.appendonly.then(|| not_yet("appendonly yes", "it has no append-only file (AOF)")))
        .doc("Log every write to the append-only file."),
    one_of!("appendfsync", appendfsync, &["everysec", "always", "no"])
        .mutable()
        .yaml(STORE, None)
        .doc("When the AOF is fsynced: `always`, `everysec` or `no`."),
    Setting::new("appendfilename", Kind::Str, |c| c.appendfilename.clone(), |c, v, _| {
        if v.is_empty() {
            return Err("appendfilename can't be empty".into());
        }
        if !value::is_base_name(v) {
            return Err("appendfilename can't be a path, just a filename".into());
        }
        c.appendfilename = v.to_string();
        Ok(())
    })
    .yaml(STORE, None)
    .doc("AOF file base name."),
    boolean!("snapshot-enabled", snapshot_enabled)
        .mutable()
        .fincache()
        .yaml(STORE, None)
        .doc("Write a snapshot every `snapshot-interval` seconds (when keys changed) to `snapshot-path`, which then replaces `dir`/`dbfilename` for saving and loading."),
    Setting::new("snapshot-path", Kind::Str, |c| c.snapshot_path.clone(), |c, v, _| {
        if v.is_empty() {
            return Err("snapshot-path can't be empty".into());
        }
        c.snapshot_path = v.to_string();
        Ok(())
    })
    .mutable()
    .fincache()
    .yaml(STORE, None)
    .doc("Snapshot file path."),
    Setting::new("snapshot-interval", Kind::Seconds, |c| c.snapshot_interval.to_string(), |c, v, _| {
        let s = value::seconds(v, I32MAX as u64)?;
        if s == 0 {
            return Err("snapshot-interval must be at least 1 second".into());
        }
        c.snapshot_interval = s;
        Ok(())
    })
    .mutable()
    .fincache()
    .yaml(STORE, None)
    .doc("Seconds between snapshots (`5m` in files)."),
    // ---- api (HTTP)
    boolean!("api-enabled", api_enabled)
        .fincache()
        .yaml(API, Some("enabled"))
        .doc("Serve the HTTP API, metrics, health checks and the dashboard."),
    int!("api-port", api_port, u16, 0, 65535)
        .fincache()
        .yaml(API, Some("port"))
        .doc("HTTP API port (0 = any free port)."),
    Setting::new("api-bind", Kind::Words, |c| c.api_bind.clone(), |c, v, _| {
        if !v.trim().is_empty() {
            set_bind(&mut Config::default(), v, Mode::Strict)?;
        }
        c.api_bind = v.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(())
    })
    .fincache()
    .yaml(API, Some("host"))
    .doc("Addresses the HTTP API listens on, as `bind` (empty = the addresses of `bind`)."),
    seconds!("api-read-timeout", api_read_timeout, I32MAX as u64)
        .fincache()
        .yaml(API, Some("read_timeout"))
        .doc("Seconds to receive an HTTP request's head, and a JSON body (0 = no limit)."),
    seconds!("api-write-timeout", api_write_timeout, I32MAX as u64)
        .fincache()
        .yaml(API, Some("write_timeout"))
        .doc("Close an HTTP connection whose writes make no progress for this many seconds (0 = never)."),
    boolean!("api-cors-enabled", api_cors_enabled)
        .mutable()
        .fincache()
        .yaml(API, Some("cors_enabled"))
        .env("FINCACHE_CORS_ENABLED")
        .doc("Send CORS headers from the HTTP API."),
    int!("api-rate-limit", api_rate_limit, u64, 0, i64::MAX)
        .mutable()
        .fincache()
        .yaml(API, Some("rate_limit"))
        .env("FINCACHE_RATE_LIMIT")
        .doc("HTTP requests per second per client IP (0 = unlimited); more get 429."),
    int!("api-rate-burst", api_rate_burst, u64, 0, i64::MAX)
        .mutable()
        .fincache()
        .yaml(API, Some("rate_burst"))
        .doc("Requests a client IP may send at once above the rate (0 = as many as the rate)."),
    string!("api-cors-origins", api_cors_origins)
        .mutable()
        .fincache()
        .yaml(API, Some("cors_origins"))
        .doc("Origins CORS allows, space-separated (`*` = any)."),
    Setting::new("api-max-body-size", Kind::Memory, |c| c.api_max_body_size.to_string(), |c, v, _| {
        c.api_max_body_size = value::memory_i64(v, 1024, i64::MAX)? as u64;
        Ok(())
    })
    .fincache()
    .yaml(API, Some("max_body_size"))
    .doc("Largest HTTP request body; larger ones get 413."),
    string!("api-key", api_key)
        .mutable()
        .fincache()
        .yaml(API, Some("key"))
        .doc("Key HTTP clients must send as `Authorization: Bearer` or `X-API-Key` (empty = none)."),
];

/// The setting called `name` (any case), and whether `name` is its alias.
pub fn find(name: &[u8]) -> Option<(&'static Setting, bool)> {
    SETTINGS.iter().find_map(|s| {
        if name.eq_ignore_ascii_case(s.name.as_bytes()) {
            Some((s, false))
        } else if s
            .alias
            .is_some_and(|a| name.eq_ignore_ascii_case(a.as_bytes()))
        {
            Some((s, true))
        } else {
            None
        }
    })
}

/// Every name CONFIG GET can match, with its setting: each setting, then its alias.
pub fn names() -> impl Iterator<Item = (&'static str, &'static Setting)> {
    SETTINGS
        .iter()
        .flat_map(|s| std::iter::once((s.name, s)).chain(s.alias.map(|a| (a, s))))
}

/// The first setting whose current value FinCache cannot honour, with the message.
pub fn first_refused(config: &Config) -> Option<(&'static Setting, String)> {
    SETTINGS
        .iter()
        .find_map(|s| s.refuse.and_then(|f| f(config)).map(|m| (s, m)))
}

fn not_yet(what: &str, why: &str) -> String {
    format!("{what} is not available yet in FinCache: {why}")
}

fn set_bind(c: &mut Config, v: &str, _: Mode) -> Result<(), String> {
    let addrs: Vec<&str> = v.split_whitespace().collect();
    if addrs.len() > 16 {
        return Err("Too many bind addresses specified.".into());
    }
    if addrs.is_empty() {
        // COMPAT: Redis then listens on no TCP address (only a Unix socket, which FinCache lacks).
        return Err("bind needs at least one address".into());
    }
    c.bind = addrs.join(" ");
    Ok(())
}

fn set_timeout(c: &mut Config, v: &str, mode: Mode) -> Result<(), String> {
    c.timeout = match mode {
        Mode::Strict => value::int(v, 0, I32MAX)? as u64,
        // The YAML layout's `read_timeout: 30s`.
        Mode::Lenient => value::seconds(v, I32MAX as u64)?,
    };
    Ok(())
}

fn set_policy(c: &mut Config, v: &str, mode: Mode) -> Result<(), String> {
    let name = match mode {
        Mode::Strict => v.to_string(),
        Mode::Lenient => legacy_policy(v),
    };
    c.maxmemory_policy = value::one_of(&name, POLICIES)?.to_string();
    Ok(())
}

/// The old `eviction_policy` spellings: `lru` → `allkeys-lru`, `allkeys_lru` → `allkeys-lru` …
fn legacy_policy(v: &str) -> String {
    let v = v.to_ascii_lowercase().replace('_', "-");
    match v.as_str() {
        "lru" | "lfu" | "random" => format!("allkeys-{v}"),
        "ttl" => "volatile-ttl".into(),
        "none" => "noeviction".into(),
        _ => v,
    }
}

fn get_dir(c: &Config) -> String {
    if c.dir.is_empty() {
        std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    } else {
        c.dir.clone()
    }
}

fn set_dir(c: &mut Config, v: &str, mode: Mode) -> Result<(), String> {
    if v.is_empty() && mode == Mode::Lenient {
        // In a file or the environment, empty means the working directory at start.
        c.dir = String::new();
        return Ok(());
    }
    // Stored absolute (symbolic links resolved), as Redis's CONFIG GET shows `getcwd()`.
    let abs = std::fs::canonicalize(v).map_err(|e| io_reason(&e))?;
    if !abs.is_dir() {
        return Err("Not a directory".into());
    }
    c.dir = abs.display().to_string();
    Ok(())
}

/// Makes `dir` the working directory, as Redis's `chdir`.
fn apply_dir(c: &Config) -> Result<(), String> {
    if c.dir.is_empty() {
        return Ok(());
    }
    std::env::set_current_dir(&c.dir).map_err(|e| io_reason(&e))
}

/// An I/O error as `strerror` words (no "(os error N)" suffix).
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_defaults_valid() {
        let mut seen = std::collections::HashSet::new();
        let defaults = Config::default();
        for (name, s) in names() {
            assert_eq!(name, name.to_ascii_lowercase());
            assert!(seen.insert(name), "{name} twice");
            assert!(!s.meaning.is_empty(), "{name} has no meaning");
        }
        for s in SETTINGS {
            // Every default reads back through its own setter unchanged.
            let mut c = defaults.clone();
            let shown = (s.get)(&defaults);
            if s.name != "dir" {
                (s.set)(&mut c, &shown, Mode::Strict).unwrap_or_else(|e| panic!("{}: {e}", s.name));
                assert_eq!(c, defaults, "{}", s.name);
            }
        }
        assert!(first_refused(&defaults).is_none());
    }

    #[test]
    fn yaml_keys_are_unique_per_section() {
        let mut seen = std::collections::HashSet::new();
        for s in SETTINGS {
            assert!(seen.insert(s.yaml_path()), "{}", s.yaml_path());
        }
    }

    #[test]
    fn legacy_policies() {
        let mut c = Config::default();
        for (given, want) in [
            ("lru", "allkeys-lru"),
            ("allkeys_lfu", "allkeys-lfu"),
            ("VOLATILE-TTL", "volatile-ttl"),
            ("ttl", "volatile-ttl"),
        ] {
            set_policy(&mut c, given, Mode::Lenient).unwrap();
            assert_eq!(c.maxmemory_policy, want);
        }
        assert!(set_policy(&mut c, "lru", Mode::Strict).is_err());
        assert!(find(b"LUA-TIME-LIMIT")
            .is_some_and(|(s, alias)| alias && s.name == "busy-reply-threshold"));
    }
}
