//! Randomized differential run for sorted sets: a seeded generator sends thousands of random
//! sorted-set commands (every option, valid and invalid arguments, wrong types) to FinCache and
//! to `redis-server` over RESP2 and RESP3, compares every reply, and finally compares every
//! key's contents and encoding.
//!
//! Both servers run with `zset-max-listpack-entries 16`, so sets cross between the listpack and
//! skiplist encodings all the time; a few members are longer than 64 bytes for the same reason.
//! Scores are multiples of 1/4 and stay small, so every sum is exact and Redis 7.0 prints each
//! score as 7.2 does. Lexical ranges go only to the `lex*` keys, whose members all score 0 (with
//! mixed scores Redis leaves lex ranges unspecified).
//!
//! Environment: `FINCACHE_SEED` replays a run (the seed is printed); `FINCACHE_RANDOM_OPS`
//! (default 6000) sets its length.

mod support;

use fincache_resp::Reply;
use support::{same_reply, show_reply, RawConn, RawError, TestServer};

const DEFAULT_SEED: u64 = 0x25E7_F1CA;
const DEFAULT_OPS: usize = 6000;
/// Keys with mixed scores; `{t}` keys share a slot with each other.
const KEYS: &[&str] = &["z0", "z1", "z2", "{t}a", "{t}b"];
/// Keys whose members all score 0, for lex ranges.
const LEX_KEYS: &[&str] = &["lex0", "lex1"];
/// Keys of other types, for WRONGTYPE and set inputs.
const OTHER_KEYS: &[&str] = &["str", "set"];

/// SplitMix64: tiny, seedable, stable.
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
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    Exact,
    /// Random picks: only the reply's kind and length.
    Shape,
    /// ZSCAN: the cursor exactly, the member/score pairs in any order.
    ScanPairs,
}

struct Op {
    argv: Vec<String>,
    compare: Compare,
}

fn s(v: &str) -> String {
    v.to_string()
}

fn key(r: &mut Rng) -> String {
    if r.chance(6) {
        s(r.pick(OTHER_KEYS))
    } else if r.chance(5) {
        s("nokey")
    } else {
        s(r.pick(KEYS))
    }
}

fn member(r: &mut Rng) -> String {
    match r.below(40) {
        0 => format!("long-{}-{}", r.below(3), "x".repeat(70)),
        1 => String::new(),
        _ => format!("m{}", r.below(40)),
    }
}

fn lex_member(r: &mut Rng) -> String {
    let len = r.range(0, 3) as usize;
    (0..len)
        .map(|_| (b'a' + r.below(5) as u8) as char)
        .collect()
}

fn score(r: &mut Rng) -> String {
    match r.below(30) {
        0 => s("+inf"),
        1 => s("-inf"),
        2 => s(r.pick(&["nan", "abc", "", "1e400", " 1", "0x10", "-0", "1e2"])),
        _ => {
            let q = r.range(-40, 40);
            if q % 4 == 0 {
                (q / 4).to_string()
            } else {
                format!("{}", q as f64 / 4.0)
            }
        }
    }
}

fn score_bound(r: &mut Rng) -> String {
    match r.below(12) {
        0 => s("-inf"),
        1 => s("+inf"),
        2 => s(r.pick(&["(-inf", "(+inf", "x", "(", "nan", "((1"])),
        _ => {
            let v = score(r);
            if r.chance(35) && !v.starts_with('(') {
                format!("({v}")
            } else {
                v
            }
        }
    }
}

fn lex_bound(r: &mut Rng) -> String {
    match r.below(10) {
        0 => s("-"),
        1 => s("+"),
        2 => s(r.pick(&["a", "", "-x", "+x"])),
        3..=5 => format!("({}", lex_member(r)),
        _ => format!("[{}", lex_member(r)),
    }
}

fn rank(r: &mut Rng) -> String {
    match r.below(20) {
        0 => s(r.pick(&["x", "9223372036854775807", "-9223372036854775808", "1.5"])),
        _ => r.range(-25, 25).to_string(),
    }
}

fn opt<'a>(r: &mut Rng, percent: u64, word: &'a str) -> Option<&'a str> {
    r.chance(percent).then_some(word)
}

fn limit(r: &mut Rng, argv: &mut Vec<String>) {
    argv.push(s("LIMIT"));
    argv.push(r.range(-2, 12).to_string());
    argv.push(r.range(-2, 12).to_string());
}

fn setop_keys(r: &mut Rng, argv: &mut Vec<String>) -> usize {
    let n = r.range(1, 3) as usize;
    argv.push(if r.chance(3) { s("0") } else { n.to_string() });
    for _ in 0..n {
        let k = if r.chance(10) { s("set") } else { key(r) };
        argv.push(k);
    }
    n
}

fn generate(name: &str, r: &mut Rng) -> Op {
    let mut compare = Compare::Exact;
    let mut a: Vec<String> = vec![name.to_ascii_uppercase()];
    match name {
        "zadd" => {
            let lex = r.chance(20);
            a.push(if lex { s(r.pick(LEX_KEYS)) } else { key(r) });
            for o in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if r.chance(if lex { 3 } else { 12 }) {
                    a.push(s(o));
                }
            }
            let pairs = if r.chance(5) { 0 } else { r.range(1, 6) };
            for _ in 0..pairs {
                if lex {
                    a.push(s("0"));
                    a.push(lex_member(r));
                } else {
                    a.push(score(r));
                    a.push(member(r));
                }
            }
            if r.chance(3) {
                a.push(score(r));
            }
        }
        "zincrby" => {
            a.extend([key(r), score(r), member(r)]);
        }
        "zrem" => {
            a.push(if r.chance(15) {
                s(r.pick(LEX_KEYS))
            } else {
                key(r)
            });
            for _ in 0..r.range(1, 4) {
                a.push(if r.chance(20) {
                    lex_member(r)
                } else {
                    member(r)
                });
            }
        }
        "zcard" => a.push(key(r)),
        "zscore" => a.extend([key(r), member(r)]),
        "zmscore" => {
            a.push(key(r));
            for _ in 0..r.range(1, 4) {
                a.push(member(r));
            }
        }
        "zrank" | "zrevrank" => a.extend([key(r), member(r)]),
        "zcount" => a.extend([key(r), score_bound(r), score_bound(r)]),
        "zlexcount" | "zrangebylex" | "zrevrangebylex" | "zremrangebylex" => {
            a.push(s(r.pick(LEX_KEYS)));
            a.push(lex_bound(r));
            a.push(lex_bound(r));
            if name.contains("range") && !name.starts_with("zrem") && r.chance(30) {
                limit(r, &mut a);
            }
        }
        "zrange" | "zrangestore" => {
            if name == "zrangestore" {
                a.push(s(r.pick(&["z0", "z1", "dst", "{t}a"])));
            }
            let kind = r.below(3);
            match kind {
                0 => {
                    a.push(key(r));
                    a.push(rank(r));
                    a.push(rank(r));
                }
                1 => {
                    a.push(key(r));
                    a.push(score_bound(r));
                    a.push(score_bound(r));
                    a.push(s("BYSCORE"));
                }
                _ => {
                    a.push(s(r.pick(LEX_KEYS)));
                    a.push(lex_bound(r));
                    a.push(lex_bound(r));
                    a.push(s("BYLEX"));
                }
            }
            if let Some(o) = opt(r, 30, "REV") {
                a.push(s(o));
            }
            if r.chance(if kind == 0 { 5 } else { 35 }) {
                limit(r, &mut a);
            }
            if name == "zrange" && r.chance(if kind == 2 { 5 } else { 40 }) {
                a.push(s("WITHSCORES"));
            }
        }
        "zrangebyscore" | "zrevrangebyscore" => {
            a.extend([key(r), score_bound(r), score_bound(r)]);
            if let Some(o) = opt(r, 40, "WITHSCORES") {
                a.push(s(o));
            }
            if r.chance(30) {
                limit(r, &mut a);
            }
        }
        "zrevrange" => {
            a.extend([key(r), rank(r), rank(r)]);
            if let Some(o) = opt(r, 40, "WITHSCORES") {
                a.push(s(o));
            }
        }
        "zremrangebyrank" => a.extend([key(r), rank(r), rank(r)]),
        "zremrangebyscore" => a.extend([key(r), score_bound(r), score_bound(r)]),
        "zpopmin" | "zpopmax" => {
            a.push(key(r));
            if r.chance(60) {
                a.push(r.range(-1, 6).to_string());
            }
        }
        "zmpop" => {
            let n = r.range(1, 3);
            a.push(n.to_string());
            for _ in 0..n {
                a.push(key(r));
            }
            a.push(s(r.pick(&["MIN", "MAX", "max"])));
            if r.chance(50) {
                a.push(s("COUNT"));
                a.push(r.range(0, 5).to_string());
            }
        }
        "zunion" | "zinter" | "zdiff" | "zunionstore" | "zinterstore" | "zdiffstore"
        | "zintercard" => {
            if name.ends_with("store") {
                a.push(s(r.pick(&["z0", "z2", "dst", "{t}b"])));
            }
            let n = setop_keys(r, &mut a);
            let algebra = !name.starts_with("zdiff") && name != "zintercard";
            if algebra && r.chance(30) {
                a.push(s("WEIGHTS"));
                for _ in 0..n {
                    a.push(r.pick(&["1", "2", "-1", "0", "0.5", "x"]).to_string());
                }
            }
            if algebra && r.chance(30) {
                a.push(s("AGGREGATE"));
                a.push(s(r.pick(&["SUM", "MIN", "MAX", "avg"])));
            }
            if name == "zintercard" && r.chance(40) {
                a.push(s("LIMIT"));
                a.push(r.range(-1, 4).to_string());
            }
            if !name.ends_with("store") && name != "zintercard" && r.chance(50) {
                a.push(s("WITHSCORES"));
            }
        }
        "zrandmember" => {
            a.push(key(r));
            match r.below(4) {
                0 => compare = Compare::Shape,
                1 => {
                    // At least the set's size: the whole set, deterministically ordered.
                    a.push(s("1000"));
                }
                _ => {
                    a.push(r.range(-5, 5).to_string());
                    compare = Compare::Shape;
                }
            }
            if a.len() == 3 && r.chance(50) {
                a.push(s("WITHSCORES"));
            }
        }
        "zscan" => {
            a.extend([key(r), s("0"), s("COUNT"), s("1000")]);
            if r.chance(30) {
                a.push(s("MATCH"));
                a.push(s(r.pick(&["m1*", "*", "long*", "m?"])));
            }
            compare = Compare::ScanPairs;
        }
        "object" => {
            a.extend([s("ENCODING"), s(r.pick(KEYS))]);
        }
        "del" => a.push(s(r.pick(KEYS))),
        "type" => a.push(key(r)),
        _ => unreachable!("no generator for {name}"),
    }
    Op { argv: a, compare }
}

const GENERATORS: &[(&str, u64)] = &[
    ("zadd", 30),
    ("zincrby", 8),
    ("zrem", 6),
    ("zcard", 2),
    ("zscore", 3),
    ("zmscore", 2),
    ("zrank", 3),
    ("zrevrank", 2),
    ("zcount", 3),
    ("zlexcount", 2),
    ("zrangebylex", 3),
    ("zrevrangebylex", 2),
    ("zremrangebylex", 1),
    ("zrange", 8),
    ("zrangestore", 2),
    ("zrangebyscore", 3),
    ("zrevrangebyscore", 2),
    ("zrevrange", 2),
    ("zremrangebyrank", 1),
    ("zremrangebyscore", 1),
    ("zpopmin", 2),
    ("zpopmax", 2),
    ("zmpop", 2),
    ("zunion", 2),
    ("zinter", 2),
    ("zdiff", 2),
    ("zunionstore", 1),
    ("zinterstore", 1),
    ("zdiffstore", 1),
    ("zintercard", 2),
    ("zrandmember", 2),
    ("zscan", 2),
    ("object", 2),
    ("del", 1),
    ("type", 1),
];

fn shape(r: &Reply) -> String {
    match r {
        Reply::Array(v) => format!("array of {}", v.len()),
        Reply::Bulk(_) => "bulk".into(),
        other => show_reply(other),
    }
}

fn scan_pairs(r: &Reply) -> Option<(Reply, Vec<String>)> {
    let Reply::Array(v) = r else { return None };
    let [cursor, Reply::Array(items)] = v.as_slice() else {
        return None;
    };
    let mut pairs: Vec<String> = items
        .chunks(2)
        .map(|p| p.iter().map(show_reply).collect::<Vec<_>>().join(" "))
        .collect();
    pairs.sort();
    Some((cursor.clone(), pairs))
}

fn agree(compare: Compare, f: &Result<Reply, RawError>, r: &Result<Reply, RawError>) -> bool {
    let (Ok(f), Ok(r)) = (f, r) else {
        return false;
    };
    match compare {
        Compare::Exact => same_reply(f, r),
        Compare::Shape => shape(f) == shape(r),
        Compare::ScanPairs => match (scan_pairs(f), scan_pairs(r)) {
            (Some(a), Some(b)) => a == b,
            _ => same_reply(f, r),
        },
    }
}

fn show(o: &Result<Reply, RawError>) -> String {
    match o {
        Ok(r) => show_reply(r),
        Err(e) => e.to_string(),
    }
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// One connection to each server, speaking the same protocol.
struct Pair {
    fin: RawConn,
    red: RawConn,
}

impl Pair {
    fn new(fin_port: u16, red_port: u16, resp3: bool) -> Pair {
        let mut p = Pair {
            fin: RawConn::connect(fin_port).expect("connect to fincache"),
            red: RawConn::connect(red_port).expect("connect to redis"),
        };
        if resp3 {
            let (f, r) = p.both(&["HELLO", "3"]);
            assert!(f.is_ok() && r.is_ok(), "HELLO 3 failed");
        }
        p
    }

    fn both(&mut self, argv: &[&str]) -> (Result<Reply, RawError>, Result<Reply, RawError>) {
        (self.fin.call(argv), self.red.call(argv))
    }
}

#[test]
fn random_sorted_set_ops_match_redis() {
    let Some(redis) = TestServer::oracle("random_zset") else {
        return;
    };
    let seed: u64 = env_num("FINCACHE_SEED", DEFAULT_SEED);
    let ops: usize = env_num("FINCACHE_RANDOM_OPS", DEFAULT_OPS);
    println!("seed = {seed} (replay with FINCACHE_SEED={seed}), {ops} operations");
    let fincache = TestServer::fincache();
    let mut pairs = [
        Pair::new(fincache.port, redis.port, false),
        Pair::new(fincache.port, redis.port, true),
    ];
    let setup: &[&[&str]] = &[
        &["CONFIG", "SET", "zset-max-listpack-entries", "16"],
        &["SET", "str", "text"],
        &["SADD", "set", "m1", "m2", "m3", "m30", "7"],
    ];
    for cmd in setup {
        let (f, r) = pairs[0].both(cmd);
        assert!(
            agree(Compare::Exact, &f, &r),
            "setup {cmd:?}: {} vs {}",
            show(&f),
            show(&r)
        );
    }
    let total: u64 = GENERATORS.iter().map(|g| g.1).sum();
    let mut rng = Rng(seed);
    let mut mismatches = Vec::new();
    let mut history: std::collections::VecDeque<String> = Default::default();
    let (mut errors, mut skiplists) = (0usize, 0usize);
    for i in 0..ops {
        let mut w = rng.below(total);
        let name = GENERATORS
            .iter()
            .find(|(_, weight)| {
                if w < *weight {
                    true
                } else {
                    w -= weight;
                    false
                }
            })
            .map(|g| g.0)
            .expect("weights cover the draw");
        let op = generate(name, &mut rng);
        let proto = rng.below(2) as usize;
        let argv: Vec<&str> = op.argv.iter().map(String::as_str).collect();
        let (f, r) = pairs[proto].both(&argv);
        let shown = format!("{:?} [RESP{}]", op.argv, proto + 2);
        if !agree(op.compare, &f, &r) {
            mismatches.push(format!(
                "#{i} {shown}\n      fincache: {}\n      redis:    {}\n      before:\n        {}",
                show(&f),
                show(&r),
                history
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n        ")
            ));
            if mismatches.len() > 20 {
                break;
            }
        }
        if f.is_err() || r.is_err() {
            mismatches.push(format!("#{i}: a server stopped answering"));
            break;
        }
        match &r {
            Ok(Reply::Error(_)) => errors += 1,
            Ok(Reply::Bulk(b)) if name == "object" && b == b"skiplist" => skiplists += 1,
            _ => {}
        }
        history.push_back(format!("{shown} -> {}", show(&r)));
        if history.len() > 12 {
            history.pop_front();
        }
    }
    println!(
        "{errors} of {ops} replies were errors; OBJECT ENCODING saw skiplist {skiplists} times"
    );
    // The final contents and encodings, key by key.
    for k in KEYS.iter().chain(LEX_KEYS).chain(&["dst"]) {
        for cmd in [
            vec!["ZRANGE", k, "0", "-1", "WITHSCORES"],
            vec!["OBJECT", "ENCODING", k],
            vec!["TYPE", k],
        ] {
            let (f, r) = pairs[0].both(&cmd);
            if !agree(Compare::Exact, &f, &r) {
                mismatches.push(format!(
                    "final {cmd:?}\n      fincache: {}\n      redis:    {}",
                    show(&f),
                    show(&r)
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches (seed {seed}):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
