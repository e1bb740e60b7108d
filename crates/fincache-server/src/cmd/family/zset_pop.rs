//! Sorted-set commands, part four: pops — ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms
//! BZPOPMIN, BZPOPMAX, BZMPOP (Redis's `genericZpopCommand`, `blockingGenericZpopCommand`).
//!
//! A pop takes from the first key of its list that holds a sorted set (missing keys are
//! skipped; the first existing key of another type is WRONGTYPE). The blocking forms block when
//! every key is missing, through `ctx.block_on` (see `store::blocking`): the command is
//! re-executed when a write makes one of its keys a sorted set, so the serving path is this
//! same code. Writes that create a sorted set call `ctx.signal_ready`.
//!
//! Locking: ZPOPMIN/ZPOPMAX lock one shard; the multi-key forms lock every key they name at
//! once (`Db::lock_many`, ascending shard order).

use super::zset::{finish_write, keynum_at, opt_is, write_zset, RW_ACCESS_DELETE, WF, ZS};
use crate::cmd::args;
use crate::cmd::spec::{CmdResult, CommandSpec, Flags};
use crate::cmd::{CmdError, ExecCtx};
use crate::store::blocking::TimeoutReply;
use crate::store::Value;
use fincache_types::zset::ZSet;

// ---------------------------------------------------------------------------------------------
// ZPOPMIN / ZPOPMAX / ZMPOP
// ---------------------------------------------------------------------------------------------

/// How a pop writes its reply (Redis's `genericZpopCommand` switches).
#[derive(Clone, Copy)]
struct PopReply {
    /// Lead with the key name (ZMPOP, BZPOPMIN …).
    emit_key: bool,
    /// `[member, score]` arrays instead of flat pairs.
    nested: bool,
}

/// Pops up to `count` members from `z` and writes the reply for `key`; returns how many.
fn pop_from(
    ctx: &mut ExecCtx<'_>,
    z: &mut ZSet,
    key: &[u8],
    max: bool,
    count: usize,
    how: PopReply,
) -> usize {
    let n = count.min(z.len());
    match (how.emit_key, how.nested) {
        (false, false) => ctx.out.array_len(n * 2),
        (false, true) => ctx.out.array_len(n),
        (true, false) => {
            ctx.out.array_len(n * 2 + 1);
            ctx.out.bulk(key);
        }
        (true, true) => {
            ctx.out.array_len(2);
            ctx.out.bulk(key);
            ctx.out.array_len(n);
        }
    }
    for _ in 0..n {
        let Some((m, s)) = z.pop(max) else { break };
        if how.nested {
            ctx.out.array_len(2);
        }
        ctx.out.bulk(&m);
        ctx.out.double(s);
    }
    n
}

/// `ZPOPMIN key [count]` — removes and returns the lowest-scored members: `[member, score …]`
/// (RESP3 with a count: `[[member, score] …]`).
fn zpopmin(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zpop(ctx, argv, false)
}

/// `ZPOPMAX key [count]` — like ZPOPMIN from the highest score down.
fn zpopmax(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zpop(ctx, argv, true)
}

fn zpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match argv.get(2) {
        None => None,
        // Redis's `getPositiveLongFromObjectOrReply`: one message for both failures.
        Some(a) => match args::int(a) {
            Ok(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(CmdError::MustBePositive("value")),
        },
    };
    let how = PopReply {
        emit_key: false,
        nested: ctx.out.is_resp3() && count.is_some(),
    };
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(z) = write_zset(ctx, &mut shard, key)? else {
        ctx.out.array_len(0);
        return Ok(());
    };
    let popped = pop_from(ctx, z, key, max, count.unwrap_or(1), how);
    finish_write(ctx, &mut shard, key, popped > 0, pop_event(max));
    Ok(())
}

/// Parses `numkeys key [key …] MIN | MAX [COUNT count]` from `argv[at]` on (ZMPOP, BZMPOP):
/// the keys, whether MAX, and the count.
fn parse_mpop<'a>(argv: &[&'a [u8]], at: usize) -> Result<(Vec<&'a [u8]>, bool, usize), CmdError> {
    let numkeys_err = || CmdError::err("numkeys should be greater than 0");
    let numkeys = args::int(argv[at]).map_err(|_| numkeys_err())?;
    if numkeys < 1 {
        return Err(numkeys_err());
    }
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    let where_idx = at.saturating_add(numkeys).saturating_add(1);
    if where_idx >= argv.len() {
        return Err(CmdError::Syntax);
    }
    let max = if opt_is(argv[where_idx], "MIN") {
        false
    } else if opt_is(argv[where_idx], "MAX") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && opt_is(argv[j], "COUNT") && j + 1 < argv.len() {
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
    Ok((argv[at + 1..where_idx].to_vec(), max, count.unwrap_or(1)))
}

/// `ZMPOP numkeys key [key …] MIN | MAX [COUNT count]` — pops from the first non-empty sorted
/// set: `[key, [[member, score] …]]`, or a null array when every key is missing.
fn zmpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_mpop(argv, 1)?;
    let how = PopReply {
        emit_key: true,
        nested: true,
    };
    if !pop_first(ctx, &keys, max, count, how)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// Pops from the first key of `keys` holding a sorted set and writes the reply; false (with
/// nothing written) when every key is missing.
/// The keyspace event of a pop.
fn pop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

fn pop_first(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    max: bool,
    count: usize,
    how: PopReply,
) -> Result<bool, CmdError> {
    let db = ctx.db();
    let mut shards = db.lock_many(keys.iter().copied());
    for key in keys {
        let shard = shards.shard(key);
        if let Some(z) = write_zset(ctx, shard, key)? {
            let popped = pop_from(ctx, z, key, max, count, how);
            finish_write(ctx, shard, key, popped > 0, pop_event(max));
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a blocked pop waits for.
fn is_zset(v: &Value) -> bool {
    matches!(v, Value::ZSet(_))
}

/// `BZPOPMIN key [key …] timeout` — `[key, member, score]` popped from the first non-empty
/// sorted set; blocks until one appears or the timeout (seconds, float; 0 = forever) passes
/// (null array).
fn bzpopmin(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    bzpop(ctx, argv, false)
}

/// `BZPOPMAX key [key …] timeout` — as BZPOPMIN, highest score first.
fn bzpopmax(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    bzpop(ctx, argv, true)
}

fn bzpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], max: bool) -> CmdResult {
    let deadline = ctx.block_timeout_secs(argv[argv.len() - 1])?;
    let keys = &argv[1..argv.len() - 1];
    let how = PopReply {
        emit_key: true,
        nested: false,
    };
    if !pop_first(ctx, keys, max, 1, how)? {
        ctx.block_on(keys, deadline, is_zset, TimeoutReply::NullArray);
    }
    Ok(())
}

/// `BZMPOP timeout numkeys key [key …] MIN | MAX [COUNT count]` — as ZMPOP, blocking while
/// every key is missing (null array on timeout).
fn bzmpop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_mpop(argv, 2)?;
    let deadline = ctx.block_timeout_secs(argv[1])?;
    let how = PopReply {
        emit_key: true,
        nested: true,
    };
    if !pop_first(ctx, &keys, max, count, how)? {
        ctx.block_on(&keys, deadline, is_zset, TimeoutReply::NullArray);
    }
    Ok(())
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zpopmin", -2, WF, ZS, zpopmin)
        .keys(1, 1, 1)
        .key_flags(RW_ACCESS_DELETE)
        .doc(
            "sorted-set",
            "5.0.0",
            "Remove and return members with the lowest scores in a sorted set",
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
    CommandSpec::new("zpopmax", -2, WF, ZS, zpopmax)
        .keys(1, 1, 1)
        .key_flags(RW_ACCESS_DELETE)
        .doc(
            "sorted-set",
            "5.0.0",
            "Remove and return members with the highest scores in a sorted set",
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
    CommandSpec::new("zmpop", -4, Flags::WRITE.or(Flags::MOVABLE_KEYS), ZS, zmpop)
        .key_specs(&[keynum_at(1, RW_ACCESS_DELETE)])
        .doc(
            "sorted-set",
            "7.0.0",
            "Remove and return members with scores in a sorted set",
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
    CommandSpec::new(
        "bzpopmin",
        -3,
        WF.or(Flags::NOSCRIPT).or(Flags::BLOCKING),
        ZS,
        bzpopmin,
    )
    .keys(1, -2, 1)
    .key_flags(RW_ACCESS_DELETE)
    .doc(
            "sorted-set",
            "5.0.0",
            "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    CommandSpec::new(
        "bzpopmax",
        -3,
        WF.or(Flags::NOSCRIPT).or(Flags::BLOCKING),
        ZS,
        bzpopmax,
    )
    .keys(1, -2, 1)
    .key_flags(RW_ACCESS_DELETE)
    .doc(
            "sorted-set",
            "5.0.0",
            "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    CommandSpec::new(
        "bzmpop",
        -5,
        Flags::WRITE.or(Flags::BLOCKING).or(Flags::MOVABLE_KEYS),
        ZS,
        bzmpop,
    )
    .key_specs(&[keynum_at(2, RW_ACCESS_DELETE)])
    .doc(
            "sorted-set",
            "7.0.0",
            "Remove and return members with scores in a sorted set or block until one is available",
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
];
