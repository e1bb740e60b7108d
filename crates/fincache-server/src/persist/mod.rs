//! Persistence: RDB snapshots in Redis's format (version 10, as Redis 7.0 writes it), and the
//! DUMP/RESTORE payload built from the same encoding.
//!
//! - [`rdb_write`] / [`rdb_read`]: one value in RDB encoding, both ways;
//! - [`bgsave`]: BGSAVE and the save points, point-in-time without fork;
//! - [`save`]: a whole snapshot to `dir/dbfilename` (temp file, fsync, rename, directory
//!   fsync: a failed save never damages the previous snapshot);
//! - [`load`]: a snapshot into the keyspace at start-up, before the listeners accept;
//! - [`dump_payload`] / [`restore_payload`]: DUMP and RESTORE.
//!
//! Invariant: [`save_locked`] is called with the keyspace gate held for writing (SAVE and
//! SHUTDOWN are `EXCLUSIVE` commands; the cron and the shutdown path take the gate), so the
//! snapshot is one instant of every database.

pub mod bgsave;
pub mod crc64;
pub mod lzf;
pub mod rdb_read;
pub mod rdb_write;

use crate::server::Server;
use crate::store::{Entry, Value};
use fincache_types::CompactBytes;
use rdb_read::{BuildLimits, Cursor};
use rdb_write::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// Why a snapshot or payload could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RdbError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("not an RDB file (bad magic)")]
    BadMagic,
    #[error("RDB version {0} is newer than this server can read")]
    Version(u32),
    #[error("unexpected end of RDB data")]
    Truncated,
    #[error("corrupt RDB data: {0}")]
    Corrupt(String),
    #[error("RDB checksum mismatch")]
    Checksum,
    #[error("the RDB holds a {0} value, which FinCache cannot load")]
    Unsupported(&'static str),
}

/// The newest RDB version the reader accepts (7.2 wrote 11, 7.4 12); unknown value types
/// inside are still refused one by one.
pub const MAX_READ_VERSION: u32 = 12;

/// Save bookkeeping shown by LASTSAVE and INFO persistence.
pub struct PersistState {
    /// Unix seconds of the last successful save (the start time until the first one, as Redis).
    pub lastsave: AtomicU64,
    /// Unix seconds of the last save attempt, successful or not (retry delay after a failure).
    pub last_attempt: AtomicU64,
    pub last_status_ok: AtomicBool,
    /// Seconds the last save took; -1 before any.
    pub last_duration_sec: AtomicI64,
    /// `stats.dirty` when the last successful save started.
    pub dirty_at_save: AtomicU64,
    /// A cron-triggered save is running.
    pub saving: AtomicBool,
    /// Successful saves since start (INFO `rdb_saves`).
    pub saves: AtomicU64,
    /// The background save in progress, if any ([`bgsave`]).
    pub bg: bgsave::BgSave,
    /// Held around the final rename of a snapshot, so a background save superseded by a
    /// foreground one never renames its older file over the newer.
    pub rename_lock: parking_lot::Mutex<()>,
    /// Set when SHUTDOWN already saved (or was told NOSAVE), so the exit path does not save again.
    pub shutdown_handled: AtomicBool,
}

impl Default for PersistState {
    fn default() -> Self {
        let now = now_secs();
        PersistState {
            lastsave: AtomicU64::new(now),
            last_attempt: AtomicU64::new(now),
            last_status_ok: AtomicBool::new(true),
            last_duration_sec: AtomicI64::new(-1),
            dirty_at_save: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            saving: AtomicBool::new(false),
            shutdown_handled: AtomicBool::new(false),
            bg: bgsave::BgSave::default(),
            rename_lock: parking_lot::Mutex::new(()),
        }
    }
}

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The snapshot file: `snapshot-path` when `snapshot-enabled`, else `dir/dbfilename`.
pub fn snapshot_path(server: &Server) -> PathBuf {
    let c = server.config.read();
    if c.snapshot_enabled {
        return PathBuf::from(&c.snapshot_path);
    }
    let dir = if c.dir.is_empty() {
        "."
    } else {
        c.dir.as_str()
    };
    Path::new(dir).join(&c.dbfilename)
}

/// The thresholds loaded collections are built with.
pub fn build_limits(server: &Server) -> BuildLimits {
    let c = server.config.read();
    BuildLimits {
        list_fill: c.list_max_listpack_size,
        hash: fincache_types::hash::HashLimits {
            max_listpack_entries: c.hash_max_listpack_entries,
            max_listpack_value: c.hash_max_listpack_value,
        },
        set: fincache_types::set::SetLimits {
            max_intset_entries: c.set_max_intset_entries,
            max_listpack_entries: c.set_max_listpack_entries,
            max_listpack_value: c.set_max_listpack_value,
        },
        zset: fincache_types::zset::Limits {
            max_listpack_entries: c.zset_max_listpack_entries,
            max_listpack_value: c.zset_max_listpack_value,
        },
    }
}

/// Whether save points are configured (SHUTDOWN then saves by default, as Redis).
pub fn has_save_points(server: &Server) -> bool {
    let c = server.config.read();
    !c.save.is_empty() || c.snapshot_enabled
}

/// Writes a snapshot to the configured path and records the outcome. The caller holds the
/// keyspace gate for writing.
pub fn save_locked(server: &Server) -> Result<(), RdbError> {
    let path = snapshot_path(server);
    let started = std::time::Instant::now();
    let dirty = crate::stats::Stats::get(&server.stats.dirty);
    let st = &server.persist;
    st.last_attempt.store(now_secs(), Ordering::Relaxed);
    let result = write_file(server, &path);
    match &result {
        Ok(()) => {
            st.lastsave.store(now_secs(), Ordering::Relaxed);
            st.dirty_at_save.store(dirty, Ordering::Relaxed);
            st.last_status_ok.store(true, Ordering::Relaxed);
            st.saves.fetch_add(1, Ordering::Relaxed);
            tracing::info!(path = %path.display(), "DB saved on disk");
        }
        Err(e) => {
            st.last_status_ok.store(false, Ordering::Relaxed);
            tracing::warn!(path = %path.display(), error = %e, "snapshot failed");
        }
    }
    st.last_duration_sec
        .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
    result
}

/// Takes the gate for writing, then [`save_locked`] (cron, shutdown on a signal).
pub fn save(server: &Server) -> Result<(), RdbError> {
    let _gate = server.keyspace.gate.write();
    save_locked(server)
}

/// The cron's check of the save points (`save <seconds> <changes> …`, or `snapshot-interval`
/// when `snapshot-enabled`): saves when one is reached, retrying a failed save after 5 s as
/// Redis does.
///
/// The save is a background save ([`bgsave`]); a BGSAVE SCHEDULE runs once none is in
/// progress.
pub fn cron_check(server: &std::sync::Arc<Server>) {
    let now = now_secs();
    let st = &server.persist;
    if st.bg.in_progress() {
        return;
    }
    if st.bg.scheduled.load(Ordering::Acquire) {
        if !st.saving.swap(true, Ordering::AcqRel) {
            st.bg.scheduled.store(false, Ordering::Release);
            spawn_bgsave(server);
        }
        return;
    }
    let changes = crate::stats::Stats::get(&server.stats.dirty)
        .saturating_sub(st.dirty_at_save.load(Ordering::Relaxed));
    if changes == 0 {
        return;
    }
    let since = now.saturating_sub(st.lastsave.load(Ordering::Relaxed));
    let due = {
        let c = server.config.read();
        c.save
            .iter()
            .any(|r| changes >= r.changes && since >= r.seconds)
            || (c.snapshot_enabled && since >= c.snapshot_interval)
    };
    let retry_ok = st.last_status_ok.load(Ordering::Relaxed)
        || now.saturating_sub(st.last_attempt.load(Ordering::Relaxed)) >= 5;
    if due && retry_ok && !st.saving.swap(true, Ordering::AcqRel) {
        st.last_attempt.store(now, Ordering::Relaxed);
        spawn_bgsave(server);
    }
}

/// Starts a background save from the cron. Taking the gate for writing may wait behind
/// running commands, so it happens on a blocking thread, not on the cron task.
fn spawn_bgsave(server: &std::sync::Arc<Server>) {
    let server = server.clone();
    tokio::task::spawn_blocking(move || {
        let gate = server.keyspace.gate.write();
        let _ = bgsave::start(&server);
        drop(gate);
        server.persist.saving.store(false, Ordering::Release);
    });
}

/// Serialises every database into `path` via a temp file in the same directory.
fn write_file(server: &Server, path: &Path) -> Result<(), RdbError> {
    let dir = parent_dir(path);
    let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let result = write_to(server, &tmp).and_then(|()| {
        let _rename = server.persist.rename_lock.lock();
        server.persist.bg.cancel();
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The directory a snapshot file lives in (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Bytes buffered before they go to the file (and into the checksum).
const FLUSH_AT: usize = 1 << 20;

struct Sink {
    file: std::io::BufWriter<std::fs::File>,
    buf: Vec<u8>,
    crc: u64,
}

impl Sink {
    fn flush_buf(&mut self) -> std::io::Result<()> {
        self.crc = crc64::update(self.crc, &self.buf);
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

fn write_to(server: &Server, tmp: &Path) -> Result<(), RdbError> {
    let file = std::fs::File::create(tmp)?;
    let mut s = Sink {
        file: std::io::BufWriter::with_capacity(1 << 16, file),
        buf: Vec::with_capacity(FLUSH_AT + 4096),
        crc: 0,
    };
    write_header(server, &mut s.buf);
    let compress = true;
    for (id, db) in server.keyspace.dbs().iter().enumerate() {
        let (size, expires) = (db.len(), db.expires_len());
        if size == 0 {
            continue;
        }
        s.buf.push(OP_SELECTDB);
        put_len(&mut s.buf, id as u64);
        s.buf.push(OP_RESIZEDB);
        put_len(&mut s.buf, size as u64);
        put_len(&mut s.buf, expires as u64);
        for i in 0..db.shard_count() {
            let shard = db.lock_shard(i);
            for (key, entry) in shard.iter() {
                if let Some(at) = entry.has_expire.then(|| shard.expire_at(key)).flatten() {
                    s.buf.push(OP_EXPIRETIME_MS);
                    s.buf.extend_from_slice(&at.to_le_bytes());
                }
                put_keyed_value(&mut s.buf, key.as_slice(), &entry.value, compress);
                if s.buf.len() >= FLUSH_AT {
                    s.flush_buf()?;
                }
            }
        }
    }
    s.buf.push(OP_EOF);
    s.flush_buf()?;
    s.file.write_all(&s.crc.to_le_bytes())?;
    let file = s.file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

pub(crate) fn write_header(server: &Server, out: &mut Vec<u8>) {
    out.extend_from_slice(b"REDIS0010");
    let aux = |out: &mut Vec<u8>, k: &[u8], v: &[u8]| {
        out.push(OP_AUX);
        put_string(out, k, false);
        put_string(out, v, false);
    };
    let mut b = itoa::Buffer::new();
    aux(out, b"redis-ver", b"7.0.0");
    aux(out, b"redis-bits", b"64");
    aux(out, b"ctime", b.format(now_secs()).as_bytes());
    let used = crate::stats::Stats::get(&server.stats.used_memory_peak);
    aux(out, b"used-mem", b.format(used).as_bytes());
    aux(out, b"aof-base", b"0");
}

/// Loads the snapshot at the configured path, if there is one. Keys already expired are
/// skipped (as a Redis primary does). Runs before the listeners accept.
pub fn load_at_startup(server: &Server) -> Result<(), RdbError> {
    let path = snapshot_path(server);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    server.loading.store(true, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let result = load_bytes(server, &data);
    server.loading.store(false, Ordering::Relaxed);
    let keys = result?;
    tracing::info!(
        path = %path.display(),
        keys,
        seconds = started.elapsed().as_secs_f64(),
        "DB loaded from disk"
    );
    Ok(())
}

/// Loads a whole RDB image into the keyspace; returns the number of keys loaded.
pub fn load_bytes(server: &Server, data: &[u8]) -> Result<usize, RdbError> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return Err(RdbError::BadMagic);
    }
    let version: u32 = std::str::from_utf8(&data[5..9])
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or(RdbError::BadMagic)?;
    if version == 0 || version > MAX_READ_VERSION {
        return Err(RdbError::Version(version));
    }
    let limits = build_limits(server);
    let ks = &server.keyspace;
    let now = now_ms();
    let lru = server.lru_clock.load(Ordering::Relaxed);
    let mut c = Cursor::new(data);
    c.pos = 9;
    let mut db = 0usize;
    let mut expire: Option<u64> = None;
    let mut loaded = 0;
    loop {
        let op = c.byte()?;
        match op {
            OP_EOF => break,
            OP_SELECTDB => {
                let id = c.length()?;
                db = usize::try_from(id)
                    .ok()
                    .filter(|&i| i < ks.db_count())
                    .ok_or_else(|| {
                        RdbError::Corrupt(format!("database {id} is out of range (databases)"))
                    })?;
            }
            OP_RESIZEDB => {
                c.length()?;
                c.length()?;
            }
            OP_AUX => {
                c.string()?;
                c.string()?;
            }
            OP_EXPIRETIME_MS => expire = Some(c.u64_le()?),
            OP_EXPIRETIME => expire = Some(u64::from(c.u32_le()?) * 1000),
            OP_IDLE => {
                c.length()?;
            }
            OP_FREQ => {
                c.byte()?;
            }
            OP_MODULE_AUX => return Err(RdbError::Unsupported("module auxiliary data")),
            OP_FUNCTION2 | OP_FUNCTION_PRE_GA => {
                // COMPAT: function libraries in a snapshot are skipped (logged), not loaded.
                if op == OP_FUNCTION_PRE_GA {
                    return Err(RdbError::Unsupported("pre-GA function"));
                }
                c.string()?;
                tracing::warn!("skipping a function library stored in the RDB file");
            }
            ty => {
                let key = c.string()?;
                let value = rdb_read::read_value(&mut c, ty, &limits)?;
                let at = expire.take();
                let Some(value) = value else { continue };
                if at.is_some_and(|t| t <= now) {
                    continue;
                }
                let mut shard = ks.db(db).lock(&key);
                shard.remove(&key);
                shard.insert_entry(CompactBytes::from_vec(key), Entry::new(value, lru), at);
                loaded += 1;
            }
        }
    }
    if version >= 5 && c.pos + 8 <= data.len() {
        let stored = u64::from_le_bytes(
            data[c.pos..c.pos + 8]
                .try_into()
                .map_err(|_| RdbError::Truncated)?,
        );
        if stored != 0 && stored != crc64::update(0, &data[..c.pos]) {
            return Err(RdbError::Checksum);
        }
    }
    Ok(loaded)
}

/// DUMP's payload for `value`: type + RDB body + RDB version (2 bytes LE) + CRC64 (8 bytes LE).
pub fn dump_payload(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    put_value(&mut out, value, true);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::update(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Whether a DUMP payload's footer is acceptable (`verifyDumpPayload`).
pub fn verify_payload(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = p.len() - 10;
    let version = u16::from_le_bytes([p[footer], p[footer + 1]]);
    if u32::from(version) > MAX_READ_VERSION {
        return false;
    }
    let crc_at = p.len() - 8;
    let stored = &p[crc_at..];
    stored == crc64::update(0, &p[..crc_at]).to_le_bytes()
}

/// The value in a verified DUMP payload; `None` if it does not decode (`Bad data format`).
pub fn restore_payload(server: &Server, p: &[u8]) -> Option<Value> {
    let body = &p[..p.len().checked_sub(10)?];
    let limits = build_limits(server);
    let mut c = Cursor::new(body);
    let ty = c.byte().ok()?;
    let value = rdb_read::read_value(&mut c, ty, &limits).ok()??;
    (c.pos == body.len()).then_some(value)
}
