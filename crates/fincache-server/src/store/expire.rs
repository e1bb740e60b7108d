//! Active expiry: the cron samples keys with a TTL and deletes the expired ones, so keys that
//! are never read again still go away (Redis's `activeExpireCycle`, slow cycle).
//!
//! Each tick walks the (database, shard) pairs round-robin, starting where the previous tick
//! stopped ([`Keyspace::expire_cursor`]). On each shard it checks up to
//! [`KEYS_PER_ROUND`] volatile keys (from the shard's own cursor, so a whole pass checks every
//! volatile key once) and repeats while more than [`ACCEPTABLE_STALE_PERCENT`] of the sample had
//! expired. The tick stops when it has used [`CYCLE_TIME_PERCENT`] of its period.
//!
//! Locking (ORDER: gate, then one shard): every round takes the keyspace gate for reading and
//! one shard lock for at most [`KEYS_PER_ROUND`] keys, so a command never waits long behind
//! expiry and EXCLUSIVE commands (FLUSHALL, SWAPDB …) never see it mid-way.
//!
//! The cycle is skipped while DEBUG SET-ACTIVE-EXPIRE 0 is in effect and while CLIENT PAUSE
//! holds writes back (Redis pauses expiry then too).

use super::{Keyspace, SHARDS_PER_DB};
use crate::server::{now_ms, Server};
use crate::stats::Stats;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Volatile keys checked per round (Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`).
pub const KEYS_PER_ROUND: usize = 20;
/// A shard is sampled again while more than this share of its sample had expired
/// (`ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE`).
pub const ACCEPTABLE_STALE_PERCENT: usize = 10;
/// Share of each cron period the cycle may use (`ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC`).
pub const CYCLE_TIME_PERCENT: u64 = 25;

/// Runs one active expiry cycle for the cron (which calls it `hz` times per second), and counts
/// the expired keys in `expired_keys_active`. Returns how many keys it deleted.
pub fn active_expire_cycle(server: &Server, hz: u32) -> usize {
    if !server.active_expire_enabled.load(Ordering::Relaxed)
        || server.client_pause.writes_paused(now_ms())
    {
        return 0;
    }
    let hz = u64::from(hz.max(1));
    let budget = Duration::from_micros(1_000_000 * CYCLE_TIME_PERCENT / 100 / hz);
    let expired = expire_cycle(&server.keyspace, budget, now_ms);
    Stats::add(&server.stats.expired_keys_active, expired as u64);
    expired
}

/// One cycle over the keyspace within `budget`, reading the time from `clock` (Unix ms).
/// Returns how many keys it deleted.
pub fn expire_cycle(keyspace: &Keyspace, budget: Duration, clock: fn() -> u64) -> usize {
    let started = Instant::now();
    let slots = keyspace.db_count() * SHARDS_PER_DB;
    let first = keyspace.expire_cursor.load(Ordering::Relaxed) % slots;
    let mut expired_total = 0;
    for step in 0..slots {
        let slot = (first + step) % slots;
        let db = keyspace.db(slot / SHARDS_PER_DB);
        let shard_index = slot % SHARDS_PER_DB;
        loop {
            let (sampled, expired) = {
                // A script or EXEC holds the gate for writing: skip this tick rather than block
                // a runtime worker behind it (Redis expires nothing while a script runs).
                let Some(_gate) = keyspace.gate.try_read() else {
                    return expired_total;
                };
                let mut shard = db.lock_shard(shard_index);
                if shard.expires_len() == 0 {
                    (0, 0)
                } else {
                    shard.active_expire_round(KEYS_PER_ROUND, clock())
                }
            };
            expired_total += expired;
            if started.elapsed() > budget {
                // Resume after this shard next time, so one shard with a large backlog cannot
                // keep the others from ever being visited.
                keyspace
                    .expire_cursor
                    .store((slot + 1) % slots, Ordering::Relaxed);
                return expired_total;
            }
            if sampled == 0 || expired * 100 / sampled <= ACCEPTABLE_STALE_PERCENT {
                break;
            }
        }
    }
    expired_total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    fn fixed_clock() -> u64 {
        10_000
    }

    #[test]
    fn deletes_expired_keys_and_keeps_live_ones() {
        let ks = Keyspace::new(2);
        for db in 0..2 {
            for i in 0..500 {
                let key = format!("k{i}");
                let mut shard = ks.db(db).lock(key.as_bytes());
                shard.set(key.as_bytes(), Value::Int(i), 0);
                // Half expired at the fixed clock, half far in the future.
                let at = if i % 2 == 0 { 5_000 } else { 50_000 };
                shard.set_expire(key.as_bytes(), at);
            }
        }
        let mut total = 0;
        for _ in 0..100 {
            total += expire_cycle(&ks, Duration::from_secs(1), fixed_clock);
        }
        assert_eq!(total, 500);
        for db in 0..2 {
            assert_eq!(ks.db(db).len(), 250);
            assert_eq!(ks.db(db).expired_keys(), 250);
        }
    }

    #[test]
    fn a_tiny_budget_still_moves_on() {
        let ks = Keyspace::new(1);
        for i in 0..2000 {
            let key = format!("k{i}");
            let mut shard = ks.db(0).lock(key.as_bytes());
            shard.set(key.as_bytes(), Value::Int(i), 0);
            shard.set_expire(key.as_bytes(), 1);
        }
        let mut rounds = 0;
        while !ks.db(0).is_empty() && rounds < 10_000 {
            expire_cycle(&ks, Duration::ZERO, fixed_clock);
            rounds += 1;
        }
        assert_eq!(ks.db(0).len(), 0);
    }
}
