//! Sorted-set commands, part three: set algebra — ZUNION, ZINTER, ZDIFF, their STORE forms and
//! ZINTERCARD (Redis's `zunionInterDiffGenericCommand`).
//!
//! Inputs may be sorted sets or plain sets (each member scoring 1), multiplied by WEIGHTS and
//! combined with AGGREGATE SUM (default), MIN or MAX. As in Redis: the source keys are looked
//! up (and type-checked) before the options are parsed; union and intersection visit the
//! inputs from the smallest to the largest; a product or sum that is NaN (`inf * 0`,
//! `inf + -inf`) counts as 0; the result is ordered by score, then member.
//!
//! Locking: every key named (sources and destination) is locked at once with `Db::lock_many`
//! (ORDER: ascending shard index); the sources are then read through shared views of those
//! shards, so an intersection looks members up in place instead of copying sets.

use super::zset::{keynum_at, opt_is, reply_items, score_arg, RO_ACCESS, ZS};
use super::zset_range::{store_items, SizeHint};
use crate::cmd::args;
use crate::cmd::spec::{BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec};
use crate::cmd::{CmdError, ExecCtx};
use crate::store::{Db, Entry, Shard, ShardSet, Value, SHARDS_PER_DB};
use fincache_types::set::{Member, SetValue};
use fincache_types::zset::ZSet;
use fincache_types::zset_tree::cmp_key;
use fincache_types::CompactBytes;
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`.
    #[inline]
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

/// One input: a sorted set, a set (members score 1), or nothing (a missing key).
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    Sorted(&'a ZSet),
    Plain(&'a SetValue),
}

impl<'a> Source<'a> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::Sorted(z) => z.len(),
            Source::Plain(s) => s.len(),
        }
    }

    /// The member's score in this input (1 for a set member).
    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::Sorted(z) => z.score(member),
            Source::Plain(s) => s.contains(Member::Bytes(member)).then_some(1.0),
        }
    }

    /// Calls `f` with every member and score.
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::Missing => {}
            Source::Sorted(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Source::Plain(s) => {
                let mut buf = itoa::Buffer::new();
                for m in s.iter() {
                    f(m.as_bytes(&mut buf), 1.0);
                }
            }
        }
    }

    /// Whether two inputs are the same stored value (a key named twice).
    fn same_as(&self, other: &Source<'_>) -> bool {
        match (self, other) {
            (Source::Sorted(a), Source::Sorted(b)) => std::ptr::eq(*a, *b),
            (Source::Plain(a), Source::Plain(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

/// Shared views of the shards a `ShardSet` holds, by key. `keys` must be the list the set was
/// locked with, so the locked shards are exactly the ones these keys map to.
fn shard_views<'a>(set: &'a ShardSet<'_>, keys: &[&[u8]]) -> [Option<&'a Shard>; SHARDS_PER_DB] {
    let mut wanted = [false; SHARDS_PER_DB];
    for k in keys {
        wanted[Db::shard_index(k)] = true;
    }
    let mut locked = set.iter();
    let mut views = [None; SHARDS_PER_DB];
    for (i, w) in wanted.iter().enumerate() {
        if *w {
            views[i] = locked.next();
        }
    }
    views
}

/// What the command computes.
enum Output {
    /// Reply with the members (and scores with WITHSCORES).
    Reply,
    /// Store in this key; reply with the count.
    Store(Vec<u8>),
    /// ZINTERCARD: count, stopping at this limit (0 = none).
    Cardinality,
}

/// The combined members and scores, unordered.
fn compute(
    op: Op,
    sources: &mut [(Source<'_>, f64)],
    aggregate: Aggregate,
) -> HashMap<CompactBytes, f64, foldhash::fast::RandomState> {
    let mut acc: HashMap<CompactBytes, f64, foldhash::fast::RandomState> = HashMap::default();
    match op {
        Op::Union => {
            // ORDER: smallest input first (a stable sort; Redis uses qsort).
            sources.sort_by_key(|(s, _)| s.len());
            for (src, weight) in sources.iter() {
                src.for_each(|m, s| {
                    let mut score = weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate.apply(t, score),
                        None => {
                            acc.insert(CompactBytes::new(m), score);
                        }
                    }
                });
            }
        }
        Op::Inter => {
            sources.sort_by_key(|(s, _)| s.len());
            let (first, w0) = sources[0];
            first.for_each(|m, s| {
                let mut score = w0 * s;
                if score.is_nan() {
                    score = 0.0;
                }
                for (other, w) in sources[1..].iter() {
                    let value = if other.same_as(&first) {
                        Some(s * w)
                    } else {
                        other.score(m).map(|v| v * w)
                    };
                    match value {
                        Some(v) => aggregate.apply(&mut score, v),
                        None => return,
                    }
                }
                acc.insert(CompactBytes::new(m), score);
            });
        }
        Op::Diff => {
            let (first, _) = sources[0];
            first.for_each(|m, s| {
                let in_other = sources[1..]
                    .iter()
                    .any(|(o, _)| o.same_as(&first) || o.score(m).is_some());
                if !in_other {
                    acc.insert(CompactBytes::new(m), s);
                }
            });
        }
    }
    acc
}

/// ZINTERCARD's count: members of the intersection, stopping at `limit` (0 = no limit).
fn intersection_size(sources: &mut [(Source<'_>, f64)], limit: usize) -> usize {
    sources.sort_by_key(|(s, _)| s.len());
    let first = sources[0].0;
    let mut n = 0;
    first.for_each(|m, _| {
        if limit != 0 && n >= limit {
            return;
        }
        if sources[1..]
            .iter()
            .all(|(o, _)| o.same_as(&first) || o.score(m).is_some())
        {
            n += 1;
        }
    });
    n
}

/// Redis's `zunionInterDiffGenericCommand`: `numkeys` is at `argv[numkeys_at]`.
fn setop_generic(
    ctx: &mut ExecCtx<'_>,
    argv: &[&[u8]],
    numkeys_at: usize,
    op: Op,
    output: Output,
) -> CmdResult {
    let setnum = args::int(argv[numkeys_at])?;
    if setnum < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{}' command",
            args::lower(argv[0])
        )));
    }
    let first_key = numkeys_at + 1;
    if setnum > (argv.len() - first_key) as i64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &argv[first_key..first_key + setnum];
    let store = matches!(output, Output::Store(_));
    let cardinality_only = matches!(output, Output::Cardinality);
    let limits = super::zset::limits(ctx);
    let mut lock_keys: Vec<&[u8]> = keys.to_vec();
    if let Output::Store(dst) = &output {
        lock_keys.push(dst);
    }
    let db = ctx.db();
    let mut shards = db.lock_many(lock_keys.iter().copied());
    // Look the inputs up first (expiring, counting, type-checking), as Redis does before it
    // reads the options.
    for key in keys {
        let shard = shards.shard(key);
        // Redis's `lookupKeyRead`, store forms included: hits, misses and `keymiss` count.
        let found = shard.get(key, ctx.now_ms, ctx.lru);
        if found.is_some() {
            ctx.server.keyspace.hit();
        } else {
            ctx.key_miss(key);
        }
        if let Some(e) = found {
            if !matches!(e.value, Value::ZSet(_) | Value::Set(_)) {
                return Err(CmdError::WrongType);
            }
        }
    }
    // Options.
    let mut weights = vec![1.0; setnum];
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = first_key + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = argv[j];
        if op != Op::Diff && !cardinality_only && remaining > setnum && opt_is(a, "WEIGHTS") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = score_arg(argv[j + 1 + i])
                    .map_err(|_| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != Op::Diff && !cardinality_only && remaining >= 2 && opt_is(a, "AGGREGATE") {
            let v = argv[j + 1];
            aggregate = if opt_is(v, "SUM") {
                Aggregate::Sum
            } else if opt_is(v, "MIN") {
                Aggregate::Min
            } else if opt_is(v, "MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if !store && !cardinality_only && opt_is(a, "WITHSCORES") {
            withscores = true;
            j += 1;
        } else if cardinality_only && remaining >= 2 && opt_is(a, "LIMIT") {
            let n = args::int(argv[j + 1])
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // Compute over shared views of the locked shards.
    let views = shard_views(&shards, &lock_keys);
    let mut sources: Vec<(Source<'_>, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(k, w)| {
            let src = match views[Db::shard_index(k)].and_then(|s| s.peek(k, ctx.now_ms)) {
                Some(Entry {
                    value: Value::ZSet(z),
                    ..
                }) => Source::Sorted(z),
                Some(Entry {
                    value: Value::Set(s),
                    ..
                }) => Source::Plain(s),
                _ => Source::Missing,
            };
            (src, *w)
        })
        .collect();
    if cardinality_only {
        let n = intersection_size(&mut sources, limit);
        ctx.out.int(n as i64);
        return Ok(());
    }
    let acc = compute(op, &mut sources, aggregate);
    let mut items: Vec<(CompactBytes, f64)> = acc.into_iter().collect();
    items.sort_unstable_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
    match output {
        Output::Store(dst) => {
            // Redis builds the result as a skiplist and converts it to a listpack when it fits.
            let max_len = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
            let event = match op {
                Op::Union => "zunionstore",
                Op::Inter => "zinterstore",
                Op::Diff => "zdiffstore",
            };
            let hint = SizeHint {
                members: items.len(),
                max_len,
            };
            let n = store_items(ctx, shards.shard(&dst), &dst, &items, hint, limits, event);
            drop(shards);
            if n > 0 {
                ctx.signal_ready(&dst);
            }
            ctx.out.int(n as i64);
        }
        _ => reply_items(
            ctx,
            items.iter().map(|(m, s)| (m.as_slice(), *s)),
            withscores,
        ),
    }
    Ok(())
}

/// `ZUNION numkeys key [key …] [WEIGHTS weight …] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]` —
/// the union of the inputs, ordered by score.
fn zunion(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, 1, Op::Union, Output::Reply)
}

/// `ZINTER numkeys key [key …] [WEIGHTS weight …] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]` —
/// the members present in every input.
fn zinter(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, 1, Op::Inter, Output::Reply)
}

/// `ZDIFF numkeys key [key …] [WITHSCORES]` — the members of the first input in no other.
fn zdiff(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, 1, Op::Diff, Output::Reply)
}

/// `ZUNIONSTORE destination numkeys key [key …] [WEIGHTS …] [AGGREGATE …]` — stores the union
/// (deleting `destination` when it is empty); its size.
fn zunionstore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, 2, Op::Union, Output::Store(argv[1].to_vec()))
}

/// `ZINTERSTORE destination numkeys key [key …] [WEIGHTS …] [AGGREGATE …]`.
fn zinterstore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, 2, Op::Inter, Output::Store(argv[1].to_vec()))
}

/// `ZDIFFSTORE destination numkeys key [key …]`.
fn zdiffstore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, 2, Op::Diff, Output::Store(argv[1].to_vec()))
}

/// `ZINTERCARD numkeys key [key …] [LIMIT limit]` — the size of the intersection, counting
/// at most `limit` members when LIMIT is above 0.
fn zintercard(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, argv, 1, Op::Inter, Output::Cardinality)
}

const R_MOVABLE: Flags = Flags::READONLY.or(Flags::MOVABLE_KEYS);
const WD_MOVABLE: Flags = Flags::WRITE.or(Flags::DENYOOM).or(Flags::MOVABLE_KEYS);
const SOURCES: &[KeySpec] = &[keynum_at(1, RO_ACCESS)];
const DST_AND_SOURCES: &[KeySpec] = &[
    KeySpec {
        flags: KeyFlags::OW.or(KeyFlags::UPDATE),
        begin: BeginSearch::Index(1),
        find: FindKeys::Range {
            lastkey: 0,
            keystep: 1,
            limit: 0,
        },
    },
    keynum_at(2, RO_ACCESS),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zunion", -3, R_MOVABLE, ZS, zunion)
        .key_specs(SOURCES)
        .doc(
            "sorted-set",
            "6.2.0",
            "Add multiple sorted sets",
            "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        ),
    CommandSpec::new("zinter", -3, R_MOVABLE, ZS, zinter)
        .key_specs(SOURCES)
        .doc(
            "sorted-set",
            "6.2.0",
            "Intersect multiple sorted sets",
            "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        ),
    CommandSpec::new("zdiff", -3, R_MOVABLE, ZS, zdiff)
        .key_specs(SOURCES)
        .doc(
            "sorted-set",
            "6.2.0",
            "Subtract multiple sorted sets",
            "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        ),
    CommandSpec::new("zunionstore", -4, WD_MOVABLE, ZS, zunionstore)
        .keys(1, 1, 1)
        .key_specs(DST_AND_SOURCES)
        .doc(
            "sorted-set",
            "2.0.0",
            "Add multiple sorted sets and store the resulting sorted set in a new key",
            "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        ),
    CommandSpec::new("zinterstore", -4, WD_MOVABLE, ZS, zinterstore)
        .keys(1, 1, 1)
        .key_specs(DST_AND_SOURCES)
        .doc(
            "sorted-set",
            "2.0.0",
            "Intersect multiple sorted sets and store the resulting sorted set in a new key",
            "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        ),
    CommandSpec::new("zdiffstore", -4, WD_MOVABLE, ZS, zdiffstore)
        .keys(1, 1, 1)
        .key_specs(DST_AND_SOURCES)
        .doc(
            "sorted-set",
            "6.2.0",
            "Subtract multiple sorted sets and store the resulting sorted set in a new key",
            "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        ),
    CommandSpec::new("zintercard", -3, R_MOVABLE, ZS, zintercard)
        .key_specs(SOURCES)
        .doc(
            "sorted-set",
            "7.0.0",
            "Intersect multiple sorted sets and return the cardinality of the result",
            "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        ),
];
