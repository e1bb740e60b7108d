//! Set commands through real clients: what the case files cannot pin down exactly. Random
//! replies by their properties (SPOP and SRANDMEMBER: membership, counts, distinctness, what is
//! left behind), the three encodings and their conversions at the default thresholds, SSCAN's
//! guarantee over a full iteration, multi-key commands across shards compared with
//! redis-server, and RESP3 reply types.

mod support;

use fincache_resp::Reply;
use redis::{Connection, Value};
use std::collections::BTreeSet;
use support::{raw, RawConn, TestServer};

fn int(conn: &mut Connection, args: &[&str]) -> i64 {
    match raw(conn, args) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

fn text(conn: &mut Connection, args: &[&str]) -> String {
    redis::cmd(args[0])
        .arg(&args[1..])
        .query(conn)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn strings(conn: &mut Connection, args: &[&str]) -> Vec<String> {
    redis::cmd(args[0])
        .arg(&args[1..])
        .query(conn)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn members(conn: &mut Connection, key: &str) -> BTreeSet<String> {
    strings(conn, &["SMEMBERS", key]).into_iter().collect()
}

/// Adds `prefix0..prefixN` (or plain integers with an empty prefix) to `key`.
fn fill(conn: &mut Connection, key: &str, prefix: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut cmd = redis::cmd("SADD");
        cmd.arg(key);
        for i in chunk {
            cmd.arg(format!("{prefix}{i}"));
        }
        let _: i64 = cmd.query(conn).expect("SADD");
    }
}

#[test]
fn encodings_at_the_default_thresholds() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    fill(&mut c, "ints", "", 512);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "ints"]), "intset");
    // An intset lists its members in ascending order.
    let got: Vec<i64> = redis::cmd("SMEMBERS").arg("ints").query(&mut c).unwrap();
    assert_eq!(got, (0..512).collect::<Vec<i64>>());
    int(&mut c, &["SADD", "ints", "512"]);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "ints"]), "hashtable");

    fill(&mut c, "strs", "m", 128);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "strs"]), "listpack");
    // A listpack lists its members in insertion order.
    let got = strings(&mut c, &["SMEMBERS", "strs"]);
    assert_eq!(got, (0..128).map(|i| format!("m{i}")).collect::<Vec<_>>());
    int(&mut c, &["SADD", "strs", "m128"]);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "strs"]), "hashtable");
    assert_eq!(int(&mut c, &["SCARD", "strs"]), 129);

    // A small intset meeting a string becomes a listpack, integers first in order.
    int(&mut c, &["SADD", "mix", "30", "10", "20"]);
    int(&mut c, &["SADD", "mix", "x", "5"]);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "mix"]), "listpack");
    assert_eq!(
        strings(&mut c, &["SMEMBERS", "mix"]),
        ["10", "20", "30", "x", "5"]
    );
    // A big intset meeting a string becomes a hash table.
    fill(&mut c, "bigints", "", 200);
    int(&mut c, &["SADD", "bigints", "x"]);
    assert_eq!(
        text(&mut c, &["OBJECT", "ENCODING", "bigints"]),
        "hashtable"
    );
    // One SADD of more members than a listpack holds goes straight to a hash table.
    let mut cmd = redis::cmd("SADD");
    cmd.arg("many");
    for _ in 0..200 {
        cmd.arg("same");
    }
    let added: i64 = cmd.query(&mut c).unwrap();
    assert_eq!(added, 1);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "many"]), "hashtable");
}

#[test]
fn spop_and_srandmember_properties() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    for (key, prefix, n) in [
        ("ints", "", 300usize),
        ("small", "m", 50),
        ("big", "m", 1000),
    ] {
        fill(&mut c, key, prefix, n);
        let all = members(&mut c, key);
        for count in [1usize, 7, 49, 50, 51, 999, 5000] {
            let got = strings(&mut c, &["SRANDMEMBER", key, &count.to_string()]);
            assert_eq!(got.len(), count.min(n), "{key} {count}");
            let unique: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(unique.len(), got.len(), "{key} {count}: duplicates");
            assert!(unique.is_subset(&all));
        }
        let got = strings(&mut c, &["SRANDMEMBER", key, "-3000"]);
        assert_eq!(got.len(), 3000);
        let unique: BTreeSet<String> = got.into_iter().collect();
        assert!(unique.is_subset(&all));
        assert!(
            unique.len() > n.min(3000) / 3,
            "{key}: picks are not spread"
        );
        assert_eq!(
            int(&mut c, &["SCARD", key]),
            n as i64,
            "SRANDMEMBER changes nothing"
        );

        // SPOP few, then many (the "survivors" path), then the rest.
        let mut left = all.clone();
        for count in [1usize, 3, n / 2, n - n / 2 - 6, 10] {
            let popped = strings(&mut c, &["SPOP", key, &count.to_string()]);
            assert_eq!(popped.len(), count.min(left.len()), "{key} SPOP {count}");
            for m in &popped {
                assert!(left.remove(m), "{key}: {m} popped twice or never there");
            }
            assert_eq!(members(&mut c, key), left);
        }
        assert_eq!(int(&mut c, &["EXISTS", key]), 0);
    }
    // SPOP without a count.
    fill(&mut c, "s", "", 5);
    let mut seen = BTreeSet::new();
    for _ in 0..5 {
        let m = text(&mut c, &["SPOP", "s"]);
        assert!(seen.insert(m));
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(int(&mut c, &["EXISTS", "s"]), 0);
    // A hash-table set that loses most of its members keeps them in a new, smaller set.
    fill(&mut c, "h", "member-", 300);
    strings(&mut c, &["SPOP", "h", "290"]);
    assert_eq!(int(&mut c, &["SCARD", "h"]), 10);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "h"]), "listpack");
    assert!(raw(&mut c, &["SRANDMEMBER", "h", "-100000000"]).is_err());
}

#[test]
fn sscan_of_a_large_set_returns_every_member() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    fill(&mut c, "s", "m", 4000);
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut deleted = 0;
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SSCAN")
            .arg("s")
            .arg(&cursor)
            .arg("COUNT")
            .arg(30)
            .query(&mut c)
            .unwrap();
        seen.extend(batch);
        // m0..m499 go away during the scan; the others must all be seen.
        for _ in 0..5 {
            if deleted < 500 {
                int(&mut c, &["SREM", "s", &format!("m{deleted}")]);
                deleted += 1;
            }
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    let seen: BTreeSet<String> = seen.into_iter().collect();
    for i in 500..4000 {
        assert!(seen.contains(&format!("m{i}")), "m{i} never returned");
    }
    let (next, batch): (String, Vec<String>) = redis::cmd("SSCAN")
        .arg("s")
        .arg(0)
        .arg("MATCH")
        .arg("m399?")
        .arg("COUNT")
        .arg(10_000)
        .query(&mut c)
        .unwrap();
    assert_eq!(next, "0");
    assert_eq!(batch.len(), 10);
}

#[test]
fn multi_key_commands_match_redis_across_shards() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let server = TestServer::fincache();
    let (mut f, mut r) = (server.conn(), redis.conn());
    // Keys chosen to land in different shards; sizes cross every encoding.
    for c in [&mut f, &mut r] {
        fill(c, "alpha", "", 600);
        fill(c, "beta", "", 300);
        fill(c, "gamma", "x", 200);
        fill(c, "delta", "x", 50);
        int(c, &["SADD", "delta", "1", "2", "3", "599"]);
        fill(c, "eps", "", 20);
    }
    let sets = |c: &mut Connection, args: &[&str]| -> BTreeSet<String> {
        strings(c, args).into_iter().collect()
    };
    for args in [
        &["SINTER", "alpha", "beta"][..],
        &["SINTER", "alpha", "delta"],
        &["SINTER", "gamma", "delta"],
        &["SINTER", "alpha", "beta", "eps", "delta"],
        &["SUNION", "alpha", "gamma", "delta"],
        &["SUNION", "eps", "delta"],
        &["SDIFF", "alpha", "beta"],
        &["SDIFF", "alpha", "beta", "eps"],
        &["SDIFF", "gamma", "delta"],
        &["SDIFF", "eps", "alpha"],
        &["SDIFF", "delta", "alpha", "gamma"],
    ] {
        assert_eq!(sets(&mut f, args), sets(&mut r, args), "{args:?}");
    }
    for args in [
        &["SINTERCARD", "2", "alpha", "beta"][..],
        &["SINTERCARD", "2", "alpha", "beta", "LIMIT", "17"],
        &["SINTERCARD", "3", "alpha", "delta", "eps"],
        &["SINTERSTORE", "out1", "alpha", "beta"],
        &["SUNIONSTORE", "out2", "alpha", "gamma"],
        &["SDIFFSTORE", "out3", "alpha", "beta", "eps"],
        &["SDIFFSTORE", "out4", "gamma", "delta"],
        &["SINTERSTORE", "out5", "delta", "alpha"],
        &["SMOVE", "alpha", "gamma", "5"],
        &["SMOVE", "gamma", "alpha", "x5"],
        &["SCARD", "alpha"],
        &["SCARD", "gamma"],
    ] {
        assert_eq!(int(&mut f, args), int(&mut r, args), "{args:?}");
    }
    for key in ["out1", "out2", "out3", "out4", "out5", "alpha", "gamma"] {
        assert_eq!(members(&mut f, key), members(&mut r, key), "{key}");
        let (fe, re) = (
            text(&mut f, &["OBJECT", "ENCODING", key]),
            text(&mut r, &["OBJECT", "ENCODING", key]),
        );
        // Redis 7.0 has no listpack sets; FinCache follows 7.2.
        if fe != "listpack" {
            assert_eq!(fe, re, "encoding of {key}");
        }
    }
}

#[test]
fn resp3_reply_types() {
    let server = TestServer::fincache();
    let mut c = RawConn::connect(server.port).unwrap();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    c.cmd(&["SADD", "s", "1", "2", "3"]);
    c.cmd(&["SADD", "t", "2", "3", "4"]);
    assert!(matches!(c.cmd(&["SMEMBERS", "s"]), Reply::Set(v) if v.len() == 3));
    assert_eq!(c.cmd(&["SMEMBERS", "nokey"]), Reply::Set(vec![]));
    assert!(matches!(c.cmd(&["SINTER", "s", "t"]), Reply::Set(v) if v.len() == 2));
    assert_eq!(c.cmd(&["SINTER", "s", "nokey"]), Reply::Set(vec![]));
    assert!(matches!(c.cmd(&["SUNION", "s", "t"]), Reply::Set(v) if v.len() == 4));
    assert!(matches!(c.cmd(&["SDIFF", "s", "t"]), Reply::Set(v) if v.len() == 1));
    assert!(matches!(c.cmd(&["SRANDMEMBER", "s", "2"]), Reply::Array(v) if v.len() == 2));
    assert!(matches!(c.cmd(&["SPOP", "s", "2"]), Reply::Set(v) if v.len() == 2));
    assert_eq!(c.cmd(&["SPOP", "nokey", "2"]), Reply::Set(vec![]));
    assert_eq!(c.cmd(&["SPOP", "nokey"]), Reply::Null);
    assert_eq!(c.cmd(&["SRANDMEMBER", "nokey", "2"]), Reply::Array(vec![]));
    assert_eq!(
        c.cmd(&["SMISMEMBER", "t", "2", "9"]),
        Reply::Array(vec![Reply::Int(1), Reply::Int(0)])
    );
}

/// The keyspace events (`event key`, in order) that running `script` publishes on `server`.
fn events_of(port: u16, script: &[&[&str]]) -> Vec<String> {
    let mut cmd = RawConn::connect(port).unwrap();
    cmd.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    cmd.cmd(&["FLUSHALL"]);
    let mut sub = RawConn::connect(port).unwrap();
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    for argv in script {
        cmd.cmd(argv);
    }
    cmd.cmd(&["PING"]);
    sub.set_read_timeout(std::time::Duration::from_millis(300));
    let mut events = Vec::new();
    while let Ok(Reply::Array(msg)) = sub.read_reply() {
        if let [_, _, Reply::Bulk(channel), Reply::Bulk(key)] = msg.as_slice() {
            let channel = String::from_utf8_lossy(channel);
            let event = channel.rsplit(':').next().unwrap_or_default().to_string();
            events.push(format!("{event} {}", String::from_utf8_lossy(key)));
        }
    }
    events
}

#[test]
fn keyspace_events_match_redis() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let server = TestServer::fincache();
    let script: &[&[&str]] = &[
        &["SADD", "s", "1", "2", "3"],
        &["SADD", "s", "3"],
        &["SADD", "s", "4"],
        &["SREM", "s", "9"],
        &["SREM", "s", "1"],
        &["SADD", "t", "x"],
        &["SMOVE", "t", "u", "x"],
        &["SMOVE", "s", "u", "2"],
        &["SMOVE", "s", "u", "99"],
        &["SPOP", "s", "0"],
        &["SINTERSTORE", "d", "s", "s"],
        &["SINTERSTORE", "d", "s", "missing"],
        &["SINTERSTORE", "d", "s", "missing"],
        &["SUNIONSTORE", "d", "s", "u"],
        &["SUNIONSTORE", "d", "s", "u"],
        &["SDIFFSTORE", "d", "s", "s"],
        &["SADD", "one", "m"],
        &["SPOP", "one"],
        &["SADD", "two", "m", "n"],
        &["SPOP", "two", "5"],
        &["SMEMBERS", "missing"],
        &["SISMEMBER", "u", "x"],
        &["SREM", "u", "x", "2"],
    ];
    let theirs = events_of(redis.port, script);
    assert!(theirs.len() > 10, "redis published {theirs:?}");
    assert_eq!(events_of(server.port, script), theirs);
}
