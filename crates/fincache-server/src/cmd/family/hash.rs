//! Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS,
//! HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD and HSCAN, as Redis 7.2's `t_hash.c` behaves.
//!
//! Values live in `store::Value::Hash` ([`HashValue`]: listpack or hash table, converted at
//! `hash-max-listpack-entries` / `hash-max-listpack-value`, read from the config before the
//! shard is locked).
//!
//! Redis behaviour mirrored here:
//! - reads (HGET, HMGET, HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS, HGETALL, HRANDFIELD, HSCAN) count
//!   keyspace hits and misses; writes do not (`lookupKeyRead` vs `lookupKeyWrite`);
//! - argument errors come before the key is looked at (HSET's odd arity, HINCRBY's increment,
//!   HRANDFIELD's count), except HSCAN, which checks its cursor, then the key (a missing key
//!   replies `0 []` whatever the options), then its options;
//! - a write keeps the key's TTL; a hash emptied by HDEL is deleted;
//! - a small (listpack) hash lists its fields in insertion order, as Redis does; HSCAN returns
//!   it whole with cursor 0.
//!
//! This file also holds the helpers the set family shares (read lookups, SCAN options, random
//! counts): see the last section.

use crate::cmd::args;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::{Entry, Shard, Value};
use fincache_resp::ReplyEncoder;
use fincache_types::hash::{HashLimits, HashValue, Pair};
use fincache_types::longdouble::LongDouble;
use fincache_types::packed::Entry as Element;
use fincache_types::{glob_match, scan};
use rand::Rng;

/// The encoding thresholds, copied out of the config before any shard is locked.
fn hash_limits(ctx: &ExecCtx<'_>) -> HashLimits {
    let c = ctx.server.config.read();
    HashLimits {
        max_listpack_entries: c.hash_max_listpack_entries,
        max_listpack_value: c.hash_max_listpack_value,
    }
}

/// The hash at `key` for reading (counting a keyspace hit or miss): `None` if missing,
/// WRONGTYPE if another type.
fn read_hash<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s HashValue>, CmdError> {
    match ctx.read_lookup(shard, key) {
        None => Ok(None),
        Some(Entry {
            value: Value::Hash(h),
            ..
        }) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The hash at `key` for writing (no keyspace statistics): `None` if missing.
fn write_hash<'s>(
    ctx: &ExecCtx<'_>,
    shard: &'s mut Shard,
    key: &[u8],
) -> Result<Option<&'s mut HashValue>, CmdError> {
    match shard.get_mut(key, ctx.now_ms, ctx.lru) {
        None => Ok(None),
        Some(Entry {
            value: Value::Hash(h),
            ..
        }) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Sets every field/value pair of `pairs` in the hash at `key`, creating it if missing.
/// Returns how many fields were new.
fn set_pairs(ctx: &ExecCtx<'_>, key: &[u8], pairs: &[&[u8]]) -> Result<i64, CmdError> {
    let limits = hash_limits(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let mut created = HashValue::new();
    let hash = match write_hash(ctx, &mut shard, key)? {
        Some(h) => h,
        None => &mut created,
    };
    hash.prepare_for(pairs, &limits);
    let mut added = 0;
    for pair in pairs.chunks_exact(2) {
        if hash.set(pair[0], pair[1], &limits) {
            added += 1;
        }
    }
    let is_new = !created.is_empty();
    if is_new {
        shard.set(key, Value::Hash(created), ctx.lru);
    }
    drop(shard);
    notify_write(ctx, is_new, "hset", key);
    Ok(added)
}

/// The events of a hash write: `new` when it created the key, then `event`.
fn notify_write(ctx: &ExecCtx<'_>, created: bool, event: &'static str, key: &[u8]) {
    if created {
        ctx.notify(NotifyClass::New, "new", key);
    }
    ctx.notify(NotifyClass::Hash, event, key);
}

/// `HSET key field value [field value …]` — the number of fields that were new.
fn hset(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() % 2 == 1 {
        return Err(CmdError::WrongArity(args::lower(argv[0])));
    }
    let added = set_pairs(ctx, argv[1], &argv[2..])?;
    ctx.out.int(added);
    Ok(())
}

/// `HMSET key field value [field value …]` — `OK` (deprecated form of HSET).
fn hmset(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() % 2 == 1 {
        return Err(CmdError::WrongArity(args::lower(argv[0])));
    }
    set_pairs(ctx, argv[1], &argv[2..])?;
    ctx.out.ok();
    Ok(())
}

/// `HSETNX key field value` — 1 if the field was set, 0 if it already existed.
fn hsetnx(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let (key, field, value) = (argv[1], argv[2], argv[3]);
    let limits = hash_limits(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    // (set, created)
    let (set, created) = match write_hash(ctx, &mut shard, key)? {
        Some(h) if h.contains(field) => (false, false),
        Some(h) => {
            h.prepare_for(&argv[2..4], &limits);
            h.set(field, value, &limits);
            (true, false)
        }
        None => {
            let mut h = HashValue::new();
            h.prepare_for(&argv[2..4], &limits);
            h.set(field, value, &limits);
            shard.set(key, Value::Hash(h), ctx.lru);
            (true, true)
        }
    };
    drop(shard);
    if set {
        notify_write(ctx, created, "hset", key);
    }
    ctx.out.int(i64::from(set));
    Ok(())
}

/// `HGET key field` — the value, or null.
fn hget(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    match read_hash(ctx, &mut shard, argv[1])?.and_then(|h| h.get(argv[2])) {
        Some(v) => reply_entry(ctx.out, v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `HMGET key field [field …]` — the values in order, null for each missing field (all null
/// for a missing key).
fn hmget(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let hash = read_hash(ctx, &mut shard, argv[1])?;
    ctx.out.array_len(argv.len() - 2);
    for field in &argv[2..] {
        match hash.and_then(|h| h.get(field)) {
            Some(v) => reply_entry(ctx.out, v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// `HDEL key field [field …]` — how many fields were removed; the key goes when emptied.
fn hdel(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let mut removed = 0;
    let mut emptied = false;
    if let Some(h) = write_hash(ctx, &mut shard, key)? {
        for field in &argv[2..] {
            if h.remove(field) {
                removed += 1;
                if h.is_empty() {
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
        ctx.notify(NotifyClass::Hash, "hdel", key);
        if emptied {
            ctx.notify(NotifyClass::Generic, "del", key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

/// `HLEN key` — the number of fields (0 for a missing key).
fn hlen(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let n = read_hash(ctx, &mut shard, argv[1])?.map_or(0, HashValue::len);
    ctx.out.int(n as i64);
    Ok(())
}

/// `HSTRLEN key field` — the length of the field's value (0 if missing).
fn hstrlen(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let n = read_hash(ctx, &mut shard, argv[1])?
        .and_then(|h| h.get(argv[2]))
        .map_or(0, |v| v.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// `HEXISTS key field` — 1 if the field exists, else 0.
fn hexists(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let found = read_hash(ctx, &mut shard, argv[1])?.is_some_and(|h| h.contains(argv[2]));
    ctx.out.int(i64::from(found));
    Ok(())
}

/// What HKEYS, HVALS and HGETALL list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

/// HKEYS / HVALS / HGETALL: an array (a map for HGETALL in RESP3), empty for a missing key.
fn list_parts(ctx: &mut ExecCtx<'_>, key: &[u8], part: Part) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(key);
    let hash = read_hash(ctx, &mut shard, key)?;
    let n = hash.map_or(0, HashValue::len);
    if part == Part::Both {
        ctx.out.map_len(n);
    } else {
        ctx.out.array_len(n);
    }
    for (f, v) in hash.into_iter().flat_map(HashValue::iter) {
        if part != Part::Values {
            reply_entry(ctx.out, f);
        }
        if part != Part::Fields {
            reply_entry(ctx.out, v);
        }
    }
    Ok(())
}

/// `HKEYS key` — every field.
fn hkeys(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    list_parts(ctx, argv[1], Part::Fields)
}

/// `HVALS key` — every value.
fn hvals(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    list_parts(ctx, argv[1], Part::Values)
}

/// `HGETALL key` — every field and value: RESP3 a map, RESP2 a flat array.
fn hgetall(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    list_parts(ctx, argv[1], Part::Both)
}

/// Sets `field` of the hash at `key` to `compute(current value)`, creating the key if
/// missing; `compute` may refuse (the hash is then unchanged). Returns the new value.
fn update_field<T>(
    ctx: &ExecCtx<'_>,
    key: &[u8],
    field: &[u8],
    event: &'static str,
    compute: impl FnOnce(Option<Element<'_>>) -> Result<(T, Vec<u8>), CmdError>,
) -> Result<T, CmdError> {
    let limits = hash_limits(ctx);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let (reply, created) = match write_hash(ctx, &mut shard, key)? {
        Some(h) => {
            let (reply, text) = compute(h.get(field))?;
            h.set(field, &text, &limits);
            (reply, false)
        }
        None => {
            let (reply, text) = compute(None)?;
            let mut h = HashValue::new();
            h.set(field, &text, &limits);
            shard.set(key, Value::Hash(h), ctx.lru);
            (reply, true)
        }
    };
    drop(shard);
    notify_write(ctx, created, event, key);
    Ok(reply)
}

/// `HINCRBY key field increment` — the new integer value (a missing field counts as 0).
fn hincrby(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let incr = args::int(argv[3])?;
    let value = update_field(ctx, argv[1], argv[2], "hincrby", |current| {
        let old = match current {
            Some(v) => v
                .as_int()
                .ok_or_else(|| CmdError::err("hash value is not an integer"))?,
            None => 0,
        };
        let new = old.checked_add(incr).ok_or(CmdError::Overflow)?;
        Ok((new, itoa::Buffer::new().format(new).as_bytes().to_vec()))
    })?;
    ctx.out.int(value);
    Ok(())
}

/// `HINCRBYFLOAT key field increment` — the new value as a bulk string, computed and printed
/// in x87 long double as Redis does (`%.17Lf`, trailing zeros removed).
fn hincrbyfloat(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let incr = LongDouble::parse(argv[3]).ok_or(CmdError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let text = update_field(ctx, argv[1], argv[2], "hincrbyfloat", |current| {
        let old = match current {
            Some(Element::Int(n)) => LongDouble::from_i64(n),
            Some(Element::Bytes(v)) => {
                LongDouble::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?
            }
            None => LongDouble::Zero { neg: false },
        };
        let sum = old + incr;
        if !sum.is_finite() {
            return Err(CmdError::err("increment would produce NaN or Infinity"));
        }
        let text = sum.to_human_string().into_bytes();
        Ok((text.clone(), text))
    })?;
    ctx.out.bulk(&text);
    Ok(())
}

/// `HRANDFIELD key [count [WITHVALUES]]` — without count one random field (null for a missing
/// key). With a positive count that many distinct fields (at most the hash's size); with a
/// negative count |count| fields that may repeat. WITHVALUES adds each value: RESP2 flat,
/// RESP3 as `[field, value]` pairs.
fn hrandfield(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let mut count = None;
    let mut with_values = false;
    if argv.len() >= 3 {
        let c = random_count(argv[2])?;
        if argv.len() > 4 || (argv.len() == 4 && !args::is(argv[3], "WITHVALUES")) {
            return Err(CmdError::Syntax);
        }
        if argv.len() == 4 {
            with_values = true;
            // Redis refuses counts whose doubled reply length would overflow.
            if c.magnitude > (i64::MAX / 2) as u64 {
                return Err(CmdError::err("value is out of range"));
            }
        }
        count = Some(c);
    }
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let hash = read_hash(ctx, &mut shard, argv[1])?;
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        match hash {
            Some(h) => {
                let i = rng.gen_range(0..h.len().max(1));
                match h.get_index(i) {
                    Some((field, _)) => reply_entry(ctx.out, field),
                    None => ctx.out.null(),
                }
            }
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let Some(hash) = hash else {
        ctx.out.array_len(0);
        return Ok(());
    };
    let indexed = hash.indexed();
    let picks = count.pick(indexed.len(), &mut rng)?;
    let resp3 = ctx.out.is_resp3();
    let n = picks.len();
    ctx.out
        .array_len(if with_values && !resp3 { n * 2 } else { n });
    for i in picks.iter() {
        let Some((field, value)) = indexed.get(i) else {
            continue;
        };
        if with_values && resp3 {
            ctx.out.array_len(2);
        }
        reply_entry(ctx.out, field);
        if with_values {
            reply_entry(ctx.out, value);
        }
    }
    Ok(())
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]` — `[next-cursor, [field,
/// value, …]]`. A listpack hash is returned whole with cursor 0; a hash table is walked
/// COUNT positions per call (see [`ScanOptions`]). NOVALUES (Redis 7.4) lists fields only.
fn hscan(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[2])?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(hash) = read_hash(ctx, &mut shard, argv[1])? else {
        reply_empty_scan(ctx);
        return Ok(());
    };
    let opts = ScanOptions::parse(&argv[3..], true)?;
    let (next, found): (u64, Vec<Pair<'_>>) = if hash.is_packed() {
        let all = hash.iter().filter(|(f, _)| opts.matches(*f)).collect();
        (0, all)
    } else {
        let (start, end, next) = opts.window(cursor, hash.len());
        let found = (start..end)
            .rev()
            .filter_map(|i| hash.get_index(i))
            .filter(|(f, _)| opts.matches(*f))
            .collect();
        (next, found)
    };
    ctx.out.array_len(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array_len(if opts.no_values {
        found.len()
    } else {
        found.len() * 2
    });
    for (f, v) in found {
        reply_entry(ctx.out, f);
        if !opts.no_values {
            reply_entry(ctx.out, v);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with the set family
// ---------------------------------------------------------------------------------------------

/// Writes a field, value or member as a bulk string (an integer held in binary is formatted).
#[inline]
pub(super) fn reply_entry(out: &mut ReplyEncoder, e: Element<'_>) {
    match e {
        Element::Int(n) => out.bulk_int(n),
        Element::Bytes(b) => out.bulk(b),
    }
}

/// The reply to a SCAN of a missing key: `["0", []]`.
pub(super) fn reply_empty_scan(ctx: &mut ExecCtx<'_>) {
    ctx.out.array_len(2);
    ctx.out.bulk(b"0");
    ctx.out.array_len(0);
}

/// Parses a SCAN cursor (`ERR invalid cursor`); see [`scan::parse_cursor`].
pub(super) fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    scan::parse_cursor(arg).ok_or_else(|| CmdError::err("invalid cursor"))
}

/// The options of HSCAN / SSCAN. A hash-table collection is walked COUNT positions per call
/// ([`scan::window`]).
pub(super) struct ScanOptions<'a> {
    pattern: Option<&'a [u8]>,
    count: usize,
    pub no_values: bool,
}

impl<'a> ScanOptions<'a> {
    /// Parses `MATCH pattern`, `COUNT n` (n ≥ 1) and, for HSCAN, `NOVALUES`.
    pub fn parse(opts: &[&'a [u8]], allow_novalues: bool) -> Result<Self, CmdError> {
        let mut out = ScanOptions {
            pattern: None,
            count: 10,
            no_values: false,
        };
        let mut i = 0;
        while i < opts.len() {
            let has_value = i + 1 < opts.len();
            if args::is(opts[i], "COUNT") && has_value {
                let n = args::int(opts[i + 1])?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                out.count = usize::try_from(n).unwrap_or(usize::MAX);
                i += 2;
            } else if args::is(opts[i], "MATCH") && has_value {
                let p = opts[i + 1];
                // `*` alone is no pattern at all (it then also matches the empty string).
                out.pattern = (p != b"*").then_some(p);
                i += 2;
            } else if args::is(opts[i], "NOVALUES") {
                if !allow_novalues {
                    return Err(CmdError::err("NOVALUES option can only be used in HSCAN"));
                }
                out.no_values = true;
                i += 1;
            } else {
                return Err(CmdError::Syntax);
            }
        }
        Ok(out)
    }

    pub fn matches(&self, member: Element<'_>) -> bool {
        let mut buf = itoa::Buffer::new();
        self.pattern
            .is_none_or(|p| glob_match(p, member.as_bytes(&mut buf), false))
    }

    /// The positions to visit this call and the next cursor ([`scan::window`]).
    pub fn window(&self, cursor: u64, len: usize) -> (usize, usize, u64) {
        scan::window(cursor, len, self.count)
    }
}

/// The most elements a random pick with repeats (negative count) may return.
///
/// COMPAT: Redis writes |count| elements whatever the count (`SRANDMEMBER k -1000000000`
/// builds a reply of gigabytes, bounded only by client-output-buffer-limit, which is off for
/// normal clients by default); FinCache refuses counts above 2^24 instead of exhausting memory.
pub(super) const MAX_RANDOM_WITH_REPEATS: u64 = 1 << 24;

/// A parsed random count (SRANDMEMBER, HRANDFIELD): negative means repeats are allowed.
#[derive(Debug, Clone, Copy)]
pub(super) struct RandomCount {
    pub magnitude: u64,
    pub repeats: bool,
}

/// Parses a random count in `-LONG_MAX..=LONG_MAX` as Redis's `getRangeLongFromObjectOrReply`.
pub(super) fn random_count(arg: &[u8]) -> Result<RandomCount, CmdError> {
    let n = args::int(arg)?;
    if n == i64::MIN {
        return Err(CmdError::err(format!(
            "value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    Ok(RandomCount {
        magnitude: n.unsigned_abs(),
        repeats: n < 0,
    })
}

/// Which positions of a collection of `size` a random pick returns.
pub(super) enum Picks {
    /// Each position in turn (the whole collection).
    All(usize),
    /// These positions.
    Some(Vec<usize>),
}

impl Picks {
    pub fn len(&self) -> usize {
        match self {
            Picks::All(n) => *n,
            Picks::Some(v) => v.len(),
        }
    }

    pub fn iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            Picks::All(n) => Box::new(0..*n),
            Picks::Some(v) => Box::new(v.iter().copied()),
        }
    }
}

impl RandomCount {
    /// The positions to return from a collection of `size`: with repeats, |count| uniform
    /// picks; without, min(count, size) distinct positions (the whole collection in its order
    /// when count ≥ size, as Redis does).
    pub fn pick(&self, size: usize, rng: &mut impl Rng) -> Result<Picks, CmdError> {
        if self.magnitude == 0 || size == 0 {
            return Ok(Picks::Some(Vec::new()));
        }
        if self.repeats {
            if self.magnitude > MAX_RANDOM_WITH_REPEATS {
                return Err(CmdError::err(format!(
                    "count is too large: at most {MAX_RANDOM_WITH_REPEATS} elements with repeats"
                )));
            }
            let picks = (0..self.magnitude)
                .map(|_| rng.gen_range(0..size))
                .collect();
            return Ok(Picks::Some(picks));
        }
        match usize::try_from(self.magnitude) {
            Ok(k) if k < size => Ok(Picks::Some(
                rand::seq::index::sample(rng, size, k).into_vec(),
            )),
            _ => Ok(Picks::All(size)),
        }
    }
}

const HASH: AclCats = AclCats::HASH;
const R: Flags = Flags::READONLY;
const RF: Flags = Flags::READONLY.or(Flags::FAST);
const WF: Flags = Flags::WRITE.or(Flags::FAST);
const WDF: Flags = Flags::WRITE.or(Flags::DENYOOM).or(Flags::FAST);
const RW_UPDATE: KeyFlags = KeyFlags::RW.or(KeyFlags::UPDATE);
const RW_ACCESS_UPDATE: KeyFlags = KeyFlags::RW.or(KeyFlags::ACCESS).or(KeyFlags::UPDATE);
const ORDER_TIP: &[&str] = &["nondeterministic_output_order"];
const RANDOM_TIP: &[&str] = &["nondeterministic_output"];
const SCAN_COMPLEXITY: &str = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..";

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, WDF, HASH, hset)
        .keys(1, 1, 1)
        .key_flags(RW_UPDATE)
        .doc(
            "hash",
            "2.0.0",
            "Set the string value of a hash field",
            "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        ),
    CommandSpec::new("hsetnx", 4, WDF, HASH, hsetnx)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::INSERT))
        .doc(
            "hash",
            "2.0.0",
            "Set the value of a hash field, only if the field does not exist",
            "O(1)",
        ),
    CommandSpec::new("hmset", -4, WDF, HASH, hmset)
        .keys(1, 1, 1)
        .key_flags(RW_UPDATE)
        .doc(
            "hash",
            "2.0.0",
            "Set multiple hash fields to multiple values",
            "O(N) where N is the number of fields being set.",
        ),
    CommandSpec::new("hget", 3, RF, HASH, hget)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Get the value of a hash field", "O(1)"),
    CommandSpec::new("hmget", -3, RF, HASH, hmget)
        .keys(1, 1, 1)
        .doc(
            "hash",
            "2.0.0",
            "Get the values of all the given hash fields",
            "O(N) where N is the number of fields being requested.",
        ),
    CommandSpec::new("hdel", -3, WF, HASH, hdel)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RW.or(KeyFlags::DELETE))
        .doc(
            "hash",
            "2.0.0",
            "Delete one or more hash fields",
            "O(N) where N is the number of fields to be removed.",
        ),
    CommandSpec::new("hlen", 2, RF, HASH, hlen)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc("hash", "2.0.0", "Get the number of fields in a hash", "O(1)"),
    CommandSpec::new("hstrlen", 3, RF, HASH, hstrlen)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc(
            "hash",
            "3.2.0",
            "Get the length of the value of a hash field",
            "O(1)",
        ),
    CommandSpec::new("hexists", 3, RF, HASH, hexists)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc("hash", "2.0.0", "Determine if a hash field exists", "O(1)"),
    CommandSpec::new("hkeys", 2, R, HASH, hkeys)
        .keys(1, 1, 1)
        .tips(ORDER_TIP)
        .doc(
            "hash",
            "2.0.0",
            "Get all the fields in a hash",
            "O(N) where N is the size of the hash.",
        ),
    CommandSpec::new("hvals", 2, R, HASH, hvals)
        .keys(1, 1, 1)
        .tips(ORDER_TIP)
        .doc(
            "hash",
            "2.0.0",
            "Get all the values in a hash",
            "O(N) where N is the size of the hash.",
        ),
    CommandSpec::new("hgetall", 2, R, HASH, hgetall)
        .keys(1, 1, 1)
        .tips(ORDER_TIP)
        .doc(
            "hash",
            "2.0.0",
            "Get all the fields and values in a hash",
            "O(N) where N is the size of the hash.",
        ),
    CommandSpec::new("hincrby", 4, WDF, HASH, hincrby)
        .keys(1, 1, 1)
        .key_flags(RW_ACCESS_UPDATE)
        .doc(
            "hash",
            "2.0.0",
            "Increment the integer value of a hash field by the given number",
            "O(1)",
        ),
    CommandSpec::new("hincrbyfloat", 4, WDF, HASH, hincrbyfloat)
        .keys(1, 1, 1)
        .key_flags(RW_ACCESS_UPDATE)
        .doc(
            "hash",
            "2.6.0",
            "Increment the float value of a hash field by the given amount",
            "O(1)",
        ),
    CommandSpec::new("hrandfield", -2, R, HASH, hrandfield)
        .keys(1, 1, 1)
        .tips(RANDOM_TIP)
        .doc(
            "hash",
            "6.2.0",
            "Get one or multiple random fields from a hash",
            "O(N) where N is the number of fields returned",
        ),
    CommandSpec::new("hscan", -3, R, HASH, hscan)
        .keys(1, 1, 1)
        .tips(RANDOM_TIP)
        .doc(
            "hash",
            "2.8.0",
            "Incrementally iterate hash fields and associated values",
            SCAN_COMPLEXITY,
        ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_window_walks_down_to_zero() {
        let opts = ScanOptions::parse(&[b"COUNT", b"4"], false).unwrap();
        assert_eq!(opts.window(0, 10), (6, 10, 6));
        assert_eq!(opts.window(6, 10), (2, 6, 2));
        assert_eq!(opts.window(2, 10), (0, 2, 0));
        // A cursor beyond the collection (it shrank) starts from its end.
        assert_eq!(opts.window(99, 3), (0, 3, 0));
    }

    #[test]
    fn random_counts() {
        let mut rng = rand::thread_rng();
        let c = random_count(b"-5").unwrap();
        assert_eq!(c.pick(2, &mut rng).unwrap().len(), 5);
        let c = random_count(b"5").unwrap();
        assert!(matches!(c.pick(3, &mut rng).unwrap(), Picks::All(3)));
        let p = random_count(b"2").unwrap().pick(10, &mut rng).unwrap();
        let mut v: Vec<usize> = p.iter().collect();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), 2);
        assert!(random_count(b"-9223372036854775808").is_err());
        assert!(random_count(b"-99999999999")
            .unwrap()
            .pick(1, &mut rng)
            .is_err());
    }
}
