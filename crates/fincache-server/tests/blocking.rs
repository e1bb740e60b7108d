//! Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) and the machinery under them
//! (`store::blocking`), through raw connections: FIFO service of several waiters, float
//! timeouts, waiting forever, disconnected or killed waiters never swallowing an element,
//! BLMOVE chains, CLIENT UNBLOCK, several keys, databases, type changes, pipelined commands
//! held until the blocking one is answered, INFO `blocked_clients` and the CLIENT LIST `b`
//! flag, and a stress run that counts every element.

mod support;

use fincache_resp::Reply;
use std::thread;
use std::time::{Duration, Instant};
use support::{RawConn, RawError, TestServer};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn pair(k: &str, v: &str) -> Reply {
    Reply::Array(vec![bulk(k), bulk(v)])
}

fn connect(server: &TestServer) -> RawConn {
    RawConn::connect(server.port).expect("connect")
}

fn info_field(c: &mut RawConn, field: &str) -> i64 {
    let Reply::Bulk(text) = c.cmd(&["INFO", "clients"]) else {
        panic!("INFO: not a bulk reply");
    };
    let text = String::from_utf8(text).expect("utf-8");
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

/// Waits until INFO reports `n` blocked clients.
fn wait_blocked(c: &mut RawConn, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = info_field(c, "blocked_clients");
        if now == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "blocked_clients stayed {now}, want {n}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that no reply arrives within `ms`.
fn no_reply(c: &mut RawConn, ms: u64) {
    c.set_read_timeout(Duration::from_millis(ms));
    match c.read_reply() {
        Err(RawError::Timeout) => {}
        other => panic!("expected no reply yet, got {other:?}"),
    }
    c.set_read_timeout(Duration::from_secs(10));
}

fn read(c: &mut RawConn) -> Reply {
    c.read_reply().unwrap_or_else(|e| panic!("read: {e}"))
}

fn client_id(c: &mut RawConn) -> String {
    match c.cmd(&["CLIENT", "ID"]) {
        Reply::Int(n) => n.to_string(),
        other => panic!("CLIENT ID: {other:?}"),
    }
}

#[test]
fn waiters_are_served_in_the_order_they_blocked() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    let mut waiters: Vec<RawConn> = Vec::new();
    for i in 0..3 {
        let mut w = connect(&server);
        w.send(&["BLPOP", "k", "0"]).unwrap();
        wait_blocked(&mut admin, i + 1);
        waiters.push(w);
    }
    // CLIENT LIST shows them with flag b.
    let list = match admin.cmd(&["CLIENT", "LIST"]) {
        Reply::Verbatim(_, text) | Reply::Bulk(text) => text,
        other => panic!("CLIENT LIST: {other:?}"),
    };
    let list = String::from_utf8(list).unwrap();
    assert_eq!(list.matches(" flags=b ").count(), 3, "{list}");
    assert_eq!(
        admin.cmd(&["RPUSH", "k", "a", "b", "c", "d"]),
        Reply::Int(4)
    );
    assert_eq!(read(&mut waiters[0]), pair("k", "a"));
    assert_eq!(read(&mut waiters[1]), pair("k", "b"));
    assert_eq!(read(&mut waiters[2]), pair("k", "c"));
    // The rest stays; the served clients are no longer blocked.
    assert_eq!(
        admin.cmd(&["LRANGE", "k", "0", "-1"]),
        Reply::Array(vec![bulk("d")])
    );
    assert_eq!(info_field(&mut admin, "blocked_clients"), 0);
    // LPUSH of several values: the waiters see the head first.
    let mut w1 = connect(&server);
    let mut w2 = connect(&server);
    w1.send(&["BLPOP", "q", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    w2.send(&["BRPOP", "q", "0"]).unwrap();
    wait_blocked(&mut admin, 2);
    assert_eq!(admin.cmd(&["LPUSH", "q", "x", "y", "z"]), Reply::Int(3));
    assert_eq!(read(&mut w1), pair("q", "z"));
    assert_eq!(read(&mut w2), pair("q", "x"));
    assert_eq!(
        admin.cmd(&["LRANGE", "q", "0", "-1"]),
        Reply::Array(vec![bulk("y")])
    );
}

#[test]
fn float_timeouts_and_waiting_forever() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    let mut c = connect(&server);
    let started = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "k", "0.1"]), Reply::Null);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(90), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(
        c.cmd(&["BLMOVE", "k", "d", "LEFT", "RIGHT", "0.05"]),
        Reply::Null
    );
    assert_eq!(c.cmd(&["BRPOPLPUSH", "k", "d", "0.05"]), Reply::Null);
    assert_eq!(
        c.cmd(&["BLMPOP", "0.05", "2", "k", "k2", "LEFT"]),
        Reply::Null
    );
    // RESP3: the same nulls as `_`.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["BRPOP", "k", "0.01"]), Reply::Null);
    // 0 waits until a push, however long.
    c.send(&["BLPOP", "k", "0"]).unwrap();
    no_reply(&mut c, 400);
    admin.cmd(&["RPUSH", "k", "late"]);
    assert_eq!(read(&mut c), pair("k", "late"));
    // Timeout errors.
    for (t, e) in [
        ("-1", "ERR timeout is negative"),
        ("abc", "ERR timeout is not a float or out of range"),
        ("nan", "ERR timeout is not a float or out of range"),
        ("inf", "ERR timeout is out of range"),
        ("1e16", "ERR timeout is out of range"),
        ("-inf", "ERR timeout is negative"),
    ] {
        assert_eq!(
            admin.cmd(&["BLPOP", "k", t]),
            Reply::Error(e.to_string()),
            "timeout {t}"
        );
    }
}

#[test]
fn a_disconnected_waiter_does_not_swallow_an_element() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    // Alone: the element stays in the list.
    let mut gone = connect(&server);
    gone.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    drop(gone);
    wait_blocked(&mut admin, 0);
    admin.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(admin.cmd(&["LLEN", "k"]), Reply::Int(1));
    admin.cmd(&["DEL", "k"]);
    // Ahead of another waiter: the next one gets it.
    let mut first = connect(&server);
    let mut second = connect(&server);
    first.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    second.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut admin, 2);
    drop(first);
    wait_blocked(&mut admin, 1);
    admin.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(read(&mut second), pair("k", "v"));
    assert_eq!(admin.cmd(&["EXISTS", "k"]), Reply::Int(0));
    // Killed: the same.
    let mut killed = connect(&server);
    let id = client_id(&mut killed);
    killed.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &id]), Reply::Int(1));
    admin.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(admin.cmd(&["LLEN", "k"]), Reply::Int(1));
    wait_blocked(&mut admin, 0);
}

#[test]
fn blmove_chains_wake_the_destination_waiters() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    let mut mover = connect(&server);
    let mut popper = connect(&server);
    let mut second_mover = connect(&server);
    mover
        .send(&["BLMOVE", "a", "b", "LEFT", "LEFT", "0"])
        .unwrap();
    wait_blocked(&mut admin, 1);
    second_mover.send(&["BRPOPLPUSH", "b", "c", "0"]).unwrap();
    wait_blocked(&mut admin, 2);
    popper.send(&["BLPOP", "c", "0"]).unwrap();
    wait_blocked(&mut admin, 3);
    admin.cmd(&["RPUSH", "a", "x"]);
    assert_eq!(read(&mut mover), bulk("x"));
    assert_eq!(read(&mut second_mover), bulk("x"));
    assert_eq!(read(&mut popper), pair("c", "x"));
    for k in ["a", "b", "c"] {
        assert_eq!(admin.cmd(&["EXISTS", k]), Reply::Int(0));
    }
    // BLMPOP is served with its count.
    let mut m = connect(&server);
    m.send(&["BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2"])
        .unwrap();
    wait_blocked(&mut admin, 1);
    admin.cmd(&["RPUSH", "y", "1", "2", "3"]);
    assert_eq!(
        read(&mut m),
        Reply::Array(vec![bulk("y"), Reply::Array(vec![bulk("3"), bulk("2")])])
    );
}

#[test]
fn client_unblock_as_timeout_or_error() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    let mut c = connect(&server);
    let id = client_id(&mut c);
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(0));
    c.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(1));
    assert_eq!(read(&mut c), Reply::Null);
    c.send(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]),
        Reply::Int(1)
    );
    assert_eq!(read(&mut c), Reply::Null);
    c.send(&["BRPOP", "k", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id, "error"]),
        Reply::Int(1)
    );
    assert_eq!(
        read(&mut c),
        Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]),
        Reply::Int(0)
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id, "FOO"]),
        Reply::Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into())
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", "x"]),
        Reply::Error("ERR value is not an integer or out of range".into())
    );
    // The connection goes on normally afterwards.
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(info_field(&mut admin, "blocked_clients"), 0);
}

#[test]
fn several_keys_databases_and_types() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    let mut c = connect(&server);
    c.send(&["BLPOP", "k1", "k2", "k3", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    admin.cmd(&["RPUSH", "k3", "v3"]);
    assert_eq!(read(&mut c), pair("k3", "v3"));
    // Two ready keys: the first named wins.
    admin.cmd(&["RPUSH", "k2", "v2"]);
    admin.cmd(&["RPUSH", "k1", "v1"]);
    assert_eq!(c.cmd(&["BLPOP", "k9", "k2", "k1", "0"]), pair("k2", "v2"));
    admin.cmd(&["DEL", "k1"]);
    // A waiter in database 1 ignores database 0.
    c.cmd(&["SELECT", "1"]);
    c.send(&["BLPOP", "k", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    admin.cmd(&["RPUSH", "k", "db0"]);
    no_reply(&mut c, 200);
    admin.cmd(&["SELECT", "1"]);
    admin.cmd(&["RPUSH", "k", "db1"]);
    assert_eq!(read(&mut c), pair("k", "db1"));
    // A key of another type does not serve; a list pushed later does.
    c.send(&["BLPOP", "t", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    admin.cmd(&["SET", "t", "string"]);
    no_reply(&mut c, 200);
    admin.cmd(&["DEL", "t"]);
    admin.cmd(&["RPUSH", "t", "list"]);
    assert_eq!(read(&mut c), pair("t", "list"));
    // A list arriving by RENAME serves too.
    c.send(&["BRPOP", "r", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    admin.cmd(&["RPUSH", "tmp", "renamed"]);
    admin.cmd(&["RENAME", "tmp", "r"]);
    assert_eq!(read(&mut c), pair("r", "renamed"));
}

#[test]
fn pipelined_commands_wait_for_the_blocking_one() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    let mut c = connect(&server);
    let mut batch = Vec::new();
    batch.extend(support::encode_command(&["BLPOP", "k", "0"]));
    batch.extend(support::encode_command(&["PING"]));
    batch.extend(support::encode_command(&["LLEN", "k"]));
    c.send_raw(&batch).unwrap();
    wait_blocked(&mut admin, 1);
    no_reply(&mut c, 200);
    // More input while blocked is kept for later too.
    c.send(&["ECHO", "after"]).unwrap();
    no_reply(&mut c, 100);
    admin.cmd(&["RPUSH", "k", "a", "b"]);
    assert_eq!(read(&mut c), pair("k", "a"));
    assert_eq!(read(&mut c), Reply::Simple("PONG".into()));
    assert_eq!(read(&mut c), Reply::Int(1));
    assert_eq!(read(&mut c), bulk("after"));
}

#[test]
fn blocking_is_denied_inside_multi() {
    let server = TestServer::fincache();
    let mut c = connect(&server);
    if matches!(c.cmd(&["MULTI"]), Reply::Error(_)) {
        eprintln!("MULTI not available: skipped (the unit test in cmd/ctx.rs covers it)");
        return;
    }
    c.cmd(&["BLPOP", "k", "0"]);
    c.cmd(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    c.cmd(&["RPUSH", "k", "v"]);
    c.cmd(&["BLPOP", "k", "0"]);
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            Reply::Null,
            Reply::Null,
            Reply::Int(1),
            pair("k", "v")
        ])
    );
    // Pushes inside a transaction serve waiters once EXEC is done: the waiter sees the list
    // as the whole transaction left it.
    let mut admin = connect(&server);
    let mut w = connect(&server);
    w.send(&["BLPOP", "w", "0"]).unwrap();
    wait_blocked(&mut admin, 1);
    c.cmd(&["MULTI"]);
    c.cmd(&["RPUSH", "w", "a"]);
    c.cmd(&["LPUSH", "w", "b"]);
    c.cmd(&["LLEN", "w"]);
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::Int(1), Reply::Int(2), Reply::Int(2)])
    );
    assert_eq!(read(&mut w), pair("w", "b"));
    assert_eq!(
        c.cmd(&["LRANGE", "w", "0", "-1"]),
        Reply::Array(vec![bulk("a")])
    );
}

/// Waiters timing out after 1–10 ms and being unblocked by CLIENT UNBLOCK while a pusher
/// pushes: the timeout, unblock and serve paths race, and every element must end up either
/// received exactly once or still in the list.
#[test]
fn no_element_is_lost_when_timeouts_race_pushes() {
    let server = TestServer::fincache();
    const PUSHES: usize = 800;
    let port = server.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut ids = Vec::new();
    let consumers: Vec<thread::JoinHandle<Vec<String>>> = (0..4)
        .map(|n| {
            let mut c = RawConn::connect(port).expect("connect");
            ids.push(client_id(&mut c));
            let stop = stop.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let timeout = format!("0.00{}", 1 + (i + n) % 9);
                    match c.cmd(&["BLPOP", "churn", &timeout]) {
                        Reply::Array(kv) => match &kv[1] {
                            Reply::Bulk(v) => got.push(String::from_utf8(v.clone()).unwrap()),
                            other => panic!("BLPOP value: {other:?}"),
                        },
                        Reply::Null => {}
                        other => panic!("BLPOP: {other:?}"),
                    }
                }
                got
            })
        })
        .collect();
    let unblocker = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut c = RawConn::connect(port).expect("connect");
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                c.cmd(&["CLIENT", "UNBLOCK", &ids[i % ids.len()]]);
                i += 1;
                thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let mut pusher = RawConn::connect(port).expect("connect");
    for i in 0..PUSHES {
        pusher.cmd(&["RPUSH", "churn", &i.to_string()]);
        if i % 40 == 0 {
            thread::sleep(Duration::from_millis(10));
        }
    }
    thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    unblocker.join().unwrap();
    let mut received: Vec<String> = consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    wait_blocked(&mut pusher, 0);
    let Reply::Array(rest) = pusher.cmd(&["LRANGE", "churn", "0", "-1"]) else {
        panic!("LRANGE");
    };
    for r in rest {
        let Reply::Bulk(v) = r else {
            panic!("LRANGE item")
        };
        received.push(String::from_utf8(v).unwrap());
    }
    received.sort_by_key(|v| v.parse::<usize>().unwrap());
    let want: Vec<String> = (0..PUSHES).map(|i| i.to_string()).collect();
    assert_eq!(received, want);
}

/// A served waiter's command raises its keyspace events after the push that woke it, as in
/// Redis; compared with `redis-server` when it is installed.
#[test]
fn served_commands_raise_their_events_after_the_push() {
    let run = |port: u16| -> Vec<Reply> {
        let mut admin = RawConn::connect(port).expect("connect");
        let mut sub = RawConn::connect(port).expect("connect");
        admin.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Egl"]);
        sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
        let mut w1 = RawConn::connect(port).expect("connect");
        let mut w2 = RawConn::connect(port).expect("connect");
        w1.send(&["BLMOVE", "k", "d", "LEFT", "RIGHT", "0"])
            .unwrap();
        wait_blocked(&mut admin, 1);
        w2.send(&["BLPOP", "d", "0"]).unwrap();
        wait_blocked(&mut admin, 2);
        admin.cmd(&["RPUSH", "k", "v"]);
        assert_eq!(read(&mut w1), bulk("v"));
        assert_eq!(read(&mut w2), pair("d", "v"));
        admin.cmd(&["RPUSH", "end", "x"]);
        let mut events = Vec::new();
        loop {
            let Reply::Array(mut parts) = read(&mut sub) else {
                panic!("not a pmessage");
            };
            let key = parts.pop().expect("key");
            let channel = parts.pop().expect("channel");
            if key == bulk("end") {
                return events;
            }
            events.push(Reply::Array(vec![channel, key]));
        }
    };
    let server = TestServer::fincache();
    let ours = run(server.port);
    let names: Vec<String> = ours.iter().map(support::show_reply).collect();
    // rpush k, then the BLMOVE: rpush d, lpop k, del k, then the BLPOP it woke: lpop d, del d.
    assert_eq!(ours.len(), 6, "{names:?}");
    if let Some(redis) = TestServer::redis() {
        assert_eq!(ours, run(redis.port), "{names:?}");
    }
}
