//! Bitmap commands through a real client: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
//! BITFIELD_RO — values, errors, encodings, TTLs, large bitmaps, keyspace events (compared with
//! redis-server when it is installed).

mod support;

use fincache_resp::Reply;
use redis::{Commands, Value};
use support::{RawConn, TestServer};

fn cmd(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<Value> {
    support::raw(c, args)
}

fn int(c: &mut redis::Connection, args: &[&str]) -> i64 {
    match cmd(c, args) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    match cmd(c, args) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("{args:?} should fail, got {v:?}"),
    }
}

#[test]
fn setbit_getbit_basics() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    assert_eq!(int(&mut c, &["SETBIT", "k", "7", "1"]), 0);
    assert_eq!(int(&mut c, &["SETBIT", "k", "7", "1"]), 1);
    let v: Vec<u8> = c.get("k").unwrap();
    assert_eq!(v, vec![0x01]);
    assert_eq!(int(&mut c, &["GETBIT", "k", "7"]), 1);
    assert_eq!(int(&mut c, &["GETBIT", "k", "0"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "k", "1000000"]), 0);
    assert_eq!(int(&mut c, &["GETBIT", "missing", "3"]), 0);
    assert_eq!(int(&mut c, &["SETBIT", "k", "23", "1"]), 0);
    let v: Vec<u8> = c.get("k").unwrap();
    assert_eq!(v, vec![0x01, 0x00, 0x01]);
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("k")
        .query(&mut c)
        .unwrap();
    assert_eq!(enc, "raw");

    // Integers read as their digits and become raw strings once written.
    let _: () = c.set("n", 123).unwrap();
    assert_eq!(int(&mut c, &["GETBIT", "n", "2"]), 1); // '1' = 0x31
    assert_eq!(int(&mut c, &["SETBIT", "n", "7", "0"]), 1);
    let v: String = c.get("n").unwrap();
    assert_eq!(v, "023");

    // TTL survives a bit write.
    let _: () = redis::cmd("SET")
        .arg("t")
        .arg("x")
        .arg("EX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    int(&mut c, &["SETBIT", "t", "100", "1"]);
    let ttl: i64 = c.ttl("t").unwrap();
    assert!(ttl > 90, "{ttl}");
}

#[test]
fn errors() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let bad_offset = "bit offset is not an integer or out of range";
    assert!(err(&mut c, &["SETBIT", "k", "-1", "1"]).contains(bad_offset));
    assert!(err(&mut c, &["SETBIT", "k", "4294967296", "1"]).contains(bad_offset));
    assert!(err(&mut c, &["GETBIT", "k", "x"]).contains(bad_offset));
    assert!(
        err(&mut c, &["SETBIT", "k", "1", "2"]).contains("bit is not an integer or out of range")
    );
    assert!(err(&mut c, &["BITPOS", "k", "2"]).contains("The bit argument must be 1 or 0."));
    assert!(err(&mut c, &["BITOP", "NOT", "d", "a", "b"])
        .contains("BITOP NOT must be called with a single source key."));
    assert!(err(&mut c, &["BITOP", "NAND", "d", "a"]).contains("syntax error"));
    // BITCOUNT and BITPOS look at the key before their ranges, as Redis 7 does.
    assert_eq!(int(&mut c, &["BITCOUNT", "k", "0"]), 0);
    assert_eq!(int(&mut c, &["BITPOS", "k", "0", "x"]), 0);
    let _: () = c.set("str", "v").unwrap();
    assert!(err(&mut c, &["BITCOUNT", "str", "0"]).contains("syntax error"));
    assert!(err(&mut c, &["BITCOUNT", "str", "0", "1", "BITS"]).contains("syntax error"));
    assert!(err(&mut c, &["BITPOS", "str", "0", "x"]).contains("not an integer"));
    assert!(err(&mut c, &["BITFIELD", "k", "GET", "u64", "0"])
        .contains("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."));
    assert!(err(&mut c, &["BITFIELD", "k", "OVERFLOW", "X"])
        .contains("Invalid OVERFLOW type specified"));
    assert!(err(&mut c, &["BITFIELD_RO", "k", "SET", "u8", "0", "1"])
        .contains("BITFIELD_RO only supports the GET subcommand"));
    let _: () = c.rpush("l", "a").unwrap();
    for args in [
        &["SETBIT", "l", "0", "1"][..],
        &["GETBIT", "l", "0"],
        &["BITCOUNT", "l"],
        &["BITPOS", "l", "1"],
        &["BITOP", "OR", "d", "l"],
        &["BITFIELD", "l", "GET", "u8", "0"],
        &["BITFIELD_RO", "l", "GET", "u8", "0"],
    ] {
        assert!(err(&mut c, args).contains("WRONGTYPE"), "{args:?}");
    }
    // Nothing above created a key.
    assert_eq!(int(&mut c, &["EXISTS", "k", "d"]), 0);
}

#[test]
fn proto_max_bulk_len_limits_offsets() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("proto-max-bulk-len")
        .arg("1048576")
        .query(&mut c)
        .unwrap();
    assert_eq!(int(&mut c, &["SETBIT", "k", "8388607", "1"]), 0);
    assert!(err(&mut c, &["SETBIT", "k", "8388608", "1"]).contains("bit offset"));
    assert!(err(&mut c, &["BITFIELD", "k", "SET", "u8", "#1048576", "1"]).contains("bit offset"));
    assert_eq!(int(&mut c, &["STRLEN", "k"]), 1_048_576);
    assert_eq!(int(&mut c, &["BITCOUNT", "k"]), 1);
    assert_eq!(int(&mut c, &["BITPOS", "k", "1"]), 8_388_607);
    assert_eq!(int(&mut c, &["BITPOS", "k", "0", "-1"]), 8_388_600);
    assert_eq!(int(&mut c, &["BITCOUNT", "k", "-1", "-1"]), 1);
}

#[test]
fn bitcount_bitpos_ranges() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let _: () = c.set("k", "foobar").unwrap();
    assert_eq!(int(&mut c, &["BITCOUNT", "k"]), 26);
    assert_eq!(int(&mut c, &["BITCOUNT", "k", "0", "0"]), 4);
    assert_eq!(int(&mut c, &["BITCOUNT", "k", "1", "1"]), 6);
    assert_eq!(int(&mut c, &["BITCOUNT", "k", "1", "1", "BYTE"]), 6);
    assert_eq!(int(&mut c, &["BITCOUNT", "k", "5", "30", "BIT"]), 17);
    assert_eq!(int(&mut c, &["BITCOUNT", "missing"]), 0);

    let _: () = c.set("p", b"\xff\xf0\x00".as_slice()).unwrap();
    assert_eq!(int(&mut c, &["BITPOS", "p", "0"]), 12);
    assert_eq!(int(&mut c, &["BITPOS", "p", "1", "2"]), -1);
    assert_eq!(int(&mut c, &["BITPOS", "p", "1", "7", "15", "BIT"]), 7);
    let _: () = c.set("ones", b"\xff\xff".as_slice()).unwrap();
    // Without an explicit end a clear bit is found just past the string; with one, not at all.
    assert_eq!(int(&mut c, &["BITPOS", "ones", "0"]), 16);
    assert_eq!(int(&mut c, &["BITPOS", "ones", "0", "0"]), 16);
    assert_eq!(int(&mut c, &["BITPOS", "ones", "0", "0", "-1"]), -1);
    assert_eq!(int(&mut c, &["BITPOS", "missing", "0"]), 0);
    assert_eq!(int(&mut c, &["BITPOS", "missing", "1"]), -1);
}

#[test]
fn bitop_results_and_destination() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let _: () = c.set("a", b"\xff\x0f".as_slice()).unwrap();
    let _: () = c.set("b", b"\x0f".as_slice()).unwrap();
    assert_eq!(int(&mut c, &["BITOP", "AND", "d", "a", "b"]), 2);
    let v: Vec<u8> = c.get("d").unwrap();
    assert_eq!(v, b"\x0f\x00");
    assert_eq!(int(&mut c, &["BITOP", "OR", "d", "a", "b", "missing"]), 2);
    let v: Vec<u8> = c.get("d").unwrap();
    assert_eq!(v, b"\xff\x0f");
    assert_eq!(int(&mut c, &["BITOP", "XOR", "d", "a", "b"]), 2);
    let v: Vec<u8> = c.get("d").unwrap();
    assert_eq!(v, b"\xf0\x0f");
    assert_eq!(int(&mut c, &["BITOP", "NOT", "d", "a"]), 2);
    let v: Vec<u8> = c.get("d").unwrap();
    assert_eq!(v, b"\x00\xf0");
    // The destination's TTL goes; an empty result deletes it.
    let _: () = c.expire("d", 100).unwrap();
    int(&mut c, &["BITOP", "OR", "d", "a"]);
    assert_eq!(c.ttl::<_, i64>("d").unwrap(), -1);
    assert_eq!(int(&mut c, &["BITOP", "OR", "d", "missing"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "d"]), 0);

    // Long inputs take the word-at-a-time path; check it against a byte-wise computation.
    let x: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
    let y: Vec<u8> = (0..777u32).map(|i| (i * 13 % 251) as u8).collect();
    let _: () = c.set("x", x.as_slice()).unwrap();
    let _: () = c.set("y", y.as_slice()).unwrap();
    int(&mut c, &["BITOP", "AND", "r", "x", "y"]);
    let r: Vec<u8> = c.get("r").unwrap();
    let want: Vec<u8> = (0..1000)
        .map(|i| x[i] & y.get(i).copied().unwrap_or(0))
        .collect();
    assert_eq!(r, want);
    let total: u32 = x.iter().map(|b| b.count_ones()).sum();
    assert_eq!(int(&mut c, &["BITCOUNT", "x"]), i64::from(total));
}

#[test]
fn bitfield_operations() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let v: Vec<Option<i64>> = redis::cmd("BITFIELD")
        .arg(&[
            "k", "SET", "i8", "0", "100", "INCRBY", "i8", "0", "100", "GET", "u8", "0",
        ])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec![Some(0), Some(-56), Some(200)]);
    let v: Vec<Option<i64>> = redis::cmd("BITFIELD")
        .arg(&[
            "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "u8",
            "0", "1", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "1",
        ])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec![Some(255), None, Some(0)]);
    let v: Vec<i64> = redis::cmd("BITFIELD_RO")
        .arg(&[
            "k", "GET", "u8", "0", "GET", "i64", "#0", "GET", "u4", "#100",
        ])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec![0, 0, 0]);
    // A failed write still creates and sizes the key, as in Redis.
    let v: Vec<Option<i64>> = redis::cmd("BITFIELD")
        .arg(&["f", "OVERFLOW", "FAIL", "SET", "u2", "100", "7"])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec![None]);
    assert_eq!(int(&mut c, &["STRLEN", "f"]), 13);
    // GET-only on a missing key creates nothing.
    let v: Vec<i64> = redis::cmd("BITFIELD")
        .arg(&["m", "GET", "i16", "0"])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, vec![0]);
    assert_eq!(int(&mut c, &["EXISTS", "m"]), 0);
}

/// Collects the keyevent notifications a script of commands raises.
fn events(port: u16, classes: &str, script: &[&[&str]]) -> Vec<String> {
    let mut sub = RawConn::connect(port).expect("connect");
    let mut c = RawConn::connect(port).expect("connect");
    c.cmd(&["FLUSHALL"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", classes]);
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    for args in script {
        c.cmd(args);
    }
    c.cmd(&["SET", "end", "x"]);
    let mut out = Vec::new();
    loop {
        let Reply::Array(parts) = sub.read_reply().expect("event") else {
            panic!("not a pmessage");
        };
        let text = |r: &Reply| match r {
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        };
        let event = format!("{} {}", text(&parts[2]), text(&parts[3]));
        if event.ends_with(" end") {
            return out;
        }
        out.push(event);
    }
}

#[test]
fn keyspace_events_match_redis() {
    let script: &[&[&str]] = &[
        &["SETBIT", "k", "3", "1"],
        &["SETBIT", "k", "3", "1"],
        &["SETBIT", "k", "3", "0"],
        &["SETBIT", "k", "30", "0"],
        &["BITFIELD", "k", "GET", "u8", "0"],
        &["BITFIELD", "k", "SET", "u8", "0", "0"],
        &[
            "BITFIELD", "k", "SET", "u8", "0", "5", "INCRBY", "u8", "0", "1",
        ],
        &["BITFIELD", "b", "OVERFLOW", "FAIL", "SET", "u2", "0", "9"],
        &["BITOP", "OR", "d", "k"],
        &["BITOP", "OR", "d", "k"],
        &["BITOP", "AND", "d", "missing"],
        &["BITOP", "AND", "d", "missing"],
        &["GETBIT", "missing", "1"],
    ];
    let server = TestServer::fincache();
    let ours = events(server.port, "KEA", script);
    assert!(
        ours.contains(&"__keyevent@0__:setbit k".to_string()),
        "{ours:?}"
    );
    assert!(
        ours.contains(&"__keyevent@0__:del d".to_string()),
        "{ours:?}"
    );
    if let Some(redis) = TestServer::redis() {
        assert_eq!(ours, events(redis.port, "KEA", script));
        // With new-key and key-miss events as well.
        let server = TestServer::fincache();
        let ours = events(server.port, "KEAnm", script);
        assert_eq!(ours, events(redis.port, "KEAnm", script));
    }
}

#[test]
fn large_sparse_bitmap() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let offsets = [0u64, 1, 63, 64, 4095, 65536, 1_000_003, 7_999_999];
    for o in offsets {
        assert_eq!(int(&mut c, &["SETBIT", "big", &o.to_string(), "1"]), 0);
    }
    assert_eq!(int(&mut c, &["BITCOUNT", "big"]), offsets.len() as i64);
    assert_eq!(int(&mut c, &["STRLEN", "big"]), 1_000_000);
    assert_eq!(int(&mut c, &["BITPOS", "big", "1", "9"]), 4095);
    assert_eq!(
        int(&mut c, &["BITPOS", "big", "1", "8193", "-1"]),
        1_000_003
    );
    assert_eq!(
        int(&mut c, &["BITPOS", "big", "1", "4096", "1000003", "BIT"]),
        65536
    );
    assert_eq!(int(&mut c, &["BITCOUNT", "big", "64", "7999998", "BIT"]), 4);
    assert_eq!(int(&mut c, &["BITOP", "NOT", "inv", "big"]), 1_000_000);
    assert_eq!(
        int(&mut c, &["BITCOUNT", "inv"]),
        8_000_000 - offsets.len() as i64
    );
    assert_eq!(int(&mut c, &["BITPOS", "inv", "0"]), 0);
    assert_eq!(int(&mut c, &["BITPOS", "inv", "0", "1"]), 63);
}
