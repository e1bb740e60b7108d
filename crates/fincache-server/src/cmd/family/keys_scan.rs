//! Keyspace iteration: KEYS and SCAN.
//!
//! SCAN's cursor encodes a shard of the selected database and a position in that shard's
//! insertion-ordered map: `cursor = (positions_left << SHARD_BITS) | shard`, where
//! `positions_left` is how many positions of the shard remain to visit (0 = the whole shard,
//! as sized when the walk reaches it). Each shard is walked from its highest position down.
//!
//! The guarantee (Redis's): a key present from the start to the end of a full iteration is
//! returned at least once. A removal is `swap_remove`: the shard's last key moves into the hole.
//! Keys not yet visited sit at positions below the cursor and the last key is at or above any
//! hole, so a move only ever carries an already-visited key down (it may be returned twice,
//! which Redis allows) and never carries an unvisited key above the cursor. New keys are
//! appended above the cursor and may be missed, which Redis also allows.

use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags};
use crate::cmd::{args, CmdError, ExecCtx};
use crate::store::{Shard, SHARDS_PER_DB};
use fincache_types::{glob_match, CompactBytes};

/// Bits of the cursor that hold the shard index.
const SHARD_BITS: u32 = SHARDS_PER_DB.trailing_zeros();
const SHARD_MASK: u64 = SHARDS_PER_DB as u64 - 1;

/// Default SCAN COUNT, as in Redis.
const DEFAULT_COUNT: usize = 10;

/// Whether `pattern` is exactly `*`, which Redis treats as "no pattern" (so `*` also returns
/// the empty key, which the matcher itself would not).
fn matches_everything(pattern: &[u8]) -> bool {
    pattern == b"*"
}

/// `KEYS pattern` — every key of the selected database matching the glob `pattern`, in no
/// particular order. Keys whose TTL has passed are skipped (not deleted, as in Redis).
fn keys(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let pattern = argv[1];
    let all = matches_everything(pattern);
    let db = ctx.db();
    // Every shard at once, so the reply is one point in time.
    let shards = db.lock_all();
    let mut found: Vec<&CompactBytes> = Vec::new();
    for shard in shards.iter() {
        for (key, entry) in shard.iter() {
            if (all || glob_match(pattern, key, false))
                && !(entry.has_expire && shard.peek(key, ctx.now_ms).is_none())
            {
                found.push(key);
            }
        }
    }
    ctx.out.array_len(found.len());
    for key in found {
        ctx.out.bulk(key);
    }
    Ok(())
}

/// Parses a SCAN cursor exactly as Redis's `strtoul`-based `parseScanCursorOrReply`: optional
/// sign (a negative value wraps), decimal digits, nothing else; no leading space; the empty
/// string is 0; an embedded NUL ends the number (Redis reads a C string).
fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::err("invalid cursor");
    let arg = match memchr::memchr(0, arg) {
        Some(nul) => &arg[..nul],
        None => arg,
    };
    if arg.is_empty() {
        return Ok(0);
    }
    if matches!(arg[0], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        return Err(invalid());
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
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

/// What SCAN keeps of its options.
struct ScanFilter<'a> {
    pattern: Option<&'a [u8]>,
    type_name: Option<&'a [u8]>,
}

impl ScanFilter<'_> {
    fn accepts(&self, shard: &Shard, pos: usize) -> Option<CompactBytes> {
        let (key, entry) = shard.key_at(pos)?;
        if let Some(p) = self.pattern {
            if !glob_match(p, key, false) {
                return None;
            }
        }
        if let Some(t) = self.type_name {
            if !entry.value.type_name().as_bytes().eq_ignore_ascii_case(t) {
                return None;
            }
        }
        Some(key.clone())
    }
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]` — `[next-cursor, [key …]]`; the
/// iteration is complete when the next cursor is 0. COUNT (default 10) bounds the keys returned
/// per call; at most 10×COUNT positions are examined per call, as Redis bounds its buckets.
fn scan(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(argv[1])?;
    let mut count = DEFAULT_COUNT;
    let mut filter = ScanFilter {
        pattern: None,
        type_name: None,
    };
    let mut i = 2;
    while i < argv.len() {
        let has_value = i + 1 < argv.len();
        if args::is(argv[i], "COUNT") && has_value {
            let n = args::int(argv[i + 1])?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args::is(argv[i], "MATCH") && has_value {
            let p = argv[i + 1];
            filter.pattern = (!matches_everything(p)).then_some(p);
        } else if args::is(argv[i], "TYPE") && has_value {
            // An unknown type name matches nothing (Redis 7 does not reject it).
            filter.type_name = Some(argv[i + 1]);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }

    let db = ctx.db();
    let budget = count.saturating_mul(10);
    let mut examined = 0usize;
    let mut found: Vec<CompactBytes> = Vec::new();
    let mut shard_index = (cursor & SHARD_MASK) as usize;
    let mut left = usize::try_from(cursor >> SHARD_BITS).unwrap_or(usize::MAX);
    let next_cursor = loop {
        if shard_index >= SHARDS_PER_DB {
            break 0;
        }
        let mut shard = db.lock_shard(shard_index);
        left = if left == 0 {
            shard.len()
        } else {
            left.min(shard.len())
        };
        while left > 0 && found.len() < count && examined < budget {
            left -= 1;
            examined += 1;
            // Deleting at `left` moves the last key (already visited) into `left`: harmless.
            if shard.expire_index_if_due(left, ctx.now_ms) {
                continue;
            }
            if let Some(key) = filter.accepts(&shard, left) {
                found.push(key);
            }
        }
        drop(shard);
        if left > 0 {
            break ((left as u64) << SHARD_BITS) | shard_index as u64;
        }
        shard_index += 1;
        if found.len() >= count || examined >= budget {
            // Stopping at a shard boundary: if only empty shards are left, say the iteration is
            // over now rather than after one more empty round trip.
            while shard_index < SHARDS_PER_DB && db.lock_shard(shard_index).is_empty() {
                shard_index += 1;
            }
            break if shard_index >= SHARDS_PER_DB {
                0
            } else {
                shard_index as u64
            };
        }
    };

    ctx.out.array_len(2);
    ctx.out
        .bulk(itoa::Buffer::new().format(next_cursor).as_bytes());
    ctx.out.array_len(found.len());
    for key in &found {
        ctx.out.bulk(key);
    }
    Ok(())
}

const KS_DANGEROUS: AclCats = AclCats(AclCats::KEYSPACE.0 | AclCats::DANGEROUS.0);

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("keys", 2, Flags::READONLY, KS_DANGEROUS, keys)
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
        .doc(
            "generic",
            "1.0.0",
            "Find all keys matching the given pattern",
            "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        ),
    CommandSpec::new("scan", -2, Flags::READONLY, AclCats::KEYSPACE, scan)
        .tips(&["nondeterministic_output", "request_policy:special"])
        .doc(
            "generic",
            "2.8.0",
            "Incrementally iterate the keys space",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        ),
];

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b""), Ok(0));
        assert_eq!(parse_cursor(b"+17"), Ok(17));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"-0"), Ok(0));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"5\0junk"), Ok(5));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"0x10",
            b"+",
            b"-",
            b"abc",
            b"1.5",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
