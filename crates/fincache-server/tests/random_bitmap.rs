//! Randomized differential run for bitmaps: a seeded generator sends thousands of random
//! SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO commands (valid and invalid
//! arguments, wrong types, strings that started as integers or plain text) over a few keys to
//! FinCache and to `redis-server`, over RESP2 and RESP3, compares every reply, and finally
//! compares every key's value, type and encoding.
//!
//! `fixed` is a string that is only ever read (so reads always have something to see).
//!
//! Environment: `FINCACHE_SEED` replays a run (the seed is printed); `FINCACHE_RANDOM_OPS`
//! (default 6000) sets its length.

mod support;

use fincache_resp::Reply;
use support::{same_reply, show_reply, RawConn, RawError, TestServer};

const DEFAULT_SEED: u64 = 0xB17_F1CA;
const DEFAULT_OPS: usize = 6000;
/// Keys the commands write and read; `{t}` keys share a slot.
const KEYS: &[&str] = &["b0", "b1", "b2", "{t}a", "{t}b", "nokey"];
/// A key of another type (WRONGTYPE).
const LIST_KEY: &str = "list";
/// A string that is never written.
const FIXED: &str = "fixed";

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

fn s(v: impl ToString) -> String {
    v.to_string()
}

/// A key to write: one of [`KEYS`], sometimes the list.
fn key(r: &mut Rng) -> String {
    if r.chance(4) {
        s(LIST_KEY)
    } else {
        s(r.pick(KEYS))
    }
}

/// A key to read: like [`key`], sometimes [`FIXED`].
fn read_key(r: &mut Rng) -> String {
    if r.chance(5) {
        s(FIXED)
    } else {
        key(r)
    }
}

/// A bit offset: mostly within a few hundred bytes, sometimes farther or invalid.
fn offset(r: &mut Rng) -> String {
    match r.below(40) {
        0 => s(r.pick(&[
            "-1",
            "x",
            "",
            "1.5",
            "4294967296",
            "9223372036854775808",
            "01",
        ])),
        1 => s(r.range(0, 20_000)),
        2..=5 => s(r.range(0, 16)),
        _ => s(r.range(0, 600)),
    }
}

/// A range index: bytes or bits, positive or negative, sometimes extreme.
fn index(r: &mut Rng, bits: bool) -> String {
    let span = if bits { 700 } else { 90 };
    match r.below(30) {
        0 => s(r.pick(&["9223372036854775807", "-9223372036854775808"])),
        _ => s(r.range(-span, span)),
    }
}

fn unit(r: &mut Rng) -> Option<&'static str> {
    match r.below(6) {
        0 | 1 => None,
        2 => Some("BYTE"),
        3 => Some("byte"),
        _ => Some("BIT"),
    }
}

fn setbit(r: &mut Rng) -> Vec<String> {
    let value = match r.below(30) {
        0 => s(r.pick(&["2", "-1", "x", ""])),
        _ => s(r.below(2)),
    };
    vec![s("SETBIT"), key(r), offset(r), value]
}

fn getbit(r: &mut Rng) -> Vec<String> {
    vec![s("GETBIT"), read_key(r), offset(r)]
}

fn bitcount(r: &mut Rng) -> Vec<String> {
    if r.chance(5) {
        // Malformed ranges.
        let bad: &[&[&str]] = &[
            &["0"],
            &["x", "1"],
            &["0", "y"],
            &["0", "1", "BITS"],
            &["0", "1", "BIT", "x"],
        ];
        let tail = bad[r.below(bad.len() as u64) as usize];
        let mut v = vec![s("BITCOUNT"), read_key(r)];
        v.extend(tail.iter().map(s));
        return v;
    }
    let mut v = vec![s("BITCOUNT"), read_key(r)];
    if r.chance(70) {
        let u = unit(r);
        let bits = u == Some("BIT");
        v.push(index(r, bits));
        v.push(index(r, bits));
        v.extend(u.map(s));
    }
    v
}

fn bitpos(r: &mut Rng) -> Vec<String> {
    if r.chance(5) {
        let bad: &[&[&str]] = &[
            &["2"],
            &["x"],
            &["1", "x"],
            &["0", "0", "y"],
            &["1", "0", "1", "BITS"],
            &["0", "0", "1", "BIT", "x"],
        ];
        let tail = bad[r.below(bad.len() as u64) as usize];
        let mut v = vec![s("BITPOS"), read_key(r)];
        v.extend(tail.iter().map(s));
        return v;
    }
    let mut v = vec![s("BITPOS"), read_key(r), s(r.below(2))];
    match r.below(4) {
        0 => {}
        1 => v.push(index(r, false)),
        _ => {
            let u = unit(r);
            let bits = u == Some("BIT");
            v.push(index(r, bits));
            v.push(index(r, bits));
            v.extend(u.map(s));
        }
    }
    v
}

fn bitop(r: &mut Rng) -> Vec<String> {
    let op = s(r.pick(&["AND", "OR", "XOR", "NOT", "and", "xor", "NAND"]));
    let sources = if op.eq_ignore_ascii_case("not") && r.chance(90) {
        1
    } else {
        r.range(1, 4)
    };
    let mut v = vec![s("BITOP"), op, s(r.pick(KEYS))];
    for _ in 0..sources {
        v.push(read_key(r));
    }
    v
}

/// A BITFIELD type, sometimes invalid.
fn field_type(r: &mut Rng) -> String {
    match r.below(40) {
        0 => s(r.pick(&["u64", "i65", "u0", "I8", "x", "i", ""])),
        _ => {
            if r.chance(50) {
                format!("i{}", r.range(1, 64))
            } else {
                format!("u{}", r.range(1, 63))
            }
        }
    }
}

fn field_offset(r: &mut Rng) -> String {
    match r.below(20) {
        0 => s(r.pick(&["-1", "#-1", "#", "x", "#x"])),
        1..=5 => format!("#{}", r.range(0, 40)),
        _ => s(r.range(0, 500)),
    }
}

fn field_value(r: &mut Rng) -> String {
    match r.below(20) {
        0 => s(r.pick(&[
            "9223372036854775807",
            "-9223372036854775808",
            "x",
            "1.5",
            "9223372036854775808",
        ])),
        1..=3 => s(r.next() as i64),
        4..=7 => s(r.range(-300, 300)),
        _ => s(r.range(-5, 20)),
    }
}

fn bitfield(r: &mut Rng, readonly: bool) -> Vec<String> {
    let name = if readonly { "BITFIELD_RO" } else { "BITFIELD" };
    let mut v = vec![s(name), if readonly { read_key(r) } else { key(r) }];
    for _ in 0..r.range(0, 4) {
        match r.below(if readonly { 12 } else { 10 }) {
            0 if !readonly || r.chance(30) => {
                v.push(s("OVERFLOW"));
                v.push(s(r.pick(&["WRAP", "SAT", "FAIL", "sat", "fail", "bogus"])));
            }
            1..=3 if !readonly || r.chance(10) => {
                v.extend([s("SET"), field_type(r), field_offset(r), field_value(r)]);
            }
            4..=5 if !readonly || r.chance(10) => {
                v.extend([s("INCRBY"), field_type(r), field_offset(r), field_value(r)]);
            }
            _ => v.extend([s("GET"), field_type(r), field_offset(r)]),
        }
    }
    if r.chance(2) {
        // A truncated subcommand.
        v.push(s(r.pick(&["GET", "SET", "INCRBY", "OVERFLOW", "FOO"])));
    }
    v
}

/// Resets a key to a string in one of Redis's representations.
fn set(r: &mut Rng) -> Vec<String> {
    let value = match r.below(6) {
        0 => s(r.range(-1000, 100_000)),
        1 => String::new(),
        2 => s(r.pick(&["foobar", "\u{7f}\u{1}", "ABC", "0"])),
        3 => "x".repeat(r.range(40, 120) as usize),
        _ => (0..r.range(1, 12))
            .map(|_| char::from(r.range(0x20, 0x7e) as u8))
            .collect(),
    };
    vec![s("SET"), s(r.pick(KEYS)), value]
}

fn inspect(r: &mut Rng) -> Vec<String> {
    let k = s(r.pick(KEYS));
    match r.below(4) {
        0 => vec![s("STRLEN"), k],
        1 => vec![s("OBJECT"), s("ENCODING"), k],
        2 => vec![s("APPEND"), k, s("\u{1}z")],
        _ => vec![s("GET"), k],
    }
}

/// Generators and their weights.
const GENERATORS: &[(&str, u64)] = &[
    ("setbit", 22),
    ("getbit", 10),
    ("bitcount", 12),
    ("bitpos", 14),
    ("bitop", 8),
    ("bitfield", 16),
    ("bitfield_ro", 5),
    ("set", 4),
    ("inspect", 6),
    ("del", 2),
];

fn generate(name: &str, r: &mut Rng) -> Vec<String> {
    match name {
        "setbit" => setbit(r),
        "getbit" => getbit(r),
        "bitcount" => bitcount(r),
        "bitpos" => bitpos(r),
        "bitop" => bitop(r),
        "bitfield" => bitfield(r, false),
        "bitfield_ro" => bitfield(r, true),
        "set" => set(r),
        "inspect" => inspect(r),
        _ => vec![s("DEL"), s(r.pick(KEYS))],
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

fn show(o: &Result<Reply, RawError>) -> String {
    match o {
        Ok(r) => show_reply(r),
        Err(e) => e.to_string(),
    }
}

fn agree(f: &Result<Reply, RawError>, r: &Result<Reply, RawError>) -> bool {
    matches!((f, r), (Ok(a), Ok(b)) if same_reply(a, b))
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

    fn both<A: AsRef<[u8]>>(
        &mut self,
        argv: &[A],
    ) -> (Result<Reply, RawError>, Result<Reply, RawError>) {
        (self.fin.call(argv), self.red.call(argv))
    }
}

#[test]
fn random_bitmap_ops_match_redis() {
    let Some(redis) = TestServer::oracle("random_bitmap") else {
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
        &["RPUSH", LIST_KEY, "a", "b"],
        &["SET", FIXED, "\u{ff}x\u{0}1"],
        &["SET", "b0", "12345"],
    ];
    for cmd in setup {
        let (f, r) = pairs[0].both(cmd);
        assert!(agree(&f, &r), "setup {cmd:?}: {} vs {}", show(&f), show(&r));
    }
    let total: u64 = GENERATORS.iter().map(|g| g.1).sum();
    let mut rng = Rng(seed);
    let mut mismatches = Vec::new();
    let mut history: std::collections::VecDeque<String> = Default::default();
    let mut errors = 0usize;
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
        let argv = generate(name, &mut rng);
        let proto = rng.below(2) as usize;
        let (f, r) = pairs[proto].both(&argv);
        let shown = format!("{argv:?} [RESP{}]", proto + 2);
        if !agree(&f, &r) {
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
        if matches!(r, Ok(Reply::Error(_))) {
            errors += 1;
        }
        history.push_back(format!("{shown} -> {}", show(&r)));
        if history.len() > 12 {
            history.pop_front();
        }
    }
    println!("{errors} of {ops} replies were errors");
    assert!(errors < ops / 3, "too many errors: the generator is off");
    // (The list's encoding is left out: Redis 7.0 says quicklist where 7.2 says listpack.)
    for k in KEYS.iter().chain(&[FIXED, LIST_KEY]) {
        for cmd in [
            vec!["GET", k],
            vec!["OBJECT", "ENCODING", k],
            vec!["TYPE", k],
        ] {
            if *k == LIST_KEY && cmd[0] == "OBJECT" {
                continue;
            }
            let (f, r) = pairs[0].both(&cmd);
            if !agree(&f, &r) {
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
