//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER, SMOVE,
//! SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE and SSCAN, as Redis
//! 7.2's `t_set.c` behaves.
//!
//! Values live in `store::Value::Set` ([`SetValue`]: intset, listpack or hash table, with
//! Redis 7.2's conversion rules; thresholds read from the config before locking).
//!
//! Redis behaviour mirrored here:
//! - reads (SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SRANDMEMBER, SSCAN, and the source keys of
//!   SINTER/SUNION/SDIFF and their STORE forms) count keyspace hits and misses; SADD, SREM,
//!   SPOP and SMOVE do not;
//! - the multi-key commands check every source's type before answering (a missing key is an
//!   empty set; WRONGTYPE at the first key of another type), pick SINTER's iteration set and
//!   SDIFF's algorithm as Redis does, and build their results through the same encoding rules,
//!   so a STORE leaves the encoding Redis would and small results come in Redis's order
//!   (intsets ascending, listpacks in insertion order);
//! - a STORE overwrites the destination (dropping its TTL) or deletes it when the result is
//!   empty; other writes keep the key's TTL; an emptied set is deleted;
//! - SPOP with a count that leaves few members builds a new set from the survivors (Redis's
//!   "case 3"), which may change the encoding (e.g. hash table → listpack).
//!
//! Locking: SMOVE and the multi-key commands lock every shard they name with `Db::lock_many`
//! (ORDER: ascending shard index); sources are looked up one by one (expiring, counting), then
//! read together from the locked shards.

use super::hash::{parse_cursor, random_count, reply_empty_scan, reply_entry, Picks, ScanOptions};
use crate::cmd::args;
use crate::cmd::spec::{
    AclCats, BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec,
};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::{Db, Entry, Shard, ShardSet, Value};
use fincache_resp::ReplyEncoder;
use fincache_types::set::{Encoding, Member, SetLimits, SetValue};
use fincache_types::set_ops::{difference_of, intersect, union_of, InterOutput};
use rand::Rng;

/// The encoding thresholds, copied out of the config before any shard is locked.
fn set_limits(ctx: &ExecCtx<'_>) -> SetLimits {
    let c = ctx.server.config.read();
    SetLimits {
        max_intset_entries: c.set_max_intset_entries,
        max_listpack_entries: c.set_max_listpack_entries,
        max_listpack_value: c.set_max_listpack_value,
    }
}

/// The set at `key` for reading (counting a keyspace hit or miss).
fn read_set<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s SetValue>, CmdError> {
    match ctx.read_lookup(shard, key) {
        None => Ok(None),
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The set at `key` for writing (no keyspace statistics).
fn write_set<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s mut SetValue>, CmdError> {
    match shard.get_mut(key, ctx.now_ms, ctx.lru) {
        None => Ok(None),
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// `SADD key member [member …]` — how many members were new.
fn sadd(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let members = &argv[2..];
    let limits = set_limits(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let mut created = None;
    let set = match write_set(ctx, &mut shard, key)? {
        Some(s) => {
            s.maybe_convert(members.len(), &limits);
            s
        }
        None => created.insert(SetValue::create(members[0], members.len(), &limits)),
    };
    let added = members.iter().filter(|m| set.add_bytes(m, &limits)).count();
    let is_new = created.is_some();
    if let Some(s) = created {
        shard.set(key, Value::Set(s), ctx.lru);
    }
    drop(shard);
    if is_new {
        ctx.notify(NotifyClass::New, "new", key);
    }
    if added > 0 {
        ctx.notify(NotifyClass::Set, "sadd", key);
    }
    ctx.out.int(added as i64);
    Ok(())
}

/// `SREM key member [member …]` — how many members were removed; the key goes when emptied.
fn srem(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let (mut removed, mut emptied) = (0, false);
    if let Some(s) = write_set(ctx, &mut shard, key)? {
        for m in &argv[2..] {
            if s.remove(Member::Bytes(m)) {
                removed += 1;
                if s.is_empty() {
                    emptied = true;
                    break;
                }
            }
        }
    }
    if emptied {
        shard.remove(key);
    }
    drop(shard);
    if removed > 0 {
        ctx.notify(NotifyClass::Set, "srem", key);
        if emptied {
            ctx.notify(NotifyClass::Generic, "del", key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

/// `SMEMBERS key` — every member (RESP3 a set; empty for a missing key).
fn smembers(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let set = read_set(ctx, &mut shard, argv[1])?;
    ctx.out.set_len(set.map_or(0, SetValue::len));
    for m in set.into_iter().flat_map(SetValue::iter) {
        reply_entry(ctx.out, m);
    }
    Ok(())
}

/// `SISMEMBER key member` — 1 if a member, else 0.
fn sismember(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let found =
        read_set(ctx, &mut shard, argv[1])?.is_some_and(|s| s.contains(Member::Bytes(argv[2])));
    ctx.out.int(i64::from(found));
    Ok(())
}

/// `SMISMEMBER key member [member …]` — 1 or 0 per member (all 0 for a missing key).
fn smismember(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let set = read_set(ctx, &mut shard, argv[1])?;
    ctx.out.array_len(argv.len() - 2);
    for m in &argv[2..] {
        let found = set.is_some_and(|s| s.contains(Member::Bytes(m)));
        ctx.out.int(i64::from(found));
    }
    Ok(())
}

/// `SCARD key` — the number of members (0 for a missing key).
fn scard(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let n = read_set(ctx, &mut shard, argv[1])?.map_or(0, SetValue::len);
    ctx.out.int(n as i64);
    Ok(())
}

/// `SPOP key [count]` — without count one random member, removed (null for a missing key);
/// with a count (≥ 0) up to that many distinct members, removed, as a set. The key goes when
/// emptied.
fn spop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    // Redis's `getPositiveLongFromObjectOrReply`: one message for "not a number" and "< 0".
    let count = match argv.get(2) {
        Some(arg) => Some(
            args::int(arg)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or(CmdError::MustBePositive("value"))?,
        ),
        None => None,
    };
    let key = argv[1];
    let limits = set_limits(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(set) = write_set(ctx, &mut shard, key)? else {
        match count {
            Some(_) => ctx.out.set_len(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let mut rng = rand::thread_rng();
    let size = set.len();
    let Some(count) = count else {
        let i = rng.gen_range(0..size.max(1));
        if let Some(m) = set.get_index(i) {
            reply_entry(ctx.out, m);
        }
        set.remove_positions(&[i]);
        ctx.notify(NotifyClass::Set, "spop", key);
        if set.is_empty() {
            shard.remove(key);
            ctx.notify(NotifyClass::Generic, "del", key);
        }
        return Ok(());
    };
    if count == 0 {
        ctx.out.set_len(0);
        return Ok(());
    }
    ctx.notify(NotifyClass::Set, "spop", key);
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count >= size {
        // The whole set, in the order Redis's union of it would list.
        let all = union_of(&[Some(&*set)], &limits);
        ctx.out.set_len(all.len());
        for m in all.iter() {
            reply_entry(ctx.out, m);
        }
        shard.remove(key);
        ctx.notify(NotifyClass::Generic, "del", key);
        return Ok(());
    }
    let remaining = size - count;
    ctx.out.set_len(count);
    if remaining.saturating_mul(5) > count {
        // Few to pop: pick them and remove them (a listpack is walked in order).
        let mut picks = rand::seq::index::sample(&mut rng, size, count).into_vec();
        if set.encoding() == Encoding::Listpack {
            picks.sort_unstable();
        }
        for &i in &picks {
            if let Some(m) = set.get_index(i) {
                reply_entry(ctx.out, m);
            }
        }
        set.remove_positions(&picks);
        return Ok(());
    }
    // Many to pop: keep a few survivors in a new set and return the rest.
    let mut keep = rand::seq::index::sample(&mut rng, size, remaining).into_vec();
    keep.sort_unstable();
    let mut survivors = match set.encoding() {
        Encoding::IntSet => SetValue::new_intset(),
        _ => SetValue::new_listpack(),
    };
    for &i in &keep {
        if let Some(m) = set.get_index(i) {
            survivors.add(m, &limits);
        }
    }
    for (i, m) in set.iter().enumerate() {
        if keep.binary_search(&i).is_err() {
            reply_entry(ctx.out, m);
        }
    }
    *set = survivors;
    Ok(())
}

/// `SRANDMEMBER key [count]` — without count one random member (null for a missing key). With
/// a positive count up to that many distinct members; with a negative count |count| members
/// that may repeat. Always an array with a count.
fn srandmember(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = argv.get(2).map(|a| random_count(a)).transpose()?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let set = read_set(ctx, &mut shard, argv[1])?;
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        match set {
            Some(s) => {
                let i = rng.gen_range(0..s.len().max(1));
                if let Some(m) = s.get_index(i) {
                    reply_entry(ctx.out, m);
                }
            }
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let Some(set) = set else {
        ctx.out.array_len(0);
        return Ok(());
    };
    let indexed = set.indexed();
    let picks = match count.pick(indexed.len(), &mut rng)? {
        // A listpack's distinct sample comes in listpack order, as Redis walks it once.
        Picks::Some(mut v) if !count.repeats && set.encoding() == Encoding::Listpack => {
            v.sort_unstable();
            Picks::Some(v)
        }
        p => p,
    };
    ctx.out.array_len(picks.len());
    for i in picks.iter() {
        if let Some(m) = indexed.get(i) {
            reply_entry(ctx.out, m);
        }
    }
    Ok(())
}

/// Whether the entry holds a set; WRONGTYPE if it holds something else.
fn is_set(entry: Option<&mut Entry>) -> Result<bool, CmdError> {
    match entry {
        None => Ok(false),
        Some(Entry {
            value: Value::Set(_),
            ..
        }) => Ok(true),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// `SMOVE source destination member` — 1 if the member was moved (or, with source =
/// destination, is a member), else 0. The source goes when emptied; the destination is
/// created if missing.
fn smove(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (src, dst, member) = (argv[1], argv[2], Member::Bytes(argv[3]));
    let limits = set_limits(ctx);
    let (now, lru) = (ctx.now_ms, ctx.lru);
    let db = ctx.db();
    let mut shards = db.lock_many([src, dst]);
    let src_found = shards.shard(src).get_mut(src, now, lru);
    if src_found.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    is_set(src_found)?;
    let dst_exists = is_set(shards.shard(dst).get_mut(dst, now, lru))?;
    if src == dst {
        let found = write_set(ctx, shards.shard(src), src)?.is_some_and(|s| s.contains(member));
        ctx.out.int(i64::from(found));
        return Ok(());
    }
    let Some(source) = write_set(ctx, shards.shard(src), src)? else {
        ctx.out.int(0);
        return Ok(());
    };
    if !source.remove(member) {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.notify(NotifyClass::Set, "srem", src);
    if source.is_empty() {
        shards.shard(src).remove(src);
        ctx.notify(NotifyClass::Generic, "del", src);
    }
    let added = if dst_exists {
        write_set(ctx, shards.shard(dst), dst)?.is_some_and(|t| t.add(member, &limits))
    } else {
        let mut target = SetValue::create(argv[3], 1, &limits);
        target.add(member, &limits);
        shards.shard(dst).set(dst, Value::Set(target), lru);
        ctx.notify(NotifyClass::New, "new", dst);
        true
    };
    if added {
        ctx.notify(NotifyClass::Set, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SINTER / SUNION / SDIFF and friends
// ---------------------------------------------------------------------------------------------

/// Looks every source key up as Redis's `lookupKeyRead` does (expiring it if due, counting a
/// hit or miss) and fails with WRONGTYPE at the first key holding another type; then borrows
/// the sets from the locked shards (`None` for a missing key). `locked` lists every key the
/// shard set was locked for.
fn read_sets<'a>(
    ctx: &ExecCtx<'_>,
    shards: &'a mut ShardSet<'_>,
    locked: &[&[u8]],
    sources: &[&[u8]],
) -> Result<Vec<Option<&'a SetValue>>, CmdError> {
    for key in sources {
        read_set(ctx, shards.shard(key), key)?;
    }
    let mut indexes: Vec<usize> = locked.iter().map(|k| Db::shard_index(k)).collect();
    indexes.sort_unstable();
    indexes.dedup();
    let guards: Vec<&Shard> = shards.iter().collect();
    Ok(sources
        .iter()
        .map(|key| {
            let at = indexes.binary_search(&Db::shard_index(key)).ok()?;
            match guards.get(at)?.peek(key, ctx.now_ms)? {
                Entry {
                    value: Value::Set(s),
                    ..
                } => Some(s),
                _ => None,
            }
        })
        .collect())
}

/// Replies with the members of `set` as a set.
fn reply_set(out: &mut ReplyEncoder, set: &SetValue) {
    out.set_len(set.len());
    for m in set.iter() {
        reply_entry(out, m);
    }
}

/// Stores `result` at `dst` (dropping its TTL) or deletes `dst` if `result` is empty; replies
/// with the result's size.
fn store_result(
    ctx: &mut ExecCtx<'_>,
    shards: &mut ShardSet<'_>,
    dst: &[u8],
    result: SetValue,
    event: &'static str,
) {
    let n = result.len();
    let existed = shards.shard(dst).contains(dst, ctx.now_ms);
    if n > 0 {
        shards.shard(dst).set(dst, Value::Set(result), ctx.lru);
        if !existed {
            ctx.notify(NotifyClass::New, "new", dst);
        }
        ctx.notify(NotifyClass::Set, event, dst);
    } else if existed {
        shards.shard(dst).remove(dst);
        ctx.notify(NotifyClass::Generic, "del", dst);
    }
    ctx.out.int(n as i64);
}

/// `SINTER key [key …]` — the members every set has (RESP3 a set).
fn sinter(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let keys = &argv[1..];
    let limits = set_limits(ctx);
    let db = ctx.db();
    let mut shards = db.lock_many(keys.iter().copied());
    let sets = read_sets(ctx, &mut shards, keys, keys)?;
    let mut out = InterOutput::Members(Vec::new());
    intersect(&sets, &mut out, &limits);
    if let InterOutput::Members(members) = out {
        ctx.out.set_len(members.len());
        for m in members {
            reply_entry(ctx.out, m);
        }
    }
    Ok(())
}

/// `SINTERCARD numkeys key [key …] [LIMIT limit]` — the size of the intersection, counting
/// stops at `limit` (0 = no limit).
fn sintercard(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let numkeys_error = || CmdError::err("numkeys should be greater than 0");
    let numkeys = args::int(argv[1]).map_err(|_| numkeys_error())?;
    if numkeys < 1 {
        return Err(numkeys_error());
    }
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > argv.len() - 2 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let keys = &argv[2..2 + numkeys];
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < argv.len() {
        if args::is(argv[i], "LIMIT") && i + 1 < argv.len() {
            let negative = || CmdError::err("LIMIT can't be negative");
            let n = args::int(argv[i + 1]).map_err(|_| negative())?;
            limit = usize::try_from(n).map_err(|_| negative())?;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let limits = set_limits(ctx);
    let db = ctx.db();
    let mut shards = db.lock_many(keys.iter().copied());
    let sets = read_sets(ctx, &mut shards, keys, keys)?;
    let n = intersect(&sets, &mut InterOutput::Count { limit }, &limits);
    ctx.out.int(n as i64);
    Ok(())
}

/// `SINTERSTORE destination key [key …]` — stores the intersection; its size.
fn sinterstore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (dst, keys) = (argv[1], &argv[2..]);
    let limits = set_limits(ctx);
    let db = ctx.db();
    let mut shards = db.lock_many(argv[1..].iter().copied());
    let result = {
        let sets = read_sets(ctx, &mut shards, &argv[1..], keys)?;
        let mut out = InterOutput::Store(SetValue::new_intset());
        intersect(&sets, &mut out, &limits);
        match out {
            InterOutput::Store(s) => s,
            _ => SetValue::new_intset(),
        }
    };
    store_result(ctx, &mut shards, dst, result, "sinterstore");
    Ok(())
}

/// SUNION / SDIFF and their STORE forms.
fn union_or_diff(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], diff: bool, store: bool) -> CmdResult {
    let keys = if store { &argv[2..] } else { &argv[1..] };
    let limits = set_limits(ctx);
    let db = ctx.db();
    let mut shards = db.lock_many(argv[1..].iter().copied());
    let result = {
        let sets = read_sets(ctx, &mut shards, &argv[1..], keys)?;
        if diff {
            difference_of(&sets, &limits)
        } else {
            union_of(&sets, &limits)
        }
    };
    if store {
        let event = if diff { "sdiffstore" } else { "sunionstore" };
        store_result(ctx, &mut shards, argv[1], result, event);
    } else {
        reply_set(ctx.out, &result);
    }
    Ok(())
}

/// `SUNION key [key …]` — the members of any set (RESP3 a set).
fn sunion(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_or_diff(ctx, argv, false, false)
}

/// `SUNIONSTORE destination key [key …]` — stores the union; its size.
fn sunionstore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_or_diff(ctx, argv, false, true)
}

/// `SDIFF key [key …]` — the members of the first set no other set has (RESP3 a set).
fn sdiff(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_or_diff(ctx, argv, true, false)
}

/// `SDIFFSTORE destination key [key …]` — stores the difference; its size.
fn sdiffstore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    union_or_diff(ctx, argv, true, true)
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]` — `[next-cursor, [member …]]`. An intset or
/// listpack is returned whole with cursor 0; a hash table is walked COUNT positions per call.
fn sscan(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2])?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(set) = read_set(ctx, &mut shard, argv[1])? else {
        reply_empty_scan(ctx);
        return Ok(());
    };
    let opts = ScanOptions::parse(&argv[3..], false)?;
    let matches = |m: &Member<'_>| opts.matches(*m);
    let (next, found): (u64, Vec<Member<'_>>) = if set.encoding() == Encoding::HashTable {
        let (start, end, next) = opts.window(cursor, set.len());
        let found = (start..end)
            .rev()
            .filter_map(|i| set.get_index(i))
            .filter(matches)
            .collect();
        (next, found)
    } else {
        (0, set.iter().filter(matches).collect())
    };
    ctx.out.array_len(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array_len(found.len());
    for m in found {
        reply_entry(ctx.out, m);
    }
    Ok(())
}

const SET: AclCats = AclCats::SET;
const R: Flags = Flags::READONLY;
const RF: Flags = Flags::READONLY.or(Flags::FAST);
const WF: Flags = Flags::WRITE.or(Flags::FAST);
const WD: Flags = Flags::WRITE.or(Flags::DENYOOM);
const WDF: Flags = Flags::WRITE.or(Flags::DENYOOM).or(Flags::FAST);
const RO_ACCESS: KeyFlags = KeyFlags::RO.or(KeyFlags::ACCESS);
const ORDER_TIP: &[&str] = &["nondeterministic_output_order"];
const RANDOM_TIP: &[&str] = &["nondeterministic_output"];
const INTER_COMPLEXITY: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const UNION_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";

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

/// The source keys of a STORE command: every argument from the second on.
const SOURCES: KeySpec = KeySpec {
    flags: RO_ACCESS,
    begin: BeginSearch::Index(2),
    find: FindKeys::Range {
        lastkey: -1,
        keystep: 1,
        limit: 0,
    },
};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WDF, SET, sadd)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::INSERT))
        .doc(
            "set",
            "1.0.0",
            "Add one or more members to a set",
            "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        ),
    CommandSpec::new("srem", -3, WF, SET, srem)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::DELETE))
        .doc(
            "set",
            "1.0.0",
            "Remove one or more members from a set",
            "O(N) where N is the number of members to be removed.",
        ),
    CommandSpec::new("smembers", 2, R, SET, smembers)
        .keys(1, 1, 1)
        .tips(ORDER_TIP)
        .doc(
            "set",
            "1.0.0",
            "Get all the members in a set",
            "O(N) where N is the set cardinality.",
        ),
    CommandSpec::new("sismember", 3, RF, SET, sismember)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc(
            "set",
            "1.0.0",
            "Determine if a given value is a member of a set",
            "O(1)",
        ),
    CommandSpec::new("smismember", -3, RF, SET, smismember)
        .keys(1, 1, 1)
        .doc(
            "set",
            "6.2.0",
            "Returns the membership associated with the given elements for a set",
            "O(N) where N is the number of elements being checked for membership",
        ),
    CommandSpec::new("scard", 2, RF, SET, scard)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc("set", "1.0.0", "Get the number of members in a set", "O(1)"),
    CommandSpec::new("spop", -2, WF, SET, spop)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::ACCESS).or(KeyFlags::DELETE))
        .tips(RANDOM_TIP)
        .doc(
            "set",
            "1.0.0",
            "Remove and return one or multiple random members from a set",
            "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        ),
    CommandSpec::new("srandmember", -2, R, SET, srandmember)
        .keys(1, 1, 1)
        .tips(RANDOM_TIP)
        .doc(
            "set",
            "1.0.0",
            "Get one or multiple random members from a set",
            "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        ),
    CommandSpec::new("smove", 4, WF, SET, smove)
        .keys(1, 2, 1)
        .key_specs(&[
            key_at(1, KeyFlags::RW.or(KeyFlags::ACCESS).or(KeyFlags::DELETE)),
            key_at(2, KeyFlags::RW.or(KeyFlags::INSERT)),
        ])
        .doc("set", "1.0.0", "Move a member from one set to another", "O(1)"),
    CommandSpec::new("sinter", -2, R, SET, sinter)
        .keys(1, -1, 1)
        .tips(ORDER_TIP)
        .doc("set", "1.0.0", "Intersect multiple sets", INTER_COMPLEXITY),
    CommandSpec::new("sintercard", -3, R.or(Flags::MOVABLE_KEYS), SET, sintercard)
        .key_specs(&[KeySpec {
            flags: RO_ACCESS,
            begin: BeginSearch::Index(1),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
        }])
        .doc(
            "set",
            "7.0.0",
            "Intersect multiple sets and return the cardinality of the result",
            INTER_COMPLEXITY,
        ),
    CommandSpec::new("sinterstore", -3, WD, SET, sinterstore)
        .keys(1, -1, 1)
        .key_specs(&[key_at(1, KeyFlags::RW.or(KeyFlags::UPDATE)), SOURCES])
        .doc(
            "set",
            "1.0.0",
            "Intersect multiple sets and store the resulting set in a key",
            INTER_COMPLEXITY,
        ),
    CommandSpec::new("sunion", -2, R, SET, sunion)
        .keys(1, -1, 1)
        .tips(ORDER_TIP)
        .doc("set", "1.0.0", "Add multiple sets", UNION_COMPLEXITY),
    CommandSpec::new("sunionstore", -3, WD, SET, sunionstore)
        .keys(1, -1, 1)
        .key_specs(&[key_at(1, KeyFlags::OW.or(KeyFlags::UPDATE)), SOURCES])
        .doc(
            "set",
            "1.0.0",
            "Add multiple sets and store the resulting set in a key",
            UNION_COMPLEXITY,
        ),
    CommandSpec::new("sdiff", -2, R, SET, sdiff)
        .keys(1, -1, 1)
        .tips(ORDER_TIP)
        .doc("set", "1.0.0", "Subtract multiple sets", UNION_COMPLEXITY),
    CommandSpec::new("sdiffstore", -3, WD, SET, sdiffstore)
        .keys(1, -1, 1)
        .key_specs(&[key_at(1, KeyFlags::OW.or(KeyFlags::UPDATE)), SOURCES])
        .doc(
            "set",
            "1.0.0",
            "Subtract multiple sets and store the resulting set in a key",
            UNION_COMPLEXITY,
        ),
    CommandSpec::new("sscan", -3, R, SET, sscan)
        .keys(1, 1, 1)
        .tips(RANDOM_TIP)
        .doc(
            "set",
            "2.8.0",
            "Incrementally iterate Set elements",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        ),
];
