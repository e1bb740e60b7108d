//! Hash commands through real clients: what the case files cannot pin down exactly. Large
//! (hashtable) hashes and their conversion at the default thresholds, HSCAN's guarantee over a
//! full iteration (also while fields are deleted), HRANDFIELD's properties (distinct fields,
//! repeats with a negative count, values that belong to their fields, the RESP3 pair shape),
//! keyspace hits and misses, and the replies of a RESP3 client.

mod support;

use fincache_resp::Reply;
use redis::{Connection, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// Fills `key` with fields `f0..fn` holding `v0..vn`, in batches.
fn fill(conn: &mut Connection, key: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(key);
        for i in chunk {
            cmd.arg(format!("f{i}")).arg(format!("v{i}"));
        }
        let _: i64 = cmd.query(conn).expect("HSET");
    }
}

/// Every (field, value) of a full HSCAN iteration (duplicates kept), and the number of calls.
fn hscan_all(conn: &mut Connection, key: &str, extra: &[&str]) -> (Vec<(String, String)>, usize) {
    let mut cursor = "0".to_string();
    let mut found = Vec::new();
    let mut calls = 0;
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("HSCAN")
            .arg(key)
            .arg(&cursor)
            .arg(extra)
            .query(conn)
            .expect("HSCAN");
        assert_eq!(batch.len() % 2, 0, "HSCAN returns field/value pairs");
        for pair in batch.chunks(2) {
            found.push((pair[0].clone(), pair[1].clone()));
        }
        calls += 1;
        assert!(calls < 100_000, "HSCAN does not terminate");
        if next == "0" {
            return (found, calls);
        }
        cursor = next;
    }
}

#[test]
fn converts_at_the_default_thresholds() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    fill(&mut c, "h", 128);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "h"]), "listpack");
    // A small hash lists its fields in insertion order.
    let keys = strings(&mut c, &["HKEYS", "h"]);
    let expected: Vec<String> = (0..128).map(|i| format!("f{i}")).collect();
    assert_eq!(keys, expected);
    assert_eq!(int(&mut c, &["HSET", "h", "f128", "v128"]), 1);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "h"]), "hashtable");
    assert_eq!(int(&mut c, &["HLEN", "h"]), 129);
    let all: HashMap<String, String> = redis::cmd("HGETALL").arg("h").query(&mut c).unwrap();
    assert_eq!(all.len(), 129);
    for i in 0..129 {
        assert_eq!(all[&format!("f{i}")], format!("v{i}"));
    }
    // Removing fields never converts back.
    for i in 0..120 {
        assert_eq!(int(&mut c, &["HDEL", "h", &format!("f{i}")]), 1);
    }
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "h"]), "hashtable");
    assert_eq!(int(&mut c, &["HLEN", "h"]), 9);
    // A 65-byte value converts at once.
    let long = "x".repeat(65);
    assert_eq!(int(&mut c, &["HSET", "g", "f", &long]), 1);
    assert_eq!(text(&mut c, &["OBJECT", "ENCODING", "g"]), "hashtable");
    assert_eq!(text(&mut c, &["HGET", "g", "f"]), long);
}

#[test]
fn hscan_of_a_large_hash_returns_every_field() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    fill(&mut c, "h", 5000);
    let (found, calls) = hscan_all(&mut c, "h", &[]);
    assert!(calls > 100, "COUNT 10 takes many calls, got {calls}");
    let unique: BTreeMap<String, String> = found.iter().cloned().collect();
    assert_eq!(
        found.len(),
        5000,
        "no duplicates without concurrent changes"
    );
    assert_eq!(unique.len(), 5000);
    for (f, v) in &unique {
        assert_eq!(f[1..], v[1..]);
    }
    // COUNT and MATCH.
    let (found, calls) = hscan_all(&mut c, "h", &["COUNT", "1000"]);
    assert_eq!(found.len(), 5000);
    assert!(calls <= 6, "{calls} calls with COUNT 1000");
    let (found, _) = hscan_all(&mut c, "h", &["MATCH", "f1?", "COUNT", "100"]);
    let fields: BTreeSet<String> = found.into_iter().map(|(f, _)| f).collect();
    let expected: BTreeSet<String> = (10..20).map(|i| format!("f{i}")).collect();
    assert_eq!(fields, expected);
}

#[test]
fn hscan_guarantee_holds_while_fields_are_deleted() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    fill(&mut c, "h", 3000);
    // Fields f0..f999 are deleted during the scan; f1000.. stay the whole time and must all
    // be returned.
    let mut cursor = "0".to_string();
    let mut seen = BTreeSet::new();
    let mut deleted = 0;
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("HSCAN")
            .arg("h")
            .arg(&cursor)
            .arg("COUNT")
            .arg(25)
            .query(&mut c)
            .unwrap();
        for pair in batch.chunks(2) {
            seen.insert(pair[0].clone());
        }
        for _ in 0..10 {
            if deleted < 1000 {
                let _: i64 = redis::cmd("HDEL")
                    .arg("h")
                    .arg(format!("f{deleted}"))
                    .query(&mut c)
                    .unwrap();
                deleted += 1;
            }
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    for i in 1000..3000 {
        assert!(seen.contains(&format!("f{i}")), "f{i} was never returned");
    }
}

#[test]
fn hrandfield_properties() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    fill(&mut c, "small", 20);
    fill(&mut c, "big", 300);
    for key in ["small", "big"] {
        let size = int(&mut c, &["HLEN", key]) as usize;
        // Distinct fields, as many as asked (or the whole hash).
        for count in [1usize, 5, 19, 20, 150, 299, 300, 1000] {
            let got = strings(&mut c, &["HRANDFIELD", key, &count.to_string()]);
            assert_eq!(got.len(), count.min(size), "{key} {count}");
            let unique: BTreeSet<&String> = got.iter().collect();
            assert_eq!(
                unique.len(),
                got.len(),
                "{key} {count}: duplicates in {got:?}"
            );
            for f in &got {
                assert_eq!(int(&mut c, &["HEXISTS", key, f]), 1);
            }
        }
        // A negative count may repeat, and over many picks every field shows up.
        let got = strings(&mut c, &["HRANDFIELD", key, "-5000"]);
        assert_eq!(got.len(), 5000);
        let unique: BTreeSet<&String> = got.iter().collect();
        assert!(
            unique.len() < got.len(),
            "5000 picks of {size} fields must repeat"
        );
        if size == 20 {
            assert_eq!(
                unique.len(),
                20,
                "every field of a small hash is picked eventually"
            );
        }
        // WITHVALUES pairs each field with its own value.
        let got = strings(&mut c, &["HRANDFIELD", key, "-50", "WITHVALUES"]);
        assert_eq!(got.len(), 100);
        for pair in got.chunks(2) {
            assert_eq!(pair[0][1..], pair[1][1..], "{pair:?}");
        }
        let got = strings(&mut c, &["HRANDFIELD", key, "7", "WITHVALUES"]);
        assert_eq!(got.len(), 14);
        // Without a count: one existing field.
        let f = text(&mut c, &["HRANDFIELD", key]);
        assert_eq!(int(&mut c, &["HEXISTS", key, &f]), 1);
    }
    // Huge negative counts are refused instead of building a gigantic reply.
    assert!(raw(&mut c, &["HRANDFIELD", "small", "-100000000"]).is_err());
}

#[test]
fn resp3_reply_shapes() {
    let server = TestServer::fincache();
    let mut c = RawConn::connect(server.port).unwrap();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    c.cmd(&["HSET", "h", "a", "1", "b", "2"]);
    match c.cmd(&["HGETALL", "h"]) {
        Reply::Map(pairs) => assert_eq!(pairs.len(), 2),
        other => panic!("HGETALL: {other:?}"),
    }
    assert_eq!(c.cmd(&["HGETALL", "nokey"]), Reply::Map(vec![]));
    assert_eq!(c.cmd(&["HKEYS", "nokey"]), Reply::Array(vec![]));
    assert_eq!(c.cmd(&["HGET", "h", "x"]), Reply::Null);
    assert_eq!(c.cmd(&["HRANDFIELD", "nokey"]), Reply::Null);
    match c.cmd(&["HRANDFIELD", "h", "-3", "WITHVALUES"]) {
        Reply::Array(items) => {
            assert_eq!(items.len(), 3);
            for item in items {
                match item {
                    Reply::Array(pair) => assert_eq!(pair.len(), 2),
                    other => panic!("a pair should be an array: {other:?}"),
                }
            }
        }
        other => panic!("HRANDFIELD WITHVALUES: {other:?}"),
    }
    match c.cmd(&["HRANDFIELD", "h", "-3"]) {
        Reply::Array(items) => assert!(items.iter().all(|i| matches!(i, Reply::Bulk(_)))),
        other => panic!("HRANDFIELD: {other:?}"),
    }
    assert_eq!(
        c.cmd(&["HINCRBYFLOAT", "h", "a", "0.5"]),
        Reply::Bulk(b"1.5".to_vec())
    );
}

/// INFO's keyspace_hits / keyspace_misses.
fn hits_misses(c: &mut Connection) -> (u64, u64) {
    let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} not in INFO"))
    };
    (field("keyspace_hits"), field("keyspace_misses"))
}

#[test]
fn reads_count_hits_and_misses_writes_do_not() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    int(&mut c, &["HSET", "h", "a", "1"]);
    let before = hits_misses(&mut c);
    text(&mut c, &["HGET", "h", "a"]);
    int(&mut c, &["HLEN", "nokey"]);
    int(&mut c, &["HEXISTS", "h", "zz"]);
    let after = hits_misses(&mut c);
    assert_eq!((after.0 - before.0, after.1 - before.1), (2, 1));
    int(&mut c, &["HSET", "h", "b", "2"]);
    int(&mut c, &["HDEL", "nokey", "b"]);
    int(&mut c, &["HINCRBY", "h", "c", "1"]);
    assert_eq!(hits_misses(&mut c), after);
}

#[test]
fn matches_redis_on_large_hashes() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let server = TestServer::fincache();
    let (mut f, mut r) = (server.conn(), redis.conn());
    for c in [&mut f, &mut r] {
        fill(c, "h", 1000);
        for i in (0..1000).step_by(3) {
            int(c, &["HDEL", "h", &format!("f{i}")]);
        }
        int(c, &["HINCRBY", "h", "counter", "5"]);
    }
    for cmd in [
        &["HLEN", "h"][..],
        &["HSTRLEN", "h", "f500"],
        &["HEXISTS", "h", "f3"],
    ] {
        assert_eq!(int(&mut f, cmd), int(&mut r, cmd), "{cmd:?}");
    }
    let fa: BTreeMap<String, String> = redis::cmd("HGETALL").arg("h").query(&mut f).unwrap();
    let ra: BTreeMap<String, String> = redis::cmd("HGETALL").arg("h").query(&mut r).unwrap();
    assert_eq!(fa, ra);
    let (fs, _) = hscan_all(&mut f, "h", &["COUNT", "50"]);
    let fs: BTreeMap<String, String> = fs.into_iter().collect();
    assert_eq!(fs, ra);
    assert_eq!(
        text(&mut f, &["OBJECT", "ENCODING", "h"]),
        text(&mut r, &["OBJECT", "ENCODING", "h"])
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
        &["HSET", "h", "a", "1", "b", "2"],
        &["HSET", "h", "a", "3"],
        &["HSETNX", "h", "a", "x"],
        &["HSETNX", "h", "c", "x"],
        &["HSETNX", "n1", "f", "v"],
        &["HMSET", "n2", "f", "v"],
        &["HINCRBY", "h", "cnt", "2"],
        &["HINCRBY", "h", "a", "1"],
        &["HINCRBY", "h", "c", "1"],
        &["HINCRBYFLOAT", "n3", "f", "1.5"],
        &["HDEL", "h", "zz"],
        &["HDEL", "h", "a", "b"],
        &["HDEL", "n1", "f"],
        &["HGET", "missing", "f"],
        &["HGETALL", "missing"],
        &["HLEN", "h"],
    ];
    let theirs = events_of(redis.port, script);
    assert!(theirs.len() > 10, "redis published {theirs:?}");
    assert_eq!(events_of(server.port, script), theirs);
}
