//! Sorted-set commands, part one: writes and point reads — ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE,
//! ZMSCORE, ZRANK, ZREVRANK, ZRANDMEMBER, ZSCAN — plus the helpers the other sorted-set files
//! share. Ranges live in `zset_range.rs`, set algebra in `zset_setops.rs`, pops (blocking ones
//! included) in `zset_pop.rs`. The data structure is `fincache_types::zset::ZSet`.
//!
//! Redis behaviour mirrored here (`t_zset.c`):
//! - arguments are checked before the key is looked at, except where Redis looks first;
//! - reads count keyspace hits and misses and raise `keymiss` (`lookupKeyRead`), writes do not;
//! - a sorted set emptied by a command deletes its key; keyspace events (`zadd`, `zincr`,
//!   `zrem`, `zpopmin`, `zunionstore` …, `new`, `del`) are raised as Redis raises them;
//! - scores are parsed with `strtod` rules (hex floats, `inf`), NaN is refused, and a score
//!   that overflows is `ERR value is not a valid float`;
//! - replies carry scores as doubles (`ctx.out.double`): RESP3 `,`, RESP2 bulk strings in Redis
//!   7.2's shortest form. Member/score pairs are flat in RESP2 and `[member, score]` arrays in
//!   RESP3 where Redis 7 nests them (ZRANGE … WITHSCORES, ZPOPMIN with a count, ZMPOP …);
//! - ZRANK/ZREVRANK take Redis 7.2's WITHSCORE.
//!
//! Locking: each command here locks the one shard of its key.

use super::hash::{random_count, Picks};
use crate::cmd::args;
use crate::cmd::spec::{
    AclCats, BeginSearch, CmdResult, CommandSpec, FindKeys, Flags, KeyFlags, KeySpec,
};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::{Entry, Shard, Value};
use fincache_resp::encode::format_double_into;
use fincache_types::glob_match;
use fincache_types::zset::{AddFlags, AddOutcome, Limits, ZSet};
use fincache_types::zset_range::parse_score;
use rand::Rng;

// ---------------------------------------------------------------------------------------------
// Shared helpers (used by zset_range.rs and zset_setops.rs too)
// ---------------------------------------------------------------------------------------------

/// The listpack thresholds from the configuration (read before any shard is locked).
pub(super) fn limits(ctx: &ExecCtx<'_>) -> Limits {
    let c = ctx.server.config.read();
    Limits {
        max_listpack_entries: c.zset_max_listpack_entries,
        max_listpack_value: c.zset_max_listpack_value,
    }
}

/// Whether an option argument is `name`, compared as Redis compares C strings (the word ends at
/// a NUL byte).
#[inline]
pub(super) fn opt_is(arg: &[u8], name: &str) -> bool {
    let word = match arg.iter().position(|&c| c == 0) {
        Some(end) => &arg[..end],
        None => arg,
    };
    args::is(word, name)
}

/// A score argument (`ERR value is not a valid float`).
pub(super) fn score_arg(arg: &[u8]) -> Result<f64, CmdError> {
    parse_score(arg).ok_or(CmdError::NotFloat)
}

/// Redis's `lookupKeyRead` for a sorted set: the set (expiring the key if due), counting a
/// keyspace hit or miss; WRONGTYPE for another type.
pub(super) fn read_zset<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s ZSet>, CmdError> {
    let found = shard.get(key, ctx.now_ms, ctx.lru);
    if found.is_some() {
        ctx.server.keyspace.hit();
    } else {
        ctx.key_miss(key);
    }
    match found {
        None => Ok(None),
        Some(Entry {
            value: Value::ZSet(z),
            ..
        }) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Redis's `lookupKeyWrite` for a sorted set (no keyspace statistics).
pub(super) fn write_zset<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s mut ZSet>, CmdError> {
    match shard.get_mut(key, ctx.now_ms, ctx.lru) {
        None => Ok(None),
        Some(Entry {
            value: Value::ZSet(z),
            ..
        }) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Deletes `key` if its sorted set is empty (Redis deletes emptied collections), raising the
/// `del` event; `event` (the command's own, e.g. `zrem`) is raised first when `changed`.
pub(super) fn finish_write(
    ctx: &ExecCtx<'_>,
    shard: &mut Shard,
    key: &[u8],
    changed: bool,
    event: &'static str,
) {
    if changed {
        ctx.notify(NotifyClass::Zset, event, key);
    }
    if matches!(shard.peek(key, 0), Some(Entry { value: Value::ZSet(z), .. }) if z.is_empty()) {
        shard.remove(key);
        ctx.notify(NotifyClass::Generic, "del", key);
    }
}

/// Writes `(member, score)` items as Redis's range replies do: members only; or with scores,
/// flat pairs in RESP2 and `[member, score]` arrays in RESP3.
pub(super) fn reply_items<'a>(
    ctx: &mut ExecCtx<'_>,
    items: impl ExactSizeIterator<Item = (&'a [u8], f64)>,
    withscores: bool,
) {
    let n = items.len();
    let resp3 = ctx.out.is_resp3();
    ctx.out
        .array_len(if withscores && !resp3 { n * 2 } else { n });
    for (m, s) in items {
        if withscores && resp3 {
            ctx.out.array_len(2);
        }
        ctx.out.bulk(m);
        if withscores {
            ctx.out.double(s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY
// ---------------------------------------------------------------------------------------------

/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member …]` — the number of
/// members added (with CH: added or changed). With INCR (one pair only) the member's new score,
/// or null when a condition (NX, XX, GT, LT) stopped the update.
fn zadd(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut flags = AddFlags::default();
    let mut ch = false;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if opt_is(a, "NX") {
            flags.nx = true;
        } else if opt_is(a, "XX") {
            flags.xx = true;
        } else if opt_is(a, "CH") {
            ch = true;
        } else if opt_is(a, "INCR") {
            flags.incr = true;
        } else if opt_is(a, "GT") {
            flags.gt = true;
        } else if opt_is(a, "LT") {
            flags.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = &argv[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && pairs.len() > 2 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let scores = pairs
        .chunks_exact(2)
        .map(|p| score_arg(p[0]))
        .collect::<Result<Vec<f64>, _>>()?;
    zadd_apply(ctx, argv[1], pairs, &scores, flags, ch)
}

/// `ZINCRBY key increment member` — the member's new score (the member is added with the
/// increment as its score if missing).
fn zincrby(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let incr = score_arg(argv[2])?;
    let flags = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_apply(ctx, argv[1], &argv[2..4], &[incr], flags, false)
}

/// The shared body of ZADD and ZINCRBY once the arguments are valid (Redis's
/// `zaddGenericCommand` from the key lookup on).
fn zadd_apply(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    pairs: &[&[u8]],
    scores: &[f64],
    flags: AddFlags,
    ch: bool,
) -> CmdResult {
    let limits = limits(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    if write_zset(ctx, &mut shard, key)?.is_none() {
        if flags.xx {
            if flags.incr {
                ctx.out.null();
            } else {
                ctx.out.int(0);
            }
            return Ok(());
        }
        shard.set(key, Value::ZSet(Box::default()), ctx.lru);
        ctx.notify(NotifyClass::New, "new", key);
    }
    let Some(z) = write_zset(ctx, &mut shard, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0);
    let mut last = 0.0;
    let mut nan = false;
    for (pair, &score) in pairs.chunks_exact(2).zip(scores) {
        match z.add(pair[1], score, flags, limits) {
            AddOutcome::Added(s) => {
                added += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Unchanged(s) => {
                processed += 1;
                last = s;
            }
            AddOutcome::Skipped => {}
            AddOutcome::NotANumber => {
                nan = true;
                break;
            }
        }
    }
    let event = if flags.incr { "zincr" } else { "zadd" };
    finish_write(ctx, &mut shard, key, added + updated > 0, event);
    drop(shard);
    if added > 0 {
        // A new member may serve a client blocked in BZPOPMIN/BZMPOP on this key.
        ctx.signal_ready(key);
    }
    if nan {
        return Err(CmdError::err("resulting score is not a number (NaN)"));
    }
    if flags.incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZREM / ZCARD / ZSCORE / ZMSCORE / ZRANK
// ---------------------------------------------------------------------------------------------

/// `ZREM key member [member …]` — the number of members removed.
fn zrem(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(z) = write_zset(ctx, &mut shard, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            removed += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    finish_write(ctx, &mut shard, key, removed > 0, "zrem");
    ctx.out.int(removed);
    Ok(())
}

/// `ZCARD key` — the number of members (0 for a missing key).
fn zcard(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let n = read_zset(ctx, &mut shard, argv[1])?.map_or(0, ZSet::len);
    ctx.out.int(n as i64);
    Ok(())
}

/// `ZSCORE key member` — the member's score, or null.
fn zscore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    match read_zset(ctx, &mut shard, argv[1])?.and_then(|z| z.score(argv[2])) {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `ZMSCORE key member [member …]` — an array with each member's score or null.
fn zmscore(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let z = read_zset(ctx, &mut shard, argv[1])?;
    ctx.out.array_len(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// `ZRANK key member [WITHSCORE]` — the 0-based rank by ascending score, or null; with
/// WITHSCORE `[rank, score]` or a null array. WITHSCORE is Redis 7.2 (7.0 has arity 3).
fn zrank(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, argv, false)
}

/// `ZREVRANK key member [WITHSCORE]` — like ZRANK counting from the highest score.
fn zrevrank(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, argv, true)
}

fn rank_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], rev: bool) -> CmdResult {
    if argv.len() > 4 {
        return Err(CmdError::Syntax);
    }
    let withscore = argv.len() == 4;
    if withscore && !opt_is(argv[3], "WITHSCORE") {
        return Err(CmdError::Syntax);
    }
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let found = read_zset(ctx, &mut shard, argv[1])?
        .and_then(|z| z.rank(argv[2]).map(|(r, s)| (r, s, z.len())));
    match found {
        Some((rank, score, len)) => {
            let rank = if rev { len - 1 - rank } else { rank };
            if withscore {
                ctx.out.array_len(2);
            }
            ctx.out.int(rank as i64);
            if withscore {
                ctx.out.double(score);
            }
        }
        None if withscore => ctx.out.null_array(),
        None => ctx.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER / ZSCAN
// ---------------------------------------------------------------------------------------------

/// `ZRANDMEMBER key [count [WITHSCORES]]` — without count one random member (null for a
/// missing key). A positive count gives that many distinct members (the whole set, highest
/// score first, when count ≥ size); a negative count |count| members that may repeat.
/// WITHSCORES adds scores: RESP2 flat, RESP3 `[member, score]` pairs.
fn zrandmember(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut count = None;
    let mut withscores = false;
    if argv.len() >= 3 {
        let c = random_count(argv[2])?;
        if argv.len() > 4 || (argv.len() == 4 && !opt_is(argv[3], "WITHSCORES")) {
            return Err(CmdError::Syntax);
        }
        if argv.len() == 4 {
            withscores = true;
            if c.magnitude > (i64::MAX / 2) as u64 {
                return Err(CmdError::err("value is out of range"));
            }
        }
        count = Some(c);
    }
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let z = read_zset(ctx, &mut shard, argv[1])?;
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        match z {
            Some(z) if !z.is_empty() => {
                let r = rng.gen_range(0..z.len());
                let (m, _) = z.get(r).unwrap_or_default();
                ctx.out.bulk(m);
            }
            _ => ctx.out.null(),
        }
        return Ok(());
    };
    let Some(z) = z else {
        ctx.out.array_len(0);
        return Ok(());
    };
    let picks = count.pick(z.len(), &mut rng)?;
    let sampler = z.sampler();
    let resp3 = ctx.out.is_resp3();
    let n = picks.len();
    ctx.out
        .array_len(if withscores && !resp3 { n * 2 } else { n });
    // The whole set comes highest score first, as Redis's reverse iterator walks it.
    let ranks: Box<dyn Iterator<Item = usize>> = match &picks {
        Picks::All(size) => Box::new((0..*size).rev()),
        Picks::Some(v) => Box::new(v.iter().copied()),
    };
    for r in ranks {
        let (m, s) = sampler.get(r).unwrap_or_default();
        if withscores && resp3 {
            ctx.out.array_len(2);
        }
        ctx.out.bulk(m);
        if withscores {
            ctx.out.double(s);
        }
    }
    Ok(())
}

/// Parses a SCAN cursor as Redis's `strtoul`-based `parseScanCursorOrReply`.
fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::err("invalid cursor");
    let arg = match arg.iter().position(|&b| b == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    };
    if arg.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]` — `[next-cursor, [member, score, …]]`.
/// A listpack set comes whole with cursor 0; a large set is walked by hash-table buckets in
/// Redis's reverse-binary cursor order, COUNT (default 10) members per call (at most 10×COUNT
/// buckets). Scores are bulk strings in both protocols, as Redis sends them.
///
/// COMPAT: Redis's guarantee (a member present for the whole scan is returned) holds here while
/// the table keeps its size; a member moved by a resize of the open-addressing table during the
/// scan can be missed, where Redis's chained table never misses one.
fn zscan(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2])?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(z) = read_zset(ctx, &mut shard, argv[1])? else {
        ctx.out.array_len(2);
        ctx.out.bulk(b"0");
        ctx.out.array_len(0);
        return Ok(());
    };
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if opt_is(argv[i], "COUNT") && has_value {
            let n = args::int(argv[i + 1])?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if opt_is(argv[i], "MATCH") && has_value {
            pattern = (argv[i + 1] != b"*").then_some(argv[i + 1]);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            found.push((m, s));
        }
    });
    ctx.out.array_len(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array_len(found.len() * 2);
    let mut buf = [0u8; 40];
    for (m, s) in found {
        ctx.out.bulk(m);
        let n = format_double_into(s, &mut buf);
        ctx.out.bulk(&buf[..n]);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

pub(super) const ZS: AclCats = AclCats::SORTEDSET;
pub(super) const R: Flags = Flags::READONLY;
pub(super) const RF: Flags = Flags::READONLY.or(Flags::FAST);
pub(super) const WF: Flags = Flags::WRITE.or(Flags::FAST);
pub(super) const WDF: Flags = Flags::WRITE.or(Flags::DENYOOM).or(Flags::FAST);
pub(super) const RO: KeyFlags = KeyFlags::RO;
pub(super) const RW_ACCESS_DELETE: KeyFlags =
    KeyFlags::RW.or(KeyFlags::ACCESS).or(KeyFlags::DELETE);
pub(super) const RO_ACCESS: KeyFlags = KeyFlags::RO.or(KeyFlags::ACCESS);
const RANDOM_TIP: &[&str] = &["nondeterministic_output"];

/// A key spec for a `numkeys key [key …]` run whose count is at argument `index`.
pub(super) const fn keynum_at(index: i32, flags: KeyFlags) -> KeySpec {
    KeySpec {
        flags,
        begin: BeginSearch::Index(index),
        find: FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            keystep: 1,
        },
    }
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, WDF, ZS, zadd)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::UPDATE))
        .doc(
            "sorted-set",
            "1.2.0",
            "Add one or more members to a sorted set, or update its score if it already exists",
            "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        ),
    CommandSpec::new("zincrby", 4, WDF, ZS, zincrby)
        .keys(1, 1, 1)
        .doc(
            "sorted-set",
            "1.2.0",
            "Increment the score of a member in a sorted set",
            "O(log(N)) where N is the number of elements in the sorted set.",
        ),
    CommandSpec::new("zrem", -3, WF, ZS, zrem)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::DELETE))
        .doc(
            "sorted-set",
            "1.2.0",
            "Remove one or more members from a sorted set",
            "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        ),
    CommandSpec::new("zcard", 2, RF, ZS, zcard)
        .keys(1, 1, 1)
        .key_flags(RO)
        .doc(
            "sorted-set",
            "1.2.0",
            "Get the number of members in a sorted set",
            "O(1)",
        ),
    CommandSpec::new("zscore", 3, RF, ZS, zscore)
        .keys(1, 1, 1)
        .doc(
            "sorted-set",
            "1.2.0",
            "Get the score associated with the given member in a sorted set",
            "O(1)",
        ),
    CommandSpec::new("zmscore", -3, RF, ZS, zmscore)
        .keys(1, 1, 1)
        .doc(
            "sorted-set",
            "6.2.0",
            "Get the score associated with the given members in a sorted set",
            "O(N) where N is the number of members being requested.",
        ),
    // COMPAT: arity -3 (Redis 7.2, WITHSCORE); Redis 7.0 has 3.
    CommandSpec::new("zrank", -3, RF, ZS, zrank)
        .keys(1, 1, 1)
        .doc(
            "sorted-set",
            "2.0.0",
            "Determine the index of a member in a sorted set",
            "O(log(N))",
        ),
    CommandSpec::new("zrevrank", -3, RF, ZS, zrevrank)
        .keys(1, 1, 1)
        .doc(
            "sorted-set",
            "2.0.0",
            "Determine the index of a member in a sorted set, with scores ordered from high to low",
            "O(log(N))",
        ),
    CommandSpec::new("zrandmember", -2, R, ZS, zrandmember)
        .keys(1, 1, 1)
        .tips(RANDOM_TIP)
        .doc(
            "sorted-set",
            "6.2.0",
            "Get one or multiple random elements from a sorted set",
            "O(N) where N is the number of elements returned",
        ),
    CommandSpec::new("zscan", -3, R, ZS, zscan)
        .keys(1, 1, 1)
        .tips(RANDOM_TIP)
        .doc(
            "sorted-set",
            "2.8.0",
            "Incrementally iterate sorted sets elements and associated scores",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        ),
];
