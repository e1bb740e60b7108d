//! SORT and SORT_RO through a real client: numeric and ALPHA order, BY/GET patterns with string
//! keys and hash fields, LIMIT, STORE, key discovery (COMMAND GETKEYS), keyspace events compared
//! with redis-server, and SORT running alongside writers on other connections (it is EXCLUSIVE:
//! no deadlock, no torn reads).

mod support;

use fincache_resp::Reply;
use redis::{Commands, Value};
use support::{RawConn, TestServer};

fn strings(c: &mut redis::Connection, args: &[&str]) -> Vec<Option<String>> {
    let mut q = redis::cmd(args[0]);
    for a in &args[1..] {
        q.arg(*a);
    }
    q.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    match support::raw(c, args) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("{args:?} should fail, got {v:?}"),
    }
}

fn some(items: &[&str]) -> Vec<Option<String>> {
    items.iter().map(|s| Some(s.to_string())).collect()
}

#[test]
fn numeric_alpha_and_limit() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let _: () = c.rpush("l", &["3", "10", "-1", "2.5", "0x10"]).unwrap();
    assert_eq!(
        strings(&mut c, &["SORT", "l"]),
        some(&["-1", "2.5", "3", "10", "0x10"])
    );
    assert_eq!(
        strings(&mut c, &["SORT", "l", "DESC", "LIMIT", "1", "2"]),
        some(&["10", "3"])
    );
    assert_eq!(
        strings(&mut c, &["SORT", "l", "ALPHA"]),
        some(&["-1", "0x10", "10", "2.5", "3"])
    );
    assert_eq!(
        strings(&mut c, &["SORT", "l", "LIMIT", "9", "1"]),
        some(&[])
    );
    let _: () = c.rpush("bad", &["1", "x"]).unwrap();
    assert!(
        err(&mut c, &["SORT", "bad"]).contains("One or more scores can't be converted into double")
    );
    assert!(err(&mut c, &["SORT", "l", "LIMIT", "0"]).contains("syntax error"));
    assert!(err(&mut c, &["SORT", "l", "LIMIT", "a", "1"]).contains("not an integer"));
    assert!(err(&mut c, &["SORT_RO", "l", "STORE", "d"]).contains("syntax error"));
    let _: () = c.set("s", "x").unwrap();
    assert!(err(&mut c, &["SORT", "s"]).contains("WRONGTYPE"));
    assert_eq!(strings(&mut c, &["SORT", "missing"]), some(&[]));
}

#[test]
fn by_and_get_patterns() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let _: () = c.sadd("ids", &["1", "2", "3"]).unwrap();
    let _: () = redis::cmd("MSET")
        .arg(&["price_1", "30", "price_2", "10", "price_3", "20"])
        .query(&mut c)
        .unwrap();
    for (id, name) in [("1", "gold"), ("2", "tin"), ("3", "silver")] {
        let _: () = c.hset(format!("item:{id}"), "name", name).unwrap();
        let _: () = c
            .hset(format!("item:{id}"), "rank", 4 - id.parse::<i32>().unwrap())
            .unwrap();
    }
    assert_eq!(
        strings(
            &mut c,
            &[
                "SORT",
                "ids",
                "BY",
                "price_*",
                "GET",
                "#",
                "GET",
                "item:*->name"
            ]
        ),
        some(&["2", "tin", "3", "silver", "1", "gold"])
    );
    assert_eq!(
        strings(
            &mut c,
            &["SORT", "ids", "BY", "item:*->rank", "GET", "price_*"]
        ),
        some(&["20", "10", "30"])
    );
    assert_eq!(
        strings(
            &mut c,
            &[
                "SORT_RO",
                "ids",
                "BY",
                "item:*->name",
                "ALPHA",
                "DESC",
                "GET",
                "#"
            ]
        ),
        some(&["2", "3", "1"])
    );
    // Missing values: null in replies, empty strings when stored.
    assert_eq!(
        strings(
            &mut c,
            &["SORT", "ids", "GET", "nothing_*", "LIMIT", "0", "1"]
        ),
        vec![None]
    );
    let n: i64 = redis::cmd("SORT")
        .arg(&["ids", "GET", "nothing_*", "GET", "#", "STORE", "out"])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 6);
    let stored: Vec<String> = c.lrange("out", 0, -1).unwrap();
    assert_eq!(stored, ["", "1", "", "2", "", "3"]);
}

#[test]
fn nosort_keeps_native_order() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let _: () = c.rpush("l", &["c", "a", "b", "e", "d"]).unwrap();
    assert_eq!(
        strings(
            &mut c,
            &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"]
        ),
        some(&["e", "b"])
    );
    let _: () = redis::cmd("ZADD")
        .arg(&["z", "1", "x", "2", "y", "3", "z", "4", "w"])
        .query(&mut c)
        .unwrap();
    assert_eq!(
        strings(&mut c, &["SORT", "z", "BY", "nosort", "LIMIT", "1", "2"]),
        some(&["y", "z"])
    );
    assert_eq!(
        strings(
            &mut c,
            &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "3"]
        ),
        some(&["w", "z", "y"])
    );
    // A set's own order is replaced by ALPHA when stored.
    let _: () = c.sadd("s", &["q", "b", "m"]).unwrap();
    let _: i64 = redis::cmd("SORT")
        .arg(&["s", "BY", "nosort", "STORE", "d"])
        .query(&mut c)
        .unwrap();
    let stored: Vec<String> = c.lrange("d", 0, -1).unwrap();
    assert_eq!(stored, ["b", "m", "q"]);
}

#[test]
fn store_replaces_and_deletes() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let _: () = c.rpush("l", &["2", "1"]).unwrap();
    let _: () = redis::cmd("SET")
        .arg(&["d", "old", "EX", "100"])
        .query(&mut c)
        .unwrap();
    let n: i64 = redis::cmd("SORT")
        .arg(&["l", "STORE", "d"])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 2);
    let stored: Vec<String> = c.lrange("d", 0, -1).unwrap();
    assert_eq!(stored, ["1", "2"]);
    assert_eq!(c.ttl::<_, i64>("d").unwrap(), -1);
    let n: i64 = redis::cmd("SORT")
        .arg(&["missing", "STORE", "d"])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 0);
    assert!(!c.exists::<_, bool>("d").unwrap());
}

#[test]
fn command_getkeys_includes_store_destination() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let keys = strings(
        &mut c,
        &[
            "COMMAND", "GETKEYS", "SORT", "src", "BY", "w_*", "LIMIT", "0", "1", "STORE", "dst",
        ],
    );
    assert_eq!(keys, some(&["src", "dst"]));
    let keys = strings(
        &mut c,
        &["COMMAND", "GETKEYS", "SORT_RO", "src", "GET", "x_*"],
    );
    assert_eq!(keys, some(&["src"]));
    if let Some(redis) = TestServer::redis() {
        let mut r = redis.conn();
        for line in [
            &[
                "COMMAND", "GETKEYS", "SORT", "a", "STORE", "b", "STORE", "c",
            ][..],
            &[
                "COMMAND", "GETKEYS", "SORT", "a", "LIMIT", "0", "1", "GET", "#",
            ],
            &[
                "COMMAND", "GETKEYS", "SORT", "a", "GET", "store", "STORE", "x",
            ],
        ] {
            assert_eq!(strings(&mut c, line), strings(&mut r, line), "{line:?}");
        }
    }
}

/// Collects the keyevent notifications a script of commands raises.
fn events(port: u16, script: &[&[&str]]) -> Vec<String> {
    let mut sub = RawConn::connect(port).expect("connect");
    let mut c = RawConn::connect(port).expect("connect");
    c.cmd(&["FLUSHALL"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
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
        &["RPUSH", "l", "2", "1"],
        &["SORT", "l", "STORE", "d"],
        &["SORT", "l", "STORE", "d"],
        &["SORT", "l", "LIMIT", "0", "0", "STORE", "d"],
        &["SORT", "l", "LIMIT", "0", "0", "STORE", "d"],
        &["SORT", "missing", "STORE", "l"],
        &["SORT", "l"],
    ];
    let server = TestServer::fincache();
    let ours = events(server.port, script);
    assert!(
        ours.contains(&"__keyevent@0__:sortstore d".to_string()),
        "{ours:?}"
    );
    if let Some(redis) = TestServer::redis() {
        assert_eq!(ours, events(redis.port, script));
    }
}

#[test]
fn sort_runs_alongside_writers() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let ids: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    let _: () = c.rpush("ids", &ids).unwrap();
    for i in 0..200 {
        let _: () = c.set(format!("w_{i}"), 1000 - i).unwrap();
    }
    let port = server.port;
    // Writers keep every w_* consistent with a shared generation: each MSET rewrites them all
    // (one atomic command), so a SORT must see one generation only.
    let writers: Vec<_> = (0..3)
        .map(|t| {
            std::thread::spawn(move || {
                let mut w = RawConn::connect(port).expect("connect");
                for round in 0..40 {
                    let g = (t * 1000 + round) as i64;
                    let mut argv = vec!["MSET".to_string()];
                    for i in 0..200 {
                        argv.push(format!("w_{i}"));
                        argv.push((g * 1000 + 1000 - i).to_string());
                    }
                    let r = w.call(&argv).expect("reply");
                    assert_eq!(r, Reply::Simple("OK".into()));
                }
            })
        })
        .collect();
    for _ in 0..40 {
        let v: Value = redis::cmd("SORT")
            .arg(&["ids", "BY", "w_*", "GET", "w_*"])
            .query(&mut c)
            .unwrap();
        let Value::Array(items) = v else {
            panic!("{v:?}")
        };
        let values: Vec<i64> = items
            .iter()
            .map(|x| match x {
                Value::BulkString(b) => String::from_utf8_lossy(b).parse().unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(values.len(), 200);
        // One generation: consecutive values differ by exactly one.
        assert!(values.windows(2).all(|w| w[1] == w[0] + 1), "{values:?}");
    }
    for w in writers {
        w.join().unwrap();
    }
}
