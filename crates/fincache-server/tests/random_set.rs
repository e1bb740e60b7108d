//! Randomized differential run for sets: a seeded generator sends thousands of set commands
//! (plus a few keyspace ones) over a handful of keys to FinCache and to `redis-server`, compares
//! every reply, and finally compares every key.
//!
//! Both servers run with `set-max-intset-entries 6`, so sets cross encodings often. Redis 7.0
//! (the oracle) keeps small sets of strings in hash tables where Redis 7.2 and FinCache use
//! listpacks, so replies that list members are compared as multisets, and OBJECT ENCODING is
//! not compared. Random replies are checked against the other server's state: SRANDMEMBER's
//! members must be members there (distinct for a positive count, as many as Redis returns);
//! SPOP runs on FinCache only and its members are then removed from Redis with SREM, which must
//! remove every one of them; this keeps both servers in step. SSCAN is compared as the union of
//! a full iteration.
//!
//! Environment: `FINCACHE_SEED` replays a run; `FINCACHE_RANDOM_OPS` (default 4000) sets its
//! length.

mod support;

use fincache_resp::Reply;
use std::collections::BTreeSet;
use support::{same_reply, show_reply, RawConn, TestServer};

const DEFAULT_SEED: u64 = 0x5E75_F1CA;
const DEFAULT_OPS: usize = 4000;
const KEYS: &[&str] = &["s0", "s1", "s2", "s3", "{t}a", "{t}b"];

/// SplitMix64: tiny, seedable, and stable (a seed replays forever).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick(&mut self, items: &[&str]) -> String {
        items[self.below(items.len() as u64) as usize].to_string()
    }
}

/// Mostly small integers (intsets), some strings, some non-canonical numbers.
fn member(r: &mut Rng) -> String {
    match r.below(10) {
        0..=5 => r.range(-3, 12).to_string(),
        6 => r.pick(&[
            "01",
            "-0",
            "1.0",
            " 1",
            "9223372036854775808",
            "-9223372036854775808",
        ]),
        7 => "m".repeat(r.range(62, 67) as usize),
        _ => r.pick(&["a", "b", "c", "d", "e", ""]),
    }
}

fn keys(r: &mut Rng, min: i64, max: i64) -> Vec<String> {
    (0..r.range(min, max)).map(|_| r.pick(KEYS)).collect()
}

/// How a reply is checked.
enum Check {
    Exact,
    /// Members in an order Redis does not define.
    Unordered,
    /// SRANDMEMBER: against Redis's state.
    RandMember,
    /// SPOP: on FinCache only, then SREM of what it popped on Redis.
    Pop,
    /// SSCAN: iterate to the end on both sides and compare what was returned.
    FullScan,
}

fn generate(r: &mut Rng) -> (Vec<String>, Check) {
    let s = |v: &str| v.to_string();
    let key = r.pick(KEYS);
    let with = |mut a: Vec<String>, more: Vec<String>| {
        a.extend(more);
        a
    };
    match r.below(100) {
        0..=21 => {
            let members = (0..r.range(1, 5)).map(|_| member(r)).collect();
            (with(vec![s("SADD"), key], members), Check::Exact)
        }
        22..=29 => {
            let members = (0..r.range(1, 3)).map(|_| member(r)).collect();
            (with(vec![s("SREM"), key], members), Check::Exact)
        }
        30..=33 => (vec![s("SISMEMBER"), key, member(r)], Check::Exact),
        34..=35 => {
            let members = (0..r.range(1, 4)).map(|_| member(r)).collect();
            (with(vec![s("SMISMEMBER"), key], members), Check::Exact)
        }
        36..=38 => (vec![s("SCARD"), key], Check::Exact),
        39..=42 => (vec![s("SMEMBERS"), key], Check::Unordered),
        43..=48 => {
            let mut a = vec![s("SPOP"), key];
            if r.chance(70) {
                a.push(r.range(0, 8).to_string());
            }
            (a, Check::Pop)
        }
        49..=53 => {
            let mut a = vec![s("SRANDMEMBER"), key];
            if r.chance(85) {
                a.push(r.range(-10, 10).to_string());
            }
            (a, Check::RandMember)
        }
        54..=57 => (vec![s("SMOVE"), key, r.pick(KEYS), member(r)], Check::Exact),
        58..=62 => {
            let cmd = r.pick(&["SINTER", "SUNION", "SDIFF"]);
            (with(vec![cmd], keys(r, 1, 4)), Check::Unordered)
        }
        63..=68 => {
            let cmd = r.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
            (with(vec![cmd, key], keys(r, 1, 4)), Check::Exact)
        }
        69..=71 => {
            let ks = keys(r, 1, 4);
            let mut a = with(vec![s("SINTERCARD"), ks.len().to_string()], ks);
            if r.chance(40) {
                a.extend([s("LIMIT"), r.range(0, 4).to_string()]);
            }
            (a, Check::Exact)
        }
        72..=76 => {
            let mut a = vec![s("SSCAN"), key, s("0")];
            if r.chance(40) {
                a.extend([s("COUNT"), r.range(1, 5).to_string()]);
            }
            if r.chance(30) {
                a.extend([s("MATCH"), r.pick(&["*", "1*", "[a-c]", "-*"])]);
            }
            (a, Check::FullScan)
        }
        77..=79 => (vec![s("DEL"), key], Check::Exact),
        80 => (vec![s("SET"), key, s("str")], Check::Exact),
        81..=82 => (vec![s("RENAME"), key, r.pick(KEYS)], Check::Exact),
        83 => (
            vec![s("COPY"), key, r.pick(KEYS), s("REPLACE")],
            Check::Exact,
        ),
        84..=86 => (vec![s("TYPE"), key], Check::Exact),
        87..=88 => (
            vec![s("EXPIRE"), key, r.range(100, 1000).to_string()],
            Check::Exact,
        ),
        89..=90 => (vec![s("EXISTS"), key], Check::Exact),
        _ => (vec![s("SCARD"), key], Check::Exact),
    }
}

fn call(c: &mut RawConn, argv: &[String]) -> Reply {
    c.call(argv)
        .unwrap_or_else(|e| panic!("{argv:?}: connection failed: {e}"))
}

fn strings(items: &[Reply]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(show_reply).collect();
    v.sort();
    v
}

/// Full SSCAN iteration from cursor 0 with the options of `argv`: the members seen.
fn full_scan(c: &mut RawConn, argv: &[String]) -> Result<BTreeSet<String>, String> {
    let mut argv = argv.to_vec();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        match call(c, &argv) {
            Reply::Array(parts) if parts.len() == 2 => {
                let (Reply::Bulk(next), Reply::Array(items)) = (&parts[0], &parts[1]) else {
                    return Err(format!("odd SSCAN reply {parts:?}"));
                };
                seen.extend(items.iter().map(show_reply));
                if next == b"0" {
                    return Ok(seen);
                }
                argv[2] = String::from_utf8_lossy(next).into_owned();
            }
            other => return Err(show_reply(&other)),
        }
    }
    Err("SSCAN did not terminate".into())
}

fn bulk_text(r: &Reply) -> Option<String> {
    match r {
        Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// Whether every one of `members` is a member of `key` on `c`.
fn all_members(c: &mut RawConn, key: &str, members: &[String]) -> bool {
    if members.is_empty() {
        return true;
    }
    let mut argv = vec!["SMISMEMBER".to_string(), key.to_string()];
    argv.extend(members.iter().cloned());
    match call(c, &argv) {
        Reply::Array(flags) => flags.iter().all(|f| *f == Reply::Int(1)),
        _ => false,
    }
}

/// SRANDMEMBER: FinCache's reply against Redis's (same shape and length, members that exist).
fn check_randmember(fin: &Reply, red: &mut RawConn, argv: &[String]) -> Option<String> {
    let theirs = call(red, argv);
    let mismatch = || {
        Some(format!(
            "fincache {} / redis {}",
            show_reply(fin),
            show_reply(&theirs)
        ))
    };
    let picked: Vec<String> = match (fin, &theirs) {
        (Reply::Array(a), Reply::Array(b)) if a.len() == b.len() => {
            a.iter().filter_map(bulk_text).collect()
        }
        (Reply::Bulk(_), Reply::Bulk(_)) => bulk_text(fin).into_iter().collect(),
        _ => return (!same_reply(fin, &theirs)).then(mismatch).flatten(),
    };
    if !all_members(red, &argv[1], &picked) {
        return Some(format!("{picked:?} are not all members in redis"));
    }
    let positive = argv
        .get(2)
        .and_then(|c| c.parse::<i64>().ok())
        .is_some_and(|c| c > 0);
    let distinct: BTreeSet<&String> = picked.iter().collect();
    (positive && distinct.len() != picked.len()).then(|| "repeated members".to_string())
}

/// SPOP: run on FinCache; deterministic outcomes (errors, nothing to pop) are compared with
/// Redis's; popped members are removed from Redis with SREM, which must find them all.
fn check_pop(fin: &Reply, red: &mut RawConn, argv: &[String]) -> Option<String> {
    let popped: Vec<String> = match fin {
        Reply::Bulk(_) => bulk_text(fin).into_iter().collect(),
        Reply::Array(items) | Reply::Set(items) if !items.is_empty() => {
            items.iter().filter_map(bulk_text).collect()
        }
        _ => {
            let theirs = call(red, argv);
            return (!same_reply(fin, &theirs)).then(|| {
                format!(
                    "fincache {} / redis {}",
                    show_reply(fin),
                    show_reply(&theirs)
                )
            });
        }
    };
    let card = match call(red, &["SCARD".into(), argv[1].clone()]) {
        Reply::Int(n) => n as usize,
        other => return Some(format!("SCARD in redis: {}", show_reply(&other))),
    };
    if let Some(count) = argv.get(2).and_then(|c| c.parse::<usize>().ok()) {
        if popped.len() != count.min(card) {
            return Some(format!(
                "popped {} of {card} with count {count}",
                popped.len()
            ));
        }
    }
    let mut srem = vec!["SREM".to_string(), argv[1].clone()];
    srem.extend(popped.iter().cloned());
    match call(red, &srem) {
        Reply::Int(n) if n as usize == popped.len() => None,
        other => Some(format!(
            "SREM {popped:?} in redis removed {}",
            show_reply(&other)
        )),
    }
}

#[test]
fn random_set_ops_match_redis() {
    let Some(redis) = TestServer::oracle("random_set") else {
        return;
    };
    let seed: u64 = std::env::var("FINCACHE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let ops: usize = std::env::var("FINCACHE_RANDOM_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_OPS);
    println!("seed = {seed} (replay with FINCACHE_SEED={seed}), {ops} operations");
    let fincache = TestServer::fincache();
    let mut fin = RawConn::connect(fincache.port).expect("connect to fincache");
    let mut red = RawConn::connect(redis.port).expect("connect to redis");
    for c in [&mut fin, &mut red] {
        let set = ["CONFIG", "SET", "set-max-intset-entries", "6"].map(String::from);
        assert_eq!(call(c, &set), Reply::Simple("OK".into()));
    }
    let mut rng = Rng(seed);
    let mut mismatches = Vec::new();
    for i in 0..ops {
        let (argv, check) = generate(&mut rng);
        let problem = match check {
            Check::Exact | Check::Unordered => {
                let (f, r) = (call(&mut fin, &argv), call(&mut red, &argv));
                let same = match (&check, &f, &r) {
                    (Check::Unordered, Reply::Array(a), Reply::Array(b)) => {
                        strings(a) == strings(b)
                    }
                    _ => same_reply(&f, &r),
                };
                (!same).then(|| format!("fincache {} / redis {}", show_reply(&f), show_reply(&r)))
            }
            Check::RandMember => {
                let f = call(&mut fin, &argv);
                check_randmember(&f, &mut red, &argv)
            }
            Check::Pop => {
                let f = call(&mut fin, &argv);
                check_pop(&f, &mut red, &argv)
            }
            Check::FullScan => {
                let (f, r) = (full_scan(&mut fin, &argv), full_scan(&mut red, &argv));
                (f != r).then(|| format!("fincache {f:?} / redis {r:?}"))
            }
        };
        if let Some(p) = problem {
            mismatches.push(format!("op {i}: {argv:?}: {p}"));
            for c in [&mut fin, &mut red] {
                call(c, &["FLUSHALL".to_string()]);
            }
        }
    }
    // The final contents, key by key.
    for key in KEYS {
        for cmd in ["TYPE", "SCARD", "TTL", "SMEMBERS"] {
            let argv = vec![cmd.to_string(), key.to_string()];
            let (f, r) = (call(&mut fin, &argv), call(&mut red, &argv));
            let same = match (&f, &r) {
                (Reply::Int(a), Reply::Int(b)) if cmd == "TTL" => a.abs_diff(*b) <= 1,
                (Reply::Array(a), Reply::Array(b)) => strings(a) == strings(b),
                _ => same_reply(&f, &r),
            };
            if !same {
                mismatches.push(format!(
                    "final {argv:?}: fincache {} / redis {}",
                    show_reply(&f),
                    show_reply(&r)
                ));
            }
        }
    }
    if !mismatches.is_empty() {
        for m in &mismatches {
            println!("{m}");
        }
        panic!("{} mismatches (seed {seed})", mismatches.len());
    }
}
