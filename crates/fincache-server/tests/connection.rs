//! The connection commands and loop: HELLO/RESP3, RESET, AUTH and NOAUTH, MONITOR, the idle
//! timeout, pipelining, large bulks and protocol errors.

mod support;

use fincache_resp::Reply;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use support::{RawConn, TestServer};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn simple(s: &str) -> Reply {
    Reply::Simple(s.to_string())
}

fn error_text(r: &Reply) -> &str {
    match r {
        Reply::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The value of `key` in a HELLO reply (a RESP3 map or a RESP2 flat array).
fn hello_field(r: &Reply, key: &str) -> Reply {
    let pairs: Vec<(Reply, Reply)> = match r {
        Reply::Map(p) => p.clone(),
        Reply::Array(a) => a.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect(),
        other => panic!("not a HELLO reply: {other:?}"),
    };
    pairs
        .into_iter()
        .find(|(k, _)| *k == bulk(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {r:?}"))
}

/// Reads whatever arrives within `wait` as raw bytes.
fn read_raw(conn: &mut RawConn, wait: Duration) -> Vec<u8> {
    conn.set_read_timeout(wait);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match conn.stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    conn.set_read_timeout(Duration::from_secs(10));
    got
}

fn client_info(conn: &mut RawConn) -> String {
    match conn.cmd(&["CLIENT", "INFO"]) {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("CLIENT INFO gave {other:?}"),
    }
}

#[test]
fn hello_switches_protocol_and_reply_types() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    let id = match c.cmd(&["CLIENT", "ID"]) {
        Reply::Int(n) => n,
        other => panic!("{other:?}"),
    };

    // HELLO without a version: RESP2, so the map is a flat array of 14 elements.
    let r = c.cmd(&["HELLO"]);
    assert!(matches!(&r, Reply::Array(a) if a.len() == 14), "{r:?}");
    assert_eq!(hello_field(&r, "server"), bulk("redis"));
    assert_eq!(hello_field(&r, "proto"), Reply::Int(2));
    assert_eq!(hello_field(&r, "id"), Reply::Int(id));
    assert_eq!(hello_field(&r, "mode"), bulk("standalone"));
    assert_eq!(hello_field(&r, "role"), bulk("master"));
    assert_eq!(hello_field(&r, "modules"), Reply::Array(vec![]));
    assert!(matches!(hello_field(&r, "version"), Reply::Bulk(v) if v.starts_with(b"7.")));

    // HELLO 3 answers with a RESP3 map, and later replies use RESP3 types.
    let r = c.cmd(&["HELLO", "3"]);
    assert!(matches!(&r, Reply::Map(p) if p.len() == 7), "{r:?}");
    assert_eq!(hello_field(&r, "proto"), Reply::Int(3));
    c.send(&["GET", "missing"]).unwrap();
    assert_eq!(read_raw(&mut c, Duration::from_millis(300)), b"_\r\n");
    c.send(&["CLIENT", "GETNAME"]).unwrap();
    assert_eq!(read_raw(&mut c, Duration::from_millis(300)), b"_\r\n");
    assert!(client_info(&mut c).contains(" resp=3 "));

    // Back to RESP2.
    let r = c.cmd(&["HELLO", "2"]);
    assert!(matches!(&r, Reply::Array(a) if a.len() == 14), "{r:?}");
    c.send(&["GET", "missing"]).unwrap();
    assert_eq!(read_raw(&mut c, Duration::from_millis(300)), b"$-1\r\n");

    // Errors leave the protocol alone.
    assert_eq!(
        error_text(&c.cmd(&["HELLO", "4"])),
        "NOPROTO unsupported protocol version"
    );
    assert_eq!(
        error_text(&c.cmd(&["HELLO", "x"])),
        "ERR Protocol version is not an integer or out of range"
    );
    assert_eq!(
        error_text(&c.cmd(&["HELLO", "3", "bogus"])),
        "ERR Syntax error in HELLO option 'bogus'"
    );
    assert_eq!(
        error_text(&c.cmd(&["HELLO", "3", "SETNAME", "a b"])),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert!(client_info(&mut c).contains(" resp=2 "));

    // SETNAME and AUTH options (any password for `default` when none is configured).
    let r = c.cmd(&[
        "HELLO", "3", "AUTH", "default", "whatever", "SETNAME", "app",
    ]);
    assert_eq!(hello_field(&r, "proto"), Reply::Int(3));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("app"));
    assert_eq!(
        error_text(&c.cmd(&["HELLO", "3", "AUTH", "bob", "pw"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
}

#[test]
fn redis_crate_works_over_resp3() {
    let srv = TestServer::fincache();
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", srv.port)).unwrap();
    let mut conn = client.get_connection().unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(&mut conn)
        .unwrap();
    let v: Option<String> = redis::cmd("GET").arg("k").query(&mut conn).unwrap();
    assert_eq!(v.as_deref(), Some("v"));
    let none: Option<String> = redis::cmd("GET").arg("nope").query(&mut conn).unwrap();
    assert_eq!(none, None);
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut conn).unwrap();
    assert!(info.contains(" resp=3 "), "{info}");
}

#[test]
fn reset_returns_to_defaults() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["SELECT", "2"]), simple("OK"));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "before"]), simple("OK"));
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "mylib"]),
        simple("OK")
    );
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "ON"]), simple("OK"));
    assert_eq!(c.cmd(&["MONITOR"]), simple("OK"));
    c.send(&["CLIENT", "REPLY", "OFF"]).unwrap();

    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    let info = client_info(&mut c);
    assert!(info.contains(" name= "), "{info}");
    assert!(info.contains(" db=0 "), "{info}");
    assert!(info.contains(" resp=2 "), "{info}");
    assert!(info.contains(" flags=N "), "{info}");
    // The library name describes the connection and survives RESET, as in Redis.
    assert!(info.contains(" lib-name=mylib "), "{info}");
    // Replies are on again and the keyspace is usable (no longer a monitor).
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));
    c.send(&["GET", "missing"]).unwrap();
    assert_eq!(read_raw(&mut c, Duration::from_millis(300)), b"$-1\r\n");
    assert_eq!(
        error_text(&c.cmd(&["RESET", "x"])),
        "ERR wrong number of arguments for 'reset' command"
    );
}

#[test]
fn auth_without_a_password() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    assert_eq!(
        error_text(&c.cmd(&["AUTH", "x"])),
        "ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?"
    );
    assert_eq!(c.cmd(&["AUTH", "default", "anything"]), simple("OK"));
    assert_eq!(
        error_text(&c.cmd(&["AUTH", "bob", "x"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        error_text(&c.cmd(&["AUTH", "a", "b", "c"])),
        "ERR syntax error"
    );
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn auth_with_requirepass() {
    let srv = TestServer::fincache();
    let mut admin = RawConn::connect(srv.port).unwrap();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "requirepass", "s3cret"]),
        simple("OK")
    );
    // A connection made before the password existed stays authenticated, as in Redis.
    assert_eq!(admin.cmd(&["PING"]), simple("PONG"));

    let mut c = RawConn::connect(srv.port).unwrap();
    assert_eq!(
        error_text(&c.cmd(&["PING"])),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        error_text(&c.cmd(&["GET", "k"])),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "ID"])),
        "NOAUTH Authentication required."
    );
    // Lookup and arity come first.
    assert!(error_text(&c.cmd(&["NOSUCH"])).starts_with("ERR unknown command 'NOSUCH'"));
    assert!(error_text(&c.cmd(&["HELLO", "3"])).starts_with("NOAUTH HELLO must be called"));
    assert_eq!(
        error_text(&c.cmd(&["AUTH", "wrong"])),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        error_text(&c.cmd(&["PING"])),
        "NOAUTH Authentication required."
    );
    assert_eq!(c.cmd(&["AUTH", "s3cret"]), simple("OK"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    // A later wrong AUTH does not log the client out.
    assert!(error_text(&c.cmd(&["AUTH", "nope"])).starts_with("WRONGPASS"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    // RESET logs out.
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(
        error_text(&c.cmd(&["PING"])),
        "NOAUTH Authentication required."
    );
    // HELLO … AUTH authenticates and switches protocol in one step.
    let r = c.cmd(&["HELLO", "3", "AUTH", "default", "s3cret"]);
    assert!(matches!(r, Reply::Map(_)), "{r:?}");
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    // Through the redis crate, with the password in the URL.
    let url = format!("redis://:s3cret@127.0.0.1:{}/", srv.port);
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut conn).unwrap();
    assert_eq!(pong, "PONG");
    // Unauthenticated clients may not send big requests (Redis's pre-auth limits).
    let mut d = RawConn::connect(srv.port).unwrap();
    let args: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    d.send(&args).unwrap();
    let closed = d.wait_closed().expect("closed after a protocol error");
    assert!(
        String::from_utf8_lossy(&closed).contains("unauthenticated multibulk length"),
        "{closed:?}"
    );
}

#[test]
fn requirepass_and_timeout_flags() {
    let srv = TestServer::fincache_with(&["--requirepass", "pw", "--timeout", "1"]);
    let mut c = RawConn::connect(srv.port).unwrap();
    assert_eq!(
        error_text(&c.cmd(&["PING"])),
        "NOAUTH Authentication required."
    );
    assert_eq!(c.cmd(&["AUTH", "default", "pw"]), simple("OK"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    c.set_read_timeout(Duration::from_secs(5));
    let started = Instant::now();
    assert!(c.wait_closed().is_some(), "idle client was not closed");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn monitor_sees_other_clients() {
    let srv = TestServer::fincache();
    // Connected first, so its handshake is not in the stream.
    let mut conn = srv.conn();
    let mut mon = RawConn::connect(srv.port).unwrap();
    assert_eq!(mon.cmd(&["MONITOR"]), simple("OK"));
    // A second MONITOR is ignored without a reply.
    mon.send(&["MONITOR"]).unwrap();

    let _: () = redis::cmd("SET")
        .arg("a b")
        .arg(b"x\n\"\\\x01\xff".as_slice())
        .query(&mut conn)
        .unwrap();
    // Admin commands are not shown; the next line is the PING.
    let _: redis::Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxclients")
        .query(&mut conn)
        .unwrap();
    let _: redis::Value = redis::cmd("SELECT").arg(3).query(&mut conn).unwrap();
    let _: String = redis::cmd("PING").query(&mut conn).unwrap();
    let _: redis::RedisResult<()> = redis::cmd("AUTH").arg("user").arg("pw").query(&mut conn);

    let line = |r: Reply| match r {
        Reply::Simple(s) => s,
        other => panic!("monitor gave {other:?}"),
    };
    let set = line(mon.read_reply().unwrap());
    let (stamp, rest) = set.split_once(' ').unwrap();
    let (secs, micros) = stamp.split_once('.').unwrap();
    assert!(secs.parse::<u64>().unwrap() > 1_600_000_000, "{set}");
    assert_eq!(micros.len(), 6, "{set}");
    assert!(rest.starts_with("[0 127.0.0.1:"), "{set}");
    assert!(
        rest.ends_with(r#"] "SET" "a b" "x\n\"\\\x01\xff""#),
        "{set}"
    );
    let select = line(mon.read_reply().unwrap());
    // The database shown is the one selected after the command ran.
    assert!(select.contains(" [3 127.0.0.1:"), "{select}");
    assert!(select.ends_with(r#"] "SELECT" "3""#), "{select}");
    let ping = line(mon.read_reply().unwrap());
    assert!(ping.ends_with(r#"] "PING""#), "{ping}");
    let auth = line(mon.read_reply().unwrap());
    assert!(
        auth.ends_with(r#"] "AUTH" "(redacted)" "(redacted)""#),
        "{auth}"
    );

    // A monitor may not touch the keyspace, but may PING; it sees its own commands too.
    assert_eq!(
        error_text(&mon.cmd(&["GET", "x"])),
        "ERR Replica can't interact with the keyspace"
    );
    assert_eq!(mon.cmd(&["PING"]), simple("PONG"));
    assert!(line(mon.read_reply().unwrap()).ends_with(r#"] "PING""#));

    // Leaving MONITOR mode (RESET) stops the stream.
    assert_eq!(mon.cmd(&["RESET"]), simple("RESET"));
    let _: String = redis::cmd("PING").query(&mut conn).unwrap();
    assert!(read_raw(&mut mon, Duration::from_millis(300)).is_empty());
}

#[test]
fn a_monitor_that_does_not_read_is_disconnected() {
    let srv = TestServer::fincache();
    let mut mon = RawConn::connect(srv.port).unwrap();
    assert_eq!(mon.cmd(&["MONITOR"]), simple("OK"));
    let mon_id = {
        let mut admin = RawConn::connect(srv.port).unwrap();
        let list = match admin.cmd(&["CLIENT", "LIST"]) {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
            other => panic!("{other:?}"),
        };
        let line = list
            .lines()
            .find(|l| l.contains(" flags=O "))
            .expect("monitor listed");
        line.split(' ').next().unwrap().to_string()
    };
    // ~100 MB of monitor output the monitor never reads.
    let mut writer = srv.conn();
    let value = vec![b'v'; 1024 * 1024];
    for _ in 0..100 {
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg(value.as_slice())
            .query(&mut writer)
            .unwrap();
    }
    let mut admin = RawConn::connect(srv.port).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = match admin.cmd(&["CLIENT", "LIST"]) {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
            other => panic!("{other:?}"),
        };
        if !list.lines().any(|l| l.starts_with(&format!("{mon_id} "))) {
            break;
        }
        assert!(Instant::now() < deadline, "slow monitor still connected");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Everyone else is fine.
    let pong: String = redis::cmd("PING").query(&mut writer).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn idle_timeout_closes_normal_clients_only() {
    let srv = TestServer::fincache();
    let mut admin = RawConn::connect(srv.port).unwrap();
    assert_eq!(admin.cmd(&["CONFIG", "SET", "timeout", "1"]), simple("OK"));
    let mut idle = RawConn::connect(srv.port).unwrap();
    assert_eq!(idle.cmd(&["PING"]), simple("PONG"));
    let mut mon = RawConn::connect(srv.port).unwrap();
    assert_eq!(mon.cmd(&["MONITOR"]), simple("OK"));
    let started = Instant::now();
    idle.set_read_timeout(Duration::from_secs(5));
    assert!(idle.wait_closed().is_some(), "idle client was not closed");
    assert!(started.elapsed() < Duration::from_secs(4));
    // The monitor stays (MONITOR clients are exempt, as replicas are in Redis).
    assert_eq!(mon.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn pipeline_of_1000_commands_gets_1000_replies_in_order() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend_from_slice(&support::encode_command(&["ECHO", &i.to_string()]));
        batch.extend_from_slice(&support::encode_command(&["SET", "k", &i.to_string()]));
        batch.extend_from_slice(&support::encode_command(&["GET", "k"]));
    }
    c.send_raw(&batch).unwrap();
    for i in 0..1000 {
        assert_eq!(c.read_reply().unwrap(), bulk(&i.to_string()));
        assert_eq!(c.read_reply().unwrap(), simple("OK"));
        assert_eq!(c.read_reply().unwrap(), bulk(&i.to_string()));
    }
}

#[test]
fn big_bulk_is_accepted_and_an_aborted_one_hurts_nobody() {
    let srv = TestServer::fincache();
    let mut conn = srv.conn();
    let big = vec![b'x'; 100 * 1024 * 1024];
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(big.as_slice())
        .query(&mut conn)
        .unwrap();
    let back: Vec<u8> = redis::cmd("GET").arg("big").query(&mut conn).unwrap();
    assert!(back == big);
    drop((big, back));

    // A client announcing 100 MB, sending 10 MB and vanishing.
    let mut quitter = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    quitter
        .write_all(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$104857600\r\n")
        .unwrap();
    quitter.write_all(&vec![b'y'; 10 * 1024 * 1024]).unwrap();
    drop(quitter);

    let mut other = srv.conn();
    let pong: String = redis::cmd("PING").query(&mut other).unwrap();
    assert_eq!(pong, "PONG");
    let exists: i64 = redis::cmd("EXISTS").arg("half").query(&mut other).unwrap();
    assert_eq!(exists, 0);
    let back: Vec<u8> = redis::cmd("GET").arg("big").query(&mut conn).unwrap();
    assert_eq!(back.len(), 100 * 1024 * 1024);
}

#[test]
fn protocol_error_replies_then_closes() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    c.send_raw(b"PING\r\n*1\r\n$x\r\nPING\r\n").unwrap();
    assert_eq!(c.read_reply().unwrap(), simple("PONG"));
    assert_eq!(
        error_text(&c.read_reply().unwrap()),
        "ERR Protocol error: invalid bulk length"
    );
    assert!(c.wait_closed().is_some());
}

#[test]
fn quit_replies_then_closes() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    c.send_raw(b"QUIT\r\nPING\r\n").unwrap();
    assert_eq!(c.read_reply().unwrap(), simple("OK"));
    assert_eq!(c.wait_closed(), Some(Vec::new()));
}

#[test]
fn ping_and_echo() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["PING", "hi"]), bulk("hi"));
    assert_eq!(
        error_text(&c.cmd(&["PING", "a", "b"])),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(c.cmd(&["ECHO", ""]), bulk(""));
}
