//! Pub/Sub through real connections: delivery and its order, patterns, shard channels, PUBSUB
//! introspection, the RESP2 subscribed context and RESP3 pushes, slow subscribers and the
//! output buffer limits, and a differential run of a subscriber's whole message stream against
//! redis-server.

mod support;

use fincache_resp::Reply;
use std::time::{Duration, Instant};
use support::{RawConn, RawError, TestServer};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

fn push(items: Vec<Reply>) -> Reply {
    Reply::Push(items)
}

/// A RESP2 `[word, name, count]` confirmation.
fn confirm(word: &str, name: &str, count: i64) -> Reply {
    arr(vec![bulk(word), bulk(name), Reply::Int(count)])
}

fn message(channel: &str, payload: &str) -> Reply {
    arr(vec![bulk("message"), bulk(channel), bulk(payload)])
}

fn connect(server: &TestServer) -> RawConn {
    RawConn::connect(server.port).expect("connect")
}

fn client_list(c: &mut RawConn) -> String {
    match c.cmd(&["CLIENT", "LIST"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("CLIENT LIST: {other:?}"),
    }
}

fn info_field(c: &mut RawConn, section: &str, field: &str) -> String {
    let text = match c.cmd(&["INFO", section]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("INFO: {other:?}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .to_string()
}

#[test]
fn subscriber_receives_messages_in_order() {
    let server = TestServer::fincache();
    let mut sub = connect(&server);
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "news"]),
        confirm("subscribe", "news", 1)
    );
    let mut publisher = server.conn();
    for i in 0..2000 {
        let n: i64 = redis::cmd("PUBLISH")
            .arg("news")
            .arg(format!("m{i}"))
            .query(&mut publisher)
            .unwrap();
        assert_eq!(n, 1);
    }
    for i in 0..2000 {
        assert_eq!(sub.read_reply().unwrap(), message("news", &format!("m{i}")));
    }
    // Nobody listens elsewhere.
    let n: i64 = redis::cmd("PUBLISH")
        .arg("other")
        .arg("x")
        .query(&mut publisher)
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn several_subscribers_and_pipelined_publishes() {
    let server = TestServer::fincache();
    let mut subs: Vec<RawConn> = (0..5).map(|_| connect(&server)).collect();
    for s in &mut subs {
        s.cmd(&["SUBSCRIBE", "ch"]);
    }
    let mut publisher = connect(&server);
    let mut pipeline = Vec::new();
    for i in 0..500 {
        pipeline.extend(support::encode_command(&["PUBLISH", "ch", &i.to_string()]));
    }
    publisher.send_raw(&pipeline).unwrap();
    for _ in 0..500 {
        assert_eq!(publisher.read_reply().unwrap(), Reply::Int(5));
    }
    for s in &mut subs {
        for i in 0..500 {
            assert_eq!(s.read_reply().unwrap(), message("ch", &i.to_string()));
        }
    }
}

#[test]
fn pattern_subscriptions() {
    let server = TestServer::fincache();
    let mut sub = connect(&server);
    assert_eq!(
        sub.cmd(&["PSUBSCRIBE", "news.*"]),
        confirm("psubscribe", "news.*", 1)
    );
    // The count covers channels and patterns together.
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "news.tech"]),
        confirm("subscribe", "news.tech", 2)
    );
    let mut p = connect(&server);
    // The channel subscription and the pattern subscription each receive it.
    assert_eq!(p.cmd(&["PUBLISH", "news.tech", "a"]), Reply::Int(2));
    assert_eq!(p.cmd(&["PUBLISH", "news.art", "b"]), Reply::Int(1));
    assert_eq!(p.cmd(&["PUBLISH", "sport", "c"]), Reply::Int(0));
    assert_eq!(sub.read_reply().unwrap(), message("news.tech", "a"));
    assert_eq!(
        sub.read_reply().unwrap(),
        arr(vec![
            bulk("pmessage"),
            bulk("news.*"),
            bulk("news.tech"),
            bulk("a")
        ])
    );
    assert_eq!(
        sub.read_reply().unwrap(),
        arr(vec![
            bulk("pmessage"),
            bulk("news.*"),
            bulk("news.art"),
            bulk("b")
        ])
    );
    assert_eq!(
        sub.cmd(&["PUNSUBSCRIBE", "news.*"]),
        confirm("punsubscribe", "news.*", 1)
    );
    assert_eq!(p.cmd(&["PUBLISH", "news.art", "d"]), Reply::Int(0));
    assert_eq!(p.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(0));
}

#[test]
fn shard_channels() {
    let server = TestServer::fincache();
    let mut sub = connect(&server);
    assert_eq!(
        sub.cmd(&["SSUBSCRIBE", "orders"]),
        confirm("ssubscribe", "orders", 1)
    );
    // Shard subscriptions are counted apart from channels and patterns.
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "orders"]),
        confirm("subscribe", "orders", 1)
    );
    let mut p = connect(&server);
    assert_eq!(p.cmd(&["SPUBLISH", "orders", "o1"]), Reply::Int(1));
    assert_eq!(
        sub.read_reply().unwrap(),
        arr(vec![bulk("smessage"), bulk("orders"), bulk("o1")])
    );
    assert_eq!(p.cmd(&["PUBLISH", "orders", "o2"]), Reply::Int(1));
    assert_eq!(sub.read_reply().unwrap(), message("orders", "o2"));
    assert_eq!(
        p.cmd(&["PUBSUB", "SHARDCHANNELS"]),
        arr(vec![bulk("orders")])
    );
    assert_eq!(
        p.cmd(&["PUBSUB", "SHARDNUMSUB", "orders", "none"]),
        arr(vec![
            bulk("orders"),
            Reply::Int(1),
            bulk("none"),
            Reply::Int(0)
        ])
    );
    assert_eq!(
        sub.cmd(&["SUNSUBSCRIBE"]),
        confirm("sunsubscribe", "orders", 0)
    );
    assert_eq!(p.cmd(&["SPUBLISH", "orders", "o3"]), Reply::Int(0));
}

#[test]
fn pubsub_introspection() {
    let server = TestServer::fincache();
    let mut a = connect(&server);
    let mut b = connect(&server);
    a.cmd(&["SUBSCRIBE", "alpha"]);
    a.cmd(&["SUBSCRIBE", "beta"]);
    a.cmd(&["PSUBSCRIBE", "a*"]);
    b.cmd(&["SUBSCRIBE", "alpha"]);
    b.cmd(&["PSUBSCRIBE", "a*"]);
    b.cmd(&["SSUBSCRIBE", "s1"]);
    let mut q = connect(&server);
    let mut channels = match q.cmd(&["PUBSUB", "CHANNELS"]) {
        Reply::Array(items) => items,
        other => panic!("{other:?}"),
    };
    channels.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(channels, vec![bulk("alpha"), bulk("beta")]);
    assert_eq!(
        q.cmd(&["PUBSUB", "CHANNELS", "b*"]),
        arr(vec![bulk("beta")])
    );
    assert_eq!(
        q.cmd(&["PUBSUB", "NUMSUB", "alpha", "beta", "gamma"]),
        arr(vec![
            bulk("alpha"),
            Reply::Int(2),
            bulk("beta"),
            Reply::Int(1),
            bulk("gamma"),
            Reply::Int(0)
        ])
    );
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(1));
    assert_eq!(info_field(&mut q, "stats", "pubsub_channels"), "2");
    assert_eq!(info_field(&mut q, "stats", "pubsub_patterns"), "1");
    assert_eq!(info_field(&mut q, "stats", "pubsubshard_channels"), "1");
    let list = client_list(&mut q);
    let line_a = list
        .lines()
        .find(|l| l.contains(" sub=2 "))
        .expect("a's line");
    assert!(line_a.contains(" psub=1 ssub=0 "), "{line_a}");
    assert!(line_a.contains(" flags=P "), "{line_a}");
    let line_b = list
        .lines()
        .find(|l| l.contains(" ssub=1 "))
        .expect("b's line");
    assert!(line_b.contains(" sub=1 psub=1 "), "{line_b}");
    // CLIENT LIST TYPE PUBSUB lists the two subscribers only.
    match q.cmd(&["CLIENT", "LIST", "TYPE", "PUBSUB"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => {
            assert_eq!(String::from_utf8(b).unwrap().lines().count(), 2)
        }
        other => panic!("{other:?}"),
    }
    // A disconnected subscriber leaves the tables.
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(5);
    while q.cmd(&["PUBSUB", "NUMSUB", "beta"]) != arr(vec![bulk("beta"), Reply::Int(0)]) {
        assert!(Instant::now() < deadline, "beta still has a subscriber");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(1));
    assert_eq!(q.cmd(&["PUBLISH", "alpha", "x"]), Reply::Int(2));
}

#[test]
fn resp2_subscribed_context_allows_only_some_commands() {
    let server = TestServer::fincache();
    let mut c = connect(&server);
    c.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(
        c.cmd(&["GET", "k"]),
        Reply::Error(
            "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / \
             RESET are allowed in this context"
                .into()
        )
    );
    assert_eq!(
        c.cmd(&["CLIENT", "ID"]),
        Reply::Error(
            "ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / \
             QUIT / RESET are allowed in this context"
                .into()
        )
    );
    assert_eq!(c.cmd(&["PING"]), arr(vec![bulk("pong"), bulk("")]));
    assert_eq!(c.cmd(&["PING", "hi"]), arr(vec![bulk("pong"), bulk("hi")]));
    assert_eq!(c.cmd(&["PSUBSCRIBE", "x*"]), confirm("psubscribe", "x*", 2));
    assert_eq!(c.cmd(&["UNSUBSCRIBE"]), confirm("unsubscribe", "ch", 1));
    // Still subscribed to a pattern.
    assert!(matches!(c.cmd(&["SET", "k", "v"]), Reply::Error(_)));
    assert_eq!(c.cmd(&["PUNSUBSCRIBE"]), confirm("punsubscribe", "x*", 0));
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]),
        arr(vec![bulk("unsubscribe"), Reply::Null, Reply::Int(0)])
    );
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::Simple("OK".into()));
    // RESET leaves subscribed mode too.
    c.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(c.cmd(&["RESET"]), Reply::Simple("RESET".into()));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    let mut p = connect(&server);
    assert_eq!(p.cmd(&["PUBLISH", "ch", "x"]), Reply::Int(0));
    // QUIT is allowed while subscribed.
    c.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(c.cmd(&["QUIT"]), Reply::Simple("OK".into()));
    assert!(c.wait_closed().is_some());
}

#[test]
fn resp3_subscriptions_mix_pushes_and_replies() {
    let server = TestServer::fincache();
    let mut c = connect(&server);
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "ch"]),
        push(vec![bulk("subscribe"), bulk("ch"), Reply::Int(1)])
    );
    // Anything runs while subscribed.
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::Simple("OK".into()));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    // Publishing to itself: the reply first, then the message (Redis 7.2's order).
    assert_eq!(c.cmd(&["PUBLISH", "ch", "self"]), Reply::Int(1));
    assert_eq!(
        c.read_reply().unwrap(),
        push(vec![bulk("message"), bulk("ch"), bulk("self")])
    );
    let mut p = connect(&server);
    assert_eq!(p.cmd(&["PUBLISH", "ch", "other"]), Reply::Int(1));
    assert_eq!(
        c.read_reply().unwrap(),
        push(vec![bulk("message"), bulk("ch"), bulk("other")])
    );
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE", "nope"]),
        push(vec![bulk("unsubscribe"), bulk("nope"), Reply::Int(1)])
    );
    assert_eq!(
        c.cmd(&["SUNSUBSCRIBE"]),
        push(vec![bulk("sunsubscribe"), Reply::Null, Reply::Int(0)])
    );
}

/// Reads whatever arrives until the connection closes or `limit` passes; returns whether it
/// closed.
fn closed_within(c: &mut RawConn, limit: Duration) -> bool {
    c.set_read_timeout(limit);
    c.wait_closed().is_some()
}

/// Subscribes a raw connection and then never reads from it.
fn stuck_subscriber(server: &TestServer, channel: &str) -> RawConn {
    let mut s = connect(server);
    s.cmd(&["CLIENT", "SETNAME", "stuck"]);
    s.cmd(&["SUBSCRIBE", channel]);
    s
}

fn listed(c: &mut RawConn, name: &str) -> bool {
    client_list(c).contains(&format!(" name={name} "))
}

#[test]
fn a_stuck_subscriber_is_disconnected_at_the_default_hard_limit() {
    let server = TestServer::fincache();
    let mut stuck = stuck_subscriber(&server, "firehose");
    let mut reader = connect(&server);
    reader.cmd(&["SUBSCRIBE", "firehose"]);
    let mut p = connect(&server);
    let rss_before = server.peak_rss_kib();
    let payload = "x".repeat(64 * 1024);
    // 96 MiB published: three times the 32 MiB hard limit of the pubsub class.
    let mut delivered_after_kill = false;
    for i in 0..1536 {
        let n = match p.cmd(&["PUBLISH", "firehose", &payload]) {
            Reply::Int(n) => n,
            other => panic!("PUBLISH: {other:?}"),
        };
        // The reading subscriber keeps up (so its own output never piles up).
        assert_eq!(
            reader.read_reply().unwrap(),
            message("firehose", &payload),
            "message {i}"
        );
        if n == 1 {
            delivered_after_kill = true;
        }
    }
    assert!(
        delivered_after_kill,
        "the stuck subscriber was never dropped while publishing went on"
    );
    assert!(!listed(&mut p, "stuck"));
    assert!(closed_within(&mut stuck, Duration::from_secs(10)));
    if let (Some(before), Some(after)) = (rss_before, server.peak_rss_kib()) {
        // Bounded by the limit (plus what was in flight), not by what was published.
        assert!(
            after.saturating_sub(before) < 80 * 1024,
            "peak RSS grew by {} KiB",
            after - before
        );
    }
}

#[test]
fn configured_hard_and_soft_limits_disconnect_stuck_subscribers() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    assert_eq!(
        admin.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 256kb 1"
        ]),
        Reply::Simple("OK".into())
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]),
        arr(vec![
            bulk("client-output-buffer-limit"),
            bulk("normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 262144 1")
        ])
    );
    // Hard limit: a burst well past 1 MiB (plus socket buffers) drops the subscriber at once.
    let mut stuck = stuck_subscriber(&server, "burst");
    let payload = "y".repeat(32 * 1024);
    let mut receivers = Vec::new();
    for _ in 0..400 {
        receivers.push(admin.cmd(&["PUBLISH", "burst", &payload]));
    }
    assert_eq!(receivers[0], Reply::Int(1));
    assert_eq!(*receivers.last().unwrap(), Reply::Int(0));
    assert!(closed_within(&mut stuck, Duration::from_secs(10)));

    // Soft limit: staying over 256 KiB for more than a second drops it, long before the
    // (now far away) hard limit.
    admin.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 64mb 256kb 1",
    ]);
    let mut slow = connect(&server);
    slow.cmd(&["CLIENT", "SETNAME", "slow"]);
    slow.cmd(&["SUBSCRIBE", "trickle"]);
    let small = "z".repeat(1024);
    let started = Instant::now();
    let mut dropped = false;
    while started.elapsed() < Duration::from_secs(20) {
        admin.cmd(&["PUBLISH", "trickle", &small]);
        std::thread::sleep(Duration::from_millis(2));
        if started.elapsed() > Duration::from_millis(500) && !listed(&mut admin, "slow") {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the slow subscriber stayed connected");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "dropped before the soft limit's seconds passed"
    );
}

#[test]
fn a_subscriber_that_reads_is_never_dropped() {
    let server = TestServer::fincache();
    let mut admin = connect(&server);
    admin.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 256kb 64kb 1",
    ]);
    let mut sub = connect(&server);
    sub.cmd(&["SUBSCRIBE", "c"]);
    let payload = "p".repeat(16 * 1024);
    for i in 0..300 {
        assert_eq!(admin.cmd(&["PUBLISH", "c", &payload]), Reply::Int(1), "{i}");
        assert_eq!(sub.read_reply().unwrap(), message("c", &payload));
    }
}

/// The messages a subscriber got, read until nothing more arrives for a moment.
fn drain(c: &mut RawConn) -> Vec<Reply> {
    c.set_read_timeout(Duration::from_millis(300));
    let mut got = Vec::new();
    loop {
        match c.read_reply() {
            Ok(r) => got.push(r),
            Err(RawError::Timeout) => return got,
            Err(e) => panic!("subscriber: {e}"),
        }
    }
}

/// One publish/subscribe script, run against a server; returns each subscriber's stream and
/// the publisher's replies.
fn run_script(server: &TestServer, resp3: bool) -> (Vec<Vec<Reply>>, Vec<Reply>) {
    let mut subs: Vec<RawConn> = (0..3).map(|_| connect(server)).collect();
    if resp3 {
        for s in &mut subs {
            s.cmd(&["HELLO", "3"]);
        }
    }
    let mut p = connect(server);
    let mut replies = Vec::new();
    let steps: &[(usize, &[&str])] = &[
        (0, &["SUBSCRIBE", "a", "b"]),
        (1, &["PSUBSCRIBE", "a*"]),
        (2, &["SSUBSCRIBE", "s"]),
        (2, &["PSUBSCRIBE", "?"]),
        (9, &["PUBLISH", "a", "1"]),
        (9, &["PUBLISH", "ab", "2"]),
        (9, &["PUBLISH", "b", ""]),
        (9, &["SPUBLISH", "s", "3"]),
        (9, &["PUBLISH", "s", "4"]),
        (9, &["PUBSUB", "NUMSUB", "a", "b", "s"]),
        (9, &["PUBSUB", "SHARDNUMSUB", "s"]),
        (9, &["PUBSUB", "NUMPAT"]),
        (0, &["UNSUBSCRIBE", "a"]),
        (0, &["PING", "still"]),
        (9, &["PUBLISH", "a", "5"]),
        (1, &["PUNSUBSCRIBE", "zz"]),
        (1, &["PUNSUBSCRIBE"]),
        (9, &["PUBLISH", "a", "6"]),
        (2, &["SUNSUBSCRIBE"]),
        (2, &["PUNSUBSCRIBE"]),
        (2, &["UNSUBSCRIBE"]),
        (9, &["PUBLISH", "s", "7"]),
        (0, &["UNSUBSCRIBE"]),
        (9, &["PUBSUB", "NUMPAT"]),
    ];
    for (who, argv) in steps {
        if *who == 9 {
            replies.push(p.cmd(argv));
        } else {
            subs[*who].send(argv).unwrap();
            // Let it take effect before the next publish.
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    let streams = subs.iter_mut().map(drain).collect();
    (streams, replies)
}

#[test]
fn differential_subscriber_streams_match_redis() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipping the differential run");
        return;
    };
    let fin = TestServer::fincache();
    for resp3 in [false, true] {
        let (fs, fr) = run_script(&fin, resp3);
        let (rs, rr) = run_script(&redis, resp3);
        assert_eq!(fr, rr, "publisher replies (resp3: {resp3})");
        assert!(fs.iter().all(|s| s.len() >= 4), "streams too short: {fs:?}");
        for (i, (f, r)) in fs.iter().zip(&rs).enumerate() {
            assert_eq!(f, r, "subscriber {i} stream (resp3: {resp3})");
        }
    }
}
