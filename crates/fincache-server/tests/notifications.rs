//! Keyspace notifications (`notify-keyspace-events`): which events each command raises, under
//! which class letters, on which channels, and in which order — compared with redis-server
//! message by message — plus `expired` events from lazy and active expiry.

mod support;

use fincache_resp::Reply;
use std::time::{Duration, Instant};
use support::{RawConn, RawError, TestServer};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn connect(server: &TestServer) -> RawConn {
    RawConn::connect(server.port).expect("connect")
}

/// A connection subscribed to every channel with PSUBSCRIBE '*'.
fn listener(server: &TestServer) -> RawConn {
    let mut l = connect(server);
    l.cmd(&["PSUBSCRIBE", "*"]);
    l
}

/// Every `[channel, payload]` received, read until nothing more arrives for a moment.
fn events(l: &mut RawConn) -> Vec<(String, String)> {
    l.set_read_timeout(Duration::from_millis(300));
    let mut out = Vec::new();
    loop {
        match l.read_reply() {
            Ok(Reply::Array(items)) if items.len() == 4 => {
                let text = |r: &Reply| match r {
                    Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    other => format!("{other:?}"),
                };
                out.push((text(&items[2]), text(&items[3])));
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(RawError::Timeout) => return out,
            Err(e) => panic!("listener: {e}"),
        }
    }
}

fn ev(channel: &str, payload: &str) -> (String, String) {
    (channel.to_string(), payload.to_string())
}

#[test]
fn set_del_expire_and_expired_events() {
    let server = TestServer::fincache();
    let mut c = connect(&server);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut l = listener(&server);
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["EXPIRE", "k", "100"]);
    c.cmd(&["DEL", "k", "missing"]);
    c.cmd(&["SET", "t", "v", "PX", "20"]);
    std::thread::sleep(Duration::from_millis(50));
    // Lazy expiry: the read finds the key expired.
    assert_eq!(c.cmd(&["GET", "t"]), Reply::Null);
    assert_eq!(
        events(&mut l),
        vec![
            ev("__keyspace@0__:k", "set"),
            ev("__keyevent@0__:set", "k"),
            ev("__keyspace@0__:k", "expire"),
            ev("__keyevent@0__:expire", "k"),
            ev("__keyspace@0__:k", "del"),
            ev("__keyevent@0__:del", "k"),
            ev("__keyspace@0__:t", "set"),
            ev("__keyevent@0__:set", "t"),
            ev("__keyspace@0__:t", "expire"),
            ev("__keyevent@0__:expire", "t"),
            ev("__keyspace@0__:t", "expired"),
            ev("__keyevent@0__:expired", "t"),
        ]
    );
}

#[test]
fn active_expiry_announces_expired_keys_nobody_reads() {
    let server = TestServer::fincache();
    let mut c = connect(&server);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    let mut l = listener(&server);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "gone", "v", "PX", "30"]);
    // Only `expired` is wanted: SET and its expire are not announced.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while got.is_empty() && Instant::now() < deadline {
        got = events(&mut l);
    }
    assert_eq!(got, vec![ev("__keyevent@3__:expired", "gone")]);
}

#[test]
fn classes_select_events_and_off_means_silence() {
    let server = TestServer::fincache();
    let mut c = connect(&server);
    let mut l = listener(&server);
    // Off by default: nothing at all.
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["DEL", "a"]);
    assert!(events(&mut l).is_empty());
    // Keyspace channel, generic class only.
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Kg"]);
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["RENAME", "a", "b"]);
    c.cmd(&["INCR", "b"]);
    c.cmd(&["PERSIST", "b"]);
    assert_eq!(
        events(&mut l),
        vec![
            ev("__keyspace@0__:a", "rename_from"),
            ev("__keyspace@0__:b", "rename_to")
        ]
    );
    // A class letter without K or E publishes nothing.
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "g$"]);
    c.cmd(&["SET", "a", "1"]);
    assert!(events(&mut l).is_empty());
    // Key misses and new keys are outside A.
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "EA"]);
    c.cmd(&["GET", "nothing"]);
    assert!(events(&mut l).is_empty());
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Emn"]);
    c.cmd(&["GET", "nothing"]);
    c.cmd(&["SET", "fresh", "1"]);
    c.cmd(&["SET", "fresh", "2"]);
    assert_eq!(
        events(&mut l),
        vec![
            ev("__keyevent@0__:keymiss", "nothing"),
            ev("__keyevent@0__:new", "fresh")
        ]
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        Reply::Array(vec![bulk("notify-keyspace-events"), bulk("nEm")])
    );
}

/// The commands of the differential run, as (sleep ms before, argv).
const SCRIPT: &[(u64, &[&str])] = &[
    (0, &["SET", "s", "v"]),
    (0, &["SET", "s", "w", "EX", "100"]),
    (0, &["SET", "s", "x", "KEEPTTL"]),
    (0, &["SET", "s", "y", "NX"]),
    (0, &["SET", "s", "z", "XX", "GET"]),
    (0, &["SETNX", "n", "1"]),
    (0, &["SETNX", "n", "2"]),
    (0, &["SETEX", "se", "100", "v"]),
    (0, &["PSETEX", "pe", "100000", "v"]),
    (0, &["GETSET", "gs", "1"]),
    (0, &["MSET", "m1", "1", "m2", "2", "m1", "3"]),
    (0, &["MSETNX", "m3", "1", "m1", "2"]),
    (0, &["MSETNX", "m4", "1", "m5", "2"]),
    (0, &["APPEND", "ap", "x"]),
    (0, &["APPEND", "ap", "y"]),
    (0, &["APPEND", "ap", ""]),
    (0, &["SETRANGE", "sr", "2", "ab"]),
    (0, &["SETRANGE", "sr", "0", ""]),
    (0, &["SETRANGE", "nosr", "0", ""]),
    (0, &["INCR", "i"]),
    (0, &["INCRBY", "i", "5"]),
    (0, &["DECR", "i"]),
    (0, &["DECRBY", "i", "2"]),
    (0, &["INCRBYFLOAT", "f", "1.5"]),
    (0, &["INCR", "s"]),
    (0, &["GET", "missing"]),
    (0, &["MGET", "s", "missing2"]),
    (0, &["STRLEN", "missing3"]),
    (0, &["GETRANGE", "missing4", "0", "1"]),
    (0, &["EXISTS", "missing5", "s"]),
    (0, &["TYPE", "missing6"]),
    (0, &["TTL", "missing7"]),
    (0, &["TOUCH", "missing8"]),
    (0, &["OBJECT", "ENCODING", "missing9"]),
    (0, &["GETEX", "s", "EX", "50"]),
    (0, &["GETEX", "s", "PERSIST"]),
    (0, &["GETEX", "s", "PERSIST"]),
    (0, &["GETEX", "s", "PXAT", "1"]),
    (0, &["GETEX", "gone"]),
    (0, &["GETDEL", "gs"]),
    (0, &["GETDEL", "gs"]),
    (0, &["EXPIRE", "i", "100"]),
    (0, &["EXPIRE", "i", "100", "NX"]),
    (0, &["PEXPIREAT", "i", "99999999999999"]),
    (0, &["PERSIST", "i"]),
    (0, &["PERSIST", "i"]),
    (0, &["EXPIRE", "m1", "-5"]),
    (0, &["DEL", "m2", "m3", "nope"]),
    (0, &["UNLINK", "m4"]),
    (0, &["RENAME", "m5", "r1"]),
    (0, &["RENAMENX", "r1", "n"]),
    (0, &["RENAMENX", "r1", "r2"]),
    (0, &["RENAME", "r2", "r2"]),
    (0, &["COPY", "r2", "c1"]),
    (0, &["COPY", "r2", "c1"]),
    (0, &["COPY", "r2", "c1", "REPLACE"]),
    (0, &["COPY", "r2", "c2", "DB", "4"]),
    (0, &["COPY", "nosrc", "c3"]),
    (0, &["MOVE", "c1", "5"]),
    (0, &["SELECT", "5"]),
    (0, &["SET", "in5", "v"]),
    (0, &["SELECT", "0"]),
    (0, &["SET", "lazy", "v", "PX", "30"]),
    (100, &["GET", "lazy"]),
    (0, &["SET", "active", "v", "PX", "30"]),
    (600, &["SET", "after", "v"]),
    (0, &["SET", "over", "v", "PX", "30"]),
    (100, &["SET", "over", "again"]),
    (0, &["FLUSHALL"]),
    (0, &["SET", "last", "v"]),
];

/// Runs [`SCRIPT`] with `classes` and returns every (channel, payload) the listener got.
fn record(server: &TestServer, classes: &str) -> Vec<(String, String)> {
    let mut c = connect(server);
    c.cmd(&["FLUSHALL"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", classes]);
    let mut l = listener(server);
    for (sleep_ms, argv) in SCRIPT {
        if *sleep_ms > 0 {
            std::thread::sleep(Duration::from_millis(*sleep_ms));
        }
        c.cmd(argv);
    }
    let got = events(&mut l);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    got
}

#[test]
fn differential_event_streams_match_redis() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipping the differential run");
        return;
    };
    let fin = TestServer::fincache();
    for classes in ["KEA", "E$", "Kg", "Egx", "KEAmn", "Ex", "Kml", "E"] {
        let f = record(&fin, classes);
        let r = record(&redis, classes);
        if f != r {
            let show = |v: &[(String, String)]| {
                v.iter()
                    .map(|(c, p)| format!("{c} {p}"))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            };
            panic!(
                "events differ for {classes:?}\nfincache:\n  {}\nredis:\n  {}",
                show(&f),
                show(&r)
            );
        }
        if classes == "KEA" {
            assert!(f.len() > 100, "too few events: {}", f.len());
        }
    }
}
