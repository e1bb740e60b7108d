//! Snapshots and value serialisation: SAVE, BGSAVE, LASTSAVE, DUMP, RESTORE.
//!
//! The encoding and the file handling live in [`crate::persist`]; this file parses arguments
//! and builds replies. SAVE is `EXCLUSIVE`: it runs with the keyspace gate held for writing,
//! so the snapshot is one instant of every database (as Redis's blocking SAVE).

use crate::cmd::args;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::Entry;
use fincache_types::CompactBytes;
use std::sync::atomic::Ordering;

/// `SAVE` — writes a snapshot of every database to `dir/dbfilename` and replies `+OK`;
/// `-ERR` when the write fails (the previous snapshot stays intact).
fn save(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    if ctx.server.persist.bg.in_progress() {
        return Err(CmdError::err("Background save already in progress"));
    }
    match crate::persist::save_locked(ctx.server) {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        // As Redis, which replies the bare `shared.err`.
        Err(_) => Err(CmdError::Other("ERR".into())),
    }
}

/// `BGSAVE [SCHEDULE]` — starts a background save: `+Background saving started`. While one
/// runs: `ERR Background save already in progress`, or with SCHEDULE
/// `+Background saving scheduled` (the cron starts it once the running one ends).
///
/// The save is point-in-time without fork ([`crate::persist::bgsave`]); the command is
/// `EXCLUSIVE`, so the start instant is one across every shard.
fn bgsave(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let schedule = match argv.get(1) {
        None => false,
        Some(a) if args::is(a, "SCHEDULE") && argv.len() == 2 => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    let bg = &ctx.server.persist.bg;
    if bg.in_progress() {
        if schedule {
            bg.scheduled.store(true, Ordering::Release);
            ctx.out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::err("Background save already in progress"));
    }
    if !crate::persist::bgsave::start(ctx.server) {
        return Err(CmdError::err("Background save already in progress"));
    }
    ctx.out.simple("Background saving started");
    Ok(())
}

/// `LASTSAVE` — the Unix time (seconds) of the last successful save; the start time if the
/// server never saved, as Redis.
fn lastsave(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let t = ctx.server.persist.lastsave.load(Ordering::Relaxed);
    ctx.out.int(i64::try_from(t).unwrap_or(i64::MAX));
    Ok(())
}

/// `DUMP key` — the value serialised as Redis does (type byte, RDB encoding, RDB version,
/// CRC64), or a null bulk when the key does not exist.
fn dump(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let payload = {
        let mut shard = ctx.db().lock(key);
        shard
            .get(key, ctx.now_ms, ctx.lru)
            .map(|e| crate::persist::dump_payload(&e.value))
    };
    match payload {
        None => {
            ctx.key_miss(key);
            ctx.out.null();
        }
        Some(p) => {
            ctx.server.keyspace.hit();
            ctx.out.bulk(&p);
        }
    }
    Ok(())
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`
/// — creates `key` from a DUMP payload; `ttl` is milliseconds (0 = none; a Unix time in
/// milliseconds with ABSTTL). `+OK`; `BUSYKEY` if the key exists without REPLACE.
///
/// COMPAT: FREQ is validated and accepted but FinCache keeps no LFU counter to set.
fn restore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut i = 4;
    while i < argv.len() {
        let more = i + 1 < argv.len();
        if args::is(argv[i], "REPLACE") {
            replace = true;
        } else if args::is(argv[i], "ABSTTL") {
            absttl = true;
        } else if args::is(argv[i], "IDLETIME") && more && freq.is_none() {
            let v = fincache_types::num::parse_i64(argv[i + 1]).ok_or(CmdError::NotInteger)?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            i += 1;
        } else if args::is(argv[i], "FREQ") && more && idle.is_none() {
            let v = fincache_types::num::parse_i64(argv[i + 1]).ok_or(CmdError::NotInteger)?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let _ = freq;
    let db = ctx.db();
    if !replace && db.lock(key).contains(key, ctx.now_ms) {
        return Err(CmdError::Other(
            "BUSYKEY Target key name already exists.".into(),
        ));
    }
    let ttl = fincache_types::num::parse_i64(argv[2]).ok_or(CmdError::NotInteger)?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let payload = argv[3];
    if !crate::persist::verify_payload(payload) {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    }
    let value = crate::persist::restore_payload(ctx.server, payload)
        .ok_or_else(|| CmdError::err("Bad data format"))?;
    let expire_at = if ttl == 0 {
        None
    } else if absttl {
        Some(ttl as u64)
    } else {
        Some((ttl as u64).saturating_add(ctx.now_ms))
    };
    // COMPAT: the LRU clock counts seconds since start, so an idle time longer than the
    // uptime is recorded as the uptime.
    let lru = match idle {
        Some(s) => {
            let flag = ctx.lru & crate::store::evict::LFU_FLAG;
            let clock = ctx.lru & !crate::store::evict::LFU_FLAG;
            clock.saturating_sub(u32::try_from(s).unwrap_or(u32::MAX)) | flag
        }
        None => ctx.lru,
    };
    let mut shard = db.lock(key);
    let deleted = replace && shard.remove(key).is_some();
    if expire_at.is_some_and(|at| at <= ctx.now_ms) {
        drop(shard);
        if deleted {
            ctx.notify(NotifyClass::Generic, "del", key);
        }
        ctx.out.ok();
        return Ok(());
    }
    shard.insert_entry(CompactBytes::new(key), Entry::new(value, lru), expire_at);
    drop(shard);
    // Clients blocked on the key (BLPOP on a restored list …) may now be served.
    ctx.signal_ready(key);
    ctx.notify(NotifyClass::New, "new", key);
    ctx.notify(NotifyClass::Generic, "restore", key);
    ctx.out.ok();
    Ok(())
}

const ADMIN_SAVE: Flags = Flags(
    Flags::ADMIN.0
        | Flags::NOSCRIPT.0
        | Flags::NO_ASYNC_LOADING.0
        | Flags::NO_MULTI.0
        | Flags::EXCLUSIVE.0,
);
const ADMIN_SAVE_BG: Flags =
    Flags(Flags::ADMIN.0 | Flags::NOSCRIPT.0 | Flags::NO_ASYNC_LOADING.0 | Flags::EXCLUSIVE.0);
const ADMIN_DANGEROUS: AclCats = AclCats(AclCats::ADMIN.0 | AclCats::DANGEROUS.0);

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("save", 1, ADMIN_SAVE, ADMIN_DANGEROUS, save)
        .doc("server", "1.0.0", "Synchronously saves the database(s) to disk.", "O(N) where N is the total number of keys in all databases"),
    CommandSpec::new("bgsave", -1, ADMIN_SAVE_BG, ADMIN_DANGEROUS, bgsave)
        .doc("server", "1.0.0", "Asynchronously saves the database(s) to disk.", "O(1)"),
    CommandSpec::new(
        "lastsave",
        1,
        Flags(Flags::LOADING.0 | Flags::STALE.0 | Flags::FAST.0),
        ADMIN_DANGEROUS,
        lastsave,
    )
    .tips(&["nondeterministic_output"])
    .doc("server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk.", "O(1)"),
    CommandSpec::new("dump", 2, Flags::READONLY, AclCats::KEYSPACE, dump)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO.or(KeyFlags::ACCESS))
        .tips(&["nondeterministic_output"])
        .doc("generic", "2.6.0", "Returns a serialized representation of the value stored at a key.", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."),
    CommandSpec::new(
        "restore",
        -4,
        Flags(Flags::WRITE.0 | Flags::DENYOOM.0),
        AclCats(AclCats::KEYSPACE.0 | AclCats::DANGEROUS.0),
        restore,
    )
    .keys(1, 1, 1)
    .key_flags(KeyFlags::OW.or(KeyFlags::UPDATE))
    .doc("generic", "2.6.0", "Creates a key from the serialized representation of a value.", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."),
];
