//! String commands: SET and its older forms (SETNX, SETEX, PSETEX, GETSET), GET, GETEX,
//! GETDEL, MSET, MSETNX, MGET, APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, INCR, DECR, INCRBY,
//! DECRBY, INCRBYFLOAT and LCS, as Redis 7's `t_string.c` behaves.
//!
//! Values live in `store::Value::{Int, Str}`: writes go through `Value::from_bytes` /
//! `from_vec`, so a value that reads as a canonical integer is stored as an i64 (OBJECT
//! ENCODING `int`), anything else as compact bytes. The one exception is INCRBYFLOAT, whose
//! result Redis never int-encodes: it is always stored as bytes (readers accept both).
//!
//! Redis behaviour mirrored here:
//! - arguments are checked before the key is looked at, except where Redis looks first: GETEX
//!   checks its expire time only for an existing string (a missing key replies null even with
//!   `EX -1`), INCRBYFLOAT reports WRONGTYPE or a stored non-float before a bad increment, and
//!   LCS checks both types before it parses its options;
//! - reads (GET, GETEX, GETDEL, GETSET, SET … GET, MGET, STRLEN, GETRANGE, LCS) count keyspace
//!   hits and misses; writes (SETNX, APPEND, INCR …) do not (`lookupKeyRead` vs
//!   `lookupKeyWrite`);
//! - expire times are absolute Unix milliseconds in the shard; relative ones (EX, PX) are added
//!   to the command's clock `ctx.now_ms`. An absolute time already past is accepted by SET (the
//!   key is then gone at its next access) and deletes the key in GETEX, as in Redis.
//! - APPEND, SETRANGE, INCR* keep the key's TTL; SET (without KEEPTTL), GETSET, MSET drop it.
//!
//! Locking: single-key commands lock one shard. MSET, MSETNX, MGET and LCS lock every shard
//! they name at once with `Db::lock_many` (ORDER: ascending shard index), which makes MSETNX's
//! check-then-set and MSET's writes atomic for every other client.

use crate::cmd::args;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::{Shard, Value};
use fincache_types::lcs::{lcs_len, LcsTable};
use fincache_types::longdouble::LongDouble;
use fincache_types::strargs::{
    byte_range, expire_deadline, parse_lcs_options, parse_set_options, ArgError, ExpireKind,
};
use fincache_types::{num, CompactBytes};

/// Writes a string value as a bulk reply; WRONGTYPE for any other type.
#[inline]
pub fn reply_string(ctx: &mut ExecCtx<'_>, v: &Value) -> CmdResult {
    let mut buf = itoa::Buffer::new();
    let bytes = string_bytes(v, &mut buf).ok_or(CmdError::WrongType)?;
    ctx.out.bulk(bytes);
    Ok(())
}

/// The bytes of a string value (an integer is formatted into `buf`); `None` for other types.
#[inline]
fn string_bytes<'v>(v: &'v Value, buf: &'v mut itoa::Buffer) -> Option<&'v [u8]> {
    v.string_bytes(buf)
}

/// The length of a string value; `None` for other types.
#[inline]
fn string_len(v: &Value) -> Option<usize> {
    let mut buf = itoa::Buffer::new();
    string_bytes(v, &mut buf).map(<[u8]>::len)
}

/// Moves a string value's bytes out (no copy for heap strings), with room for `extra` more.
/// The caller has checked the type; the value is left as a placeholder to overwrite, usually
/// with `Value::Raw` (a string modified in place, as Redis's `raw`).
fn take_string_bytes(v: &mut Value, extra: usize) -> Vec<u8> {
    let taken = std::mem::replace(v, Value::Int(0));
    let mut bytes = match taken {
        Value::Str(s) => s.into_vec(),
        Value::Raw(r) => *r,
        other => {
            let mut buf = itoa::Buffer::new();
            string_bytes(&other, &mut buf).unwrap_or_default().to_vec()
        }
    };
    // Amortised growth (as Redis's sdsMakeRoomFor), so repeated appends are not quadratic.
    bytes.reserve(extra);
    bytes
}

/// A string value as an integer (Redis's `getLongLongFromObjectOrReply`).
#[inline]
fn value_as_i64(v: &Value) -> Result<i64, CmdError> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::Str(s) => num::parse_i64(s).ok_or(CmdError::NotInteger),
        Value::Raw(r) => num::parse_i64(r).ok_or(CmdError::NotInteger),
        _ => Err(CmdError::WrongType),
    }
}

/// A string value as a long double (Redis's `getLongDoubleFromObjectOrReply`).
fn value_as_long_double(v: &Value) -> Result<LongDouble, CmdError> {
    match v {
        Value::Int(n) => Ok(LongDouble::from_i64(*n)),
        Value::Str(s) => LongDouble::parse(s).ok_or(CmdError::NotFloat),
        Value::Raw(r) => LongDouble::parse(r).ok_or(CmdError::NotFloat),
        _ => Err(CmdError::WrongType),
    }
}

/// Before a write that replaces a key without reading it: whether the key exists. Looked up
/// only when `new` or `expired` events need the answer (the lookup first expires a stale key,
/// as Redis's `setKey` does); otherwise assumed, since nothing depends on it.
fn exists_for_events(ctx: &ExecCtx<'_>, shard: &mut Shard, key: &[u8]) -> bool {
    if ctx.notifying(NotifyClass::New) || ctx.notifying(NotifyClass::Expired) {
        shard.contains(key, ctx.now_ms)
    } else {
        true
    }
}

/// The events of a string write: `new` when it created the key, then `event`.
fn notify_write(ctx: &ExecCtx<'_>, existed: bool, event: &'static str, key: &[u8]) {
    if !existed {
        ctx.notify(NotifyClass::New, "new", key);
    }
    ctx.notify(NotifyClass::String, event, key);
}

/// Redis's `checkStringLength`: a string of `size + append` bytes must fit
/// `proto-max-bulk-len`.
fn check_string_length(size: usize, append: usize, max: usize) -> CmdResult {
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(CmdError::StringTooLong),
    }
}

fn proto_max_bulk_len(ctx: &ExecCtx<'_>) -> usize {
    ctx.server.config.read().proto_max_bulk_len
}

/// Maps the argument grammar's errors to replies (`cmd` names the command in expire errors).
fn arg_error(e: ArgError, cmd: &str) -> CmdError {
    match e {
        ArgError::Syntax => CmdError::Syntax,
        ArgError::NotInteger => CmdError::NotInteger,
        ArgError::InvalidExpire => CmdError::InvalidExpire(cmd.to_string()),
    }
}

// ---- SET family

/// `SET key value [NX | XX] [GET] [EX seconds | PX ms | EXAT unix-s | PXAT unix-ms | KEEPTTL]`
///
/// `+OK`, or null when NX/XX stopped the write. With GET: the old value (null if none) whether
/// or not the write happened; WRONGTYPE (and no write) if the old value is not a string.
/// The expire time is checked before anything else.
fn set(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let opts = parse_set_options(&argv[3..], true).map_err(|e| arg_error(e, "set"))?;
    let deadline = match opts.expire {
        Some((kind, arg)) => {
            Some(expire_deadline(arg, kind, ctx.now_ms).map_err(|e| arg_error(e, "set"))?)
        }
        None => None,
    };
    let (key, value) = (argv[1], argv[2]);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let found = if opts.get {
        // SET … GET reads the old value first: a read, counted as one.
        match ctx.read_lookup(&mut shard, key) {
            None => {
                ctx.out.null();
                false
            }
            Some(e) => {
                reply_string(ctx, &e.value)?;
                true
            }
        }
    } else if opts.nx || opts.xx || opts.keepttl {
        // Also for KEEPTTL: a key whose deadline passed must go first, or its stale
        // deadline would be kept for the new value.
        shard.contains(key, ctx.now_ms)
    } else {
        // A plain SET replaces the key and its TTL without looking, unless events need to.
        exists_for_events(ctx, &mut shard, key)
    };
    if (opts.nx && found) || (opts.xx && !found) {
        if !opts.get {
            ctx.out.null();
        }
        return Ok(());
    }
    if opts.keepttl {
        shard.set_keep_ttl(key, Value::from_bytes(value), ctx.lru);
    } else {
        shard.set(key, Value::from_bytes(value), ctx.lru);
    }
    if let Some(at) = deadline {
        shard.set_expire(key, at);
    }
    notify_write(ctx, found, "set", key);
    if deadline.is_some() {
        ctx.notify(NotifyClass::Generic, "expire", key);
    }
    if !opts.get {
        ctx.out.ok();
    }
    Ok(())
}

/// `SETNX key value` — `:1` if the key was set, `:0` if it already existed.
fn setnx(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    if shard.contains(argv[1], ctx.now_ms) {
        ctx.out.int(0);
    } else {
        shard.set(argv[1], Value::from_bytes(argv[2]), ctx.lru);
        notify_write(ctx, false, "set", argv[1]);
        ctx.out.int(1);
    }
    Ok(())
}

/// SETEX and PSETEX: set the value and a relative expire time checked first.
fn set_with_expire(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], kind: ExpireKind) -> CmdResult {
    let name = if kind == ExpireKind::Ex {
        "setex"
    } else {
        "psetex"
    };
    let at = expire_deadline(argv[2], kind, ctx.now_ms).map_err(|e| arg_error(e, name))?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let existed = exists_for_events(ctx, &mut shard, argv[1]);
    shard.set(argv[1], Value::from_bytes(argv[3]), ctx.lru);
    shard.set_expire(argv[1], at);
    notify_write(ctx, existed, "set", argv[1]);
    ctx.notify(NotifyClass::Generic, "expire", argv[1]);
    ctx.out.ok();
    Ok(())
}

/// `SETEX key seconds value` — `+OK`; `invalid expire time in 'setex' command` unless
/// `seconds` is positive.
fn setex(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    set_with_expire(ctx, argv, ExpireKind::Ex)
}

/// `PSETEX key milliseconds value` — `+OK`; `invalid expire time in 'psetex' command` unless
/// `milliseconds` is positive.
fn psetex(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    set_with_expire(ctx, argv, ExpireKind::Px)
}

/// `GETSET key value` — the old value (or null), then sets the new one and drops any TTL;
/// WRONGTYPE (and no write) if the old value is not a string.
fn getset(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let existed = match ctx.read_lookup(&mut shard, argv[1]) {
        None => {
            ctx.out.null();
            false
        }
        Some(e) => {
            reply_string(ctx, &e.value)?;
            true
        }
    };
    shard.set(argv[1], Value::from_bytes(argv[2]), ctx.lru);
    notify_write(ctx, existed, "set", argv[1]);
    Ok(())
}

// ---- GET family

/// `GET key` — the value as a bulk string, or null; WRONGTYPE for non-strings.
fn get(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    match ctx.read_lookup(&mut shard, argv[1]) {
        None => {
            ctx.out.null();
            Ok(())
        }
        Some(e) => reply_string(ctx, &e.value),
    }
}

/// `GETEX key [EX seconds | PX ms | EXAT unix-s | PXAT unix-ms | PERSIST]`
///
/// The value (or null), then changes the TTL: sets it, removes it (PERSIST), or deletes the key
/// when EXAT/PXAT is already past. Options are checked first; the expire time only once the key
/// is known to be a string, as Redis does.
fn getex(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let opts = parse_set_options(&argv[2..], false).map_err(|e| arg_error(e, "getex"))?;
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(e) = ctx.read_lookup(&mut shard, key) else {
        ctx.out.null();
        return Ok(());
    };
    if string_len(&e.value).is_none() {
        return Err(CmdError::WrongType);
    }
    let deadline = match opts.expire {
        Some((kind, arg)) => {
            let at = expire_deadline(arg, kind, ctx.now_ms).map_err(|e| arg_error(e, "getex"))?;
            Some((kind, at))
        }
        None => None,
    };
    reply_string(ctx, &e.value)?;
    match deadline {
        Some((kind, at)) if kind.is_absolute() && at <= ctx.now_ms => {
            shard.remove(key);
            ctx.notify(NotifyClass::Generic, "del", key);
        }
        Some((_, at)) => {
            shard.set_expire(key, at);
            ctx.notify(NotifyClass::Generic, "expire", key);
        }
        None if opts.persist && shard.persist(key) => {
            ctx.notify(NotifyClass::Generic, "persist", key);
        }
        None => {}
    }
    Ok(())
}

/// `GETDEL key` — the value (or null), then deletes the key; WRONGTYPE (and no delete) for
/// non-strings.
fn getdel(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(e) = ctx.read_lookup(&mut shard, argv[1]) else {
        ctx.out.null();
        return Ok(());
    };
    reply_string(ctx, &e.value)?;
    shard.remove(argv[1]);
    ctx.notify(NotifyClass::Generic, "del", argv[1]);
    Ok(())
}

// ---- Multi-key

/// `MSET key value [key value ...]` — `+OK`; every key set (TTLs dropped) atomically.
fn mset(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() & 1 == 0 {
        return Err(CmdError::WrongArity("mset".into()));
    }
    let db = ctx.db();
    let mut shards = db.lock_many(argv[1..].iter().step_by(2).copied());
    for pair in argv[1..].chunks_exact(2) {
        let shard = shards.shard(pair[0]);
        let existed = exists_for_events(ctx, shard, pair[0]);
        shard.set(pair[0], Value::from_bytes(pair[1]), ctx.lru);
        notify_write(ctx, existed, "set", pair[0]);
    }
    ctx.out.ok();
    Ok(())
}

/// `MSETNX key value [key value ...]` — `:1` and every key set if none of them existed, else
/// `:0` and nothing set; atomic.
fn msetnx(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    if argv.len() & 1 == 0 {
        return Err(CmdError::WrongArity("msetnx".into()));
    }
    let db = ctx.db();
    let now = ctx.now_ms;
    let mut shards = db.lock_many(argv[1..].iter().step_by(2).copied());
    let any_exists = argv[1..]
        .iter()
        .step_by(2)
        .any(|key| shards.shard(key).contains(key, now));
    if any_exists {
        ctx.out.int(0);
        return Ok(());
    }
    for pair in argv[1..].chunks_exact(2) {
        shards
            .shard(pair[0])
            .set(pair[0], Value::from_bytes(pair[1]), ctx.lru);
        notify_write(ctx, false, "set", pair[0]);
    }
    ctx.out.int(1);
    Ok(())
}

/// `MGET key [key ...]` — an array with each value, null for missing keys and non-strings.
fn mget(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shards = db.lock_many(argv[1..].iter().copied());
    ctx.out.array_len(argv.len() - 1);
    let mut buf = itoa::Buffer::new();
    for key in &argv[1..] {
        let found = ctx.read_lookup(shards.shard(key), key);
        match found.and_then(|e| string_bytes(&e.value, &mut buf)) {
            Some(bytes) => ctx.out.bulk(bytes),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

// ---- Byte-level edits and reads

/// `APPEND key value` — the new length; creates the key if missing, keeps its TTL otherwise.
/// The result must fit `proto-max-bulk-len`.
fn append(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let max = proto_max_bulk_len(ctx);
    let (key, tail) = (argv[1], argv[2]);
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(e) = shard.get_mut(key, ctx.now_ms, ctx.lru) else {
        shard.set(key, Value::from_bytes(tail), ctx.lru);
        notify_write(ctx, false, "append", key);
        ctx.out.int(tail.len() as i64);
        return Ok(());
    };
    let old_len = string_len(&e.value).ok_or(CmdError::WrongType)?;
    check_string_length(old_len, tail.len(), max)?;
    let mut bytes = take_string_bytes(&mut e.value, tail.len());
    bytes.extend_from_slice(tail);
    let total = bytes.len();
    e.value = Value::Raw(Box::new(bytes));
    notify_write(ctx, true, "append", key);
    ctx.out.int(total as i64);
    Ok(())
}

/// `STRLEN key` — the value's length in bytes, 0 for a missing key; WRONGTYPE for non-strings.
fn strlen(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let len = match ctx.read_lookup(&mut shard, argv[1]) {
        None => 0,
        Some(e) => string_len(&e.value).ok_or(CmdError::WrongType)?,
    };
    ctx.out.int(len as i64);
    Ok(())
}

/// `GETRANGE key start end` (and the older `SUBSTR`) — the substring between two inclusive
/// offsets (negative from the end); an empty string for a missing key or an empty range.
fn getrange(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let start = args::int(argv[2])?;
    let end = args::int(argv[3])?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(e) = ctx.read_lookup(&mut shard, argv[1]) else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let mut buf = itoa::Buffer::new();
    let s = string_bytes(&e.value, &mut buf).ok_or(CmdError::WrongType)?;
    match byte_range(s.len(), start, end) {
        Some((from, to)) => ctx.out.bulk(&s[from..=to]),
        None => ctx.out.bulk(b""),
    }
    Ok(())
}

/// `SETRANGE key offset value` — the new length. Overwrites from `offset`, padding with zero
/// bytes; an empty value changes nothing (and creates no key). Negative offset: `offset is out
/// of range`; a result beyond `proto-max-bulk-len`: `string exceeds maximum allowed size`.
fn setrange(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let offset = args::int(argv[2])?;
    let offset = usize::try_from(offset).map_err(|_| CmdError::err("offset is out of range"))?;
    let patch = argv[3];
    let max = proto_max_bulk_len(ctx);
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(e) = shard.get_mut(key, ctx.now_ms, ctx.lru) else {
        if patch.is_empty() {
            ctx.out.int(0);
            return Ok(());
        }
        check_string_length(offset, patch.len(), max)?;
        let mut bytes = vec![0u8; offset + patch.len()];
        bytes[offset..].copy_from_slice(patch);
        shard.set(key, Value::Raw(Box::new(bytes)), ctx.lru);
        notify_write(ctx, false, "setrange", key);
        ctx.out.int((offset + patch.len()) as i64);
        return Ok(());
    };
    let old_len = string_len(&e.value).ok_or(CmdError::WrongType)?;
    if patch.is_empty() {
        ctx.out.int(old_len as i64);
        return Ok(());
    }
    check_string_length(offset, patch.len(), max)?;
    let end = offset + patch.len();
    let mut bytes = take_string_bytes(&mut e.value, end.saturating_sub(old_len));
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset..end].copy_from_slice(patch);
    let total = bytes.len();
    e.value = Value::Raw(Box::new(bytes));
    notify_write(ctx, true, "setrange", key);
    ctx.out.int(total as i64);
    Ok(())
}

// ---- Counters

/// Adds `delta` to the integer at `key` (0 if missing), keeping its TTL; replies the result.
fn incr_by(ctx: &mut ExecCtx<'_>, key: &[u8], delta: i64) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(e) = shard.get_mut(key, ctx.now_ms, ctx.lru) else {
        shard.set(key, Value::Int(delta), ctx.lru);
        notify_write(ctx, false, "incrby", key);
        ctx.out.int(delta);
        return Ok(());
    };
    let current = value_as_i64(&e.value)?;
    let next = current.checked_add(delta).ok_or(CmdError::Overflow)?;
    e.value = Value::Int(next);
    notify_write(ctx, true, "incrby", key);
    ctx.out.int(next);
    Ok(())
}

/// `INCR key` — the value plus one; `value is not an integer or out of range` for a
/// non-integer value, `increment or decrement would overflow` past i64.
fn incr(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    incr_by(ctx, argv[1], 1)
}

/// `DECR key` — the value minus one; errors as INCR.
fn decr(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    incr_by(ctx, argv[1], -1)
}

/// `INCRBY key increment` — the value plus `increment` (checked before the key); errors as
/// INCR.
fn incrby(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let delta = args::int(argv[2])?;
    incr_by(ctx, argv[1], delta)
}

/// `DECRBY key decrement` — the value minus `decrement`; `decrement would overflow` for
/// `-9223372036854775808`, which cannot be negated.
fn decrby(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let delta = args::int(argv[2])?;
    let negated = delta
        .checked_neg()
        .ok_or_else(|| CmdError::err("decrement would overflow"))?;
    incr_by(ctx, argv[1], negated)
}

/// `INCRBYFLOAT key increment` — the new value as a bulk string, keeping the key's TTL.
///
/// Computed as Redis computes it, in x87 80-bit `long double` (emulated by
/// [`LongDouble`]), and printed as Redis prints it (`%.17Lf`, trailing zeros removed), so
/// `0.1` twice gives `0.2` and `SET k 1000.1` + `INCRBYFLOAT k 0` gives
/// `1000.09999999999999998`, digit for digit. Errors: WRONGTYPE, then `value is not a valid
/// float` for the stored value and then for the increment, then `increment would produce NaN
/// or Infinity`.
fn incrbyfloat(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let incr = LongDouble::parse(argv[2]);
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let (current, existed) = match shard.get_mut(key, ctx.now_ms, ctx.lru) {
        None => (LongDouble::Zero { neg: false }, false),
        Some(e) => (value_as_long_double(&e.value)?, true),
    };
    // COMPAT: the digits are those of Redis built for x86-64 (80-bit long double, emulated
    // exactly); a Redis built where long double is wider or narrower (aarch64 Linux, Apple
    // silicon) prints other digits for the same inputs. See `fincache_types::longdouble`.
    let sum = current + incr.ok_or(CmdError::NotFloat)?;
    if !sum.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = sum.to_human_string();
    ctx.out.bulk(text.as_bytes());
    // Stored as a plain string even when it reads as an integer ("3"): Redis does not
    // int-encode INCRBYFLOAT's result, and OBJECT ENCODING shows it (`embstr`, not `int`).
    let value = Value::Str(CompactBytes::from_vec(text.into_bytes()));
    shard.set_keep_ttl(key, value, ctx.lru);
    notify_write(ctx, existed, "incrbyfloat", key);
    Ok(())
}

// ---- LCS

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]`
///
/// The longest common subsequence of two strings (missing keys read as empty): as a bulk
/// string; with LEN its length; with IDX a map `matches` → the matching ranges (from the end
/// backwards, each `[[a_start, a_end], [b_start, b_end]]` plus the length with WITHMATCHLEN,
/// only runs of at least MINMATCHLEN) and `len` → the length (RESP2: a flat array).
///
/// The values are copied out and the shards unlocked before the O(N·M) work. The table is
/// refused, as in Redis, when its 4·(N+1)·(M+1) bytes exceed `proto-max-bulk-len`.
fn lcs(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let (a, b) = {
        let mut shards = db.lock_many([argv[1], argv[2]]);
        let mut copy = |key: &[u8]| -> Option<Option<Vec<u8>>> {
            let e = ctx.read_lookup(shards.shard(key), key)?;
            let mut buf = itoa::Buffer::new();
            Some(string_bytes(&e.value, &mut buf).map(<[u8]>::to_vec))
        };
        (copy(argv[1]), copy(argv[2]))
    };
    let (a, b) = match (a, b) {
        (Some(None), _) | (_, Some(None)) => {
            return Err(CmdError::err(
                "The specified keys must contain string values",
            ))
        }
        (a, b) => (
            a.flatten().unwrap_or_default(),
            b.flatten().unwrap_or_default(),
        ),
    };

    let opts = parse_lcs_options(&argv[3..]).map_err(|e| arg_error(e, "lcs"))?;
    if opts.idx && opts.len {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let limit = (u32::MAX - 1) as usize;
    if a.len() >= limit || b.len() >= limit {
        return Err(CmdError::err("String too long for LCS"));
    }
    let no_memory =
        || CmdError::err("Insufficient memory, failed allocating transient memory for LCS");
    let table_bytes = LcsTable::cells_needed(a.len(), b.len())
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(no_memory)?;
    if table_bytes > proto_max_bulk_len(ctx) {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }

    if opts.len {
        ctx.out.int(i64::from(lcs_len(&a, &b)));
        return Ok(());
    }
    let table = LcsTable::build(&a, &b).ok_or_else(no_memory)?;
    let (common, ranges) = table.backtrack(&a, &b);
    if !opts.idx {
        ctx.out.bulk(&common);
        return Ok(());
    }
    let shown: Vec<_> = ranges
        .iter()
        .filter(|r| u64::from(r.match_len()) >= opts.min_match_len)
        .collect();
    ctx.out.map_len(2);
    ctx.out.bulk(b"matches");
    ctx.out.array_len(shown.len());
    for r in shown {
        ctx.out.array_len(if opts.with_match_len { 3 } else { 2 });
        ctx.out.array_len(2);
        ctx.out.int(i64::from(r.a_start));
        ctx.out.int(i64::from(r.a_end));
        ctx.out.array_len(2);
        ctx.out.int(i64::from(r.b_start));
        ctx.out.int(i64::from(r.b_end));
        if opts.with_match_len {
            ctx.out.int(i64::from(r.match_len()));
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.int(i64::from(table.lcs_length()));
    Ok(())
}

// ---- The table (flags, key specs, arity as `COMMAND INFO` prints them in Redis 7)

const STR: AclCats = AclCats::STRING;
const GETRANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";
const R: Flags = Flags::READONLY;
const WD: Flags = Flags(Flags::WRITE.0 | Flags::DENYOOM.0);
const WF: Flags = Flags(Flags::WRITE.0 | Flags::FAST.0);
const WDF: Flags = Flags(Flags::WRITE.0 | Flags::DENYOOM.0 | Flags::FAST.0);
const RF: Flags = Flags(Flags::READONLY.0 | Flags::FAST.0);

const RW_ACCESS_UPDATE: KeyFlags =
    KeyFlags(KeyFlags::RW.0 | KeyFlags::ACCESS.0 | KeyFlags::UPDATE.0);
const OW_UPDATE: KeyFlags = KeyFlags(KeyFlags::OW.0 | KeyFlags::UPDATE.0);
const OW_INSERT: KeyFlags = KeyFlags(KeyFlags::OW.0 | KeyFlags::INSERT.0);

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("set", -3, WD, STR, set)
        .keys(1, 1, 1)
        .key_flags(RW_ACCESS_UPDATE.or(KeyFlags::VARIABLE_FLAGS))
        .doc(
            "string",
            "1.0.0",
            "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("get", 2, RF, STR, get)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Returns the string value of a key.", "O(1)"),
    CommandSpec::new("getex", -2, WF, STR, getex)
        .keys(1, 1, 1)
        .doc(
            "string",
            "6.2.0",
            "Returns the string value of a key after setting its expiration time.",
            "O(1)",
        ),
    CommandSpec::new("getdel", 2, WF, STR, getdel)
        .keys(1, 1, 1)
        .key_flags(KeyFlags(KeyFlags::RW.0 | KeyFlags::ACCESS.0 | KeyFlags::DELETE.0))
        .doc(
            "string",
            "6.2.0",
            "Returns the string value of a key after deleting the key.",
            "O(1)",
        ),
    CommandSpec::new("getset", 3, WDF, STR, getset)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Returns the previous string value of a key after setting it to a new value.",
            "O(1)",
        ),
    CommandSpec::new("setnx", 3, WDF, STR, setnx)
        .keys(1, 1, 1)
        .key_flags(OW_INSERT)
        .doc(
            "string",
            "1.0.0",
            "Set the string value of a key only when the key doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("setex", 4, WD, STR, setex)
        .keys(1, 1, 1)
        .key_flags(OW_UPDATE)
        .doc(
            "string",
            "2.0.0",
            "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("psetex", 4, WD, STR, psetex)
        .keys(1, 1, 1)
        .key_flags(OW_UPDATE)
        .doc(
            "string",
            "2.6.0",
            "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("mset", -3, WD, STR, mset)
        .keys(1, -1, 2)
        .key_flags(OW_UPDATE)
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
        .doc(
            "string",
            "1.0.1",
            "Atomically creates or modifies the string values of one or more keys.",
            "O(N) where N is the number of keys to set.",
        ),
    CommandSpec::new("msetnx", -3, WD, STR, msetnx)
        .keys(1, -1, 2)
        .key_flags(OW_INSERT)
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .doc(
            "string",
            "1.0.1",
            "Atomically modifies the string values of one or more keys only when all keys don't exist.",
            "O(N) where N is the number of keys to set.",
        ),
    CommandSpec::new("mget", -2, RF, STR, mget)
        .keys(1, -1, 1)
        .tips(&["request_policy:multi_shard"])
        .doc(
            "string",
            "1.0.0",
            "Atomically returns the string values of one or more keys.",
            "O(N) where N is the number of keys to retrieve.",
        ),
    CommandSpec::new("append", 3, WDF, STR, append)
        .keys(1, 1, 1)
        .key_flags(KeyFlags(KeyFlags::RW.0 | KeyFlags::INSERT.0))
        .doc(
            "string",
            "2.0.0",
            "Appends a string to the value of a key. Creates the key if it doesn't exist.",
            "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        ),
    CommandSpec::new("strlen", 2, RF, STR, strlen)
        .keys(1, 1, 1)
        .key_flags(KeyFlags::RO)
        .doc("string", "2.2.0", "Returns the length of a string value.", "O(1)"),
    CommandSpec::new("getrange", 4, R, STR, getrange)
        .keys(1, 1, 1)
        .doc(
            "string",
            "2.4.0",
            "Returns a substring of the string stored at a key.",
            GETRANGE_COMPLEXITY,
        ),
    CommandSpec::new("substr", 4, R, STR, getrange)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Returns a substring from a string value.",
            GETRANGE_COMPLEXITY,
        ),
    CommandSpec::new("setrange", 4, WD, STR, setrange)
        .keys(1, 1, 1)
        .key_flags(KeyFlags(KeyFlags::RW.0 | KeyFlags::UPDATE.0))
        .doc(
            "string",
            "2.2.0",
            "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
            "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        ),
    CommandSpec::new("incr", 2, WDF, STR, incr)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("decr", 2, WDF, STR, decr)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("incrby", 3, WDF, STR, incrby)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("decrby", 3, WDF, STR, decrby)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("incrbyfloat", 3, WDF, STR, incrbyfloat)
        .keys(1, 1, 1)
        .doc(
            "string",
            "2.6.0",
            "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("lcs", -3, R, STR, lcs)
        .keys(1, 2, 1)
        .doc(
            "string",
            "7.0.0",
            "Finds the longest common substring.",
            "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        ),
];
