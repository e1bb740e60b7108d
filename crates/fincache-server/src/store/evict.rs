//! `maxmemory`: the used-memory reading, the eviction policies and the LFU access counter.
//!
//! Mirrors Redis's `evict.c`:
//! - before a command runs while `maxmemory` is set, [`check_before_command`] evicts keys until
//!   used memory is back under the limit; a `denyoom` command (or any command queued inside
//!   MULTI) is refused with the OOM error when nothing could be evicted or the policy is
//!   `noeviction`;
//! - candidates are sampled (`maxmemory-samples` random keys per database) into an eviction pool
//!   that keeps the best [`POOL_SIZE`] candidates across samples; the best still-existing one is
//!   evicted. `*-random` policies evict a random key directly;
//! - used memory is jemalloc's `stats.allocated`. Reading it (an epoch advance) is not free, so
//!   [`Eviction`] caches it: the cron refreshes it, every command adds an estimate of what it
//!   may allocate, and an exact reading is taken whenever the estimate crosses the limit.
//!
//! LFU (Redis's `LFULogIncr` / `LFUDecrAndReturn`): under an `*-lfu` policy an entry's 32-bit
//! `lru` field holds a 16-bit minutes clock in bits 8..24 and an 8-bit logarithmic counter in
//! bits 0..8. The server's LRU clock then carries [`LFU_FLAG`], so every lookup that touches a
//! key (`Shard::get_mut`) updates the counter through [`touch`] instead of storing the clock.
//! As in Redis, switching policy at run time leaves the old data to be reinterpreted.

use crate::cmd::ctx::ExecCtx;
use crate::cmd::error::CmdError;
use crate::cmd::registry::CommandRef;
use crate::cmd::spec::Flags;
use crate::server::Server;
use crate::store::entry::Entry;
use crate::store::SHARDS_PER_DB;
use fincache_types::CompactBytes;
use parking_lot::Mutex;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Set in the server's LRU clock (and so in `ExecCtx::lru`) while an LFU policy is selected.
pub const LFU_FLAG: u32 = 1 << 31;
/// The counter a new key starts with, so it is not evicted before it had a chance to be used.
pub const LFU_INIT_VAL: u8 = 5;
/// Candidates kept between eviction rounds (Redis's `EVPOOL_SIZE`).
pub const POOL_SIZE: usize = 16;
/// The error a refused write gets (Redis's `shared.oomerr`).
pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// Commands between two exact readings of used memory while under the limit.
const REFRESH_EVERY: u32 = 64;

// `lfu-log-factor` and `lfu-decay-time`: read by `touch` on every lookup under an LFU policy,
// where no server reference is at hand; one server per process, set by `Eviction::refresh`.
static LFU_LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
static LFU_DECAY_TIME: AtomicU32 = AtomicU32::new(1);

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    const ALL: [Policy; 8] = [
        Policy::NoEviction,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
    ];

    /// The policy a configured name means (`noeviction` for anything unknown).
    pub fn parse(name: &str) -> Policy {
        match name {
            "allkeys-lru" => Policy::AllKeysLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// Whether only keys with a TTL may be evicted.
    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn is_random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }
}

/// One eviction candidate: higher `score` is evicted first.
#[derive(Debug, Clone)]
struct Candidate {
    score: u64,
    db: usize,
    key: CompactBytes,
}

/// The eviction settings mirrored out of the config, the cached used-memory reading and the
/// eviction pool. One per server.
#[derive(Debug)]
pub struct Eviction {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    /// Last exact reading of jemalloc's `stats.allocated` plus estimates added since.
    used_estimate: AtomicU64,
    /// Commands since the last exact reading.
    since_refresh: AtomicU32,
    pool: Mutex<Vec<Candidate>>,
    /// Bytes allocated when the server was built (MEMORY STATS `startup.allocated`).
    startup_allocated: AtomicU64,
}

impl Default for Eviction {
    fn default() -> Self {
        Eviction {
            maxmemory: AtomicU64::new(0),
            policy: AtomicU8::new(0),
            samples: AtomicU32::new(5),
            tenacity: AtomicU32::new(10),
            used_estimate: AtomicU64::new(0),
            since_refresh: AtomicU32::new(0),
            pool: Mutex::new(Vec::with_capacity(POOL_SIZE)),
            startup_allocated: AtomicU64::new(0),
        }
    }
}

impl Eviction {
    /// Copies the eviction settings out of the config (called with the other config mirrors).
    pub fn refresh(&self, c: &crate::config::Config) {
        if self.maxmemory.swap(c.maxmemory, Ordering::Relaxed) != c.maxmemory {
            // A new limit: the next command takes an exact reading (and evicts if over).
            self.since_refresh.store(REFRESH_EVERY, Ordering::Relaxed);
        }
        let policy = Policy::parse(&c.maxmemory_policy);
        let idx = Policy::ALL.iter().position(|p| *p == policy).unwrap_or(0);
        self.policy.store(idx as u8, Ordering::Relaxed);
        self.samples
            .store(c.maxmemory_samples.max(1), Ordering::Relaxed);
        self.tenacity
            .store(c.maxmemory_eviction_tenacity, Ordering::Relaxed);
        LFU_LOG_FACTOR.store(c.lfu_log_factor, Ordering::Relaxed);
        LFU_DECAY_TIME.store(c.lfu_decay_time, Ordering::Relaxed);
        if self.startup_allocated.load(Ordering::Relaxed) == 0 {
            // The first call comes from `Server::new`, before any client is served.
            let at_start = crate::stats::allocator_stats().allocated;
            self.startup_allocated.store(at_start, Ordering::Relaxed);
        }
    }

    /// Bytes allocated when the server started.
    pub fn startup_allocated(&self) -> u64 {
        self.startup_allocated.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> Policy {
        Policy::ALL[usize::from(self.policy.load(Ordering::Relaxed)) % Policy::ALL.len()]
    }

    /// The flag the LRU clock carries under the current policy (0 or [`LFU_FLAG`]).
    pub fn clock_flag(&self) -> u32 {
        if self.policy().is_lfu() {
            LFU_FLAG
        } else {
            0
        }
    }

    /// `maxmemory` in bytes; 0 when there is no limit.
    #[inline]
    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    /// Takes an exact reading of used memory and caches it.
    pub fn refresh_used(&self) -> u64 {
        let used = crate::stats::allocator_stats().allocated;
        self.used_estimate.store(used, Ordering::Relaxed);
        self.since_refresh.store(0, Ordering::Relaxed);
        used
    }

    /// The cached used-memory reading (exact as of the last refresh, plus estimates).
    pub fn used_estimate(&self) -> u64 {
        self.used_estimate.load(Ordering::Relaxed)
    }
}

/// The cron's part: a fresh used-memory reading while a limit is set.
pub fn cron(server: &Server) {
    if server.evict.maxmemory() != 0 {
        server.evict.refresh_used();
    }
}

/// Redis's `processCommand` memory check: with `maxmemory` set, evicts keys until used memory
/// is under the limit; refuses `cmd` with the OOM error if it may grow memory (a `denyoom`
/// command, or any command queued inside MULTI) and memory could not be freed.
pub fn check_before_command(
    ctx: &ExecCtx<'_>,
    cmd: CommandRef,
    argv: &[&[u8]],
) -> Result<(), CmdError> {
    let server = ctx.server;
    let ev = &server.evict;
    let max = ev.maxmemory();
    if max == 0 {
        return Ok(());
    }
    // An EXEC grows memory if a queued command may (Redis: `mstate.cmd_flags & CMD_DENYOOM`).
    let grows = cmd.spec.flags.has(Flags::DENYOOM)
        || (cmd.parent.is_none()
            && cmd.spec.name == "exec"
            && ctx
                .client
                .tx
                .multi
                .as_ref()
                .is_some_and(|m| m.flags.has(Flags::DENYOOM)));
    if grows {
        let incoming: usize = argv.iter().map(|a| a.len()).sum();
        ev.used_estimate
            .fetch_add(incoming as u64 + 64, Ordering::Relaxed);
    }
    let due = ev.since_refresh.fetch_add(1, Ordering::Relaxed) >= REFRESH_EVERY;
    if !due && ev.used_estimate() <= max {
        return Ok(());
    }
    let out_of_memory = perform_evictions(server) == Outcome::Fail;
    let reject = grows || (ctx.client.tx.is_active() && !tx_control(cmd));
    if out_of_memory && reject {
        return Err(CmdError::Other(OOM_ERROR.into()));
    }
    Ok(())
}

/// The commands that steer a transaction rather than being queued in it.
fn tx_control(cmd: CommandRef) -> bool {
    cmd.parent.is_none()
        && matches!(
            cmd.spec.name,
            "exec" | "discard" | "multi" | "watch" | "unwatch" | "reset" | "quit"
        )
}

/// How an eviction run ended (Redis's `EVICT_OK`, `EVICT_RUNNING`, `EVICT_FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Used memory is at or under the limit.
    Ok,
    /// Keys were freed but the time budget ran out first.
    Running,
    /// Over the limit and nothing could be evicted.
    Fail,
}

/// Evicts keys until used memory is at or under `maxmemory` (Redis's `performEvictions`).
pub fn perform_evictions(server: &Server) -> Outcome {
    let ev = &server.evict;
    let max = ev.maxmemory();
    if max == 0 {
        return Outcome::Ok;
    }
    let mut used = ev.refresh_used();
    if used <= max {
        return Outcome::Ok;
    }
    let policy = ev.policy();
    if policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    // The keyspace gate: eviction deletes keys like any command. Skip if an exclusive command
    // or a busy script holds it; the next command tries again.
    let Some(_gate) = server.keyspace.gate.try_read_for(Duration::from_millis(5)) else {
        return Outcome::Running;
    };
    let budget = time_budget(ev.tenacity.load(Ordering::Relaxed));
    let started = Instant::now();
    let mut freed_any = false;
    let mut since_reading = 0u64;
    loop {
        let Some((db, key, size)) = evict_one(server, policy) else {
            return if freed_any {
                Outcome::Running
            } else {
                Outcome::Fail
            };
        };
        freed_any = true;
        Stats::add(&server.stats.evicted_keys, 1);
        server.keyspace.watches.touch(db, &key);
        crate::notify::key_evicted(server, db, &key);
        since_reading += size;
        if used.saturating_sub(since_reading) <= max {
            // The estimate says we are done: confirm with an exact reading.
            used = ev.refresh_used();
            since_reading = 0;
            if used <= max {
                return Outcome::Ok;
            }
        }
        if started.elapsed() > budget {
            return Outcome::Running;
        }
    }
}

use crate::stats::Stats;

/// Redis's `evictionTimeProportion`: tenacity 10 gives 500 µs, each step above it 15% more.
fn time_budget(tenacity: u32) -> Duration {
    if tenacity >= 100 {
        return Duration::from_secs(3600);
    }
    let base = 50.0 * f64::from(tenacity.min(10));
    let us = if tenacity <= 10 {
        base
    } else {
        500.0 * 1.15f64.powi(tenacity as i32 - 10)
    };
    Duration::from_micros(us.max(1.0) as u64)
}

/// Bytes one stored key costs: its map slot, the key's and the value's heap.
pub fn entry_size(key: &CompactBytes, entry: &Entry) -> u64 {
    let slot = std::mem::size_of::<CompactBytes>() + std::mem::size_of::<Entry>() + 16;
    (slot + key.heap_size() + entry.value.heap_size()) as u64
}

/// Picks and deletes one key by `policy`. Returns its database, name and estimated size.
fn evict_one(server: &Server, policy: Policy) -> Option<(usize, CompactBytes, u64)> {
    if policy.is_random() {
        return evict_random(server, policy.volatile_only());
    }
    let ks = &server.keyspace;
    let samples = server.evict.samples.load(Ordering::Relaxed) as usize;
    let clock = server.lru_clock();
    let mut pool = server.evict.pool.lock();
    for db in 0..ks.db_count() {
        populate_pool(server, db, policy, samples, clock, &mut pool);
    }
    // Best candidate is last; drop ghosts (keys deleted since they were sampled).
    while let Some(c) = pool.pop() {
        let mut shard = ks.db(c.db).lock(&c.key);
        let eligible = match shard.peek(&c.key, 0) {
            Some(e) => !policy.volatile_only() || e.has_expire,
            None => false,
        };
        if !eligible {
            continue;
        }
        if let Some((k, e, _)) = shard.remove(&c.key) {
            let size = entry_size(&k, &e);
            drop(shard);
            return Some((c.db, k, size));
        }
    }
    None
}

/// Samples `samples` keys of database `db` into the pool (Redis's `evictionPoolPopulate`).
fn populate_pool(
    server: &Server,
    db: usize,
    policy: Policy,
    samples: usize,
    clock: u32,
    pool: &mut Vec<Candidate>,
) {
    let d = server.keyspace.db(db);
    let start = random_below(SHARDS_PER_DB);
    let mut taken = 0;
    let mut empty_streak = 0;
    let mut s = start;
    while taken < samples && empty_streak < SHARDS_PER_DB {
        let shard = d.lock_shard(s);
        s = (s + 1) % SHARDS_PER_DB;
        let len = if policy.volatile_only() {
            shard.expires_len()
        } else {
            shard.len()
        };
        if len == 0 {
            empty_streak += 1;
            continue;
        }
        empty_streak = 0;
        // A few keys from each shard in turn, so the sample spans the database.
        let here = samples.saturating_sub(taken).min(len).min(2);
        for _ in 0..here {
            let i = random_below(len);
            let picked = if policy.volatile_only() {
                shard.volatile_at(i).and_then(|(k, at)| {
                    let e = shard.peek(k.as_slice(), 0)?;
                    Some((k.clone(), e.lru, Some(at)))
                })
            } else {
                shard.key_at(i).map(|(k, e)| (k.clone(), e.lru, None))
            };
            taken += 1;
            let Some((key, lru, at)) = picked else {
                continue;
            };
            let score = match policy {
                Policy::VolatileTtl => u64::MAX - at.unwrap_or(u64::MAX),
                p if p.is_lfu() => 255 - u64::from(lfu_decayed(lru, minutes(clock))),
                _ => u64::from(lru_idle(clock, lru)),
            };
            pool_insert(pool, Candidate { score, db, key });
        }
    }
}

/// Inserts into the pool kept sorted by ascending score, capped at [`POOL_SIZE`].
fn pool_insert(pool: &mut Vec<Candidate>, c: Candidate) {
    if pool.iter().any(|p| p.db == c.db && p.key == c.key) {
        return;
    }
    let at = pool.partition_point(|p| p.score <= c.score);
    if pool.len() >= POOL_SIZE {
        if at == 0 {
            return;
        }
        pool.remove(0);
        pool.insert(at - 1, c);
    } else {
        pool.insert(at, c);
    }
}

/// Evicts a random key (of a random non-empty database and shard).
fn evict_random(server: &Server, volatile: bool) -> Option<(usize, CompactBytes, u64)> {
    let ks = &server.keyspace;
    let dbs = ks.db_count();
    let first_db = random_below(dbs);
    for d in 0..dbs {
        let db = (first_db + d) % dbs;
        let first = random_below(SHARDS_PER_DB);
        for s in 0..SHARDS_PER_DB {
            let mut shard = ks.db(db).lock_shard((first + s) % SHARDS_PER_DB);
            let len = if volatile {
                shard.expires_len()
            } else {
                shard.len()
            };
            if len == 0 {
                continue;
            }
            let i = random_below(len);
            let key = if volatile {
                shard.volatile_at(i).map(|(k, _)| k.clone())
            } else {
                shard.key_at(i).map(|(k, _)| k.clone())
            };
            if let Some((k, e, _)) = key.and_then(|k| shard.remove(&k)) {
                return Some((db, k.clone(), entry_size(&k, &e)));
            }
        }
    }
    None
}

/// Seconds a key has been idle by the LRU clock (both values without [`LFU_FLAG`]).
pub fn lru_idle(clock: u32, lru: u32) -> u32 {
    (clock & !LFU_FLAG).wrapping_sub(lru & !LFU_FLAG) & !LFU_FLAG
}

/// The LFU minutes clock (16 bits) of a server clock.
#[inline]
fn minutes(clock: u32) -> u32 {
    ((clock & !LFU_FLAG) / 60) & 0xFFFF
}

/// The value a new entry's `lru` field starts with under `clock`.
#[inline]
pub fn initial(clock: u32) -> u32 {
    if clock & LFU_FLAG == 0 {
        clock
    } else {
        (minutes(clock) << 8) | u32::from(LFU_INIT_VAL)
    }
}

/// The new `lru` field of an entry accessed under `clock`: the clock itself under an LRU
/// policy, the decayed and incremented LFU counter under an LFU one (Redis's `updateLFU`).
#[inline]
pub fn touch(old: u32, clock: u32) -> u32 {
    if clock & LFU_FLAG == 0 {
        return clock;
    }
    touch_lfu(old, clock)
}

#[cold]
fn touch_lfu(old: u32, clock: u32) -> u32 {
    let now = minutes(clock);
    let counter = lfu_log_incr(lfu_decayed(old, now));
    (now << 8) | u32::from(counter)
}

/// The LFU counter of an `lru` field after decay (Redis's `LFUDecrAndReturn`): one less per
/// `lfu-decay-time` minutes elapsed since the field's minutes clock.
pub fn lfu_decayed(lru: u32, now_minutes: u32) -> u8 {
    let last = (lru >> 8) & 0xFFFF;
    let counter = (lru & 0xFF) as u8;
    let elapsed = if now_minutes >= last {
        now_minutes - last
    } else {
        65535 - last + now_minutes
    };
    let decay = LFU_DECAY_TIME.load(Ordering::Relaxed);
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    if periods > u32::from(counter) {
        0
    } else {
        counter - periods as u8
    }
}

/// The LFU counter of an entry as OBJECT FREQ reports it (decayed to `clock`).
pub fn lfu_frequency(lru: u32, clock: u32) -> u8 {
    lfu_decayed(lru, minutes(clock))
}

/// The `lru` field a restored key gets (Redis's `objectSetLRUOrLFU`, for RESTORE and loading
/// IDLETIME / FREQ): under an LFU clock the given frequency, under an LRU clock the clock less
/// the given idle seconds. `None` when the value given does not apply to the current policy.
pub fn lru_for_restore(clock: u32, freq: Option<u8>, idle_secs: Option<u64>) -> Option<u32> {
    if clock & LFU_FLAG != 0 {
        freq.map(|f| (minutes(clock) << 8) | u32::from(f))
    } else {
        let idle = u32::try_from(idle_secs?).unwrap_or(u32::MAX);
        // An idle time past the clock's start saturates at the oldest representable access.
        Some(clock.saturating_sub(idle))
    }
}

/// Redis's `LFULogIncr`: +1 with probability `1 / ((counter - LFU_INIT_VAL) * factor + 1)`.
fn lfu_log_incr(counter: u8) -> u8 {
    if counter == 255 {
        return 255;
    }
    let factor = f64::from(LFU_LOG_FACTOR.load(Ordering::Relaxed));
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * factor + 1.0);
    if random_unit() < p {
        counter + 1
    } else {
        counter
    }
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let local = 0u8;
    (t ^ (&local as *const u8 as u64)) | 1
}

/// xorshift64*: cheap randomness for sampling and the LFU coin (not for anything secret).
fn next_random() -> u64 {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

fn random_below(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (next_random() % n as u64) as usize
    }
}

fn random_unit() -> f64 {
    (next_random() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counter_starts_at_init_and_grows_logarithmically() {
        let clock = LFU_FLAG | 120;
        let mut lru = initial(clock);
        assert_eq!(lfu_frequency(lru, clock), LFU_INIT_VAL);
        for _ in 0..1000 {
            lru = touch(lru, clock);
        }
        let f = lfu_frequency(lru, clock);
        assert!(f > LFU_INIT_VAL && f < 40, "{f}");
    }

    #[test]
    fn lfu_decays_by_minutes() {
        let lru = (2u32 << 8) | 10;
        assert_eq!(lfu_decayed(lru, 2), 10);
        assert_eq!(lfu_decayed(lru, 5), 7);
        assert_eq!(lfu_decayed(lru, 100), 0);
    }

    #[test]
    fn restore_sets_frequency_or_idle_time() {
        let lfu = LFU_FLAG | 600;
        let f = lru_for_restore(lfu, Some(42), Some(3)).unwrap();
        assert_eq!(lfu_frequency(f, lfu), 42);
        assert_eq!(lru_for_restore(lfu, None, Some(3)), None);
        assert_eq!(lru_for_restore(600, Some(42), Some(100)), Some(500));
        assert_eq!(lru_for_restore(600, None, Some(10_000)), Some(0));
        assert_eq!(lru_for_restore(600, Some(1), None), None);
    }

    #[test]
    fn lru_mode_stores_the_clock() {
        assert_eq!(touch(77, 1234), 1234);
        assert_eq!(initial(1234), 1234);
        assert_eq!(lru_idle(1234, 1200), 34);
    }

    #[test]
    fn pool_keeps_best_sorted_and_capped() {
        let mut pool = Vec::new();
        for s in 0..40u64 {
            let key = CompactBytes::new(format!("k{s}").as_bytes());
            pool_insert(
                &mut pool,
                Candidate {
                    score: (s * 7) % 40,
                    db: 0,
                    key,
                },
            );
        }
        assert_eq!(pool.len(), POOL_SIZE);
        assert!(pool.windows(2).all(|w| w[0].score <= w[1].score));
        assert_eq!(pool.last().map(|c| c.score), Some(39));
    }

    #[test]
    fn policies_parse() {
        assert_eq!(Policy::parse("volatile-ttl"), Policy::VolatileTtl);
        assert!(Policy::parse("allkeys-lfu").is_lfu());
        assert!(Policy::parse("volatile-lru").volatile_only());
        assert_eq!(Policy::parse("noeviction"), Policy::NoEviction);
    }
}
