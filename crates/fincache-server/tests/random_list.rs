//! Randomized differential run for lists: a seeded generator sends thousands of list commands
//! (every list command, with random and hostile arguments, over a few keys that collide, some
//! holding strings so WRONGTYPE comes up) to FinCache and to `redis-server`, compares every
//! reply, and finally compares each key's type and contents. Now and then both servers switch
//! `list-max-listpack-size` (from one entry per node to 8 KB nodes), so node splits, merges and
//! encoding conversions are exercised under the same replies. The run is repeated briefly in
//! RESP3.
//!
//! Environment: `FINCACHE_SEED` replays a run; `FINCACHE_RANDOM_OPS` (default 4000) sets its
//! length.

mod support;

use fincache_resp::Reply;
use support::{same_reply, show_reply, RawConn, RawError, TestServer};

const DEFAULT_SEED: u64 = 0x1157_5EED;
const DEFAULT_OPS: usize = 4000;
const KEYS: &[&str] = &["l0", "l1", "l2", "{t}a", "{t}b"];

/// SplitMix64, as in `random_differential.rs`.
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

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn key(r: &mut Rng) -> String {
    r.pick(KEYS).to_string()
}

fn value(r: &mut Rng) -> String {
    match r.below(10) {
        0..=3 => r.pick(&["a", "b", "c"]).to_string(),
        4 => r.range(-200, 200).to_string(),
        5 => r
            .pick(&[
                "",
                "0",
                "-0",
                "007",
                "9223372036854775807",
                "-9223372036854775808",
            ])
            .to_string(),
        6 => "v".repeat(r.range(60, 400) as usize),
        _ => format!("x{}", r.below(30)),
    }
}

/// An index argument: mostly near the list, sometimes extreme or not a number.
fn index(r: &mut Rng) -> String {
    match r.below(20) {
        0 => r
            .pick(&[
                "9223372036854775807",
                "-9223372036854775808",
                "x",
                "1.5",
                "",
            ])
            .to_string(),
        _ => r.range(-30, 30).to_string(),
    }
}

fn count(r: &mut Rng) -> String {
    match r.below(15) {
        0 => r.pick(&["-1", "x", "9223372036854775807"]).to_string(),
        _ => r.range(0, 8).to_string(),
    }
}

fn side(r: &mut Rng) -> String {
    if r.chance(3) {
        "UP".into()
    } else {
        r.pick(&["LEFT", "RIGHT", "left"]).to_string()
    }
}

/// A blocking timeout: short (the key is usually there) or invalid.
fn timeout(r: &mut Rng) -> String {
    if r.chance(5) {
        r.pick(&["-1", "x"]).to_string()
    } else {
        "0.01".into()
    }
}

fn generate(r: &mut Rng) -> Vec<String> {
    let s = |v: &str| v.to_string();
    let mut a: Vec<String> = match r.below(100) {
        0..=17 => {
            let mut a = vec![r.pick(&["LPUSH", "RPUSH"]).to_string(), key(r)];
            for _ in 0..r.range(1, 6) {
                a.push(value(r));
            }
            a
        }
        18..=21 => vec![r.pick(&["LPUSHX", "RPUSHX"]).to_string(), key(r), value(r)],
        22..=29 => {
            let mut a = vec![r.pick(&["LPOP", "RPOP"]).to_string(), key(r)];
            if r.chance(50) {
                a.push(count(r));
            }
            a
        }
        30..=33 => vec![s("LLEN"), key(r)],
        34..=41 => vec![s("LRANGE"), key(r), index(r), index(r)],
        42..=45 => vec![s("LINDEX"), key(r), index(r)],
        46..=50 => vec![s("LSET"), key(r), index(r), value(r)],
        51..=56 => vec![
            s("LINSERT"),
            key(r),
            r.pick(&["BEFORE", "AFTER", "after", "MIDDLE"]).to_string(),
            value(r),
            value(r),
        ],
        57..=61 => vec![s("LREM"), key(r), r.range(-3, 3).to_string(), value(r)],
        62..=65 => vec![s("LTRIM"), key(r), index(r), index(r)],
        66..=71 => {
            let mut a = vec![s("LPOS"), key(r), value(r)];
            if r.chance(40) {
                a.extend([
                    s("RANK"),
                    r.pick(&["1", "2", "-1", "-2", "0", "3"]).to_string(),
                ]);
            }
            if r.chance(40) {
                a.extend([s("COUNT"), r.pick(&["0", "1", "2", "-1"]).to_string()]);
            }
            if r.chance(30) {
                a.extend([s("MAXLEN"), r.pick(&["0", "1", "5", "-1"]).to_string()]);
            }
            a
        }
        72..=76 => vec![s("LMOVE"), key(r), key(r), side(r), side(r)],
        77..=78 => vec![s("RPOPLPUSH"), key(r), key(r)],
        79..=82 => {
            let n = r.range(1, 3);
            let mut a = vec![s("LMPOP"), n.to_string()];
            for _ in 0..n {
                a.push(key(r));
            }
            a.push(side(r));
            if r.chance(50) {
                a.extend([s("COUNT"), count(r)]);
            }
            a
        }
        83..=85 => {
            let mut a = vec![r.pick(&["BLPOP", "BRPOP"]).to_string()];
            for _ in 0..r.range(1, 3) {
                a.push(key(r));
            }
            a.push(timeout(r));
            a
        }
        86..=87 => vec![s("BLMOVE"), key(r), key(r), side(r), side(r), timeout(r)],
        88 => vec![s("BRPOPLPUSH"), key(r), key(r), timeout(r)],
        89..=90 => {
            let n = r.range(1, 2);
            let mut a = vec![s("BLMPOP"), timeout(r), n.to_string()];
            for _ in 0..n {
                a.push(key(r));
            }
            a.push(side(r));
            if r.chance(50) {
                a.extend([s("COUNT"), count(r)]);
            }
            a
        }
        91..=92 => vec![s("SET"), key(r), value(r)],
        93..=94 => vec![s("DEL"), key(r)],
        95 => vec![s("TYPE"), key(r)],
        _ => vec![
            s("CONFIG"),
            s("SET"),
            s("list-max-listpack-size"),
            r.pick(&["-2", "-1", "1", "2", "4", "128", "-5"])
                .to_string(),
        ],
    };
    // Now and then an extra argument, for the arity and syntax errors.
    if r.chance(2) {
        a.push(value(r));
    }
    a
}

fn show(o: &Result<Reply, RawError>) -> String {
    match o {
        Ok(r) => show_reply(r),
        Err(e) => e.to_string(),
    }
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Sends `ops` random commands to both servers; returns the mismatches.
fn run(fin: &mut RawConn, red: &mut RawConn, seed: u64, ops: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut mismatches = Vec::new();
    let mut history: Vec<String> = Vec::new();
    for i in 0..ops {
        let argv = generate(&mut rng);
        let f = fin.call(&argv);
        let r = red.call(&argv);
        let shown = argv
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        let ok = matches!((&f, &r), (Ok(a), Ok(b)) if same_reply(a, b));
        if !ok {
            mismatches.push(format!(
                "#{i} {shown}\n      fincache: {}\n      redis:    {}\n      before: {}",
                show(&f),
                show(&r),
                history.join("\n              ")
            ));
            let _ = fin.call(&["FLUSHALL"]);
            let _ = red.call(&["FLUSHALL"]);
            history.clear();
            if f.is_err() || r.is_err() || mismatches.len() > 20 {
                break;
            }
        }
        history.push(format!("{shown} -> {}", show(&r)));
        if history.len() > 12 {
            history.remove(0);
        }
    }
    // The final contents, key by key.
    for k in KEYS {
        for probe in [vec!["TYPE", k], vec!["LRANGE", k, "0", "-1"]] {
            let f = fin.call(&probe);
            let r = red.call(&probe);
            if !matches!((&f, &r), (Ok(a), Ok(b)) if same_reply(a, b)) {
                mismatches.push(format!(
                    "final {probe:?}\n      fincache: {}\n      redis:    {}",
                    show(&f),
                    show(&r)
                ));
            }
        }
    }
    mismatches
}

#[test]
fn random_list_ops_match_redis() {
    let Some(redis) = TestServer::oracle("random_list") else {
        return;
    };
    let seed: u64 = env_num("FINCACHE_SEED", DEFAULT_SEED);
    let ops: usize = env_num("FINCACHE_RANDOM_OPS", DEFAULT_OPS);
    println!("seed = {seed} (replay with FINCACHE_SEED={seed}), {ops} operations");
    let fincache = TestServer::fincache();
    let mut fin = RawConn::connect(fincache.port).expect("connect to fincache");
    let mut red = RawConn::connect(redis.port).expect("connect to redis");
    let mut mismatches = run(&mut fin, &mut red, seed, ops);
    // A shorter run in RESP3 (null arrays and nulls differ on the wire there).
    for c in [&mut fin, &mut red] {
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "-2"]);
        c.cmd(&["HELLO", "3"]);
    }
    mismatches.extend(run(&mut fin, &mut red, seed ^ 0xA5A5, ops / 4));
    assert!(
        mismatches.is_empty(),
        "{} mismatches (seed {seed}):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
