//! Sorted sets through a real client: behaviour the case files cannot show line by line —
//! large sets checked against a model, the ZSCAN guarantee under concurrent deletes,
//! ZRANDMEMBER's properties, TTLs, keyspace statistics, blocking pops, and the example scripts
//! run against both FinCache and redis-server.

mod support;

use fincache_resp::Reply;
use redis::Commands;
use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};
use support::{same_reply, show_reply, RawConn, RawError, TestServer};

fn info_stat(con: &mut redis::Connection, field: &str) -> i64 {
    let info: String = redis::cmd("INFO").arg("stats").query(con).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO stats"))
}

/// A deterministic xorshift for test data.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn a_large_set_answers_like_a_sorted_model() {
    let server = TestServer::fincache();
    let mut con = server.conn();
    let mut seed = 42u64;
    let mut model: Vec<(i64, String)> = Vec::new();
    let mut batch: Vec<(i64, String)> = Vec::new();
    for i in 0..20_000 {
        let score = (xorshift(&mut seed) % 5000) as i64 - 2500;
        let member = format!("member:{i:05}");
        batch.push((score, member.clone()));
        model.push((score, member));
        if batch.len() == 1000 {
            let n: i64 = con.zadd_multiple("big", &batch).unwrap();
            assert_eq!(n, 1000);
            batch.clear();
        }
    }
    model.sort();
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("big")
        .query(&mut con)
        .unwrap();
    assert_eq!(enc, "skiplist");
    let card: usize = con.zcard("big").unwrap();
    assert_eq!(card, model.len());
    for probe in [0usize, 1, 777, 10_000, 19_999] {
        let (score, member) = &model[probe];
        let rank: Option<usize> = con.zrank("big", member).unwrap();
        assert_eq!(rank, Some(probe));
        let rev: Option<usize> = con.zrevrank("big", member).unwrap();
        assert_eq!(rev, Some(model.len() - 1 - probe));
        let s: Option<f64> = con.zscore("big", member).unwrap();
        assert_eq!(s, Some(*score as f64));
    }
    let slice: Vec<String> = con.zrange("big", 5000, 5009).unwrap();
    let want: Vec<String> = model[5000..5010].iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(slice, want);
    let back: Vec<String> = con.zrevrange("big", 0, 2).unwrap();
    let want: Vec<String> = model.iter().rev().take(3).map(|(_, m)| m.clone()).collect();
    assert_eq!(back, want);
    let count: usize = con.zcount("big", -100, "(100").unwrap();
    assert_eq!(
        count,
        model
            .iter()
            .filter(|(s, _)| (-100..100).contains(s))
            .count()
    );
    let page: Vec<String> = redis::cmd("ZRANGEBYSCORE")
        .arg("big")
        .arg("(0")
        .arg("+inf")
        .arg("LIMIT")
        .arg(10)
        .arg(5)
        .query(&mut con)
        .unwrap();
    let want: Vec<String> = model
        .iter()
        .filter(|(s, _)| *s > 0)
        .skip(10)
        .take(5)
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(page, want);
    // Remove a rank range and a score range; the model follows.
    let removed: usize = con.zremrangebyrank("big", 100, 1099).unwrap();
    assert_eq!(removed, 1000);
    model.drain(100..1100);
    let removed: usize = con.zrembyscore("big", 0, 999).unwrap();
    let before = model.len();
    model.retain(|(s, _)| !(0..=999).contains(s));
    assert_eq!(removed, before - model.len());
    let all: Vec<(String, f64)> = con.zrange_withscores("big", 0, -1).unwrap();
    let want: Vec<(String, f64)> = model.iter().map(|(s, m)| (m.clone(), *s as f64)).collect();
    assert_eq!(all, want);
    // Pop from both ends.
    let low: Vec<(String, f64)> = con.zpopmin("big", 3).unwrap();
    let want: Vec<(String, f64)> = model.drain(..3).map(|(s, m)| (m, s as f64)).collect();
    assert_eq!(low, want);
    let high: Vec<(String, f64)> = con.zpopmax("big", 2).unwrap();
    let want: Vec<(String, f64)> = (0..2)
        .map(|_| model.pop().map(|(s, m)| (m, s as f64)).unwrap())
        .collect();
    assert_eq!(high, want);
}

#[test]
fn zscan_returns_every_member_present_for_the_whole_scan() {
    let server = TestServer::fincache();
    let mut con = server.conn();
    for chunk in 0..10 {
        let items: Vec<(f64, String)> = (0..500)
            .map(|i| ((chunk * 500 + i) as f64, format!("m{}", chunk * 500 + i)))
            .collect();
        let _: i64 = con.zadd_multiple("z", &items).unwrap();
    }
    let mut seen = HashSet::new();
    let mut cursor = 0u64;
    let mut calls = 0;
    loop {
        let (next, items): (u64, Vec<String>) = redis::cmd("ZSCAN")
            .arg("z")
            .arg(cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut con)
            .unwrap();
        for pair in items.chunks(2) {
            let score: f64 = pair[1].parse().unwrap();
            assert_eq!(format!("m{score}"), pair[0]);
            seen.insert(pair[0].clone());
        }
        // Delete odd members as the scan goes: the even ones must all be returned.
        if calls < 40 {
            let victims: Vec<String> = (0..10)
                .map(|k| format!("m{}", (calls * 10 + k) * 2 + 1))
                .collect();
            let _: i64 = con.zrem("z", &victims).unwrap();
        }
        calls += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
        assert!(calls < 10_000, "ZSCAN never finished");
    }
    for i in (0..5000).step_by(2) {
        assert!(seen.contains(&format!("m{i}")), "m{i} was never returned");
    }
    // MATCH filters members; a listpack set answers in one call.
    let _: i64 = con
        .zadd_multiple("small", &[(1, "ab"), (2, "ac"), (3, "bc")])
        .unwrap();
    let (next, items): (u64, Vec<String>) = redis::cmd("ZSCAN")
        .arg("small")
        .arg(0)
        .arg("MATCH")
        .arg("a*")
        .query(&mut con)
        .unwrap();
    assert_eq!(next, 0);
    assert_eq!(items, vec!["ab", "1", "ac", "2"]);
}

#[test]
fn zrandmember_picks_distinct_or_repeated_members() {
    let server = TestServer::fincache();
    let mut con = server.conn();
    let members: Vec<(f64, String)> = (0..300).map(|i| (i as f64, format!("m{i}"))).collect();
    let _: i64 = con.zadd_multiple("big", &members).unwrap();
    let _: i64 = con.zadd_multiple("small", &members[..10]).unwrap();
    let all: HashSet<String> = members.iter().map(|(_, m)| m.clone()).collect();
    for key in ["big", "small"] {
        for count in [1i64, 5, 9, 150, 299] {
            let got: Vec<String> = con.zrandmember(key, Some(count as isize)).unwrap();
            let size: i64 = con.zcard(key).unwrap();
            assert_eq!(got.len() as i64, count.min(size));
            let distinct: HashSet<&String> = got.iter().collect();
            assert_eq!(distinct.len(), got.len(), "{key} {count}: repeated members");
            assert!(got.iter().all(|m| all.contains(m)));
        }
        let got: Vec<String> = con.zrandmember(key, Some(-500)).unwrap();
        assert_eq!(got.len(), 500);
        assert!(got.iter().all(|m| all.contains(m)));
        let pairs: Vec<(String, f64)> = redis::cmd("ZRANDMEMBER")
            .arg(key)
            .arg(-20)
            .arg("WITHSCORES")
            .query(&mut con)
            .unwrap();
        assert_eq!(pairs.len(), 20);
        for (m, s) in pairs {
            assert_eq!(format!("m{s}"), m);
        }
    }
    // Many single picks reach many different members.
    let mut seen = BTreeSet::new();
    for _ in 0..400 {
        let m: String = con.zrandmember("big", None).unwrap();
        seen.insert(m);
    }
    assert!(seen.len() > 100, "only {} distinct picks", seen.len());
    // The whole set comes highest score first when the count covers it.
    let whole: Vec<String> = con.zrandmember("small", Some(100)).unwrap();
    let want: Vec<String> = (0..10).rev().map(|i| format!("m{i}")).collect();
    assert_eq!(whole, want);
}

#[test]
fn ttl_wrong_types_and_keyspace_statistics() {
    let server = TestServer::fincache();
    let mut con = server.conn();
    let _: i64 = con.zadd("z", "a", 1).unwrap();
    let _: bool = con.expire("z", 1000).unwrap();
    let _: i64 = con.zadd("z", "b", 2).unwrap();
    let _: f64 = con.zincr("z", "a", 5).unwrap();
    let ttl: i64 = con.ttl("z").unwrap();
    assert!(ttl > 900, "ZADD/ZINCRBY must keep the TTL, got {ttl}");
    // Emptying the set deletes the key and its TTL.
    let _: i64 = con.zrem("z", &["a", "b"]).unwrap();
    let exists: bool = con.exists("z").unwrap();
    assert!(!exists);
    let _: i64 = con.zadd("z", "a", 1).unwrap();
    let ttl: i64 = con.ttl("z").unwrap();
    assert_eq!(ttl, -1);
    // A store replaces the destination, TTL included.
    let _: () = con.set_ex("dst", "x", 1000).unwrap();
    let n: i64 = redis::cmd("ZUNIONSTORE")
        .arg("dst")
        .arg(1)
        .arg("z")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    let ttl: i64 = con.ttl("dst").unwrap();
    assert_eq!(ttl, -1);
    // WRONGTYPE both ways.
    let _: () = con.set("s", "x").unwrap();
    let err = con.zadd::<_, _, _, i64>("s", "a", 1).unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    let err = con.get::<_, String>("z").unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    let t: String = redis::cmd("TYPE").arg("z").query(&mut con).unwrap();
    assert_eq!(t, "zset");
    // Reads count hits and misses; writes do not.
    let (h0, m0) = (
        info_stat(&mut con, "keyspace_hits"),
        info_stat(&mut con, "keyspace_misses"),
    );
    let _: Option<f64> = con.zscore("z", "a").unwrap();
    let _: Option<f64> = con.zscore("nokey", "a").unwrap();
    let _: Vec<String> = con.zrange("nokey", 0, -1).unwrap();
    let _: i64 = con.zadd("z", "c", 3).unwrap();
    let _: i64 = con.zrem("nokey", "a").unwrap();
    assert_eq!(info_stat(&mut con, "keyspace_hits") - h0, 1);
    assert_eq!(info_stat(&mut con, "keyspace_misses") - m0, 2);
}

#[test]
fn encodings_follow_the_thresholds() {
    let server = TestServer::fincache_with(&["--zset-max-listpack-entries", "4"]);
    let mut con = server.conn();
    let enc = |con: &mut redis::Connection, k: &str| -> String {
        redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(k)
            .query(con)
            .unwrap()
    };
    let _: i64 = con
        .zadd_multiple("z", &[(1, "a"), (2, "b"), (3, "c"), (4, "d")])
        .unwrap();
    assert_eq!(enc(&mut con, "z"), "listpack");
    let _: i64 = con.zadd("z", "e", 5).unwrap();
    assert_eq!(enc(&mut con, "z"), "skiplist");
    let long = "x".repeat(65);
    let _: i64 = con.zadd("y", &long, 1).unwrap();
    assert_eq!(enc(&mut con, "y"), "skiplist");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("zset-max-listpack-value")
        .arg(100)
        .query(&mut con)
        .unwrap();
    let _: i64 = con.zadd("w", &long, 1).unwrap();
    assert_eq!(enc(&mut con, "w"), "listpack");
}

/// Runs a redis-cli style script (comments dropped) against both servers and compares each
/// reply.
fn run_script_on_both(path: &str) {
    let Some(redis) = TestServer::oracle(path) else {
        return;
    };
    let fincache = TestServer::fincache();
    let full = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    let mut fin = RawConn::connect(fincache.port).unwrap();
    let mut red = RawConn::connect(redis.port).unwrap();
    let mut commands = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let argv: Vec<&str> = line.split_whitespace().collect();
        let f = fin.cmd(&argv);
        let r = red.cmd(&argv);
        assert!(
            same_reply(&f, &r),
            "{path}: {line}\n  fincache: {}\n  redis:    {}",
            show_reply(&f),
            show_reply(&r)
        );
        assert!(
            !matches!(r, fincache_resp::Reply::Error(_)),
            "{path}: {line} fails: {}",
            show_reply(&r)
        );
        commands += 1;
    }
    assert!(commands > 10);
}

#[test]
fn example_scripts_answer_like_redis() {
    run_script_on_both("examples/orderbook.redis");
    run_script_on_both("examples/leaderboard.redis");
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

/// Waits until INFO reports `n` blocked clients.
fn wait_blocked(c: &mut RawConn, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let Reply::Bulk(text) = c.cmd(&["INFO", "clients"]) else {
            panic!("INFO: not a bulk reply");
        };
        let text = String::from_utf8(text).unwrap();
        let now: i64 = text
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("blocked_clients in INFO");
        if now == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "blocked_clients stayed {now}, want {n}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn no_reply_yet(c: &mut RawConn, ms: u64) {
    c.set_read_timeout(Duration::from_millis(ms));
    match c.read_reply() {
        Err(RawError::Timeout) => {}
        other => panic!("expected no reply yet, got {other:?}"),
    }
    c.set_read_timeout(Duration::from_secs(10));
}

#[test]
fn blocking_pops_wait_for_a_sorted_set() {
    let server = TestServer::fincache();
    let mut admin = RawConn::connect(server.port).unwrap();
    // Served at once when a set is there; the first existing key decides.
    admin.cmd(&["ZADD", "b", "2", "x", "1", "y"]);
    let mut c = RawConn::connect(server.port).unwrap();
    assert_eq!(
        c.cmd(&["BZPOPMIN", "a", "b", "0"]),
        Reply::Array(vec![bulk("b"), bulk("y"), bulk("1")])
    );
    assert_eq!(
        c.cmd(&["BZPOPMAX", "b", "0"]),
        Reply::Array(vec![bulk("b"), bulk("x"), bulk("2")])
    );
    admin.cmd(&["SET", "s", "v"]);
    assert!(
        matches!(c.cmd(&["BZPOPMIN", "s", "a", "0"]), Reply::Error(e) if e.starts_with("WRONGTYPE"))
    );
    assert!(
        matches!(c.cmd(&["BZPOPMIN", "a", "-1"]), Reply::Error(e) if e == "ERR timeout is negative")
    );
    // A timeout answers with a null array.
    let t = Instant::now();
    assert_eq!(c.cmd(&["BZPOPMIN", "a", "0.1"]), Reply::Null);
    assert!(t.elapsed() >= Duration::from_millis(90));

    // Two waiters: the first to block is served first; ZADD wakes them.
    let mut w1 = RawConn::connect(server.port).unwrap();
    let mut w2 = RawConn::connect(server.port).unwrap();
    w1.send(&["BZPOPMIN", "q", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    w2.send(&["BZMPOP", "0", "2", "nokey", "q", "MAX", "COUNT", "5"])
        .unwrap();
    wait_blocked(&mut admin, 2);
    no_reply_yet(&mut w1, 50);
    // A wrong type does not serve them.
    admin.cmd(&["SET", "q", "text"]);
    no_reply_yet(&mut w1, 50);
    admin.cmd(&["DEL", "q"]);
    assert_eq!(
        admin.cmd(&["ZADD", "q", "5", "m5", "1", "m1", "3", "m3"]),
        Reply::Int(3)
    );
    assert_eq!(
        w1.read_reply().unwrap(),
        Reply::Array(vec![bulk("q"), bulk("m1"), bulk("1")])
    );
    assert_eq!(
        w2.read_reply().unwrap(),
        Reply::Array(vec![
            bulk("q"),
            Reply::Array(vec![
                Reply::Array(vec![bulk("m5"), bulk("5")]),
                Reply::Array(vec![bulk("m3"), bulk("3")]),
            ]),
        ])
    );
    wait_blocked(&mut admin, 0);
    assert_eq!(admin.cmd(&["EXISTS", "q"]), Reply::Int(0));

    // A store command creating the key serves a waiter too.
    w1.send(&["BZPOPMAX", "dst", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    admin.cmd(&["ZADD", "src", "7", "seven"]);
    assert_eq!(
        admin.cmd(&["ZUNIONSTORE", "dst", "1", "src"]),
        Reply::Int(1)
    );
    assert_eq!(
        w1.read_reply().unwrap(),
        Reply::Array(vec![bulk("dst"), bulk("seven"), bulk("7")])
    );
    // Inside MULTI a blocking pop does not block.
    assert_eq!(c.cmd(&["MULTI"]), Reply::Simple("OK".into()));
    assert_eq!(
        c.cmd(&["BZPOPMIN", "none", "0"]),
        Reply::Simple("QUEUED".into())
    );
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::Null]));
    // Argument errors come before the timeout's.
    assert!(matches!(
        c.cmd(&["BZMPOP", "x", "0", "a", "MIN"]),
        Reply::Error(e) if e == "ERR numkeys should be greater than 0"
    ));
    assert!(matches!(
        c.cmd(&["BZMPOP", "-1", "1", "a", "MIN"]),
        Reply::Error(e) if e == "ERR timeout is negative"
    ));
}

/// Collects the keyspace events `commands` raise on a server.
fn events_of(port: u16, commands: &[&[&str]]) -> Vec<String> {
    let mut admin = RawConn::connect(port).unwrap();
    admin.cmd(&["FLUSHALL"]);
    admin.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAnm"]);
    let mut sub = RawConn::connect(port).unwrap();
    sub.cmd(&["PSUBSCRIBE", "__key*"]);
    for c in commands {
        admin.cmd(c);
    }
    admin.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    let mut out = Vec::new();
    sub.set_read_timeout(Duration::from_millis(300));
    while let Ok(reply) = sub.read_reply() {
        out.push(show_reply(&reply));
    }
    out
}

#[test]
fn keyspace_events_match_redis() {
    let Some(redis) = TestServer::oracle("keyspace_events_match_redis") else {
        return;
    };
    let fincache = TestServer::fincache();
    let commands: &[&[&str]] = &[
        &["ZADD", "z", "1", "a", "2", "b"],
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "XX", "5", "a"],
        &["ZINCRBY", "z", "1", "a"],
        &["ZADD", "z", "INCR", "1", "c"],
        &["ZREM", "z", "a", "x"],
        &["ZSCORE", "nokey", "a"],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z", "5"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZREMRANGEBYRANK", "z", "0", "0"],
        &["ZREMRANGEBYSCORE", "z", "0", "2"],
        &["ZREMRANGEBYLEX", "z", "-", "+"],
        &["ZADD", "s", "1", "a"],
        &["ZUNIONSTORE", "d", "1", "s"],
        &["ZUNIONSTORE", "d", "1", "nokey"],
        &["ZRANGESTORE", "d2", "s", "0", "-1"],
        &["ZRANGESTORE", "d2", "s", "5", "6"],
        &["ZINTERSTORE", "d3", "2", "s", "s"],
        &["ZDIFFSTORE", "d4", "2", "s", "s"],
        &["ZMPOP", "1", "s", "MIN"],
        &["ZADD", "q", "1", "a"],
        &["BZPOPMAX", "q", "0"],
        &["ZUNION", "2", "nokey", "q"],
    ];
    let want = events_of(redis.port, commands);
    let got = events_of(fincache.port, commands);
    assert!(want.len() > 40, "too few events from redis: {want:?}");
    assert_eq!(got, want);
}
