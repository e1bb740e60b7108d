//! List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LRANGE, LINDEX, LSET,
//! LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP and the blocking BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH, BLMPOP, as Redis 7.2's `t_list.c` behaves.
//!
//! The data structure is `fincache_types::list::List`; this file applies Redis's encoding
//! rules around it: `grow_check` before adding (with the raw lengths of the values to add, as
//! `listTypeTryConversionAppend`), `shrink_check` after removing, both against
//! `list-max-listpack-size` read once per command.
//!
//! Redis behaviour mirrored here:
//! - an emptied list deletes its key;
//! - argument errors come first where Redis parses first (LRANGE, LTRIM, LREM, LINSERT's
//!   BEFORE/AFTER, LPOS options, LMPOP), but LINDEX and LSET look the key up before parsing the
//!   index (a missing key answers null / `no such key` whatever the index);
//! - LLEN, LRANGE, LINDEX, LPOS count keyspace hits and misses (`lookupKeyRead`); the others
//!   do not (`lookupKeyWrite`);
//! - LPOP/RPOP with a count answer an array (a null array for a missing key, an empty array
//!   for count 0 on an existing list);
//! - blocking commands serve at once when they can; otherwise they block through
//!   `ctx.block_on` (see `store::blocking`), and are re-executed here when a push makes one of
//!   their keys ready. Pushes call `ctx.signal_ready`.
//!
//! Locking: single-key commands lock one shard; LMOVE/RPOPLPUSH/BLMOVE and the multi-key pops
//! lock every shard they name with `Db::lock_many` (ORDER: ascending shard index).

use crate::cmd::args;
use crate::cmd::spec::{
    AclCats, BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec,
};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::blocking::TimeoutReply;
use crate::store::{Shard, Value};
use fincache_types::list::{End, List};

/// `list-max-listpack-size`, read once per command (before any shard lock).
fn fill(ctx: &ExecCtx<'_>) -> i32 {
    ctx.server.config.read().list_max_listpack_size
}

/// The values that can serve a client blocked on a list key.
fn is_list(v: &Value) -> bool {
    matches!(v, Value::List(_))
}

/// Redis's `lookupKeyWrite` for a list: the list, `None` if missing, WRONGTYPE otherwise.
fn write_list<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s mut List>, CmdError> {
    match shard.get_mut(key, ctx.now_ms, ctx.lru) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Redis's `lookupKeyRead` for a list, counting a keyspace hit or miss.
fn read_list<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s List>, CmdError> {
    match shard.get(key, ctx.now_ms, ctx.lru) {
        None => {
            ctx.key_miss(key);
            Ok(None)
        }
        Some(e) => {
            ctx.server.keyspace.hit();
            match &e.value {
                Value::List(l) => Ok(Some(l)),
                _ => Err(CmdError::WrongType),
            }
        }
    }
}

/// After elements were removed (`listElementsRemoved`): raises `event` (`lpop`, `rpop`,
/// `lrem`, `ltrim`), then deletes the key of an emptied list (raising `del`), or lets the list
/// return to the listpack encoding.
fn after_removal(ctx: &ExecCtx<'_>, shard: &mut Shard, key: &[u8], fill: i32, event: &'static str) {
    ctx.notify(NotifyClass::List, event, key);
    let empty = match write_list(ctx, shard, key) {
        Ok(Some(l)) if l.is_empty() => true,
        Ok(Some(l)) => {
            l.shrink_check(fill);
            false
        }
        _ => false,
    };
    if empty {
        shard.remove(key);
        ctx.notify(NotifyClass::Generic, "del", key);
    }
}

/// The keyspace event of a push or pop at `end`.
fn end_event(end: End, push: bool) -> &'static str {
    match (end, push) {
        (End::Head, true) => "lpush",
        (End::Tail, true) => "rpush",
        (End::Head, false) => "lpop",
        (End::Tail, false) => "rpop",
    }
}

/// Parses LEFT / RIGHT (`getListPositionFromObjectOrReply`).
fn end_arg(arg: &[u8]) -> Result<End, CmdError> {
    if args::is(arg, "LEFT") {
        Ok(End::Head)
    } else if args::is(arg, "RIGHT") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Syntax)
    }
}

/// `getPositiveLongFromObjectOrReply`: a non-negative integer; anything else (negative or not
/// a number at all) is answered with `msg`, by default `value is out of range, must be
/// positive`.
fn positive(arg: &[u8], msg: Option<&str>) -> Result<usize, CmdError> {
    let error = || match msg {
        Some(m) => CmdError::err(m),
        None => CmdError::MustBePositive("value"),
    };
    let n = args::int(arg).map_err(|_| error())?;
    usize::try_from(n).map_err(|_| error())
}

/// Writes values as a RESP array.
fn reply_values<'v>(ctx: &mut ExecCtx<'_>, n: usize, values: impl Iterator<Item = &'v [u8]>) {
    ctx.out.array_len(n);
    for v in values.take(n) {
        ctx.out.bulk(v);
    }
}

// ---------------------------------------------------------------------------------------------
// Pushes
// ---------------------------------------------------------------------------------------------

/// LPUSH/RPUSH/LPUSHX/RPUSHX (`pushGenericCommand`): `xx` pushes only onto an existing list.
fn push_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], end: End, xx: bool) -> CmdResult {
    let key = argv[1];
    let values = &argv[2..];
    let fill = fill(ctx);
    let add_bytes = values.iter().map(|v| v.len()).sum();
    let db = ctx.db();
    let mut shard = db.lock(key);
    let len = match write_list(ctx, &mut shard, key)? {
        Some(list) => {
            list.grow_check(fill, add_bytes, values.len());
            for v in values {
                list.push(end, v, fill);
            }
            list.len()
        }
        None if xx => 0,
        None => {
            let mut list = List::new();
            list.grow_check(fill, add_bytes, values.len());
            for v in values {
                list.push(end, v, fill);
            }
            let len = list.len();
            shard.set(key, Value::List(Box::new(list)), ctx.lru);
            ctx.notify(NotifyClass::New, "new", key);
            len
        }
    };
    drop(shard);
    if len > 0 {
        ctx.notify(NotifyClass::List, end_event(end, true), key);
        ctx.signal_ready(key);
    }
    ctx.out.int(len as i64);
    Ok(())
}

/// `LPUSH key element [element …]` — the list's length after pushing each element at the head.
fn lpush(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Head, false)
}

/// `RPUSH key element [element …]` — the length after pushing each element at the tail.
fn rpush(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Tail, false)
}

/// `LPUSHX key element [element …]` — like LPUSH on an existing list; 0 for a missing key.
fn lpushx(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Head, true)
}

/// `RPUSHX key element [element …]` — like RPUSH on an existing list; 0 for a missing key.
fn rpushx(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    push_generic(ctx, argv, End::Tail, true)
}

/// `LINSERT key BEFORE | AFTER pivot element` — the new length, -1 when the pivot is absent,
/// 0 for a missing key.
fn linsert(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let after = if args::is(argv[2], "AFTER") {
        true
    } else if args::is(argv[2], "BEFORE") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let (key, pivot, value) = (argv[1], argv[3], argv[4]);
    let fill = fill(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(list) = write_list(ctx, &mut shard, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    // As Redis: the conversion check runs even if the pivot turns out to be absent.
    list.grow_check(fill, value.len(), 1);
    if !list.insert(pivot, value, after, fill) {
        ctx.out.int(-1);
        return Ok(());
    }
    let len = list.len();
    drop(shard);
    ctx.notify(NotifyClass::List, "linsert", key);
    ctx.signal_ready(key);
    ctx.out.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------------

/// Pops up to `count` values from one end into an array reply and removes them (the reply of
/// LPOP/RPOP with a count, and the inner array of LMPOP/BLMPOP).
fn pop_range_reply(ctx: &mut ExecCtx<'_>, list: &mut List, end: End, count: usize) {
    let n = count.min(list.len());
    match end {
        End::Head => {
            reply_values(ctx, n, list.iter());
            list.remove_range(0, n);
        }
        End::Tail => {
            reply_values(ctx, n, list.iter_rev());
            list.remove_range(list.len() - n, n);
        }
    }
}

/// LPOP/RPOP (`popGenericCommand`).
fn pop_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], end: End) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::WrongArity(args::lower(argv[0])));
    }
    let count = match argv.get(2) {
        Some(arg) => Some(positive(arg, None)?),
        None => None,
    };
    let key = argv[1];
    let fill = fill(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(list) = write_list(ctx, &mut shard, key)? else {
        match count {
            Some(_) => ctx.out.null_array(),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    match count {
        Some(0) => {
            ctx.out.array_len(0);
            return Ok(());
        }
        Some(n) => pop_range_reply(ctx, list, end, n),
        None => match list.pop(end) {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        },
    }
    after_removal(ctx, &mut shard, key, fill, end_event(end, false));
    Ok(())
}

/// `LPOP key [count]` — the head element (null if missing); with a count, an array of up to
/// count elements (null array if missing, empty array for count 0).
fn lpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, argv, End::Head)
}

/// `RPOP key [count]` — as LPOP, from the tail.
fn rpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, argv, End::Tail)
}

/// The parsed `numkeys key [key …] LEFT | RIGHT [COUNT count]` of LMPOP/BLMPOP, whose count
/// argument is at `at`: (keys, end, count).
fn parse_mpop<'a>(argv: &[&'a [u8]], at: usize) -> Result<(Vec<&'a [u8]>, End, usize), CmdError> {
    let numkeys_err = || CmdError::err("numkeys should be greater than 0");
    let numkeys = args::int(argv[at]).map_err(|_| numkeys_err())?;
    if numkeys < 1 {
        return Err(numkeys_err());
    }
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(at + 1))
        .filter(|&i| i < argv.len())
        .ok_or(CmdError::Syntax)?;
    let end = end_arg(argv[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && args::is(argv[j], "COUNT") && j + 1 < argv.len() {
            let count_err = || CmdError::err("count should be greater than 0");
            let n = args::int(argv[j + 1]).map_err(|_| count_err())?;
            if n < 1 {
                return Err(count_err());
            }
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((argv[at + 1..where_idx].to_vec(), end, count.unwrap_or(1)))
}

/// Pops from the first non-empty list among `keys`: `[key, [elements]]` when `nested`
/// (LMPOP, BLMPOP), `[key, element]` otherwise (BLPOP, BRPOP). Returns false, with nothing
/// written, when every key is missing.
fn pop_first(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    end: End,
    count: usize,
    nested: bool,
) -> Result<bool, CmdError> {
    let fill = fill(ctx);
    let db = ctx.db();
    let mut shards = db.lock_many(keys.iter().copied());
    for &key in keys {
        let shard = shards.shard(key);
        let Some(list) = write_list(ctx, shard, key)? else {
            continue;
        };
        if list.is_empty() {
            continue;
        }
        ctx.out.array_len(2);
        ctx.out.bulk(key);
        if nested {
            pop_range_reply(ctx, list, end, count);
        } else if let Some(v) = list.pop(end) {
            ctx.out.bulk(&v);
        }
        after_removal(ctx, shard, key, fill, end_event(end, false));
        return Ok(true);
    }
    Ok(false)
}

/// `LMPOP numkeys key [key …] LEFT | RIGHT [COUNT count]` — `[key, [elements]]` from the first
/// non-empty list, or a null array.
fn lmpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, end, count) = parse_mpop(argv, 1)?;
    if !pop_first(ctx, &keys, end, count, true)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// `BLPOP key [key …] timeout` — `[key, element]` from the first non-empty list; blocks until
/// one is pushed, or the timeout (seconds, float; 0 = forever): null array.
fn blpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    blocking_pop(ctx, argv, End::Head)
}

/// `BRPOP key [key …] timeout` — as BLPOP, from the tail.
fn brpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    blocking_pop(ctx, argv, End::Tail)
}

fn blocking_pop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], end: End) -> CmdResult {
    let deadline = ctx.block_timeout_secs(argv[argv.len() - 1])?;
    let keys = &argv[1..argv.len() - 1];
    if !pop_first(ctx, keys, end, 1, false)? {
        ctx.block_on(keys, deadline, is_list, TimeoutReply::NullArray);
    }
    Ok(())
}

/// `BLMPOP timeout numkeys key [key …] LEFT | RIGHT [COUNT count]` — as LMPOP, blocking while
/// every list is empty (null array on timeout).
fn blmpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, end, count) = parse_mpop(argv, 2)?;
    let deadline = ctx.block_timeout_secs(argv[1])?;
    if !pop_first(ctx, &keys, end, count, true)? {
        ctx.block_on(&keys, deadline, is_list, TimeoutReply::NullArray);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------------------------

/// LMOVE's work (`lmoveGenericCommand`): pops from `src`, pushes onto `dst`, replies with the
/// element. Returns false, with nothing written, when `src` is missing.
fn move_element(
    ctx: &mut ExecCtx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<bool, CmdError> {
    let fill = fill(ctx);
    let db = ctx.db();
    let mut shards = db.lock_many([src, dst]);
    if write_list(ctx, shards.shard(src), src)?.is_none() {
        return Ok(false);
    }
    let dst_exists = write_list(ctx, shards.shard(dst), dst)?.is_some();
    let Some(value) = write_list(ctx, shards.shard(src), src)?.and_then(|l| l.pop(from)) else {
        return Ok(false);
    };
    if dst_exists {
        if let Some(list) = write_list(ctx, shards.shard(dst), dst)? {
            list.grow_check(fill, value.len(), 1);
            list.push(to, &value, fill);
        }
    } else {
        let mut list = List::new();
        list.grow_check(fill, value.len(), 1);
        list.push(to, &value, fill);
        shards
            .shard(dst)
            .set(dst, Value::List(Box::new(list)), ctx.lru);
        ctx.notify(NotifyClass::New, "new", dst);
    }
    ctx.notify(NotifyClass::List, end_event(to, true), dst);
    after_removal(ctx, shards.shard(src), src, fill, end_event(from, false));
    drop(shards);
    ctx.signal_ready(dst);
    ctx.out.bulk(&value);
    Ok(true)
}

/// `LMOVE source destination LEFT | RIGHT LEFT | RIGHT` — the element moved, or null when the
/// source is missing.
fn lmove(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let from = end_arg(argv[3])?;
    let to = end_arg(argv[4])?;
    if !move_element(ctx, argv[1], argv[2], from, to)? {
        ctx.out.null();
    }
    Ok(())
}

/// `RPOPLPUSH source destination` — LMOVE source destination RIGHT LEFT.
fn rpoplpush(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if !move_element(ctx, argv[1], argv[2], End::Tail, End::Head)? {
        ctx.out.null();
    }
    Ok(())
}

/// `BLMOVE source destination LEFT | RIGHT LEFT | RIGHT timeout` — as LMOVE, blocking while
/// the source is missing (null on timeout).
fn blmove(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let from = end_arg(argv[3])?;
    let to = end_arg(argv[4])?;
    let deadline = ctx.block_timeout_secs(argv[5])?;
    blocking_move(ctx, argv[1], argv[2], from, to, deadline)
}

/// `BRPOPLPUSH source destination timeout` — BLMOVE source destination RIGHT LEFT timeout.
fn brpoplpush(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let deadline = ctx.block_timeout_secs(argv[3])?;
    blocking_move(ctx, argv[1], argv[2], End::Tail, End::Head, deadline)
}

fn blocking_move(
    ctx: &mut ExecCtx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    deadline: Option<u64>,
) -> CmdResult {
    if !move_element(ctx, src, dst, from, to)? {
        ctx.block_on(&[src], deadline, is_list, TimeoutReply::NullBulk);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/// `LLEN key` — the length, 0 for a missing key.
fn llen(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let len = read_list(ctx, &mut shard, argv[1])?.map_or(0, List::len);
    ctx.out.int(len as i64);
    Ok(())
}

/// `LINDEX key index` — the element at index (negative from the tail), null if out of range
/// or the key is missing.
fn lindex(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(list) = read_list(ctx, &mut shard, argv[1])? else {
        ctx.out.null();
        return Ok(());
    };
    let index = args::int(argv[2])?;
    match list.get(index) {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Redis's range normalisation (`addListRangeReply`, LTRIM): `Some((start, end))` inclusive,
/// or `None` for an empty range.
fn normalize_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

/// `LRANGE key start stop` — the elements from start to stop inclusive (negative from the
/// tail, clamped); an empty array for a missing key.
fn lrange(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let start = args::int(argv[2])?;
    let stop = args::int(argv[3])?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(list) = read_list(ctx, &mut shard, argv[1])? else {
        ctx.out.array_len(0);
        return Ok(());
    };
    match normalize_range(start, stop, list.len()) {
        None => ctx.out.array_len(0),
        Some((from, to)) => {
            let n = to - from + 1;
            ctx.out.array_len(n);
            for v in list.iter_from(from).take(n) {
                ctx.out.bulk(v);
            }
        }
    }
    Ok(())
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]` — the index of the
/// rank-th match (negative rank: from the tail), or with COUNT an array of up to count
/// indexes (0 = all); MAXLEN bounds the elements compared. Null / empty array when nothing
/// matches or the key is missing.
fn lpos(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let element = argv[2];
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if args::is(argv[j], "RANK") && more {
            rank = args::int(argv[j + 1])?;
            if rank == i64::MIN {
                return Err(CmdError::err(
                    "value is out of range, value must between -9223372036854775807 and \
                     9223372036854775807",
                ));
            }
            if rank == 0 {
                return Err(CmdError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
        } else if args::is(argv[j], "COUNT") && more {
            count = Some(positive(argv[j + 1], Some("COUNT can't be negative"))?);
        } else if args::is(argv[j], "MAXLEN") && more {
            maxlen = positive(argv[j + 1], Some("MAXLEN can't be negative"))?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(list) = read_list(ctx, &mut shard, argv[1])? else {
        match count {
            Some(_) => ctx.out.array_len(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let from_tail = rank < 0;
    let skip = rank.unsigned_abs() - 1;
    let len = list.len();
    let scan_limit = if maxlen == 0 { len } else { maxlen.min(len) };
    let values: Box<dyn Iterator<Item = &[u8]>> = if from_tail {
        Box::new(list.iter_rev())
    } else {
        Box::new(list.iter())
    };
    let want = match count {
        None => 1,
        Some(0) => usize::MAX,
        Some(n) => n,
    };
    let mut matches: u64 = 0;
    let mut found: Vec<usize> = Vec::new();
    for (i, v) in values.take(scan_limit).enumerate() {
        if v != element {
            continue;
        }
        matches += 1;
        if matches > skip {
            found.push(if from_tail { len - 1 - i } else { i });
            if found.len() >= want {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            ctx.out.array_len(found.len());
            for i in found {
                ctx.out.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => ctx.out.int(i as i64),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// In-place changes
// ---------------------------------------------------------------------------------------------

/// `LSET key index element` — `+OK`; `ERR no such key` for a missing key, `ERR index out of
/// range` past either end.
fn lset(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, value) = (argv[1], argv[3]);
    let fill = fill(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(list) = write_list(ctx, &mut shard, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = args::int(argv[2])?;
    list.grow_check(fill, value.len(), 1);
    if !list.set(index, value) {
        return Err(CmdError::err("index out of range"));
    }
    list.shrink_check(fill);
    ctx.notify(NotifyClass::List, "lset", key);
    ctx.out.ok();
    Ok(())
}

/// `LREM key count element` — removes the first count occurrences (count < 0: from the tail;
/// 0: all) and answers how many were removed.
fn lrem(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let count = args::int(argv[2])?;
    let key = argv[1];
    let fill = fill(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(list) = write_list(ctx, &mut shard, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = list.remove_value(argv[3], limit, count < 0);
    if removed > 0 {
        after_removal(ctx, &mut shard, key, fill, "lrem");
    }
    ctx.out.int(removed as i64);
    Ok(())
}

/// `LTRIM key start stop` — `+OK`; keeps only the elements from start to stop inclusive
/// (negative from the tail); an empty range deletes the key.
fn ltrim(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let start = args::int(argv[2])?;
    let stop = args::int(argv[3])?;
    let key = argv[1];
    let fill = fill(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    if let Some(list) = write_list(ctx, &mut shard, key)? {
        let len = list.len();
        match normalize_range(start, stop, len) {
            None => list.remove_range(0, len),
            Some((from, to)) => {
                list.remove_range(to + 1, len - to - 1);
                list.remove_range(0, from);
            }
        }
        after_removal(ctx, &mut shard, key, fill, "ltrim");
    }
    ctx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const L: AclCats = AclCats::LIST;
const WDF: Flags = Flags::WRITE.or(Flags::DENYOOM).or(Flags::FAST);
const WF: Flags = Flags::WRITE.or(Flags::FAST);
const WD: Flags = Flags::WRITE.or(Flags::DENYOOM);
const RW_INSERT: KeyFlags = KeyFlags::RW.or(KeyFlags::INSERT);
const RW_ACCESS_DELETE: KeyFlags = KeyFlags::RW.or(KeyFlags::ACCESS).or(KeyFlags::DELETE);
const RO_ACCESS: KeyFlags = KeyFlags::RO.or(KeyFlags::ACCESS);

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

/// Source (popped) and destination (pushed) of LMOVE and its kin.
const MOVE_KEYS: &[KeySpec] = &[key_at(1, RW_ACCESS_DELETE), key_at(2, RW_INSERT)];

const fn keynum_at(index: i32) -> KeySpec {
    KeySpec {
        flags: RW_ACCESS_DELETE,
        begin: BeginSearch::Index(index),
        find: FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            keystep: 1,
        },
    }
}

const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements returned";
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, WDF, L, lpush)
        .keys(1, 1, 1)
        .key_flags(RW_INSERT)
        .doc("list", "1.0.0", "Prepend one or multiple elements to a list", PUSH_COMPLEXITY),
    CommandSpec::new("rpush", -3, WDF, L, rpush)
        .keys(1, 1, 1)
        .key_flags(RW_INSERT)
        .doc("list", "1.0.0", "Append one or multiple elements to a list", PUSH_COMPLEXITY),
    CommandSpec::new("lpushx", -3, WDF, L, lpushx)
        .keys(1, 1, 1)
        .key_flags(RW_INSERT)
        .doc(
            "list",
            "2.2.0",
            "Prepend an element to a list, only if the list exists",
            PUSH_COMPLEXITY,
        ),
    CommandSpec::new("rpushx", -3, WDF, L, rpushx)
        .keys(1, 1, 1)
        .key_flags(RW_INSERT)
        .doc(
            "list",
            "2.2.0",
            "Append an element to a list, only if the list exists",
            PUSH_COMPLEXITY,
        ),
    CommandSpec::new("lpop", -2, WF, L, lpop)
        .keys(1, 1, 1)
        .key_flags(RW_ACCESS_DELETE)
        .doc(
            "list",
            "1.0.0",
            "Remove and get the first elements in a list",
            POP_COMPLEXITY,
        ),
    CommandSpec::new("rpop", -2, WF, L, rpop)
        .keys(1, 1, 1)
        .key_flags(RW_ACCESS_DELETE)
        .doc(
            "list",
            "1.0.0",
            "Remove and get the last elements in a list",
            POP_COMPLEXITY,
        ),
    CommandSpec::new("llen", 2, Flags::READONLY.or(Flags::FAST), L, llen)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc("list", "1.0.0", "Get the length of a list", "O(1)"),
    CommandSpec::new("lrange", 4, Flags::READONLY, L, lrange)
        .keys(1, 1, 1)
        .key_flags(RO_ACCESS)
        .doc(
            "list",
            "1.0.0",
            "Get a range of elements from a list",
            "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        ),
    CommandSpec::new("lindex", 3, Flags::READONLY, L, lindex)
        .keys(1, 1, 1)
        .key_flags(RO_ACCESS)
        .doc(
            "list",
            "1.0.0",
            "Get an element from a list by its index",
            "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        ),
    CommandSpec::new("lset", 4, WD, L, lset)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::UPDATE))
        .doc(
            "list",
            "1.0.0",
            "Set the value of an element in a list by its index",
            "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        ),
    CommandSpec::new("linsert", 5, WD, L, linsert)
        .keys(1, 1, 1)
        .key_flags(RW_INSERT)
        .doc(
            "list",
            "2.2.0",
            "Insert an element before or after another element in a list",
            "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        ),
    CommandSpec::new("lrem", 4, Flags::WRITE, L, lrem)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::DELETE))
        .doc(
            "list",
            "1.0.0",
            "Remove elements from a list",
            "O(N+M) where N is the length of the list and M is the number of elements removed.",
        ),
    CommandSpec::new("ltrim", 4, Flags::WRITE, L, ltrim)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::DELETE))
        .doc(
            "list",
            "1.0.0",
            "Trim a list to the specified range",
            "O(N) where N is the number of elements to be removed by the operation.",
        ),
    CommandSpec::new("lpos", -3, Flags::READONLY, L, lpos)
        .keys(1, 1, 1)
        .key_flags(RO_ACCESS)
        .doc(
            "list",
            "6.0.6",
            "Return the index of matching elements on a list",
            "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        ),
    CommandSpec::new("lmove", 5, WD, L, lmove)
        .keys(1, 2, 1)
        .key_specs(MOVE_KEYS)
        .doc(
            "list",
            "6.2.0",
            "Pop an element from a list, push it to another list and return it",
            "O(1)",
        ),
    CommandSpec::new("rpoplpush", 3, WD, L, rpoplpush)
        .keys(1, 2, 1)
        .key_specs(MOVE_KEYS)
        .doc(
            "list",
            "1.2.0",
            "Remove the last element in a list, prepend it to another list and return it",
            "O(1)",
        ),
    CommandSpec::new("lmpop", -4, Flags::WRITE.or(Flags::MOVABLE_KEYS), L, lmpop)
        .key_specs(&[keynum_at(1)])
        .doc(
            "list",
            "7.0.0",
            "Pop elements from a list",
            MPOP_COMPLEXITY,
        ),
    CommandSpec::new(
        "blpop",
        -3,
        Flags::WRITE.or(Flags::NOSCRIPT).or(Flags::BLOCKING),
        L,
        blpop,
    )
    .keys(1, -2, 1)
    .key_flags(RW_ACCESS_DELETE)
    .doc(
        "list",
        "2.0.0",
        "Remove and get the first element in a list, or block until one is available",
        "O(N) where N is the number of provided keys.",
    ),
    CommandSpec::new(
        "brpop",
        -3,
        Flags::WRITE.or(Flags::NOSCRIPT).or(Flags::BLOCKING),
        L,
        brpop,
    )
    .keys(1, -2, 1)
    .key_flags(RW_ACCESS_DELETE)
    .doc(
        "list",
        "2.0.0",
        "Remove and get the last element in a list, or block until one is available",
        "O(N) where N is the number of provided keys.",
    ),
    CommandSpec::new(
        "blmove",
        6,
        WD.or(Flags::NOSCRIPT).or(Flags::BLOCKING),
        L,
        blmove,
    )
    .keys(1, 2, 1)
    .key_specs(MOVE_KEYS)
    .doc(
        "list",
        "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
        "O(1)",
    ),
    CommandSpec::new(
        "brpoplpush",
        4,
        WD.or(Flags::NOSCRIPT).or(Flags::BLOCKING),
        L,
        brpoplpush,
    )
    .keys(1, 2, 1)
    .key_specs(MOVE_KEYS)
    .doc(
        "list",
        "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
        "O(1)",
    ),
    CommandSpec::new(
        "blmpop",
        -5,
        Flags::WRITE.or(Flags::BLOCKING).or(Flags::MOVABLE_KEYS),
        L,
        blmpop,
    )
    .key_specs(&[keynum_at(2)])
    .doc(
        "list",
        "7.0.0",
        "Pop elements from a list, or block until one is available",
        MPOP_COMPLEXITY,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_normalise_as_redis() {
        assert_eq!(normalize_range(0, -1, 5), Some((0, 4)));
        assert_eq!(normalize_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(normalize_range(3, 2, 5), None);
        assert_eq!(normalize_range(5, 10, 5), None);
        assert_eq!(normalize_range(-1, -1, 5), Some((4, 4)));
        assert_eq!(normalize_range(0, -6, 5), None);
        assert_eq!(normalize_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(normalize_range(0, 0, 0), None);
    }

    #[test]
    fn mpop_arguments() {
        let argv: Vec<&[u8]> = vec![b"lmpop", b"2", b"a", b"b", b"right", b"count", b"3"];
        let (keys, end, count) = parse_mpop(&argv, 1).unwrap();
        assert_eq!(keys, vec![&b"a"[..], &b"b"[..]]);
        assert_eq!((end, count), (End::Tail, 3));
        let argv: Vec<&[u8]> = vec![b"lmpop", b"9223372036854775807", b"a", b"left"];
        assert_eq!(parse_mpop(&argv, 1).unwrap_err(), CmdError::Syntax);
        let argv: Vec<&[u8]> = vec![b"lmpop", b"1", b"a", b"left", b"count", b"1", b"count"];
        assert_eq!(parse_mpop(&argv, 1).unwrap_err(), CmdError::Syntax);
    }
}
