//! Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, RENAME, RENAMENX, COPY, MOVE,
//! RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SELECT, SWAPDB and OBJECT. Expiry commands live in
//! [`super::keys_expire`], KEYS and SCAN in [`super::keys_scan`].
//!
//! Mirrors Redis's `db.c` and `object.c`. Lookups follow Redis's flavours: a *read* lookup
//! (EXISTS, TYPE, TOUCH, COPY's source, OBJECT) counts keyspace hits and misses, a *write*
//! lookup (DEL, RENAME, MOVE) does not; both delete a key whose TTL has passed. Only TOUCH,
//! COPY and the write lookups refresh a key's LRU clock.
//!
//! Locking: multi-key commands lock their shards with [`Db::lock_many`]; commands that span
//! databases or every shard (COPY, MOVE, FLUSHDB, FLUSHALL, SWAPDB) are `EXCLUSIVE`, so they run
//! with the keyspace gate held for writing and may lock shards in any order.
//!
//! [`Db::lock_many`]: crate::store::Db::lock_many

use crate::cmd::args;
use crate::cmd::spec::{
    AclCats, BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec,
};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::{Entry, SHARDS_PER_DB};
use fincache_types::CompactBytes;
use rand::Rng;

/// Values Redis keeps as shared integer objects (`OBJ_SHARED_INTEGERS`): their OBJECT REFCOUNT
/// is `OBJ_SHARED_REFCOUNT`.
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Parses a database index the way Redis's `getIntFromObjectOrReply` does: any 32-bit integer
/// (range checks against the databases come after, with their own error). `msg` replaces both
/// of Redis's parse errors when given (SWAPDB's "invalid first DB index").
pub(super) fn parse_db_index(arg: &[u8], msg: Option<&str>) -> Result<i64, CmdError> {
    let custom = |default: CmdError| msg.map_or(default, CmdError::err);
    let n = fincache_types::num::parse_i64(arg).ok_or_else(|| custom(CmdError::NotInteger))?;
    if i32::try_from(n).is_err() {
        return Err(custom(CmdError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        )));
    }
    Ok(n)
}

/// Checks a parsed database index against the configured number of databases.
pub(super) fn db_in_range(ctx: &ExecCtx<'_>, id: i64) -> Result<usize, CmdError> {
    match usize::try_from(id) {
        Ok(i) if i < ctx.server.keyspace.db_count() => Ok(i),
        _ => Err(CmdError::DbIndexOutOfRange),
    }
}

fn same_object() -> CmdError {
    CmdError::err("source and destination objects are the same")
}

/// Deletes the named keys that exist; returns how many, and the removed entries so the caller
/// can free them after the shard locks are released.
fn delete_keys(ctx: &ExecCtx<'_>, keys: &[&[u8]]) -> (i64, Vec<Entry>) {
    let db = ctx.db();
    let mut shards = db.lock_many(keys.iter().copied());
    let mut removed = Vec::new();
    for key in keys {
        let shard = shards.shard(key);
        if shard.contains(key, ctx.now_ms) {
            if let Some((_, entry, _)) = shard.remove(key) {
                removed.push(entry);
                ctx.notify(NotifyClass::Generic, "del", key);
            }
        }
    }
    drop(shards);
    (removed.len() as i64, removed)
}

/// `DEL key [key ...]` — the number of keys that existed and were removed.
fn del(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (n, removed) = delete_keys(ctx, &argv[1..]);
    drop(removed);
    ctx.out.int(n);
    Ok(())
}

/// `UNLINK key [key ...]` — as DEL. Redis frees large values on a background thread; FinCache
/// frees them after the shard locks are released, so other clients never wait for it.
fn unlink(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (n, removed) = delete_keys(ctx, &argv[1..]);
    drop(removed);
    ctx.out.int(n);
    Ok(())
}

/// `EXISTS key [key ...]` — how many of the named keys exist; a key named twice counts twice.
fn exists(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let keys = &argv[1..];
    let db = ctx.db();
    let keyspace = &ctx.server.keyspace;
    let mut shards = db.lock_many(keys.iter().copied());
    let mut found = 0;
    for key in keys {
        if shards.shard(key).get_notouch(key, ctx.now_ms).is_some() {
            keyspace.hit();
            found += 1;
        } else {
            ctx.key_miss(key);
        }
    }
    drop(shards);
    ctx.out.int(found);
    Ok(())
}

/// `TOUCH key [key ...]` — refreshes the keys' last access time; replies how many exist.
fn touch(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let keys = &argv[1..];
    let db = ctx.db();
    let keyspace = &ctx.server.keyspace;
    let mut shards = db.lock_many(keys.iter().copied());
    let mut found = 0;
    for key in keys {
        if shards.shard(key).get(key, ctx.now_ms, ctx.lru).is_some() {
            keyspace.hit();
            found += 1;
        } else {
            ctx.key_miss(key);
        }
    }
    drop(shards);
    ctx.out.int(found);
    Ok(())
}

/// `TYPE key` — `+string`, `+list` … or `+none` for a missing key.
fn type_cmd(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let name = match shard.get_notouch(argv[1], ctx.now_ms) {
        Some(e) => {
            ctx.server.keyspace.hit();
            e.value.type_name()
        }
        None => {
            ctx.key_miss(argv[1]);
            "none"
        }
    };
    drop(shard);
    ctx.out.simple(name);
    Ok(())
}

/// `RENAME key newkey` — `+OK`; `ERR no such key` when `key` does not exist. An existing
/// `newkey` is overwritten; the TTL travels with the value.
fn rename(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

/// `RENAMENX key newkey` — 1 if renamed, 0 if `newkey` exists; `ERR no such key` when `key`
/// does not exist.
fn renamenx(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

fn rename_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], nx: bool) -> CmdResult {
    let (src, dst) = (argv[1], argv[2]);
    let db = ctx.db();
    let mut shards = db.lock_many([src, dst]);
    if shards
        .shard(src)
        .get_mut(src, ctx.now_ms, ctx.lru)
        .is_none()
    {
        return Err(CmdError::NoSuchKey);
    }
    // Renaming a key onto itself changes nothing; RENAMENX never replaces an existing key.
    // (The lookup of `newkey` also collects it if its TTL has passed, as Redis's does.)
    let dst_exists = src != dst && shards.shard(dst).contains(dst, ctx.now_ms);
    let blocked = src == dst || (nx && dst_exists);
    let renamed = if blocked {
        false
    } else {
        shards.shard(dst).remove(dst);
        let Some((_, entry, expire_at)) = shards.shard(src).remove(src) else {
            return Err(CmdError::NoSuchKey);
        };
        shards
            .shard(dst)
            .insert_entry(CompactBytes::new(dst), entry, expire_at);
        ctx.notify(NotifyClass::New, "new", dst);
        ctx.notify(NotifyClass::Generic, "rename_from", src);
        ctx.notify(NotifyClass::Generic, "rename_to", dst);
        true
    };
    drop(shards);
    if nx {
        ctx.out.int(i64::from(renamed));
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// `COPY source destination [DB destination-db] [REPLACE]` — 1 if copied, 0 if the source is
/// missing or the destination exists (without REPLACE). The copy keeps the source's TTL.
fn copy(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (src, dst) = (argv[1], argv[2]);
    let mut replace = false;
    let mut dst_db = ctx.client.db;
    let mut i = 3;
    while i < argv.len() {
        if args::is(argv[i], "REPLACE") {
            replace = true;
        } else if args::is(argv[i], "DB") && i + 1 < argv.len() {
            let id = parse_db_index(argv[i + 1], None)?;
            dst_db = db_in_range(ctx, id)?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if dst_db == ctx.client.db && src == dst {
        return Err(same_object());
    }
    // EXCLUSIVE: the gate is held for writing, so nothing changes between the two locks.
    let keyspace = &ctx.server.keyspace;
    let copied = {
        let mut shard = ctx.db().lock(src);
        match shard.get(src, ctx.now_ms, ctx.lru) {
            None => {
                ctx.key_miss(src);
                None
            }
            Some(e) => {
                keyspace.hit();
                let value = e.value.clone();
                Some((value, shard.expire_at(src)))
            }
        }
    };
    let Some((value, expire_at)) = copied else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut shard = keyspace.db(dst_db).lock(dst);
    let done = if shard.contains(dst, ctx.now_ms) && !replace {
        false
    } else {
        shard.remove(dst);
        shard.insert_entry(
            CompactBytes::new(dst),
            Entry::new(value, ctx.lru),
            expire_at,
        );
        ctx.notify_in(dst_db, NotifyClass::New, "new", dst);
        ctx.notify_in(dst_db, NotifyClass::Generic, "copy_to", dst);
        true
    };
    drop(shard);
    ctx.out.int(i64::from(done));
    Ok(())
}

/// `MOVE key db` — 1 if the key moved to database `db`, 0 if it is missing here or exists there.
fn move_cmd(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let id = parse_db_index(argv[2], None)?;
    let dst_db = db_in_range(ctx, id)?;
    if dst_db == ctx.client.db {
        return Err(same_object());
    }
    // EXCLUSIVE: the gate is held for writing, so the two databases can be locked in turn.
    let keyspace = &ctx.server.keyspace;
    let mut src = keyspace.db(ctx.client.db).lock(key);
    if src.get_mut(key, ctx.now_ms, ctx.lru).is_none() {
        drop(src);
        ctx.out.int(0);
        return Ok(());
    }
    let mut dst = keyspace.db(dst_db).lock(key);
    let moved = if dst.contains(key, ctx.now_ms) {
        false
    } else if let Some((k, entry, expire_at)) = src.remove(key) {
        dst.insert_entry(k, entry, expire_at);
        ctx.notify_in(dst_db, NotifyClass::New, "new", key);
        ctx.notify(NotifyClass::Generic, "move_from", key);
        ctx.notify_in(dst_db, NotifyClass::Generic, "move_to", key);
        true
    } else {
        false
    };
    drop(dst);
    drop(src);
    ctx.out.int(i64::from(moved));
    Ok(())
}

/// `RANDOMKEY` — a random key of the selected database, or null when it is empty. Expired keys
/// met on the way are deleted, as Redis does.
fn randomkey(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shards = db.lock_all();
    let mut rng = rand::thread_rng();
    loop {
        let total: usize = shards.iter().map(|s| s.len()).sum();
        if total == 0 {
            drop(shards);
            ctx.out.null();
            return Ok(());
        }
        let mut pick = rng.gen_range(0..total);
        for i in 0..SHARDS_PER_DB {
            let Some(shard) = shards.shard_at(i) else {
                continue;
            };
            if pick >= shard.len() {
                pick -= shard.len();
                continue;
            }
            // Each round either replies or deletes one expired key, so the loop ends.
            if shard.expire_index_if_due(pick, ctx.now_ms) {
                break;
            }
            match shard.key_at(pick) {
                Some((key, _)) => ctx.out.bulk(key),
                None => ctx.out.null(),
            }
            return Ok(());
        }
    }
}

/// `DBSIZE` — the number of keys in the selected database (keys whose TTL passed but that
/// were not collected yet included, as in Redis).
fn dbsize(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(())
}

/// Parses FLUSHDB/FLUSHALL's `[ASYNC | SYNC]`: true for ASYNC. Without an option the flush is
/// synchronous (Redis's default `lazyfree-lazy-user-flush no`).
fn flush_mode(argv: &[&[u8]]) -> Result<bool, CmdError> {
    match argv {
        [_] => Ok(false),
        [_, mode] if args::is(mode, "SYNC") => Ok(false),
        [_, mode] if args::is(mode, "ASYNC") => Ok(true),
        _ => Err(CmdError::Syntax),
    }
}

/// `FLUSHDB [ASYNC | SYNC]` — `+OK` after removing every key of the selected database.
fn flushdb(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(argv)?;
    ctx.server.keyspace.flush_db(ctx.client.db, lazy);
    // Client-side caches are told everything is invalid (tracking is not per database).
    crate::tracking::invalidate_all(ctx.server);
    ctx.out.ok();
    Ok(())
}

/// `FLUSHALL [ASYNC | SYNC]` — `+OK` after removing every key of every database.
fn flushall(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(argv)?;
    ctx.server.keyspace.flush_all(lazy);
    crate::tracking::invalidate_all(ctx.server);
    ctx.out.ok();
    Ok(())
}

/// `SELECT index` — `+OK`; the connection's later commands use database `index`.
fn select(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let id = parse_db_index(argv[1], None)?;
    let db = db_in_range(ctx, id)?;
    ctx.client.db = db;
    ctx.out.ok();
    Ok(())
}

/// `SWAPDB index1 index2` — `+OK` after swapping the contents of two databases; clients stay
/// connected to the same numbers and see the other contents at once.
fn swapdb(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let a = parse_db_index(argv[1], Some("invalid first DB index"))?;
    let b = parse_db_index(argv[2], Some("invalid second DB index"))?;
    let (a, b) = (db_in_range(ctx, a)?, db_in_range(ctx, b)?);
    ctx.server.keyspace.swap_dbs(a, b);
    ctx.out.ok();
    Ok(())
}

/// Whether the configured maxmemory policy is an LFU one (OBJECT FREQ / IDLETIME).
fn lfu_policy(ctx: &ExecCtx<'_>) -> bool {
    ctx.server.config.read().maxmemory_policy.ends_with("-lfu")
}

/// Looks up OBJECT's key without touching it; None (and a null reply) when missing.
fn object_entry<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut crate::store::Shard,
    key: &[u8],
) -> Option<&'s Entry> {
    let e = shard.get_notouch(key, ctx.now_ms);
    if e.is_some() {
        ctx.server.keyspace.hit();
    } else {
        ctx.server.keyspace.miss();
    }
    e
}

/// `OBJECT ENCODING key` — the value's internal representation (`int`, `embstr`, `raw` …),
/// or null.
fn object_encoding(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[2]);
    match object_entry(ctx, &mut shard, argv[2]) {
        Some(e) => ctx.out.bulk(e.value.encoding_name().as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `OBJECT REFCOUNT key` — 2147483647 for the small integers Redis shares, 1 otherwise; null
/// for a missing key.
fn object_refcount(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    // Redis stops sharing integers when maxmemory is set with an LRU or LFU policy, because
    // shared objects cannot carry a per-key access clock.
    let shared_ok = {
        let config = ctx.server.config.read();
        let policy = config.maxmemory_policy.as_str();
        config.maxmemory == 0 || !(policy.ends_with("-lru") || policy.ends_with("-lfu"))
    };
    let db = ctx.db();
    let mut shard = db.lock(argv[2]);
    let refcount = object_entry(ctx, &mut shard, argv[2]).map(|e| match e.value {
        crate::store::Value::Int(n) if shared_ok && (0..SHARED_INTEGERS).contains(&n) => {
            SHARED_REFCOUNT
        }
        _ => 1,
    });
    drop(shard);
    match refcount {
        Some(n) => ctx.out.int(n),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `OBJECT IDLETIME key` — seconds since the key was last read or written; null when missing;
/// an error under an LFU maxmemory policy (idle time is not tracked then).
fn object_idletime(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let lfu = lfu_policy(ctx);
    let db = ctx.db();
    let mut shard = db.lock(argv[2]);
    let lru = object_entry(ctx, &mut shard, argv[2]).map(|e| e.lru);
    drop(shard);
    let Some(lru) = lru else {
        ctx.out.null();
        return Ok(());
    };
    if lfu {
        return Err(CmdError::err(
            "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    let idle = ctx.server.lru_clock().saturating_sub(lru);
    ctx.out.int(i64::from(idle));
    Ok(())
}

/// `OBJECT FREQ key` — the key's logarithmic access counter under an LFU maxmemory policy;
/// null when missing; an error under any other policy.
fn object_freq(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let lfu = lfu_policy(ctx);
    let db = ctx.db();
    let mut shard = db.lock(argv[2]);
    let lru = object_entry(ctx, &mut shard, argv[2]).map(|e| e.lru);
    drop(shard);
    let Some(lru) = lru else {
        ctx.out.null();
        return Ok(());
    };
    if !lfu {
        return Err(CmdError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    ctx.out.int(i64::from(crate::store::evict::lfu_frequency(
        lru,
        ctx.server.lru_clock(),
    )));
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// `OBJECT HELP` — the subcommands, one status line each.
fn object_help(ctx: &mut ExecCtx<'_>, _argv: &[&[u8]]) -> CmdResult {
    ctx.out.array_len(OBJECT_HELP.len());
    for line in OBJECT_HELP {
        ctx.out.simple(line);
    }
    Ok(())
}

const KS: AclCats = AclCats::KEYSPACE;
const KS_DANGEROUS: AclCats = AclCats(AclCats::KEYSPACE.0 | AclCats::DANGEROUS.0);
const RO_FAST: Flags = Flags::READONLY.or(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.or(Flags::FAST);
const MULTI_SHARD_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];
const ALL_SHARDS_OK: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

/// A key spec for the single key at argument `index`.
const fn key_at(index: i32, flags: KeyFlags) -> KeySpec {
    KeySpec {
        flags,
        begin: BeginSearch::Index(index),
        find: FindKeys::Range {
            lastkey: 0,
            keystep: 1,
            limit: 0,
        },
    }
}

const RW_ACCESS_DELETE: KeyFlags = KeyFlags::RW.or(KeyFlags::ACCESS).or(KeyFlags::DELETE);

const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, Flags::READONLY, KS, object_encoding)
        .keys(2, 2, 1)
        .key_flags(KeyFlags::RO)
        .tips(&["nondeterministic_output"])
        .doc(
            "generic",
            "2.2.3",
            "Inspect the internal encoding of a Redis object",
            "O(1)",
        ),
    CommandSpec::new("freq", 3, Flags::READONLY, KS, object_freq)
        .keys(2, 2, 1)
        .key_flags(KeyFlags::RO)
        .tips(&["nondeterministic_output"])
        .doc(
            "generic",
            "4.0.0",
            "Get the logarithmic access frequency counter of a Redis object",
            "O(1)",
        ),
    CommandSpec::new("help", 2, Flags::LOADING.or(Flags::STALE), KS, object_help).doc(
        "generic",
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
    CommandSpec::new("idletime", 3, Flags::READONLY, KS, object_idletime)
        .keys(2, 2, 1)
        .key_flags(KeyFlags::RO)
        .tips(&["nondeterministic_output"])
        .doc(
            "generic",
            "2.2.3",
            "Get the time since a Redis object was last accessed",
            "O(1)",
        ),
    CommandSpec::new("refcount", 3, Flags::READONLY, KS, object_refcount)
        .keys(2, 2, 1)
        .key_flags(KeyFlags::RO)
        .tips(&["nondeterministic_output"])
        .doc(
            "generic",
            "2.2.3",
            "Get the number of references to the value of the key",
            "O(1)",
        ),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, Flags::WRITE, KS, del)
        .keys(1, -1, 1)
        .key_flags(KeyFlags::RM.or(KeyFlags::DELETE))
        .tips(MULTI_SHARD_SUM)
        .doc(
            "generic",
            "1.0.0",
            "Delete a key",
            "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        ),
    CommandSpec::new("unlink", -2, WRITE_FAST, KS, unlink)
        .keys(1, -1, 1)
        .key_flags(KeyFlags::RM.or(KeyFlags::DELETE))
        .tips(MULTI_SHARD_SUM)
        .doc(
            "generic",
            "4.0.0",
            "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
            "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        ),
    CommandSpec::new("exists", -2, RO_FAST, KS, exists)
        .keys(1, -1, 1)
        .key_flags(KeyFlags::RO)
        .tips(MULTI_SHARD_SUM)
        .doc(
            "generic",
            "1.0.0",
            "Determine if a key exists",
            "O(N) where N is the number of keys to check.",
        ),
    CommandSpec::new("type", 2, RO_FAST, KS, type_cmd)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc("generic", "1.0.0", "Determine the type stored at key", "O(1)"),
    CommandSpec::new("touch", -2, RO_FAST, KS, touch)
        .keys(1, -1, 1)
        .key_flags(KeyFlags::RO)
        .tips(MULTI_SHARD_SUM)
        .doc(
            "generic",
            "3.2.1",
            "Alters the last access time of a key(s). Returns the number of existing keys specified.",
            "O(N) where N is the number of keys that will be touched.",
        ),
    CommandSpec::new("rename", 3, Flags::WRITE, KS, rename)
        .keys(1, 2, 1)
        .key_specs(&[
            key_at(1, RW_ACCESS_DELETE),
            key_at(2, KeyFlags::OW.or(KeyFlags::UPDATE)),
        ])
        .doc("generic", "1.0.0", "Rename a key", "O(1)"),
    CommandSpec::new("renamenx", 3, WRITE_FAST, KS, renamenx)
        .keys(1, 2, 1)
        .key_specs(&[
            key_at(1, RW_ACCESS_DELETE),
            key_at(2, KeyFlags::OW.or(KeyFlags::INSERT)),
        ])
        .doc(
            "generic",
            "1.0.0",
            "Rename a key, only if the new key does not exist",
            "O(1)",
        ),
    CommandSpec::new(
        "copy",
        -3,
        Flags::WRITE.or(Flags::DENYOOM).or(Flags::EXCLUSIVE),
        KS,
        copy,
    )
    .keys(1, 2, 1)
    .key_specs(&[
        key_at(1, KeyFlags::RO.or(KeyFlags::ACCESS)),
        key_at(2, KeyFlags::OW.or(KeyFlags::UPDATE)),
    ])
    .doc(
        "generic",
        "6.2.0",
        "Copy a key",
        "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    ),
    CommandSpec::new("move", 3, WRITE_FAST.or(Flags::EXCLUSIVE), KS, move_cmd)
        .keys(1, 1, 1)
        .doc("generic", "1.0.0", "Move a key to another database", "O(1)"),
    CommandSpec::new("randomkey", 1, Flags::READONLY, KS, randomkey)
        .tips(&["request_policy:all_shards", "nondeterministic_output"])
        .doc(
            "generic",
            "1.0.0",
            "Return a random key from the keyspace",
            "O(1)",
        ),
    CommandSpec::new("dbsize", 1, RO_FAST, KS, dbsize)
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
        .doc(
            "server",
            "1.0.0",
            "Return the number of keys in the selected database",
            "O(1)",
        ),
    CommandSpec::new(
        "flushdb",
        -1,
        Flags::WRITE.or(Flags::EXCLUSIVE),
        KS_DANGEROUS,
        flushdb,
    )
    .tips(ALL_SHARDS_OK)
    .doc(
        "server",
        "1.0.0",
        "Remove all keys from the current database",
        "O(N) where N is the number of keys in the selected database",
    ),
    CommandSpec::new(
        "flushall",
        -1,
        Flags::WRITE.or(Flags::EXCLUSIVE),
        KS_DANGEROUS,
        flushall,
    )
    .tips(ALL_SHARDS_OK)
    .doc(
        "server",
        "1.0.0",
        "Remove all keys from all databases",
        "O(N) where N is the total number of keys in all databases",
    ),
    CommandSpec::new(
        "select",
        2,
        Flags::LOADING.or(Flags::STALE).or(Flags::FAST),
        AclCats::CONNECTION,
        select,
    )
    .doc(
        "connection",
        "1.0.0",
        "Change the selected database for the current connection",
        "O(1)",
    ),
    CommandSpec::new(
        "swapdb",
        3,
        WRITE_FAST.or(Flags::EXCLUSIVE),
        KS_DANGEROUS,
        swapdb,
    )
    .doc(
        "server",
        "4.0.0",
        "Swaps two Redis databases",
        "O(N) where N is the count of clients watching or blocking on keys from both databases.",
    ),
    CommandSpec::container("object", -2, Flags::NONE, AclCats::NONE, OBJECT_SUBCOMMANDS).doc(
        "generic",
        "2.2.3",
        "A container for object introspection commands",
        "Depends on subcommand.",
    ),
];
