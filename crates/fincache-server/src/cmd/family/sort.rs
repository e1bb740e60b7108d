//! SORT and SORT_RO, as Redis 7's `sort.c` behaves.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
//! [ALPHA] [STORE destination]` sorts the elements of a list, set or sorted set — numerically
//! by default, byte-wise with ALPHA — optionally by the values of other keys (`BY weight_*`,
//! `BY h_*->field`), and returns them or other keys' values (`GET`), or stores the result as a
//! list.
//!
//! Redis behaviour mirrored here:
//! - options are parsed first (syntax errors, a bad LIMIT), then the key is looked up
//!   (WRONGTYPE unless list, set or sorted set; a missing key sorts as an empty list);
//! - `BY` a pattern without `*` means "don't sort": lists and sorted sets keep their order
//!   (reversed with DESC) and LIMIT picks the range directly; a set keeps its own order, except
//!   with STORE or inside a script, where it is sorted ALPHA so the result is deterministic;
//! - a pattern's first `*` is replaced by the element; `key->field` reads a hash field (only
//!   when the field part is not empty); `GET #` is the element itself; a missing key, a key of
//!   the wrong type or a pattern without `*` gives null (an empty string in STORE);
//! - numeric sorting reads values as C's `strtod` does (leading spaces, hex, `inf`); one value
//!   that is not a number, NaN, or out of double range fails the whole command with `One or
//!   more scores can't be converted into double`, after every BY lookup was made. Missing BY
//!   values count as 0 (numeric) or sort first (ALPHA). Equal scores fall back to comparing
//!   the elements byte-wise, so the order is deterministic;
//! - ALPHA compares bytes (Redis uses `strcoll`; in the C / C.UTF-8 locales that is byte
//!   order up to the first NUL byte, and STORE compares the full bytes);
//! - STORE replaces the destination with a list (dropping its TTL) and replies its length, or
//!   deletes the destination when the result is empty. Events: `sortstore` (or `del`).
//!
//! The sort itself is the one Redis uses, so elements that compare equal (equal or missing BY
//! values under ALPHA) come out in the same order: a stable merge sort (glibc's `qsort`), or
//! with BY and a LIMIT, Redis's partial quicksort (`fincache_types::pqsort`). The input order
//! is the collection's (a set's own order, or a sorted set's hash order in Redis, may differ).
//!
//! Locking: BY and GET read keys that the arguments do not name, so neither the dispatcher nor
//! `lock_many` could know them in advance. SORT and SORT_RO are therefore `EXCLUSIVE`: they run
//! with the keyspace gate held for writing, so no other command runs meanwhile, and they lock
//! all the shards of the database at once (uncontended) to read whichever keys the patterns
//! produce, with no risk of deadlock.

use crate::cmd::args;
use crate::cmd::spec::{AclCats, CmdResult, CommandSpec, Flags, KeyFlags};
use crate::cmd::{CmdError, ExecCtx};
use crate::notify::NotifyClass;
use crate::store::{ShardSet, Value};
use fincache_types::list::{lp_entry_size, End, List};
use fincache_types::pqsort::partial_sort;
use fincache_types::CompactBytes;
use std::borrow::Cow;
use std::cmp::Ordering;

/// The parsed options.
struct SortArgs<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    by: Option<&'a [u8]>,
    /// BY names a pattern without `*`: keep the collection's own order.
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// The bytes a C function sees of an argument: up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Parses the options after the key (`sortCommandGeneric`); SORT_RO (`readonly`) does not
/// know STORE. The last of repeated options wins; GETs accumulate.
fn parse_args<'a>(argv: &[&'a [u8]], readonly: bool) -> Result<SortArgs<'a>, CmdError> {
    let mut o = SortArgs {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = argv[j];
        if args::is(a, "ASC") {
            o.desc = false;
        } else if args::is(a, "DESC") {
            o.desc = true;
        } else if args::is(a, "ALPHA") {
            o.alpha = true;
        } else if args::is(a, "LIMIT") && left >= 2 {
            o.limit_start = args::int(argv[j + 1])?;
            o.limit_count = args::int(argv[j + 2])?;
            j += 2;
        } else if !readonly && args::is(a, "STORE") && left >= 1 {
            o.store = Some(argv[j + 1]);
            j += 1;
        } else if args::is(a, "BY") && left >= 1 {
            let pattern = argv[j + 1];
            o.by = Some(pattern);
            // Like Redis, a later BY with `*` does not undo an earlier constant one.
            if !c_str(pattern).contains(&b'*') {
                o.dont_sort = true;
            }
            j += 1;
        } else if args::is(a, "GET") && left >= 1 {
            o.gets.push(argv[j + 1]);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's `lookupKeyByPattern`: the value a BY/GET pattern gives for `element` — the element
/// itself for `#`; else the string at the key made by replacing the pattern's first `*`, or
/// with `->field` the field of the hash there. A read lookup (hits, misses, lazy expiry).
fn lookup_pattern(
    ctx: &ExecCtx<'_>,
    shards: &mut ShardSet<'_>,
    pattern: &[u8],
    element: &[u8],
) -> Option<Vec<u8>> {
    // Redis searches the pattern as a C string but copies the parts by their full length.
    let visible = c_str(pattern);
    if visible == b"#" {
        return Some(element.to_vec());
    }
    let star = visible.iter().position(|&c| c == b'*')?;
    let arrow = visible[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| f + 2 < visible.len());
    let (key_end, field) = match arrow {
        Some(f) => (f, Some(&pattern[f + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(key_end + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..key_end]);

    let found = shards.shard(&key).get(&key, ctx.now_ms, ctx.lru);
    let Some(entry) = found else {
        ctx.key_miss(&key);
        return None;
    };
    ctx.server.keyspace.hit();
    let mut buf = itoa::Buffer::new();
    match (field, &entry.value) {
        (Some(field), Value::Hash(h)) => h.get(field).map(|v| v.as_bytes(&mut buf).to_vec()),
        (Some(_), _) => None,
        (None, v) => v.string_bytes(&mut buf).map(<[u8]>::to_vec),
    }
}

/// A numeric sort value as Redis reads it: C's `strtod` over the value up to its first NUL
/// byte, which must consume all of it. `None` (the command's error) for anything else, NaN, a
/// result out of double range, or one that underflows to a subnormal or zero (`ERANGE`).
/// An empty value converts to nothing and reads as 0, as with `strtod`.
fn strtod_score(raw: &[u8]) -> Option<f64> {
    let s = c_str(raw);
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let s = &s[start..];
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let magnitude = if lower == b"inf" || lower == b"infinity" {
        f64::INFINITY
    } else if lower.starts_with(b"0x") {
        parse_hex_float(&lower[2..])?
    } else {
        parse_decimal_float(&lower)?
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// The unsigned decimal part of [`strtod_score`]: `digits[.digits][e[+-]digits]` with at least
/// one mantissa digit, all of the input.
fn parse_decimal_float(s: &[u8]) -> Option<f64> {
    let mut i = 0;
    let mut digits = 0;
    let mut nonzero = false;
    let mut saw_dot = false;
    while i < s.len() {
        match s[i] {
            b'0'..=b'9' => {
                digits += 1;
                nonzero |= s[i] != b'0';
            }
            b'.' if !saw_dot => saw_dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() {
        // An exponent, which must be complete and end the value.
        if s[i] != b'e' {
            return None;
        }
        let mut k = i + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if k >= s.len() || !s[k..].iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    in_range(v, nonzero)
}

/// The hex part of [`strtod_score`] after `0x`: `hexdigits[.hexdigits][p[+-]digits]`.
fn parse_hex_float(s: &[u8]) -> Option<f64> {
    let mut mantissa: u64 = 0;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut sticky = false;
    let mut saw_dot = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !saw_dot {
            saw_dot = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        digits += 1;
        if mantissa >> 60 == 0 {
            mantissa = (mantissa << 4) | u64::from(d);
            if saw_dot {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !saw_dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if digits == 0 {
        // strtod reads the "0" and stops at the "x".
        return None;
    }
    if i < s.len() {
        if s[i] != b'p' {
            return None;
        }
        let mut k = i + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        if k >= s.len() || !s[k..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let e = s[k..].iter().fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
        exp = exp.saturating_add(if neg { -e } else { e });
    }
    let nonzero = mantissa != 0 || sticky;
    let m = (mantissa | u64::from(sticky)) as f64;
    // m < 2^64, so anything beyond these bounds overflows or underflows anyway.
    let mut v = m;
    let mut e = exp.clamp(-1200, 1200) as i32;
    while e != 0 {
        let step = e.clamp(-500, 500);
        v *= 2f64.powi(step);
        e -= step;
    }
    in_range(v, nonzero)
}

/// `strtod`'s ERANGE: an infinite result, or a subnormal / zero one from a nonzero input.
fn in_range(v: f64, nonzero: bool) -> Option<f64> {
    if v.is_infinite() || (nonzero && v.abs() < f64::MIN_POSITIVE) {
        None
    } else {
        Some(v)
    }
}

/// One element being sorted.
struct Item {
    element: CompactBytes,
    score: f64,
    /// The BY value for ALPHA sorting (None: missing, sorts first).
    by_value: Option<Vec<u8>>,
}

/// `sortCompare`: ascending order of the items under the command's options.
fn compare(a: &Item, b: &Item, alpha: bool, by: bool, store: bool) -> Ordering {
    // Redis uses strcoll (a C string compare) when replying and the full bytes with STORE.
    let text = |x: &[u8], y: &[u8]| {
        if store {
            x.cmp(y)
        } else {
            c_str(x).cmp(c_str(y))
        }
    };
    if !alpha {
        return match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.element.as_slice().cmp(b.element.as_slice()),
            Some(o) => o,
        };
    }
    if by {
        return match (&a.by_value, &b.by_value) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => text(x, y),
        };
    }
    text(a.element.as_slice(), b.element.as_slice())
}

/// Which kind of collection is sorted (a missing key sorts as an empty list).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// Builds the STORE result as Redis 7.2 does: a quicklist, converted to a listpack when it
/// ended up as one node within the `list-max-listpack-size` limit (`listTypeTryConversion`).
fn stored_list(values: &[Cow<'_, [u8]>], fill: i32) -> List {
    let mut quick = List::new();
    // An impossible size forces the quicklist encoding (Redis's createQuicklistObject).
    quick.grow_check(fill, usize::MAX, 0);
    for v in values {
        quick.push(End::Tail, v, fill);
    }
    if quick.node_count() != 1 {
        return quick;
    }
    let size = values.iter().map(|v| lp_entry_size(v)).sum();
    let mut packed = List::new();
    packed.grow_check(fill, size, values.len());
    if packed.encoding_name() != "listpack" {
        return quick;
    }
    for v in values {
        packed.push(End::Tail, v, fill);
    }
    packed
}

/// SORT and SORT_RO (`readonly`).
fn sort_generic(ctx: &mut ExecCtx<'_>, argv: &[&[u8]], readonly: bool) -> CmdResult {
    let mut o = parse_args(argv, readonly)?;
    let fill = ctx.server.config.read().list_max_listpack_size;
    let key = argv[1];
    let db = ctx.db();
    // EXCLUSIVE: the gate is held for writing, so locking every shard is uncontended.
    let mut shards = db.lock_all();

    // Look the key up and decide what to load.
    let (kind, len) = {
        let found = shards.shard(key).get(key, ctx.now_ms, ctx.lru);
        if found.is_some() {
            ctx.server.keyspace.hit();
        } else {
            ctx.key_miss(key);
        }
        match found.map(|e| &e.value) {
            None => (Kind::List, 0),
            Some(Value::List(l)) => (Kind::List, l.len()),
            Some(Value::Set(s)) => (Kind::Set, s.len()),
            Some(Value::ZSet(z)) => (Kind::ZSet, z.len()),
            Some(_) => return Err(CmdError::WrongType),
        }
    };
    if o.dont_sort && kind == Kind::Set && (o.store.is_some() || ctx.client.in_script) {
        // A set's own order is not replicable: sort it byte-wise instead.
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }

    // LIMIT, clamped as Redis does (no overflow: everything is bounded by the length).
    let n = len as i64;
    let mut start = o.limit_start.clamp(0, n);
    let count = o.limit_count.clamp(-1, n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    if end >= n {
        end = n - 1;
    }

    // Load the elements; with "don't sort", lists and sorted sets load only the range.
    let elements: Vec<CompactBytes> = {
        let value = shards.shard(key).peek(key, ctx.now_ms).map(|e| &e.value);
        let direct = (end - start + 1).max(0) as usize;
        match value {
            None => Vec::new(),
            Some(Value::List(l)) if o.dont_sort => {
                let it = if o.desc {
                    l.iter_rev_from((n - start - 1).max(0) as usize)
                } else {
                    l.iter_from(start.max(0) as usize)
                };
                it.take(direct).map(CompactBytes::new).collect()
            }
            Some(Value::List(l)) => l.iter().map(CompactBytes::new).collect(),
            Some(Value::Set(s)) => {
                let mut buf = itoa::Buffer::new();
                s.iter()
                    .map(|m| CompactBytes::new(m.as_bytes(&mut buf)))
                    .collect()
            }
            Some(Value::ZSet(z)) if o.dont_sort => {
                let it = if o.desc {
                    z.range((n - start - 1).max(0) as usize, direct, true)
                } else {
                    z.range(start.max(0) as usize, direct, false)
                };
                it.map(|(m, _)| CompactBytes::new(m)).collect()
            }
            Some(Value::ZSet(z)) => z.iter().map(|(m, _)| CompactBytes::new(m)).collect(),
            Some(_) => return Err(CmdError::WrongType),
        }
    };
    if o.dont_sort && kind != Kind::Set && end >= start {
        end -= start;
        start = 0;
    }

    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            by_value: None,
        })
        .collect();
    if !o.dont_sort {
        let mut bad_score = false;
        for item in &mut items {
            let by_value = match o.by {
                Some(pattern) => {
                    match lookup_pattern(ctx, &mut shards, pattern, item.element.as_slice()) {
                        Some(v) => Cow::Owned(v),
                        None => continue,
                    }
                }
                None => Cow::Borrowed(item.element.as_slice()),
            };
            if o.alpha {
                if o.by.is_some() {
                    item.by_value = Some(by_value.into_owned());
                }
            } else {
                match strtod_score(&by_value) {
                    Some(score) => item.score = score,
                    None => bad_score = true,
                }
            }
        }
        if bad_score {
            return Err(CmdError::err(
                "One or more scores can't be converted into double",
            ));
        }
        let (alpha, by, store, desc) = (o.alpha, o.by.is_some(), o.store.is_some(), o.desc);
        let order = |a: &Item, b: &Item| {
            let c = compare(a, b, alpha, by, store);
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        if by && end >= start && (start != 0 || end != items.len() as i64 - 1) {
            // ORDER: Redis's partial quicksort, whose order of equal elements clients see.
            partial_sort(&mut items, start as usize, end as usize, &order);
        } else {
            // Redis uses libc's qsort, a stable merge sort in glibc.
            items.sort_by(order);
        }
    }

    let picked: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let output_len = if o.gets.is_empty() {
        picked.len()
    } else {
        o.gets.len() * picked.len()
    };

    let Some(dest) = o.store else {
        ctx.out.array_len(output_len);
        for item in picked {
            if o.gets.is_empty() {
                ctx.out.bulk(item.element.as_slice());
            }
            for pattern in &o.gets {
                match lookup_pattern(ctx, &mut shards, pattern, item.element.as_slice()) {
                    Some(v) => ctx.out.bulk(&v),
                    None => ctx.out.null(),
                }
            }
        }
        return Ok(());
    };

    let mut values: Vec<Cow<'_, [u8]>> = Vec::with_capacity(output_len);
    for item in picked {
        if o.gets.is_empty() {
            values.push(Cow::Borrowed(item.element.as_slice()));
        }
        for pattern in &o.gets {
            let v = lookup_pattern(ctx, &mut shards, pattern, item.element.as_slice());
            values.push(Cow::Owned(v.unwrap_or_default()));
        }
    }
    let shard = shards.shard(dest);
    if values.is_empty() {
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
        let list = stored_list(&values, fill);
        shard.set(dest, Value::List(Box::new(list)), ctx.lru);
        drop(shards);
        if !existed {
            ctx.notify(NotifyClass::New, "new", dest);
        }
        ctx.notify(NotifyClass::List, "sortstore", dest);
    }
    ctx.out.int(output_len as i64);
    Ok(())
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
/// [ALPHA] [STORE destination]`
///
/// The sorted elements (or, with GET, for each element the value of every GET pattern, null
/// where missing); with STORE the number of values stored. See the module header.
fn sort(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
/// [ALPHA]` — SORT without STORE (which is a syntax error here).
fn sort_ro(ctx: &mut ExecCtx<'_>, argv: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

/// SORT's keys (Redis's `sortGetKeys`): the sorted key, plus the destination of the last
/// STORE. Arguments are skipped as Redis skips them (LIMIT takes two, BY and GET one; STORE's
/// own argument is examined again).
fn sort_keys(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if args::is(a, "LIMIT") {
            i += 2;
        } else if args::is(a, "STORE") && i + 1 < argv.len() {
            store = Some(i + 1);
        } else if args::is(a, "GET") || args::is(a, "BY") {
            i += 1;
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

/// SORT_RO's key: only the sorted one.
fn sort_ro_keys(_argv: &[&[u8]]) -> Vec<usize> {
    vec![1]
}

// ---- The table (as `COMMAND INFO` prints it in Redis 7)

const SORT_ACL: AclCats =
    AclCats(AclCats::SET.0 | AclCats::SORTEDSET.0 | AclCats::LIST.0 | AclCats::DANGEROUS.0);
const SORT_COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

// COMPAT: Redis 7 also lists two key specs of type "unknown" (the BY/GET keys, and STORE's
// destination); the table has no way to say "unknown", so only the sorted key's spec is
// declared. COMMAND GETKEYS and the dispatcher use `sort_keys`, which includes the destination.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "sort",
        -2,
        Flags(Flags::WRITE.0 | Flags::DENYOOM.0 | Flags::EXCLUSIVE.0),
        SORT_ACL,
        sort,
    )
    .keys(1, 1, 1)
    .key_flags(KeyFlags(KeyFlags::RO.0 | KeyFlags::ACCESS.0))
    .movable(sort_keys)
    .doc(
        "generic",
        "1.0.0",
        "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        SORT_COMPLEXITY,
    ),
    CommandSpec::new(
        "sort_ro",
        -2,
        Flags(Flags::READONLY.0 | Flags::EXCLUSIVE.0),
        SORT_ACL,
        sort_ro,
    )
    .keys(1, 1, 1)
    .key_flags(KeyFlags(KeyFlags::RO.0 | KeyFlags::ACCESS.0))
    .movable(sort_ro_keys)
    .doc(
        "generic",
        "7.0.0",
        "Returns the sorted elements of a list, a set, or a sorted set.",
        SORT_COMPLEXITY,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_rules() {
        let ok = |s: &str| strtod_score(s.as_bytes());
        assert_eq!(ok(""), Some(0.0));
        assert_eq!(ok(" 1"), Some(1.0));
        assert_eq!(ok("\t-2.5"), Some(-2.5));
        assert_eq!(ok(".5"), Some(0.5));
        assert_eq!(ok("5."), Some(5.0));
        assert_eq!(ok("+3"), Some(3.0));
        assert_eq!(ok("1E2"), Some(100.0));
        assert_eq!(ok("0x10"), Some(16.0));
        assert_eq!(ok("0x1p3"), Some(8.0));
        assert_eq!(ok("0X.8"), Some(0.5));
        assert_eq!(ok("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(ok("inf"), Some(f64::INFINITY));
        assert_eq!(ok("0e-400"), Some(0.0));
        assert_eq!(strtod_score(b"7\0junk"), Some(7.0));
        for bad in [
            " ",
            "1 ",
            "1e",
            "1e+",
            "0x",
            "0x1p",
            "nan",
            "NaN",
            "1e400",
            "1e-310",
            "1e-400",
            "abc",
            "1_000",
            "--1",
            "1.2.3",
            "0x1p99999",
        ] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn key_finder() {
        let keys = |line: &str| {
            let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            sort_keys(&argv)
        };
        assert_eq!(keys("SORT k"), vec![1]);
        assert_eq!(keys("SORT k STORE d"), vec![1, 3]);
        assert_eq!(keys("SORT k STORE d1 LIMIT 0 1 STORE d2"), vec![1, 8]);
        assert_eq!(keys("SORT k GET store STORE"), vec![1]);
        assert_eq!(keys("SORT k BY x STORE d"), vec![1, 5]);
    }
}
