//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, and the INFO memory fields
//! eviction relies on.

mod support;

use fincache_resp::Reply;
use redis::{Connection, RedisResult, Value};
use support::{RawConn, TestServer};

fn usage(c: &mut Connection, key: &str) -> Option<i64> {
    redis::cmd("MEMORY").arg("USAGE").arg(key).query(c).unwrap()
}

#[test]
fn usage_grows_with_the_value() {
    let srv = TestServer::fincache();
    let mut c = srv.conn();
    assert_eq!(usage(&mut c, "missing"), None);
    let _: () = redis::cmd("SET")
        .arg("small")
        .arg("x")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg("x".repeat(10_000))
        .query(&mut c)
        .unwrap();
    let small = usage(&mut c, "small").unwrap();
    let big = usage(&mut c, "big").unwrap();
    assert!(small > 0);
    assert!(big >= small + 10_000, "{small} vs {big}");
    // A long key costs its bytes too.
    let long_key = "k".repeat(200);
    let _: () = redis::cmd("SET")
        .arg(&long_key)
        .arg("x")
        .query(&mut c)
        .unwrap();
    assert!(usage(&mut c, &long_key).unwrap() >= small + 200);
    // Collections grow with their members.
    let _: i64 = redis::cmd("RPUSH")
        .arg("list")
        .arg("a")
        .query(&mut c)
        .unwrap();
    let one = usage(&mut c, "list").unwrap();
    for i in 0..2000 {
        let _: i64 = redis::cmd("RPUSH")
            .arg("list")
            .arg(format!("member-{i}"))
            .query(&mut c)
            .unwrap();
    }
    let many = usage(&mut c, "list").unwrap();
    assert!(many > one + 2000 * 8, "{one} vs {many}");
    let _: () = redis::cmd("HSET")
        .arg("h")
        .arg("f")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let with_samples: Option<i64> = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg("h")
        .arg("SAMPLES")
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert!(with_samples.unwrap() > 0);
}

#[test]
fn usage_argument_errors() {
    let srv = TestServer::fincache();
    let mut raw = RawConn::connect(srv.port).unwrap();
    raw.cmd(&["SET", "k", "v"]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
            "ERR syntax error",
        ),
        (
            &["MEMORY", "USAGE", "k", "SAMPLES", "x"],
            "ERR value is not an integer or out of range",
        ),
        (&["MEMORY", "USAGE", "k", "SAMPLES"], "ERR syntax error"),
        (&["MEMORY", "USAGE", "k", "FOO"], "ERR syntax error"),
        (
            &["MEMORY", "USAGE"],
            "ERR wrong number of arguments for 'memory|usage' command",
        ),
        (
            &["MEMORY", "FOO"],
            "ERR unknown subcommand 'FOO'. Try MEMORY HELP.",
        ),
        (
            &["MEMORY", "STATS", "x"],
            "ERR wrong number of arguments for 'memory|stats' command",
        ),
    ];
    for (argv, want) in cases {
        match raw.cmd(argv) {
            Reply::Error(e) => assert_eq!(&e, want, "{argv:?}"),
            other => panic!("{argv:?}: {other:?}"),
        }
    }
}

#[test]
fn stats_doctor_purge_malloc_stats_help() {
    let srv = TestServer::fincache();
    let mut c = srv.conn();
    for i in 0..50 {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg("v")
            .query(&mut c)
            .unwrap();
    }
    let _: () = redis::cmd("SET")
        .arg("t")
        .arg("v")
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let stats: Vec<Value> = redis::cmd("MEMORY").arg("STATS").query(&mut c).unwrap();
    let mut names = Vec::new();
    let mut fields = std::collections::HashMap::new();
    for pair in stats.chunks(2) {
        let name = match &pair[0] {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("field name {other:?}"),
        };
        names.push(name.clone());
        fields.insert(name, pair[1].clone());
    }
    for want in [
        "peak.allocated",
        "total.allocated",
        "startup.allocated",
        "overhead.total",
        "keys.count",
        "keys.bytes-per-key",
        "dataset.bytes",
        "dataset.percentage",
        "peak.percentage",
        "allocator.allocated",
        "fragmentation",
        "fragmentation.bytes",
        "db.0",
    ] {
        assert!(
            fields.contains_key(want),
            "MEMORY STATS lacks {want}: {names:?}"
        );
    }
    assert_eq!(fields["keys.count"], Value::Int(51));
    match &fields["total.allocated"] {
        Value::Int(n) => assert!(*n > 0),
        other => panic!("{other:?}"),
    }
    match &fields["db.0"] {
        Value::Array(inner) => assert_eq!(inner.len(), 6),
        other => panic!("db.0 {other:?}"),
    }

    let doctor: String = redis::cmd("MEMORY").arg("DOCTOR").query(&mut c).unwrap();
    assert!(
        doctor.starts_with("Hi Sam") || doctor.starts_with("Sam,"),
        "{doctor}"
    );

    let purge: String = redis::cmd("MEMORY").arg("PURGE").query(&mut c).unwrap();
    assert_eq!(purge, "OK");

    let malloc: String = redis::cmd("MEMORY")
        .arg("MALLOC-STATS")
        .query(&mut c)
        .unwrap();
    assert!(
        malloc.contains("jemalloc"),
        "{}",
        &malloc[..malloc.len().min(200)]
    );

    let help: Vec<String> = redis::cmd("MEMORY").arg("HELP").query(&mut c).unwrap();
    assert_eq!(help.len(), 14);
    assert!(help[0].starts_with("MEMORY <subcommand>"));
}

#[test]
fn info_reports_the_limit_and_policy() {
    let srv =
        TestServer::fincache_with(&["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lfu"]);
    let mut c = srv.conn();
    let info: String = redis::cmd("INFO").arg("memory").query(&mut c).unwrap();
    assert!(info.contains("maxmemory:67108864\r\n"), "{info}");
    assert!(info.contains("maxmemory_human:64.00M\r\n"), "{info}");
    assert!(info.contains("maxmemory_policy:allkeys-lfu\r\n"), "{info}");
    let used: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(used > 0 && used < 64 << 20);
    let stats: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    assert!(stats.contains("evicted_keys:0\r\n"));
    let got: RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut c);
    assert_eq!(
        got.unwrap(),
        vec!["maxmemory".to_string(), "67108864".to_string()]
    );
}
