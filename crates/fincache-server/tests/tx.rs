//! Transactions through real clients: queueing errors, runtime errors, WATCH against another
//! connection's writes, expiry and FLUSHALL, DISCARD, RESET, atomicity of EXEC against a
//! concurrent reader, CLIENT PAUSE WRITE holding an EXEC with writes, MONITOR order.
//! Single-connection behaviour is also compared with redis-server in `cases/tx.case`.

mod support;

use fincache_resp::Reply;
use std::time::{Duration, Instant};
use support::{RawConn, TestServer};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

fn queued() -> Reply {
    Reply::Simple("QUEUED".into())
}

#[test]
fn queueing_and_runtime_errors() {
    let s = TestServer::fincache();
    let mut c = RawConn::connect(s.port).unwrap();
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), queued());
    assert_eq!(
        c.cmd(&["NOSUCH", "x"]),
        Reply::Error("ERR unknown command 'NOSUCH', with args beginning with: 'x' ".into())
    );
    assert_eq!(c.cmd(&["INCR", "a"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Error("EXECABORT Transaction discarded because of previous errors.".into())
    );
    assert_eq!(
        c.cmd(&["GET", "a"]),
        Reply::Null,
        "nothing of an aborted EXEC ran"
    );

    // Runtime errors are replies inside the array; nothing is rolled back.
    c.cmd(&["SET", "s", "text"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "s"]);
    c.cmd(&["SET", "after", "1"]);
    match c.cmd(&["EXEC"]) {
        Reply::Array(items) => {
            assert_eq!(items.len(), 2);
            assert_eq!(
                items[0],
                Reply::Error("ERR value is not an integer or out of range".into())
            );
            assert_eq!(items[1], ok());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.cmd(&["GET", "after"]), bulk("1"));
}

#[test]
fn watch_fails_exec_when_another_client_writes() {
    let s = TestServer::fincache();
    let mut a = RawConn::connect(s.port).unwrap();
    let mut b = RawConn::connect(s.port).unwrap();
    a.cmd(&["SET", "balance", "100"]);
    assert_eq!(a.cmd(&["WATCH", "balance"]), ok());
    let flags = |c: &mut RawConn| match c.cmd(&["CLIENT", "INFO"]) {
        Reply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(flags(&mut a).contains(" flags=N "));
    // Another client changes the key: A becomes dirty (CLIENT LIST flag `d`).
    b.cmd(&["INCRBY", "balance", "5"]);
    assert!(flags(&mut a).contains(" flags=d "), "{}", flags(&mut a));
    a.cmd(&["MULTI"]);
    assert_eq!(a.cmd(&["SET", "balance", "0"]), queued());
    assert_eq!(a.cmd(&["EXEC"]), Reply::Null);
    assert_eq!(a.cmd(&["GET", "balance"]), bulk("105"));
    assert!(flags(&mut a).contains(" flags=N "), "EXEC unwatches");

    // Without a concurrent write the same transaction runs.
    a.cmd(&["WATCH", "balance"]);
    b.cmd(&["GET", "balance"]);
    b.cmd(&["SET", "unrelated", "1"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "balance", "0"]);
    assert_eq!(a.cmd(&["EXEC"]), Reply::Array(vec![ok()]));

    // A write by a script counts too, and so does one in another transaction.
    a.cmd(&["WATCH", "balance"]);
    b.cmd(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "balance"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(a.cmd(&["EXEC"]), Reply::Null);
    a.cmd(&["WATCH", "balance"]);
    b.cmd(&["MULTI"]);
    b.cmd(&["DECR", "balance"]);
    b.cmd(&["EXEC"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(a.cmd(&["EXEC"]), Reply::Null);

    // A write to the same key name in another database does not.
    a.cmd(&["WATCH", "balance"]);
    b.cmd(&["SELECT", "1"]);
    b.cmd(&["SET", "balance", "x"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(
        a.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::Simple("PONG".into())])
    );
}

#[test]
fn watch_sees_expiry_flushes_and_swapdb() {
    let s = TestServer::fincache();
    let mut a = RawConn::connect(s.port).unwrap();
    let mut b = RawConn::connect(s.port).unwrap();
    let try_exec = |a: &mut RawConn| {
        a.cmd(&["MULTI"]);
        a.cmd(&["PING"]);
        a.cmd(&["EXEC"])
    };
    let ran = Reply::Array(vec![Reply::Simple("PONG".into())]);

    // A watched key that expires meanwhile fails the EXEC (Redis 7).
    a.cmd(&["SET", "k", "v", "PX", "100"]);
    a.cmd(&["WATCH", "k"]);
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(try_exec(&mut a), Reply::Null);

    // A key already expired when watched (not yet collected) does not.
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    a.cmd(&["SET", "k", "v", "PX", "50"]);
    std::thread::sleep(Duration::from_millis(100));
    a.cmd(&["WATCH", "k"]);
    assert_eq!(try_exec(&mut a), ran);
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);

    // FLUSHALL by another client touches watched keys that existed.
    a.cmd(&["SET", "k", "v"]);
    a.cmd(&["WATCH", "k"]);
    b.cmd(&["FLUSHALL"]);
    assert_eq!(try_exec(&mut a), Reply::Null);
    // ... but not a watched key that did not exist.
    a.cmd(&["WATCH", "missing"]);
    b.cmd(&["FLUSHDB"]);
    assert_eq!(try_exec(&mut a), ran);

    // SWAPDB touches keys existing in either database.
    b.cmd(&["SELECT", "1"]);
    b.cmd(&["SET", "only-in-1", "x"]);
    a.cmd(&["WATCH", "only-in-1"]);
    b.cmd(&["SWAPDB", "0", "1"]);
    assert_eq!(try_exec(&mut a), Reply::Null);
}

#[test]
fn discard_and_reset_leave_the_transaction() {
    let s = TestServer::fincache();
    let mut a = RawConn::connect(s.port).unwrap();
    let mut b = RawConn::connect(s.port).unwrap();
    a.cmd(&["WATCH", "k"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "k", "1"]);
    assert_eq!(a.cmd(&["DISCARD"]), ok());
    assert_eq!(a.cmd(&["GET", "k"]), Reply::Null);
    // DISCARD also unwatched: a later write by B does not fail A's next transaction.
    b.cmd(&["SET", "k", "2"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(
        a.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::Simple("PONG".into())])
    );

    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "k", "3"]);
    assert_eq!(a.cmd(&["RESET"]), Reply::Simple("RESET".into()));
    assert_eq!(
        a.cmd(&["EXEC"]),
        Reply::Error("ERR EXEC without MULTI".into())
    );
    assert_eq!(a.cmd(&["GET", "k"]), bulk("2"));
}

#[test]
fn exec_is_atomic_for_concurrent_readers() {
    let s = TestServer::fincache();
    let port = s.port;
    let mut w = RawConn::connect(port).unwrap();
    // Two keys on different shards that every transaction moves together.
    w.cmd(&["MSET", "acct:a", "1000", "acct:b", "0"]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut r = RawConn::connect(port).unwrap();
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match r.cmd(&["MGET", "acct:a", "acct:b"]) {
                    Reply::Array(items) => {
                        let n = |r: &Reply| match r {
                            Reply::Bulk(b) => {
                                std::str::from_utf8(b).unwrap().parse::<i64>().unwrap()
                            }
                            other => panic!("{other:?}"),
                        };
                        assert_eq!(n(&items[0]) + n(&items[1]), 1000, "saw half a transfer");
                    }
                    other => panic!("{other:?}"),
                }
                reads += 1;
            }
            reads
        })
    };
    let deadline = Instant::now() + Duration::from_millis(800);
    let mut transfers = 0;
    while Instant::now() < deadline {
        w.cmd(&["MULTI"]);
        w.cmd(&["DECRBY", "acct:a", "7"]);
        w.cmd(&["INCRBY", "acct:b", "7"]);
        match w.cmd(&["EXEC"]) {
            Reply::Array(items) => assert_eq!(items.len(), 2),
            other => panic!("{other:?}"),
        }
        transfers += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().expect("reader saw a consistent state");
    assert!(
        transfers > 10 && reads > 10,
        "{transfers} transfers, {reads} reads"
    );
}

#[test]
fn client_pause_write_holds_exec_with_writes() {
    let s = TestServer::fincache();
    let mut a = RawConn::connect(s.port).unwrap();
    let mut b = RawConn::connect(s.port).unwrap();
    // A read-only transaction runs during a write pause.
    a.cmd(&["MULTI"]);
    a.cmd(&["GET", "k"]);
    b.cmd(&["CLIENT", "PAUSE", "400", "WRITE"]);
    let started = Instant::now();
    assert_eq!(a.cmd(&["EXEC"]), Reply::Array(vec![Reply::Null]));
    assert!(started.elapsed() < Duration::from_millis(300));
    b.cmd(&["CLIENT", "UNPAUSE"]);

    // A transaction with a write is held until the pause ends (its queued write too, as in
    // Redis, whose `processCommand` postpones write commands even while queueing).
    a.cmd(&["MULTI"]);
    a.cmd(&["GET", "k"]);
    b.cmd(&["CLIENT", "PAUSE", "400", "WRITE"]);
    let started = Instant::now();
    assert_eq!(a.cmd(&["SET", "k", "v"]), queued());
    assert_eq!(a.cmd(&["EXEC"]), Reply::Array(vec![Reply::Null, ok()]));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn monitor_shows_multi_commands_then_exec() {
    let s = TestServer::fincache();
    let mut m = RawConn::connect(s.port).unwrap();
    assert_eq!(m.cmd(&["MONITOR"]), ok());
    let mut c = RawConn::connect(s.port).unwrap();
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["INCR", "a"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["EVAL", "return redis.call('get', 'a')", "0"]);
    let mut lines = Vec::new();
    while lines.len() < 6 {
        match m.read_reply() {
            Ok(Reply::Simple(line)) => lines.push(line),
            other => panic!("{other:?} after {lines:?}"),
        }
    }
    let tail = |l: &String| {
        l.split_once("] ")
            .map(|(_, t)| t.to_string())
            .unwrap_or_default()
    };
    let shown: Vec<String> = lines.iter().map(tail).collect();
    assert_eq!(
        shown,
        vec![
            "\"MULTI\"",
            "\"SET\" \"a\" \"1\"",
            "\"INCR\" \"a\"",
            "\"EXEC\"",
            "\"EVAL\" \"return redis.call('get', 'a')\" \"0\"",
            "\"get\" \"a\"",
        ]
    );
    assert!(lines[5].contains(" lua] "), "{}", lines[5]);
}

#[test]
fn redis_agrees_on_a_concurrent_watch() {
    // The same two-client interleaving against redis-server, when installed.
    let Some(r) = TestServer::redis() else {
        return;
    };
    let f = TestServer::fincache();
    let run = |port: u16| {
        let mut a = RawConn::connect(port).unwrap();
        let mut b = RawConn::connect(port).unwrap();
        // ORDER: each command runs as the vec is built, so the interleaving is as written.
        vec![
            a.cmd(&["SET", "x", "1"]),
            a.cmd(&["WATCH", "x", "y"]),
            b.cmd(&["DEL", "y"]),
            a.cmd(&["MULTI"]),
            a.cmd(&["INCR", "x"]),
            a.cmd(&["EXEC"]),
            a.cmd(&["WATCH", "x"]),
            b.cmd(&["SET", "x", "2"]),
            a.cmd(&["MULTI"]),
            a.cmd(&["INCR", "x"]),
            a.cmd(&["EXEC"]),
            a.cmd(&["GET", "x"]),
        ]
    };
    assert_eq!(run(f.port), run(r.port));
}
