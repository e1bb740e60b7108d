//! Randomized differential run for hashes: a seeded generator sends thousands of hash commands
//! (plus a few keyspace ones, so WRONGTYPE, renames and deletions happen) over a handful of keys
//! to FinCache and to `redis-server`, compares every reply, and finally compares every key.
//!
//! Both servers run with `hash-max-listpack-entries 8`, so hashes cross between listpack and
//! hashtable often. Replies Redis does not order (a hashtable's HGETALL, HKEYS, HVALS) are
//! compared as multisets; random replies (HRANDFIELD) are checked against the other server's
//! state (every field exists there, every value is that field's value, counts match); HSCAN is
//! compared as the union of a full iteration.
//!
//! Environment: `FINCACHE_SEED` replays a run; `FINCACHE_RANDOM_OPS` (default 4000) sets its
//! length.

mod support;

use fincache_resp::Reply;
use std::collections::BTreeSet;
use support::{same_reply, show_reply, RawConn, TestServer};

const DEFAULT_SEED: u64 = 0x4A54_F1CA;
const DEFAULT_OPS: usize = 4000;
const KEYS: &[&str] = &["h0", "h1", "h2", "h3", "{t}a", "{t}b"];
const FIELDS: &[&str] = &[
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "", "n1", "n2",
];

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

fn value(r: &mut Rng) -> String {
    match r.below(10) {
        0..=3 => r.range(-5, 50).to_string(),
        4 => r.pick(&[
            "1.5",
            "-0.25",
            "abc",
            "",
            "9223372036854775807",
            "1e3",
            " 1",
        ]),
        5 => "v".repeat(r.range(60, 70) as usize),
        _ => r.pick(&["x", "yy", "hello", "0", "-1"]),
    }
}

/// How a reply is checked.
enum Check {
    Exact,
    /// An array whose order Redis does not define.
    Unordered,
    /// HRANDFIELD: checked against the other server's state.
    Random {
        key: String,
        with_values: bool,
    },
    /// HSCAN: iterate to the end on both sides and compare what was returned.
    FullScan,
}

fn generate(r: &mut Rng) -> (Vec<String>, Check) {
    let s = |v: &str| v.to_string();
    let key = r.pick(KEYS);
    let field = r.pick(FIELDS);
    let exact = |argv: Vec<String>| (argv, Check::Exact);
    match r.below(100) {
        0..=19 => {
            let mut a = vec![s(if r.chance(85) { "HSET" } else { "HMSET" }), key];
            for _ in 0..r.range(1, 4) {
                a.push(r.pick(FIELDS));
                a.push(value(r));
            }
            if r.chance(2) {
                a.pop();
            }
            exact(a)
        }
        20..=23 => exact(vec![s("HSETNX"), key, field, value(r)]),
        24..=33 => exact(vec![s("HGET"), key, field]),
        34..=37 => {
            let mut a = vec![s("HMGET"), key];
            for _ in 0..r.range(1, 4) {
                a.push(r.pick(FIELDS));
            }
            exact(a)
        }
        38..=45 => {
            let mut a = vec![s("HDEL"), key];
            for _ in 0..r.range(1, 3) {
                a.push(r.pick(FIELDS));
            }
            exact(a)
        }
        46..=48 => exact(vec![s("HLEN"), key]),
        49..=50 => exact(vec![s("HSTRLEN"), key, field]),
        51..=52 => exact(vec![s("HEXISTS"), key, field]),
        53..=58 => {
            let cmd = r.pick(&["HGETALL", "HKEYS", "HVALS"]);
            (vec![cmd, key], Check::Unordered)
        }
        59..=64 => {
            let by = match r.below(8) {
                0 => r.pick(&["9223372036854775807", "-9223372036854775808", "x", "1.5"]),
                _ => r.range(-20, 20).to_string(),
            };
            exact(vec![s("HINCRBY"), key, field, by])
        }
        65..=69 => {
            let by = r.pick(&[
                "1.5", "-0.25", "10", "3.0e2", "0.1", "abc", "inf", "1e308", "-7",
            ]);
            exact(vec![s("HINCRBYFLOAT"), key, field, by])
        }
        70..=76 => {
            let mut a = vec![s("HRANDFIELD"), key.clone()];
            let mut with_values = false;
            if r.chance(85) {
                a.push(r.range(-12, 12).to_string());
                if r.chance(40) {
                    a.push(s("WITHVALUES"));
                    with_values = true;
                }
            }
            (a, Check::Random { key, with_values })
        }
        77..=80 => {
            let mut a = vec![s("HSCAN"), key, s("0")];
            if r.chance(40) {
                a.extend([s("COUNT"), r.range(1, 5).to_string()]);
            }
            if r.chance(30) {
                a.extend([s("MATCH"), r.pick(&["*", "[a-e]", "n*", "?"])]);
            }
            (a, Check::FullScan)
        }
        81..=83 => exact(vec![s("OBJECT"), s("ENCODING"), key]),
        84..=85 => exact(vec![s("DEL"), key]),
        86 => exact(vec![s("SET"), key, value(r)]),
        87..=88 => exact(vec![s("RENAME"), key, r.pick(KEYS)]),
        89 => exact(vec![s("COPY"), key, r.pick(KEYS), s("REPLACE")]),
        90..=91 => exact(vec![s("TYPE"), key]),
        92..=93 => exact(vec![s("EXPIRE"), key, r.range(100, 1000).to_string()]),
        94 => (vec![s("TTL"), key], Check::Exact),
        95..=96 => exact(vec![s("EXISTS"), key]),
        _ => exact(vec![s("GET"), key]),
    }
}

fn call(c: &mut RawConn, argv: &[String]) -> Reply {
    c.call(argv)
        .unwrap_or_else(|e| panic!("{argv:?}: connection failed: {e}"))
}

/// The items of an array as sorted strings, `step` items per string.
fn sorted_strings(items: &[Reply], step: usize) -> Vec<String> {
    let mut v: Vec<String> = items
        .chunks(step)
        .map(|c| c.iter().map(show_reply).collect::<Vec<_>>().join(" => "))
        .collect();
    v.sort();
    v
}

/// Full HSCAN iteration from cursor 0 with the options of `argv`: the (field, value) pairs seen.
fn full_scan(c: &mut RawConn, argv: &[String]) -> Result<BTreeSet<(String, String)>, String> {
    let mut argv = argv.to_vec();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        match call(c, &argv) {
            Reply::Array(parts) if parts.len() == 2 => {
                let (Reply::Bulk(next), Reply::Array(items)) = (&parts[0], &parts[1]) else {
                    return Err(format!("odd HSCAN reply {parts:?}"));
                };
                for pair in items.chunks(2) {
                    seen.insert((show_reply(&pair[0]), show_reply(&pair[1])));
                }
                if next == b"0" {
                    return Ok(seen);
                }
                argv[2] = String::from_utf8_lossy(next).into_owned();
            }
            other => return Err(show_reply(&other)),
        }
    }
    Err("HSCAN did not terminate".into())
}

/// Checks FinCache's HRANDFIELD reply against Redis's state; `None` if it is right.
fn check_random(
    fin: &Reply,
    red: &mut RawConn,
    argv: &[String],
    key: &str,
    with_values: bool,
) -> Option<String> {
    let exact = call(red, argv);
    let count: Option<i64> = argv.get(2).and_then(|c| c.parse().ok());
    let items = match (fin, &exact) {
        (Reply::Array(items), Reply::Array(theirs)) => {
            if items.len() != theirs.len() {
                return Some(format!(
                    "{} items, redis gave {}",
                    items.len(),
                    theirs.len()
                ));
            }
            items.clone()
        }
        (Reply::Bulk(_), Reply::Bulk(_)) if count.is_none() => vec![fin.clone()],
        _ => {
            return (!same_reply(fin, &exact)).then(|| {
                format!(
                    "fincache {} / redis {}",
                    show_reply(fin),
                    show_reply(&exact)
                )
            })
        }
    };
    let pairs: Vec<(Reply, Option<Reply>)> = if with_values {
        items
            .chunks(2)
            .map(|p| (p[0].clone(), p.get(1).cloned()))
            .collect()
    } else {
        items.into_iter().map(|f| (f, None)).collect()
    };
    for (field, value) in &pairs {
        let Reply::Bulk(f) = field else {
            return Some(format!("field is not a bulk: {field:?}"));
        };
        let f = String::from_utf8_lossy(f).into_owned();
        let there = call(red, &["HGET".into(), key.into(), f.clone()]);
        if matches!(there, Reply::Null) {
            return Some(format!("field {f:?} is not in redis's hash"));
        }
        if let Some(v) = value {
            if !same_reply(v, &there) {
                return Some(format!("value of {f:?} is {} in redis", show_reply(&there)));
            }
        }
    }
    if count.is_some_and(|c| c > 0) {
        let distinct: BTreeSet<String> = pairs.iter().map(|(f, _)| show_reply(f)).collect();
        if distinct.len() != pairs.len() {
            return Some("a positive count returned a field twice".into());
        }
    }
    None
}

#[test]
fn random_hash_ops_match_redis() {
    let Some(redis) = TestServer::oracle("random_hash") else {
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
        let set = ["CONFIG", "SET", "hash-max-listpack-entries", "8"].map(String::from);
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
                        // HGETALL pairs stay pairs: compare "field => value" strings.
                        let step = if argv[0] == "HGETALL" { 2 } else { 1 };
                        sorted_strings(a, step) == sorted_strings(b, step)
                    }
                    _ => same_reply(&f, &r),
                };
                (!same).then(|| format!("fincache {} / redis {}", show_reply(&f), show_reply(&r)))
            }
            Check::Random { key, with_values } => {
                let f = call(&mut fin, &argv);
                check_random(&f, &mut red, &argv, &key, with_values)
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
        for argv in [vec!["TYPE", key], vec!["HLEN", key], vec!["TTL", key]] {
            let argv: Vec<String> = argv.into_iter().map(String::from).collect();
            let (f, r) = (call(&mut fin, &argv), call(&mut red, &argv));
            let close = match (&f, &r) {
                (Reply::Int(a), Reply::Int(b)) if argv[0] == "TTL" => a.abs_diff(*b) <= 1,
                _ => same_reply(&f, &r),
            };
            if !close {
                mismatches.push(format!(
                    "final {argv:?}: fincache {} / redis {}",
                    show_reply(&f),
                    show_reply(&r)
                ));
            }
        }
        let argv: Vec<String> = vec!["HGETALL".into(), key.to_string()];
        let (f, r) = (call(&mut fin, &argv), call(&mut red, &argv));
        let pairs = |reply: &Reply| match reply {
            Reply::Array(items) => sorted_strings(items, 2),
            other => vec![show_reply(other)],
        };
        if pairs(&f) != pairs(&r) {
            mismatches.push(format!(
                "final HGETALL {key}: fincache {} / redis {}",
                show_reply(&f),
                show_reply(&r)
            ));
        }
    }
    if !mismatches.is_empty() {
        for m in &mismatches {
            println!("{m}");
        }
        panic!("{} mismatches (seed {seed})", mismatches.len());
    }
}
