//! Server-assisted client-side caching (CLIENT TRACKING): default mode, BCAST with prefixes,
//! OPTIN/OPTOUT, NOLOOP, REDIRECT to a RESP2 subscriber, flush invalidation, expiry, the
//! introspection subcommands, and a differential run against redis-server.

mod support;

use fincache_resp::Reply;
use std::time::Duration;
use support::{RawConn, RawError, TestServer};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

/// The RESP3 push `["invalidate", [keys…]]`.
fn invalidate(keys: &[&str]) -> Reply {
    Reply::Push(vec![
        bulk("invalidate"),
        Reply::Array(keys.iter().map(|k| bulk(k)).collect()),
    ])
}

fn connect(server: &TestServer) -> RawConn {
    RawConn::connect(server.port).expect("connect")
}

fn resp3(server: &TestServer) -> RawConn {
    let mut c = connect(server);
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    c
}

/// The next reply if one arrives soon; None when nothing does.
fn next(c: &mut RawConn) -> Option<Reply> {
    c.set_read_timeout(Duration::from_millis(300));
    let r = match c.read_reply() {
        Ok(r) => Some(r),
        Err(RawError::Timeout) => None,
        Err(e) => panic!("{e}"),
    };
    c.set_read_timeout(Duration::from_secs(10));
    r
}

fn id_of(c: &mut RawConn) -> String {
    match c.cmd(&["CLIENT", "ID"]) {
        Reply::Int(n) => n.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn default_mode_invalidates_keys_read_once() {
    let server = TestServer::fincache();
    let mut t = resp3(&server);
    let mut w = connect(&server);
    w.cmd(&["SET", "k", "1"]);
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON"]), ok());
    assert_eq!(t.cmd(&["GET", "k"]), bulk("1"));
    assert_eq!(
        t.cmd(&["MGET", "a", "b"]),
        Reply::Array(vec![Reply::Null, Reply::Null])
    );
    // A key nobody tracks: nothing.
    w.cmd(&["SET", "other", "1"]);
    assert_eq!(next(&mut t), None);
    w.cmd(&["SET", "k", "2"]);
    assert_eq!(next(&mut t), Some(invalidate(&["k"])));
    // Forgotten after the invalidation until read again.
    w.cmd(&["SET", "k", "3"]);
    assert_eq!(next(&mut t), None);
    // Writes by the tracking client itself invalidate too, after its reply.
    assert_eq!(t.cmd(&["SET", "a", "mine"]), ok());
    assert_eq!(next(&mut t), Some(invalidate(&["a"])));
    w.cmd(&["MSET", "b", "1", "z", "2"]);
    assert_eq!(next(&mut t), Some(invalidate(&["b"])));
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]), ok());
    t.cmd(&["GET", "k"]);
    w.cmd(&["SET", "k", "4"]);
    assert_eq!(next(&mut t), None);
}

#[test]
fn bcast_mode_with_prefixes() {
    let server = TestServer::fincache();
    let mut t = resp3(&server);
    let mut w = connect(&server);
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "order:"]),
        ok()
    );
    // No read needed.
    w.cmd(&["SET", "user:1", "x"]);
    assert_eq!(next(&mut t), Some(invalidate(&["user:1"])));
    w.cmd(&["SET", "item:1", "x"]);
    assert_eq!(next(&mut t), None);
    // One message per prefix, keys sorted.
    w.cmd(&[
        "MSET", "user:9", "a", "user:2", "b", "order:1", "c", "x", "d",
    ]);
    let mut got = vec![next(&mut t).unwrap(), next(&mut t).unwrap()];
    got.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        got,
        vec![invalidate(&["order:1"]), invalidate(&["user:2", "user:9"])]
    );
    // Every time, not only once.
    w.cmd(&["DEL", "user:1"]);
    assert_eq!(next(&mut t), Some(invalidate(&["user:1"])));
    match t.cmd(&["CLIENT", "TRACKINGINFO"]) {
        Reply::Map(pairs) => {
            assert_eq!(pairs[0].1, Reply::Set(vec![bulk("on"), bulk("bcast")]));
            assert_eq!(pairs[1].1, Reply::Int(0));
            assert_eq!(
                pairs[2].1,
                Reply::Array(vec![bulk("order:"), bulk("user:")])
            );
        }
        other => panic!("{other:?}"),
    }
    // BCAST without prefixes: every key.
    let mut all = resp3(&server);
    all.cmd(&["CLIENT", "TRACKING", "ON", "BCAST"]);
    w.cmd(&["SET", "anything", "1"]);
    assert_eq!(next(&mut all), Some(invalidate(&["anything"])));
}

#[test]
fn optin_and_optout() {
    let server = TestServer::fincache();
    let mut w = connect(&server);
    let mut t = resp3(&server);
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON", "OPTIN"]), ok());
    t.cmd(&["GET", "a"]);
    assert_eq!(t.cmd(&["CLIENT", "CACHING", "YES"]), ok());
    t.cmd(&["GET", "b"]);
    // CACHING applies to one command only.
    t.cmd(&["GET", "c"]);
    w.cmd(&["MSET", "a", "1", "b", "1", "c", "1"]);
    assert_eq!(next(&mut t), Some(invalidate(&["b"])));
    assert_eq!(next(&mut t), None);

    let mut o = resp3(&server);
    assert_eq!(o.cmd(&["CLIENT", "TRACKING", "ON", "OPTOUT"]), ok());
    assert_eq!(o.cmd(&["CLIENT", "CACHING", "NO"]), ok());
    o.cmd(&["GET", "a"]);
    o.cmd(&["GET", "b"]);
    w.cmd(&["MSET", "a", "2", "b", "2"]);
    assert_eq!(next(&mut o), Some(invalidate(&["b"])));
    assert_eq!(next(&mut o), None);
    assert_eq!(
        o.cmd(&["CLIENT", "CACHING", "YES"]),
        Reply::Error(
            "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.".into()
        )
    );
}

#[test]
fn noloop_skips_own_writes() {
    let server = TestServer::fincache();
    let mut t = resp3(&server);
    let mut w = connect(&server);
    t.cmd(&["CLIENT", "TRACKING", "ON", "NOLOOP"]);
    t.cmd(&["GET", "k"]);
    t.cmd(&["SET", "k", "mine"]);
    assert_eq!(next(&mut t), None);
    // Its own write dropped the key from the table: a read tracks it again.
    t.cmd(&["GET", "k"]);
    w.cmd(&["SET", "k", "theirs"]);
    assert_eq!(next(&mut t), Some(invalidate(&["k"])));

    let mut b = resp3(&server);
    b.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"]);
    b.cmd(&["SET", "x", "1"]);
    assert_eq!(next(&mut b), None);
    w.cmd(&["SET", "x", "2"]);
    assert_eq!(next(&mut b), Some(invalidate(&["x"])));
}

#[test]
fn redirect_to_a_resp2_subscriber() {
    let server = TestServer::fincache();
    let mut sink = connect(&server);
    let sink_id = id_of(&mut sink);
    sink.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
    let mut t = connect(&server);
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &sink_id]),
        ok()
    );
    assert_eq!(
        t.cmd(&["CLIENT", "GETREDIR"]),
        Reply::Int(sink_id.parse().unwrap())
    );
    t.cmd(&["GET", "k"]);
    let mut w = connect(&server);
    w.cmd(&["SET", "k", "v"]);
    assert_eq!(
        next(&mut sink),
        Some(Reply::Array(vec![
            bulk("message"),
            bulk("__redis__:invalidate"),
            Reply::Array(vec![bulk("k")])
        ]))
    );
    // FLUSHALL: a null means "everything".
    w.cmd(&["FLUSHALL"]);
    assert_eq!(
        next(&mut sink),
        Some(Reply::Array(vec![
            bulk("message"),
            bulk("__redis__:invalidate"),
            Reply::Null
        ]))
    );
    // The redirect target goes away: the tracking client is marked.
    drop(sink);
    std::thread::sleep(Duration::from_millis(100));
    t.cmd(&["GET", "k"]);
    w.cmd(&["SET", "k", "again"]);
    std::thread::sleep(Duration::from_millis(100));
    match t.cmd(&["CLIENT", "TRACKINGINFO"]) {
        Reply::Array(items) => {
            assert_eq!(
                items[1],
                Reply::Array(vec![bulk("on"), bulk("broken_redirect")])
            )
        }
        other => panic!("{other:?}"),
    }
    let list = match t.cmd(&["CLIENT", "INFO"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(list.contains(" flags=tR "), "{list}");
    assert!(list.contains(&format!(" redir={sink_id} ")), "{list}");
}

#[test]
fn flushall_and_expiry_invalidate() {
    let server = TestServer::fincache();
    let mut t = resp3(&server);
    let mut w = connect(&server);
    t.cmd(&["CLIENT", "TRACKING", "ON"]);
    w.cmd(&["SET", "short", "v", "PX", "50"]);
    t.cmd(&["GET", "short"]);
    // Active expiry removes it; the cache is told.
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(next(&mut t), Some(invalidate(&["short"])));
    t.cmd(&["GET", "k"]);
    w.cmd(&["FLUSHDB"]);
    assert_eq!(
        next(&mut t),
        Some(Reply::Push(vec![bulk("invalidate"), Reply::Null]))
    );
    // The table was emptied.
    w.cmd(&["SET", "k", "1"]);
    assert_eq!(next(&mut t), None);
    let info = match w.cmd(&["INFO", "clients"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(info.contains("tracking_clients:1"), "{info}");
}

/// A client-side cache driven by invalidations: it GETs a key only when it has no value,
/// and drops the value when told. Returns what it holds once the writers are done.
fn cached_value_after_race(server: &TestServer, writes: usize) -> (Option<Reply>, Reply) {
    let mut reader = resp3(server);
    reader.cmd(&["CLIENT", "TRACKING", "ON"]);
    let port = server.port;
    let writer = std::thread::spawn(move || {
        let mut w = RawConn::connect(port).unwrap();
        for _ in 0..writes {
            w.cmd(&["INCR", "counter"]);
        }
    });
    let mut cache: Option<Reply> = None;
    // Reads until the reply of the command just sent, applying the invalidations on the way.
    let settle = |c: &mut RawConn, cache: &mut Option<Reply>| loop {
        match c.read_reply().unwrap() {
            Reply::Push(items) if items.first() == Some(&bulk("invalidate")) => *cache = None,
            other => return other,
        }
    };
    while !writer.is_finished() {
        if cache.is_none() {
            reader.send(&["GET", "counter"]).unwrap();
            let v = settle(&mut reader, &mut cache);
            cache = Some(v);
        } else {
            reader.send(&["PING"]).unwrap();
            settle(&mut reader, &mut cache);
        }
    }
    writer.join().unwrap();
    // Every invalidation for the last write has been queued by now: collect them.
    reader.send(&["PING"]).unwrap();
    settle(&mut reader, &mut cache);
    let truth = connect(server).cmd(&["GET", "counter"]);
    (cache, truth)
}

#[test]
fn concurrent_writes_never_leave_a_stale_cache() {
    let server = TestServer::fincache();
    for round in 0..5 {
        let (cache, truth) = cached_value_after_race(&server, 3000);
        if let Some(v) = cache {
            assert_eq!(v, truth, "round {round}: the cache kept a stale value");
        }
    }
}

#[test]
fn option_errors() {
    let server = TestServer::fincache();
    let mut c = resp3(&server);
    let err = |c: &mut RawConn, argv: &[&str]| match c.cmd(argv) {
        Reply::Error(e) => e,
        other => panic!("{argv:?}: {other:?}"),
    };
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "ON", "PREFIX", "a"]),
        "ERR PREFIX option requires BCAST mode to be enabled"
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "ON", "REDIRECT", "424242"]),
        "ERR The client ID you want redirect to does not exist"
    );
    c.cmd(&["CLIENT", "TRACKING", "ON", "OPTIN"]);
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "ON", "BCAST"]),
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, \
         and then re-enabling it with a different mode."
    );
    assert_eq!(
        err(&mut c, &["CLIENT", "TRACKING", "ON", "OPTOUT"]),
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, \
         and then re-enabling it with a different mode."
    );
    c.cmd(&["CLIENT", "TRACKING", "OFF"]);
    c.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab"]);
    assert_eq!(
        err(
            &mut c,
            &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a"]
        ),
        "ERR Prefix 'a' overlaps with an existing prefix 'ab'. Prefixes for a single client \
         must not overlap."
    );
}

/// A scripted tracking session: (connection, argv); connection 0 is a RESP3 tracker, 1 a
/// writer, 2 a RESP2 redirect sink, 3 a RESP3 BCAST tracker.
const SESSION: &[(usize, &[&str])] = &[
    (0, &["CLIENT", "TRACKING", "ON"]),
    (3, &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:"]),
    (1, &["SET", "a", "1"]),
    (0, &["GET", "a"]),
    (0, &["MGET", "b", "c"]),
    (0, &["STRLEN", "p:x"]),
    (1, &["SET", "a", "2"]),
    (1, &["MSET", "b", "1", "c", "2"]),
    (1, &["DEL", "b", "nothing"]),
    (1, &["SET", "p:x", "1"]),
    (1, &["APPEND", "p:y", "z"]),
    (0, &["GET", "a"]),
    (0, &["INCR", "a"]),
    (0, &["CLIENT", "TRACKINGINFO"]),
    (3, &["CLIENT", "TRACKINGINFO"]),
    (0, &["CLIENT", "GETREDIR"]),
    (1, &["FLUSHALL"]),
    (0, &["CLIENT", "TRACKING", "OFF"]),
    (0, &["GET", "a"]),
    (1, &["SET", "a", "3"]),
    (0, &["CLIENT", "TRACKINGINFO"]),
];

/// Runs [`SESSION`] (plus a RESP2 redirect part) and returns everything each connection read.
fn run_session(server: &TestServer) -> Vec<Vec<Reply>> {
    let mut conns = [
        resp3(server),
        connect(server),
        connect(server),
        resp3(server),
    ];
    for (who, argv) in SESSION {
        conns[*who].send(argv).unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    // A RESP2 tracker redirected to a subscribed RESP2 sink.
    let sink_id = {
        let sink = &mut conns[2];
        sink.send(&["CLIENT", "ID"]).unwrap();
        match sink.read_reply().unwrap() {
            Reply::Int(n) => n.to_string(),
            other => panic!("{other:?}"),
        }
    };
    conns[2]
        .send(&["SUBSCRIBE", "__redis__:invalidate"])
        .unwrap();
    let mut r2 = connect(server);
    r2.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &sink_id]);
    r2.cmd(&["GET", "q"]);
    conns[1].send(&["SET", "q", "1"]).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    conns[1].send(&["FLUSHDB"]).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    conns
        .iter_mut()
        .map(|c| {
            let mut got = Vec::new();
            while let Some(r) = next(c) {
                got.push(r);
            }
            got
        })
        .collect()
}

#[test]
fn differential_tracking_session_matches_redis() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipping the differential run");
        return;
    };
    let fin = TestServer::fincache();
    let f = run_session(&fin);
    let r = run_session(&redis);
    for (i, (a, b)) in f.iter().zip(&r).enumerate() {
        assert_eq!(a, b, "connection {i}");
    }
    assert!(f[0].len() > 10 && f[2].len() >= 3 && f[3].len() >= 3);
}
