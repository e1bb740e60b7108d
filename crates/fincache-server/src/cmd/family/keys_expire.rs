//! Key expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME,
//! PEXPIRETIME and PERSIST.
//!
//! Mirrors Redis's `expire.c`: deadlines are absolute Unix milliseconds; the command's clock
//! (`ctx.now_ms`) is the one instant a command sees. Setting a deadline at or before now
//! deletes the key at once (counted as a deletion, not as an expiry, as in Redis). The
//! deleting of keys whose deadline passed happens lazily on access ([`crate::store::Shard`])
//! and actively in the background ([`crate::store::expire`]).

use crate::cmd::args;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;

/// The NX | XX | GT | LT condition of the EXPIRE family.
#[derive(Debug, Clone, Copy, Default)]
struct Condition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Condition {
    /// Parses the options after the time argument, with Redis's errors and their order
    /// (options are checked before the time is parsed).
    fn parse(options: &[&[u8]]) -> Result<Condition, CmdError> {
        let mut c = Condition::default();
        for opt in options {
            if args::is(opt, "NX") {
                c.nx = true;
            } else if args::is(opt, "XX") {
                c.xx = true;
            } else if args::is(opt, "GT") {
                c.gt = true;
            } else if args::is(opt, "LT") {
                c.lt = true;
            } else {
                return Err(CmdError::err(format_args!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )));
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CmdError::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether a key whose current deadline is `current` (None = no TTL, i.e. infinite) may get
    /// the deadline `when`.
    fn allows(&self, current: Option<i64>, when: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        if self.gt {
            match current {
                None => return false,
                Some(cur) if when <= cur => return false,
                Some(_) => {}
            }
        }
        if self.lt {
            if let Some(cur) = current {
                if when >= cur {
                    return false;
                }
            }
        }
        true
    }
}

/// A stored deadline as Redis's signed milliseconds.
fn signed_ms(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

/// The body of the four EXPIRE commands: `time` is read in `unit_ms` milliseconds and is
/// relative to now when `relative`. `name` is the command's name in overflow errors.
fn expire_generic(
    ctx: &mut ExecCtx<'_>,
    argv: &[&[u8]],
    unit_ms: i64,
    relative: bool,
    name: &str,
) -> CmdResult {
    let key = argv[1];
    let cond = Condition::parse(&argv[3..])?;
    let time = args::int(argv[2])?;
    let overflow = || CmdError::InvalidExpire(name.to_string());
    let mut when = time.checked_mul(unit_ms).ok_or_else(overflow)?;
    let now = signed_ms(ctx.now_ms);
    if relative {
        // Redis rejects only overflow past the top: a very negative TTL simply deletes.
        if when > i64::MAX - now {
            return Err(overflow());
        }
        when += now;
    }
    let db = ctx.db();
    let mut shard = db.lock(key);
    if !shard.contains(key, ctx.now_ms) {
        drop(shard);
        ctx.out.int(0);
        return Ok(());
    }
    let current = shard.expire_at(key).map(signed_ms);
    let reply = if !cond.allows(current, when) {
        0
    } else if when <= now {
        shard.remove(key);
        ctx.notify(NotifyClass::Generic, "del", key);
        1
    } else {
        // `when` > now >= 0 here, so it is a valid unsigned deadline.
        shard.set_expire(key, when as u64);
        ctx.notify(NotifyClass::Generic, "expire", key);
        1
    };
    drop(shard);
    ctx.out.int(reply);
    Ok(())
}

/// `EXPIRE key seconds [NX | XX | GT | LT]` — 1 if the TTL was set (or the key deleted because
/// the time is not positive), 0 if the key is missing or the condition failed.
fn expire(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, 1000, true, "expire")
}

/// `PEXPIRE key milliseconds [NX | XX | GT | LT]` — as EXPIRE, in milliseconds.
fn pexpire(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, 1, true, "pexpire")
}

/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]` — as EXPIRE, with an absolute time.
fn expireat(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, 1000, false, "expireat")
}

/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]` — as EXPIREAT, in milliseconds.
fn pexpireat(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, argv, 1, false, "pexpireat")
}

/// The body of TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1 without a TTL,
/// else the remaining time (or the deadline when `absolute`), in ms or rounded seconds.
fn ttl_generic(ctx: &mut ExecCtx<'_>, key: &[u8], in_ms: bool, absolute: bool) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(key);
    let found = shard.get_notouch(key, ctx.now_ms).is_some();
    let deadline = shard.expire_at(key);
    drop(shard);
    if found {
        ctx.server.keyspace.hit();
    } else {
        ctx.key_miss(key);
    }
    let reply = match (found, deadline) {
        (false, _) => -2,
        (true, None) => -1,
        (true, Some(at)) => {
            let ms = if absolute {
                i128::from(at)
            } else {
                (i128::from(at) - i128::from(ctx.now_ms)).max(0)
            };
            let out = if in_ms { ms } else { (ms + 500) / 1000 };
            i64::try_from(out).unwrap_or(i64::MAX)
        }
    };
    ctx.out.int(reply);
    Ok(())
}

/// `TTL key` — seconds to live (rounded), -1 without a TTL, -2 if the key does not exist.
fn ttl(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], false, false)
}

/// `PTTL key` — milliseconds to live, -1 without a TTL, -2 if the key does not exist.
fn pttl(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], true, false)
}

/// `EXPIRETIME key` — the deadline as Unix seconds (rounded), -1 without a TTL, -2 if missing.
fn expiretime(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], false, true)
}

/// `PEXPIRETIME key` — the deadline as Unix milliseconds, -1 without a TTL, -2 if missing.
fn pexpiretime(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, argv[1], true, true)
}

/// `PERSIST key` — 1 if the key's TTL was removed, 0 if it is missing or had none.
fn persist(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut shard = db.lock(argv[1]);
    let removed = shard.contains(argv[1], ctx.now_ms) && shard.persist(argv[1]);
    drop(shard);
    if removed {
        ctx.notify(NotifyClass::Generic, "persist", argv[1]);
    }
    ctx.out.int(i64::from(removed));
    Ok(())
}

const KS: AclCats = AclCats::KEYSPACE;
const RO_FAST: Flags = Flags::READONLY.or(Flags::FAST);
const WRITE_FAST: Flags = Flags::WRITE.or(Flags::FAST);
const RW_UPDATE: KeyFlags = KeyFlags::RW.or(KeyFlags::UPDATE);
const RO_ACCESS: KeyFlags = KeyFlags::RO.or(KeyFlags::ACCESS);

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("expire", -3, WRITE_FAST, KS, expire)
        .keys(1, 1, 1)
        .key_flags(RW_UPDATE)
        .doc(
            "generic",
            "1.0.0",
            "Set a key's time to live in seconds",
            "O(1)",
        ),
    CommandSpec::new("pexpire", -3, WRITE_FAST, KS, pexpire)
        .keys(1, 1, 1)
        .key_flags(RW_UPDATE)
        .doc(
            "generic",
            "2.6.0",
            "Set a key's time to live in milliseconds",
            "O(1)",
        ),
    CommandSpec::new("expireat", -3, WRITE_FAST, KS, expireat)
        .keys(1, 1, 1)
        .key_flags(RW_UPDATE)
        .doc(
            "generic",
            "1.2.0",
            "Set the expiration for a key as a UNIX timestamp",
            "O(1)",
        ),
    CommandSpec::new("pexpireat", -3, WRITE_FAST, KS, pexpireat)
        .keys(1, 1, 1)
        .key_flags(RW_UPDATE)
        .doc(
            "generic",
            "2.6.0",
            "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
            "O(1)",
        ),
    CommandSpec::new("ttl", 2, RO_FAST, KS, ttl)
        .keys(1, 1, 1)
        .key_flags(RO_ACCESS)
        .tips(&["nondeterministic_output"])
        .doc(
            "generic",
            "1.0.0",
            "Get the time to live for a key in seconds",
            "O(1)",
        ),
    CommandSpec::new("pttl", 2, RO_FAST, KS, pttl)
        .keys(1, 1, 1)
        .key_flags(RO_ACCESS)
        .tips(&["nondeterministic_output"])
        .doc(
            "generic",
            "2.6.0",
            "Get the time to live for a key in milliseconds",
            "O(1)",
        ),
    CommandSpec::new("expiretime", 2, RO_FAST, KS, expiretime)
        .keys(1, 1, 1)
        .key_flags(RO_ACCESS)
        .doc(
            "generic",
            "7.0.0",
            "Get the expiration Unix timestamp for a key",
            "O(1)",
        ),
    CommandSpec::new("pexpiretime", 2, RO_FAST, KS, pexpiretime)
        .keys(1, 1, 1)
        .key_flags(RO_ACCESS)
        .doc(
            "generic",
            "7.0.0",
            "Get the expiration Unix timestamp for a key in milliseconds",
            "O(1)",
        ),
    CommandSpec::new("persist", 2, WRITE_FAST, KS, persist)
        .keys(1, 1, 1)
        .key_flags(RW_UPDATE)
        .doc(
            "generic",
            "2.2.0",
            "Remove the expiration from a key",
            "O(1)",
        ),
];
