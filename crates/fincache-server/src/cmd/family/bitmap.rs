//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO, as
//! Redis 7's `bitops.c` behaves. The bit arithmetic lives in `fincache_types::bitmap` and
//! `fincache_types::bitfield`; this file parses, locks, and replies.
//!
//! Redis behaviour mirrored here:
//! - bitmaps are strings. Reads accept any string representation (an `int`-encoded value reads
//!   as its decimal digits); every bit write (SETBIT, a BITFIELD with SET/INCRBY) first turns
//!   the value into `Value::Raw`, as Redis's `dbUnshareStringValue` makes it `raw`, even when
//!   no bit ends up changing; BITOP stores a fresh `raw` string and drops the destination's TTL;
//! - offsets are limited by `proto-max-bulk-len` (a byte past it: `bit offset is not an
//!   integer or out of range`); writes grow the string with zero bytes, keeping its TTL;
//! - arguments are checked before the key is looked at, except by BITCOUNT and BITPOS, which
//!   in Redis 7 look the key up first (a missing key answers 0 / -1 even with malformed range
//!   arguments; Redis 8 changed that order, FinCache follows 7.x);
//! - reads (GETBIT, BITCOUNT, BITPOS, a GET-only BITFIELD, BITOP's sources) count keyspace
//!   hits and misses; writes do not;
//! - events: `setbit` only when a bit write created, grew or changed the string (`new` first
//!   when it created the key); BITOP raises `set` on the destination, or `del` when the result
//!   is empty and a destination existed.
//!
//! Locking: every command but BITOP locks one shard; BITOP locks the destination and all the
//! sources with `Db::lock_many` (ORDER: ascending shard index) and reads the sources in place.

use crate::cmd::args;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags, KeySpec};
use crate::cmd::spec::{BeginSearch, FindKeys};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::{Db, Shard, ShardSet, Value, SHARDS_PER_DB};
use fincache_types::bitfield::{self, FieldOp, OpKind, ParseError};
use fincache_types::bitmap::{self, BitOp, Unit};

const BAD_OFFSET: &str = "bit offset is not an integer or out of range";

fn proto_max_bulk_len(ctx: &ExecCtx<'_>) -> usize {
    ctx.server.config.read().proto_max_bulk_len
}

/// Parses a SETBIT/GETBIT offset.
fn bit_offset(ctx: &ExecCtx<'_>, arg: &[u8]) -> Result<u64, CmdError> {
    bitmap::parse_bit_offset(arg, 0, proto_max_bulk_len(ctx))
        .ok_or_else(|| CmdError::err(BAD_OFFSET))
}

/// Turns a string value into `Value::Raw` in place (Redis's `dbUnshareStringValue`) and
/// returns its buffer; WRONGTYPE, with the value untouched, for any other type.
fn raw_buffer(value: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    let bytes = match value {
        Value::Raw(_) => None,
        Value::Str(s) => Some(std::mem::take(s).into_vec()),
        Value::Int(n) => Some(itoa::Buffer::new().format(*n).as_bytes().to_vec()),
        _ => return Err(CmdError::WrongType),
    };
    if let Some(bytes) = bytes {
        *value = Value::Raw(Box::new(bytes));
    }
    match value {
        Value::Raw(r) => Ok(r),
        _ => Err(CmdError::WrongType),
    }
}

/// Finds or creates the string a bit write needs, grown with zeros to hold bit `max_bit`
/// (Redis's `lookupStringForBitCommand`, one hash probe), and runs `write` on its bytes with
/// whether the string grew (a creation counts as growth). Returns `write`'s result and whether
/// the key was created. WRONGTYPE, with nothing changed, for a value of another type.
fn with_bit_string<R>(
    shard: &mut Shard,
    key: &[u8],
    max_bit: u64,
    (now_ms, lru): (u64, u32),
    write: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<(R, bool), CmdError> {
    // COMPAT: Redis aborts when the allocation fails (only possible after raising
    // proto-max-bulk-len far beyond the memory); FinCache answers an error instead.
    let no_memory = |_| CmdError::err("out of memory growing the string for a bit write");
    // The offset parser bounded `max_bit / 8` by proto-max-bulk-len, so it fits a usize.
    let len = usize::try_from(max_bit >> 3)
        .ok()
        .and_then(|b| b.checked_add(1))
        .ok_or_else(|| CmdError::err(BAD_OFFSET))?;
    match shard.get_mut(key, now_ms, lru) {
        Some(entry) => {
            let buf = raw_buffer(&mut entry.value)?;
            let grew = bitmap::grow_zeroed(buf, len).map_err(no_memory)?;
            Ok((write(buf, grew), false))
        }
        None => {
            let mut buf = Vec::new();
            bitmap::grow_zeroed(&mut buf, len).map_err(no_memory)?;
            let result = write(&mut buf, true);
            shard.set(key, Value::Raw(Box::new(buf)), lru);
            Ok((result, true))
        }
    }
}

// ---- SETBIT / GETBIT

/// `SETBIT key offset value` — the bit's previous value (0 or 1).
///
/// Creates the key (zero bytes up to the offset) or grows it, keeping its TTL. Errors: `bit
/// offset is not an integer or out of range`, `bit is not an integer or out of range` (value
/// other than 0 or 1), WRONGTYPE.
fn setbit(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(ctx, argv[2])?;
    let on = match args::int(argv[3]) {
        Ok(0) => false,
        Ok(1) => true,
        _ => return Err(CmdError::err("bit is not an integer or out of range")),
    };
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let clock = (ctx.now_ms, ctx.lru);
    let ((old, grew), created) = with_bit_string(&mut shard, key, offset, clock, |buf, grew| {
        (bitmap::set_bit(buf, offset, on), grew)
    })?;
    drop(shard);
    if created {
        ctx.notify(NotifyClass::New, "new", key);
    }
    if grew || old != on {
        ctx.notify(NotifyClass::String, "setbit", key);
    }
    ctx.out.int(i64::from(old));
    Ok(())
}

/// `GETBIT key offset` — the bit at `offset`: 0 past the end of the string or for a missing
/// key; WRONGTYPE for other types.
fn getbit(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(ctx, argv[2])?;
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let bit = match ctx.read_lookup(&mut shard, argv[1]) {
        None => false,
        Some(e) => {
            let mut buf = itoa::Buffer::new();
            let bytes = e.value.string_bytes(&mut buf).ok_or(CmdError::WrongType)?;
            bitmap::get_bit(bytes, offset)
        }
    };
    ctx.out.int(i64::from(bit));
    Ok(())
}

// ---- BITCOUNT / BITPOS

/// Parses an optional `BYTE | BIT` unit argument.
fn unit_arg(arg: Option<&&[u8]>) -> Result<Unit, CmdError> {
    match arg {
        None => Ok(Unit::Byte),
        Some(a) if args::is(a, "BYTE") => Ok(Unit::Byte),
        Some(a) if args::is(a, "BIT") => Ok(Unit::Bit),
        Some(_) => Err(CmdError::Syntax),
    }
}

/// `BITCOUNT key [start end [BYTE | BIT]]` — the number of set bits, in the whole string or
/// in an inclusive range (bytes by default, negative from the end).
///
/// As Redis 7 (`bitcountCommand`), the key is looked at first: a missing key answers 0 and a
/// wrong type WRONGTYPE whatever the other arguments; two negative indexes with `start > end`
/// answer 0 before the unit is checked.
fn bitcount(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(e) = ctx.read_lookup(&mut shard, argv[1]) else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut buf = itoa::Buffer::new();
    let bytes = e.value.string_bytes(&mut buf).ok_or(CmdError::WrongType)?;
    let count = match argv.len() {
        2 => bitmap::popcount(bytes),
        4 | 5 => {
            let start = args::int(argv[2])?;
            let end = args::int(argv[3])?;
            if start < 0 && end < 0 && start > end {
                0
            } else {
                bitmap::count_range(bytes, start, end, unit_arg(argv.get(4))?)
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    drop(shard);
    ctx.out.int(i64::try_from(count).unwrap_or(i64::MAX));
    Ok(())
}

/// `BITPOS key bit [start [end [BYTE | BIT]]]` — the position of the first bit equal to `bit`.
///
/// A missing key is an endless run of zeros: 0 when looking for a 0, -1 for a 1 (whatever the
/// range arguments, as Redis 7 looks the key up before parsing them). Looking for a 0 in a
/// string of ones without an explicit end answers the first bit past the string (Redis pads it
/// with zeros on the right); with an explicit end, -1.
fn bitpos(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let bit = match args::int(argv[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let Some(e) = ctx.read_lookup(&mut shard, argv[1]) else {
        ctx.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let mut buf = itoa::Buffer::new();
    let bytes = e.value.string_bytes(&mut buf).ok_or(CmdError::WrongType)?;
    // Redis's order: start, then the unit, then end.
    let (range, unit) = match argv.len() {
        3 => (None, Unit::Byte),
        4..=6 => {
            let start = args::int(argv[3])?;
            let unit = unit_arg(argv.get(5))?;
            let end = argv.get(4).map(|a| args::int(a)).transpose()?;
            (Some((start, end)), unit)
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = bitmap::bitpos(bytes, bit, range, unit);
    drop(shard);
    ctx.out.int(pos);
    Ok(())
}

// ---- BITOP

/// Shared views of the locked shards, indexed by shard (see `ShardSet::iter`).
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

/// `BITOP AND | OR | XOR | NOT destkey key [key ...]` — the length of the stored result.
///
/// Missing sources read as empty strings; shorter sources are zero-padded to the longest. The
/// result replaces the destination (TTL dropped); an empty result deletes it instead. NOT takes
/// exactly one source (`BITOP NOT must be called with a single source key.`).
fn bitop(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let op = BitOp::parse(argv[1]).ok_or(CmdError::Syntax)?;
    if op == BitOp::Not && argv.len() != 4 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let (dest, sources) = (argv[2], &argv[3..]);
    let db = ctx.db();
    let mut shards = db.lock_many(argv[2..].iter().copied());
    // Look every source up first (expiring, counting, type-checking), as Redis does.
    for key in sources {
        if let Some(e) = ctx.read_lookup(shards.shard(key), key) {
            if !e.value.is_string() {
                return Err(CmdError::WrongType);
            }
        }
    }
    let result = {
        let views = shard_views(&shards, &argv[2..]);
        let mut ints: Vec<itoa::Buffer> = sources.iter().map(|_| itoa::Buffer::new()).collect();
        let mut inputs: Vec<&[u8]> = Vec::with_capacity(sources.len());
        for (key, buf) in sources.iter().zip(ints.iter_mut()) {
            let value = views[Db::shard_index(key)].and_then(|s| s.peek(key, ctx.now_ms));
            inputs.push(match value {
                Some(e) => e.value.string_bytes(buf).unwrap_or_default(),
                None => &[],
            });
        }
        bitmap::bitop(op, &inputs)
    };
    let len = result.len();
    let shard = shards.shard(dest);
    if result.is_empty() {
        let existed = shard.remove(dest).is_some();
        drop(shards);
        if existed {
            ctx.notify(NotifyClass::Generic, "del", dest);
        }
    } else {
        let existed = if ctx.notifying(NotifyClass::New) || ctx.notifying(NotifyClass::Expired) {
            shard.contains(dest, ctx.now_ms)
        } else {
            true
        };
        shard.set(dest, Value::Raw(Box::new(result)), ctx.lru);
        drop(shards);
        if !existed {
            ctx.notify(NotifyClass::New, "new", dest);
        }
        ctx.notify(NotifyClass::String, "set", dest);
    }
    ctx.out.int(len as i64);
    Ok(())
}

// ---- BITFIELD

fn bitfield_error(e: ParseError) -> CmdError {
    match e {
        ParseError::Syntax => CmdError::Syntax,
        ParseError::BadOverflow => CmdError::err("Invalid OVERFLOW type specified"),
        ParseError::BadType => CmdError::err(
            "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        ),
        ParseError::BadOffset => CmdError::err(BAD_OFFSET),
        ParseError::NotInteger => CmdError::NotInteger,
    }
}

/// Replies the GET-only operations against a string (missing bytes and keys read as zeros).
fn reply_reads(ctx: &mut ExecCtx<'_>, bytes: &[u8], ops: &[FieldOp]) {
    ctx.out.array_len(ops.len());
    for op in ops {
        ctx.out.int(bitfield::read(bytes, op));
    }
}

/// BITFIELD and BITFIELD_RO (`readonly`): parse everything, then read or write.
fn bitfield_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], readonly: bool) -> CmdResult {
    let ops = bitfield::parse_ops(&argv[2..], proto_max_bulk_len(ctx)).map_err(bitfield_error)?;
    let key = argv[1];
    let db = ctx.db();
    let mut shard = db.lock(key);
    let Some(max_bit) = bitfield::highest_write_bit(&ops) else {
        // Only GETs: a read.
        match ctx.read_lookup(&mut shard, key) {
            None => reply_reads(ctx, &[], &ops),
            Some(e) => {
                let mut buf = itoa::Buffer::new();
                let bytes = e.value.string_bytes(&mut buf).ok_or(CmdError::WrongType)?;
                reply_reads(ctx, bytes, &ops);
            }
        }
        return Ok(());
    };
    if readonly {
        return Err(CmdError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let clock = (ctx.now_ms, ctx.lru);
    let out = &mut *ctx.out;
    let (changes, created) = with_bit_string(&mut shard, key, max_bit, clock, |buf, grew| {
        let mut changes = 0usize;
        out.array_len(ops.len());
        for op in &ops {
            if op.kind == OpKind::Get {
                out.int(bitfield::read(buf, op));
                continue;
            }
            let outcome = bitfield::write(buf, op);
            match outcome.reply {
                Some(v) => {
                    out.int(v);
                    if grew || outcome.changed {
                        changes += 1;
                    }
                }
                None => out.null(),
            }
        }
        changes
    })?;
    drop(shard);
    if created {
        ctx.notify(NotifyClass::New, "new", key);
    }
    if changes > 0 {
        ctx.notify(NotifyClass::String, "setbit", key);
    }
    Ok(())
}

/// `BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
/// [OVERFLOW WRAP | SAT | FAIL] ...`
///
/// An array with one entry per GET/SET/INCRBY: the field's value (GET), its previous value
/// (SET), its new value (INCRBY), or null when OVERFLOW FAIL refused the write. Types are
/// `i1`..`i64` and `u1`..`u63`; offsets are bit numbers or `#N` (N fields of that width). With
/// any write, the key is created or grown to the farthest bit written before anything runs
/// (even if every write then fails).
fn bitfield_cmd(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, argv, false)
}

/// `BITFIELD_RO key [GET type offset [GET type offset ...]]` — BITFIELD limited to GET
/// (`BITFIELD_RO only supports the GET subcommand` otherwise, after the arguments are checked).
fn bitfield_ro(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, argv, true)
}

// ---- The table (as `COMMAND INFO` prints it in Redis 7)

const BM: AclCats = AclCats::BITMAP;
const R: Flags = Flags::READONLY;
const RF: Flags = Flags(Flags::READONLY.0 | Flags::FAST.0);
const WD: Flags = Flags(Flags::WRITE.0 | Flags::DENYOOM.0);

const BITOP_KEYS: &[KeySpec] = &[
    KeySpec {
        flags: KeyFlags(KeyFlags::OW.0 | KeyFlags::UPDATE.0),
        begin: BeginSearch::Index(2),
        find: FindKeys::Range {
            lastkey: 0,
            keystep: 1,
            limit: 0,
        },
    },
    KeySpec {
        flags: KeyFlags(KeyFlags::RO.0 | KeyFlags::ACCESS.0),
        begin: BeginSearch::Index(3),
        find: FindKeys::Range {
            lastkey: -1,
            keystep: 1,
            limit: 0,
        },
    },
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, WD, BM, setbit)
        .keys(1, 1, 1)
        .doc(
            "bitmap",
            "2.2.0",
            "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
            "O(1)",
        ),
    CommandSpec::new("getbit", 3, RF, BM, getbit)
        .keys(1, 1, 1)
        .doc("bitmap", "2.2.0", "Returns a bit value by offset.", "O(1)"),
    CommandSpec::new("bitcount", -2, R, BM, bitcount)
        .keys(1, 1, 1)
        .doc(
            "bitmap",
            "2.6.0",
            "Counts the number of set bits (population counting) in a string.",
            "O(N)",
        ),
    CommandSpec::new("bitpos", -3, R, BM, bitpos)
        .keys(1, 1, 1)
        .doc(
            "bitmap",
            "2.8.7",
            "Finds the first set (1) or clear (0) bit in a string.",
            "O(N)",
        ),
    CommandSpec::new("bitop", -4, WD, BM, bitop)
        .keys(2, -1, 1)
        .key_specs(BITOP_KEYS)
        .doc(
            "bitmap",
            "2.6.0",
            "Performs bitwise operations on multiple strings, and stores the result.",
            "O(N)",
        ),
    CommandSpec::new("bitfield", -2, WD, BM, bitfield_cmd)
        .keys(1, 1, 1)
        .key_flags(KeyFlags(
            KeyFlags::RW.0 | KeyFlags::ACCESS.0 | KeyFlags::UPDATE.0 | KeyFlags::VARIABLE_FLAGS.0,
        ))
        .doc(
            "bitmap",
            "3.2.0",
            "Performs arbitrary bitfield integer operations on strings.",
            "O(1) for each subcommand specified",
        ),
    CommandSpec::new("bitfield_ro", -2, RF, BM, bitfield_ro)
        .keys(1, 1, 1)
        .doc(
            "bitmap",
            "6.0.0",
            "Performs arbitrary read-only bitfield integer operations on strings.",
            "O(1) for each subcommand specified",
        ),
];
