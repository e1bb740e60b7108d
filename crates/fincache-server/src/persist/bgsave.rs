//! BGSAVE without fork: a point-in-time snapshot written by a background thread.
//!
//! - Start ([`start`]): with the keyspace gate held for writing (BGSAVE is `EXCLUSIVE`; the
//!   cron takes the gate), every shard of every non-empty database is marked *pending*. No
//!   command runs meanwhile, so the marks are one instant across all shards (transactions and
//!   scripts included: they hold the gate too).
//! - The writer thread walks the shards in order; for each it takes the shard lock, and if the
//!   shard is still pending clears the mark and serialises the shard (the lock is held only
//!   while that one shard is encoded), then writes the bytes out.
//! - A write command ([`before_write`], called by the dispatcher before the handler) first
//!   serialises each pending shard it may touch, under that shard's lock, and parks the bytes
//!   for the writer. So every shard is serialised exactly as it was at the start instant.
//!
//! ORDER: shard lock, then the job's `parked` mutex; never the other way.
//!
//! Extra memory is one shard's encoding at a time, plus shards that writers reached before the
//! writer thread did (at most the shards written to during the save).

use super::rdb_write::*;
use super::{crc64, RdbError};
use crate::cmd::spec::{CommandSpec, Flags};
use crate::server::Server;
use crate::store::SHARDS_PER_DB;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One background save in progress.
pub struct Job {
    /// `db * SHARDS_PER_DB + shard` → not yet serialised.
    pending: Box<[AtomicBool]>,
    /// Shards serialised by writers ahead of the writer thread.
    parked: Mutex<HashMap<usize, Vec<u8>>>,
    /// (keys, keys with TTL) per database at the start instant, for RESIZEDB.
    sizes: Vec<(usize, usize)>,
    /// Set by a foreground save that supersedes this one: the result is not renamed in place.
    pub cancelled: AtomicBool,
}

/// The background-save slot shared by the server.
#[derive(Default)]
pub struct BgSave {
    /// Fast check for the dispatcher's hook: one relaxed load when no save runs.
    active: AtomicBool,
    job: Mutex<Option<Arc<Job>>>,
    /// BGSAVE SCHEDULE asked for another save once this one ends.
    pub scheduled: AtomicBool,
}

impl BgSave {
    pub fn in_progress(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Marks the running save superseded (SHUTDOWN's or SAVE's foreground save).
    pub fn cancel(&self) {
        if let Some(job) = self.job.lock().as_ref() {
            job.cancelled.store(true, Ordering::Release);
        }
    }
}

/// Starts a background save; false when one is already running (or no thread could start).
/// The caller holds the keyspace gate for writing.
pub fn start(server: &Arc<Server>) -> bool {
    let bg = &server.persist.bg;
    let mut slot = bg.job.lock();
    if slot.is_some() {
        return false;
    }
    let ks = &server.keyspace;
    let mut sizes = Vec::with_capacity(ks.db_count());
    let pending: Box<[AtomicBool]> = (0..ks.db_count() * SHARDS_PER_DB)
        .map(|_| AtomicBool::new(false))
        .collect();
    for (id, db) in ks.dbs().iter().enumerate() {
        let size = (db.len(), db.expires_len());
        if size.0 > 0 {
            for s in 0..SHARDS_PER_DB {
                pending[id * SHARDS_PER_DB + s].store(true, Ordering::Relaxed);
            }
        }
        sizes.push(size);
    }
    let job = Arc::new(Job {
        pending,
        parked: Mutex::new(HashMap::new()),
        sizes,
        cancelled: AtomicBool::new(false),
    });
    *slot = Some(job.clone());
    bg.active.store(true, Ordering::Release);
    drop(slot);
    let dirty = crate::stats::Stats::get(&server.stats.dirty);
    let server2 = server.clone();
    let spawned = std::thread::Builder::new()
        .name("fincache-bgsave".into())
        .spawn(move || run(server2, job, dirty));
    if spawned.is_err() {
        bg.active.store(false, Ordering::Release);
        *bg.job.lock() = None;
        return false;
    }
    true
}

/// The dispatcher's hook: before write command `spec` runs in database `db`, serialise the
/// pending shards it may touch. Commands whose keys are not all in `db` at known positions
/// (EXCLUSIVE ones such as FLUSHALL and SWAPDB, keyless writes, MOVE, COPY) serialise every
/// pending shard.
pub fn before_write(server: &Server, db: usize, spec: &CommandSpec, argv: &[&[u8]]) {
    let bg = &server.persist.bg;
    if !bg.active.load(Ordering::Acquire) {
        return;
    }
    let Some(job) = bg.job.lock().clone() else {
        return;
    };
    let positions = spec.key_positions(argv);
    // Writes whose keys are not all in `db` at known positions may touch any shard.
    let everything = positions.is_empty()
        || spec.flags.has(Flags::EXCLUSIVE)
        || (spec.flags.has(Flags::MOVABLE_KEYS) && spec.key_finder.is_none())
        || matches!(spec.name, "move" | "copy");
    if everything {
        for idx in 0..job.pending.len() {
            serialise_if_pending(server, &job, idx, true);
        }
        return;
    }
    for pos in positions {
        if let Some(key) = argv.get(pos) {
            let idx = db * SHARDS_PER_DB + crate::store::Db::shard_index(key);
            serialise_if_pending(server, &job, idx, true);
        }
    }
}

/// Serialises shard `idx` if still pending and parks the bytes (a writer, `park`); or (the
/// writer thread) returns the shard's bytes, serialised now or taken from the parked ones.
fn serialise_if_pending(server: &Server, job: &Job, idx: usize, park: bool) -> Option<Vec<u8>> {
    // The writer's fast path: nothing to do for a shard already serialised. (The writer
    // thread always takes the lock: a writer may be between clearing the mark and parking.)
    if park && !job.pending.get(idx)?.load(Ordering::Acquire) {
        return None;
    }
    let db = server.keyspace.db(idx / SHARDS_PER_DB);
    let shard = db.lock_shard(idx % SHARDS_PER_DB);
    // Checked again under the lock: exactly one caller serialises each shard.
    if !job.pending[idx].swap(false, Ordering::AcqRel) {
        // ORDER: shard lock, then `parked` (the writer parked before releasing the lock).
        return if park {
            None
        } else {
            Some(job.parked.lock().remove(&idx).unwrap_or_default())
        };
    }
    let mut buf = Vec::new();
    for (key, entry) in shard.iter() {
        if let Some(at) = entry.has_expire.then(|| shard.expire_at(key)).flatten() {
            buf.push(OP_EXPIRETIME_MS);
            buf.extend_from_slice(&at.to_le_bytes());
        }
        put_keyed_value(&mut buf, key.as_slice(), &entry.value, true);
    }
    if park {
        // ORDER: shard lock, then `parked`; parked before the shard lock is released, so the
        // writer thread finds it once it sees the mark cleared.
        job.parked.lock().insert(idx, buf);
        None
    } else {
        Some(buf)
    }
}

fn run(server: Arc<Server>, job: Arc<Job>, dirty_at_start: u64) {
    let started = std::time::Instant::now();
    let path = super::snapshot_path(&server);
    let result = write_job(&server, &job, &path);
    let st = &server.persist;
    st.last_attempt.store(super::now_secs(), Ordering::Relaxed);
    match &result {
        Ok(()) => {
            st.lastsave.store(super::now_secs(), Ordering::Relaxed);
            st.dirty_at_save.store(dirty_at_start, Ordering::Relaxed);
            st.last_status_ok.store(true, Ordering::Relaxed);
            st.saves.fetch_add(1, Ordering::Relaxed);
            tracing::info!(path = %path.display(), "background saving terminated with success");
        }
        Err(e) => {
            st.last_status_ok.store(false, Ordering::Relaxed);
            tracing::warn!(path = %path.display(), error = %e, "background saving error");
        }
    }
    st.last_duration_sec
        .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
    let bg = &st.bg;
    *bg.job.lock() = None;
    bg.active.store(false, Ordering::Release);
}

fn write_job(server: &Server, job: &Job, path: &std::path::Path) -> Result<(), RdbError> {
    let dir = super::parent_dir(path);
    let tmp = dir.join(format!("temp-bg-{}.rdb", std::process::id()));
    let result = (|| -> Result<(), RdbError> {
        let file = std::fs::File::create(&tmp)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        let mut crc = 0u64;
        let mut emit = |out: &mut std::io::BufWriter<std::fs::File>, b: &[u8]| {
            crc = crc64::update(crc, b);
            out.write_all(b)
        };
        let mut head = Vec::new();
        super::write_header(server, &mut head);
        emit(&mut out, &head)?;
        for (id, &(keys, expires)) in job.sizes.iter().enumerate() {
            if keys == 0 {
                continue;
            }
            head.clear();
            head.push(OP_SELECTDB);
            put_len(&mut head, id as u64);
            head.push(OP_RESIZEDB);
            put_len(&mut head, keys as u64);
            put_len(&mut head, expires as u64);
            emit(&mut out, &head)?;
            for s in 0..SHARDS_PER_DB {
                let idx = id * SHARDS_PER_DB + s;
                let bytes = serialise_if_pending(server, job, idx, false).unwrap_or_default();
                emit(&mut out, &bytes)?;
            }
        }
        emit(&mut out, &[OP_EOF])?;
        out.write_all(&crc.to_le_bytes())?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        // A foreground save that started meanwhile wins: never rename over its newer file.
        let _rename = server.persist.rename_lock.lock();
        if job.cancelled.load(Ordering::Acquire) {
            return Err(RdbError::Corrupt("superseded by a foreground save".into()));
        }
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
