//! Sorted-set commands, part two: ranges — ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES),
//! ZRANGESTORE, the older ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX and
//! ZREVRANGE, plus ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX.
//!
//! Every range becomes a run of ranks first (`ZSet::score_range_ranks`, `lex_range_ranks`: two
//! O(log n) searches), which is then walked (O(m)) or removed. Option parsing follows Redis's
//! `zrangeGenericCommand` word for word: options in any order, `LIMIT` only with two more
//! arguments, REV/BYSCORE/BYLEX only for ZRANGE and ZRANGESTORE, WITHSCORES not for
//! ZRANGESTORE; then the LIMIT and WITHSCORES conflicts; then the range itself.

use super::zset::{
    finish_write, limits, opt_is, read_zset, reply_items, write_zset, R, RO_ACCESS, ZS,
};
use crate::cmd::args;
use crate::cmd::spec::{BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::Value;
use fincache_types::zset::{Limits, ZSet};
use fincache_types::zset_range::{LexRange, ScoreRange};
use fincache_types::CompactBytes;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

/// A parsed range of any kind.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// The ascending ranks `[lo, lo + count)` a range selects once LIMIT is applied, and whether
/// they are walked downwards. `offset`/`limit` follow Redis: a negative offset selects
/// nothing, a negative limit means no limit.
fn select(z: &ZSet, range: &Range, rev: bool, offset: i64, limit: i64) -> (usize, usize, bool) {
    let len = z.len();
    let (lo, hi) = match range {
        Range::Rank(start, end) => {
            let llen = len as i64;
            let mut start = if *start < 0 { llen + start } else { *start };
            let mut end = if *end < 0 { llen + end } else { *end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= llen {
                return (0, 0, rev);
            }
            if end >= llen {
                end = llen - 1;
            }
            // Rank ranges count from the top when reversed.
            let (s, e) = (start as usize, end as usize);
            if rev {
                (len - 1 - e, len - s)
            } else {
                (s, e + 1)
            }
        }
        Range::Score(r) => z.score_range_ranks(r),
        Range::Lex(r) => z.lex_range_ranks(r),
    };
    if matches!(range, Range::Rank(..)) {
        return (lo, hi - lo, rev);
    }
    if offset < 0 || (offset > 0 && offset as u64 >= len as u64) {
        return (0, 0, rev);
    }
    let in_range = hi - lo;
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let avail = in_range.saturating_sub(skip);
    let take = if limit < 0 {
        avail
    } else {
        avail.min(usize::try_from(limit).unwrap_or(usize::MAX))
    };
    if rev {
        // Walk down from hi - 1 - skip: the ascending run is [hi - skip - take, hi - skip).
        (hi - skip.min(in_range) - take, take, true)
    } else {
        (lo + skip.min(in_range), take, false)
    }
}

/// Redis's `zrangeGenericCommand`. `first` is the index of the source key; `dst` is the
/// destination for ZRANGESTORE.
fn zrange_generic(
    ctx: &mut ExecCtx<'_>,
    argv: &[&[u8]],
    first: usize,
    dst: Option<&[u8]>,
    mut kind: Kind,
    mut dir: Dir,
) -> CmdResult {
    let store = dst.is_some();
    let key = argv[first];
    let (mut min_idx, mut max_idx) = (first + 1, first + 2);
    let mut withscores = false;
    let mut offset = 0i64;
    let mut limit = -1i64;
    let mut j = first + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = argv[j];
        if !store && opt_is(a, "WITHSCORES") {
            withscores = true;
        } else if opt_is(a, "LIMIT") && left >= 2 {
            offset = args::int(argv[j + 1])?;
            limit = args::int(argv[j + 2])?;
            j += 2;
        } else if dir == Dir::Auto && opt_is(a, "REV") {
            dir = Dir::Reverse;
        } else if kind == Kind::Auto && opt_is(a, "BYLEX") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && opt_is(a, "BYSCORE") {
            kind = Kind::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    let rev = dir == Dir::Reverse;
    if limit != -1 && kind == Kind::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && kind != Kind::Rank {
        // Reversed score and lex ranges are given as max, min.
        std::mem::swap(&mut min_idx, &mut max_idx);
    }
    let range = match kind {
        Kind::Score => Range::Score(
            ScoreRange::parse(argv[min_idx], argv[max_idx])
                .ok_or_else(|| CmdError::err("min or max is not a float"))?,
        ),
        Kind::Lex => Range::Lex(
            LexRange::parse(argv[min_idx], argv[max_idx])
                .ok_or_else(|| CmdError::err("min or max not valid string range item"))?,
        ),
        _ => Range::Rank(args::int(argv[min_idx])?, args::int(argv[max_idx])?),
    };
    match dst {
        None => {
            let db = ctx.db();
            let mut shard = db.lock(key);
            let Some(z) = read_zset(ctx, &mut shard, key)? else {
                ctx.out.array_len(0);
                return Ok(());
            };
            let (lo, count, rev) = select(z, &range, rev, offset, limit);
            let start = if rev {
                lo + count.saturating_sub(1)
            } else {
                lo
            };
            reply_items(ctx, z.range(start, count, rev), withscores);
            Ok(())
        }
        Some(dst) => {
            let limits = limits(ctx);
            let db = ctx.db();
            let mut shards = db.lock_many([dst, key]);
            // Redis builds the destination by adding the members in the order it walks them,
            // to a set created for the known length (rank ranges) or empty (score and lex
            // ranges); which members a listpack stored before a conversion shows in their -0.
            let mut hint = 0;
            let items: Vec<(CompactBytes, f64)> = match read_zset(ctx, shards.shard(key), key)? {
                None => Vec::new(),
                Some(z) => {
                    let (lo, count, rev) = select(z, &range, rev, offset, limit);
                    if matches!(range, Range::Rank(..)) {
                        hint = count;
                    }
                    let start = if rev {
                        lo + count.saturating_sub(1)
                    } else {
                        lo
                    };
                    z.range(start, count, rev)
                        .map(|(m, s)| (CompactBytes::new(m), s))
                        .collect()
                }
            };
            let hint = SizeHint {
                members: hint,
                max_len: 0,
            };
            let n = store_items(
                ctx,
                shards.shard(dst),
                dst,
                &items,
                hint,
                limits,
                "zrangestore",
            );
            drop(shards);
            if n > 0 {
                ctx.signal_ready(dst);
            }
            ctx.out.int(n as i64);
            Ok(())
        }
    }
}

/// Redis's `zsetTypeCreate` hints for a set about to be built.
#[derive(Clone, Copy)]
pub(super) struct SizeHint {
    pub members: usize,
    pub max_len: usize,
}

/// Stores `(member, score)` items (distinct members) as the sorted set at `dst`, replacing
/// whatever is there, TTL included, or deletes `dst` when there are none; raises `new`,
/// `event` or `del` as Redis's `setKey`/`dbDelete` callers do. The set starts in the encoding
/// Redis's `zsetTypeCreate` picks for `hint` and takes the items in the order given,
/// converting as `zsetAdd` would. Returns the number stored.
pub(super) fn store_items(
    ctx: &ExecCtx<'_>,
    shard: &mut crate::store::Shard,
    dst: &[u8],
    items: &[(CompactBytes, f64)],
    hint: SizeHint,
    limits: Limits,
    event: &'static str,
) -> usize {
    let existed = shard.contains(dst, ctx.now_ms);
    if items.is_empty() {
        if existed {
            shard.remove(dst);
            ctx.notify(NotifyClass::Generic, "del", dst);
        }
        return 0;
    }
    let mut z = ZSet::with_hint(hint.members, hint.max_len, limits);
    for (m, s) in items {
        z.insert_new(m, *s, limits);
    }
    shard.set(dst, Value::ZSet(Box::new(z)), ctx.lru);
    if !existed {
        ctx.notify(NotifyClass::New, "new", dst);
    }
    ctx.notify(NotifyClass::Zset, event, dst);
    items.len()
}

/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` — the
/// members in the range (by rank, score or lex), optionally with scores.
fn zrange(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Auto, Dir::Auto)
}

/// `ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]` — stores the
/// range in `dst` (deleting it when empty); the number of members stored.
fn zrangestore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 2, Some(argv[1]), Kind::Auto, Dir::Auto)
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`.
fn zrangebyscore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Score, Dir::Forward)
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`.
fn zrevrangebyscore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Score, Dir::Reverse)
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`.
fn zrangebylex(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Lex, Dir::Forward)
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`.
fn zrevrangebylex(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Lex, Dir::Reverse)
}

/// `ZREVRANGE key start stop [WITHSCORES]` — ranks counted from the highest score.
fn zrevrange(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, argv, 1, None, Kind::Rank, Dir::Reverse)
}

/// `ZCOUNT key min max` — the number of members with a score in the range.
fn zcount(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = ScoreRange::parse(argv[2], argv[3])
        .ok_or_else(|| CmdError::err("min or max is not a float"))?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let n = read_zset(ctx, &mut shard, argv[1])?.map_or(0, |z| {
        let (lo, hi) = z.score_range_ranks(&range);
        hi - lo
    });
    ctx.out.int(n as i64);
    Ok(())
}

/// `ZLEXCOUNT key min max` — the number of members in the lexical range.
fn zlexcount(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = LexRange::parse(argv[2], argv[3])
        .ok_or_else(|| CmdError::err("min or max not valid string range item"))?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let n = read_zset(ctx, &mut shard, argv[1])?.map_or(0, |z| {
        let (lo, hi) = z.lex_range_ranks(&range);
        hi - lo
    });
    ctx.out.int(n as i64);
    Ok(())
}

/// The ZREMRANGEBY* body once the range is parsed.
fn zremrange(ctx: &mut ExecCtx<'_>, key: &[u8], range: Range) -> CmdResult {
    let event = match range {
        Range::Rank(..) => "zremrangebyrank",
        Range::Score(_) => "zremrangebyscore",
        Range::Lex(_) => "zremrangebylex",
    };
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(z) = write_zset(ctx, &mut shard, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (lo, count, _) = select(z, &range, false, 0, -1);
    let removed = z.remove_ranks(lo, count);
    finish_write(ctx, &mut shard, key, removed > 0, event);
    ctx.out.int(removed as i64);
    Ok(())
}

/// `ZREMRANGEBYRANK key start stop` — removes the members ranked `start..=stop` (negative
/// ranks count from the end); the number removed.
fn zremrangebyrank(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = Range::Rank(args::int(argv[2])?, args::int(argv[3])?);
    zremrange(ctx, argv[1], range)
}

/// `ZREMRANGEBYSCORE key min max` — removes the members with a score in the range.
fn zremrangebyscore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = ScoreRange::parse(argv[2], argv[3])
        .ok_or_else(|| CmdError::err("min or max is not a float"))?;
    zremrange(ctx, argv[1], Range::Score(range))
}

/// `ZREMRANGEBYLEX key min max` — removes the members in the lexical range.
fn zremrangebylex(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let range = LexRange::parse(argv[2], argv[3])
        .ok_or_else(|| CmdError::err("min or max not valid string range item"))?;
    zremrange(ctx, argv[1], Range::Lex(range))
}

const RF: Flags = Flags::READONLY.or(Flags::FAST);
const W: Flags = Flags::WRITE;
const RW_DELETE: KeyFlags = KeyFlags::RW.or(KeyFlags::DELETE);

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zrange", -4, R, ZS, zrange).keys(1, 1, 1).doc(
            "sorted-set",
            "1.2.0",
            "Return a range of members in a sorted set",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ),
    CommandSpec::new("zrangestore", -5, W.or(Flags::DENYOOM), ZS, zrangestore)
        .keys(1, 2, 1)
        .key_specs(&[
            KeySpec {
                flags: KeyFlags::OW.or(KeyFlags::UPDATE),
                begin: BeginSearch::Index(1),
                find: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
            },
            KeySpec {
                flags: RO_ACCESS,
                begin: BeginSearch::Index(2),
                find: FindKeys::Range {
                    lastkey: 0,
                    keystep: 1,
                    limit: 0,
                },
            },
        ])
        .doc(
            "sorted-set",
            "6.2.0",
            "Store a range of members from sorted set into another key",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        ),
    CommandSpec::new("zrangebyscore", -4, R, ZS, zrangebyscore).keys(1, 1, 1).doc(
            "sorted-set",
            "1.0.5",
            "Return a range of members in a sorted set, by score",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    CommandSpec::new("zrevrangebyscore", -4, R, ZS, zrevrangebyscore).keys(1, 1, 1).doc(
            "sorted-set",
            "2.2.0",
            "Return a range of members in a sorted set, by score, with scores ordered from high to low",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    CommandSpec::new("zrangebylex", -4, R, ZS, zrangebylex).keys(1, 1, 1).doc(
            "sorted-set",
            "2.8.9",
            "Return a range of members in a sorted set, by lexicographical range",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    CommandSpec::new("zrevrangebylex", -4, R, ZS, zrevrangebylex).keys(1, 1, 1).doc(
            "sorted-set",
            "2.8.9",
            "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    CommandSpec::new("zrevrange", -4, R, ZS, zrevrange).keys(1, 1, 1).doc(
            "sorted-set",
            "1.2.0",
            "Return a range of members in a sorted set, by index, with scores ordered from high to low",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ),
    CommandSpec::new("zcount", 4, RF, ZS, zcount).keys(1, 1, 1).doc(
            "sorted-set",
            "2.0.0",
            "Count the members in a sorted set with scores within the given values",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    CommandSpec::new("zlexcount", 4, RF, ZS, zlexcount).keys(1, 1, 1).doc(
            "sorted-set",
            "2.8.9",
            "Count the number of members in a sorted set between a given lexicographical range",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    CommandSpec::new("zremrangebyrank", 4, W, ZS, zremrangebyrank)
        .keys(1, 1, 1)
        .key_flags(RW_DELETE)
        .doc(
            "sorted-set",
            "2.0.0",
            "Remove all members in a sorted set within the given indexes",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ),
    CommandSpec::new("zremrangebyscore", 4, W, ZS, zremrangebyscore)
        .keys(1, 1, 1)
        .key_flags(RW_DELETE)
        .doc(
            "sorted-set",
            "1.2.0",
            "Remove all members in a sorted set within the given scores",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ),
    CommandSpec::new("zremrangebylex", 4, W, ZS, zremrangebylex)
        .keys(1, 1, 1)
        .key_flags(RW_DELETE)
        .doc(
            "sorted-set",
            "2.8.9",
            "Remove all members in a sorted set between the given lexicographical range",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ),
];
