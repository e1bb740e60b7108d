//! CLIENT subcommands: ID, INFO, LIST, SETNAME/GETNAME, SETINFO, KILL, PAUSE/UNPAUSE, REPLY,
//! NO-EVICT, HELP.

mod support;

use fincache_resp::Reply;
use std::time::{Duration, Instant};
use support::{RawConn, TestServer};

fn simple(s: &str) -> Reply {
    Reply::Simple(s.to_string())
}

fn error_text(r: &Reply) -> String {
    match r {
        Reply::Error(e) => e.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn text(r: Reply) -> String {
    match r {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

fn int(r: Reply) -> i64 {
    match r {
        Reply::Int(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// The CLIENT LIST field names, in Redis 7.2's order.
const FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
    "lib-name",
    "lib-ver",
];

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[test]
fn id_name_info_and_list() {
    let srv = TestServer::fincache();
    let mut a = RawConn::connect(srv.port).unwrap();
    let mut b = RawConn::connect(srv.port).unwrap();
    let id_a = int(a.cmd(&["CLIENT", "ID"]));
    let id_b = int(b.cmd(&["CLIENT", "ID"]));
    assert!(id_b > id_a);

    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), Reply::Null);
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]), simple("OK"));
    assert_eq!(
        a.cmd(&["CLIENT", "GETNAME"]),
        Reply::Bulk(b"alpha".to_vec())
    );
    assert_eq!(
        error_text(&a.cmd(&["CLIENT", "SETNAME", "a b"])),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(a.cmd(&["SELECT", "4"]), simple("OK"));

    let info = text(a.cmd(&["CLIENT", "INFO"]));
    assert!(info.ends_with('\n'));
    let line = info.trim_end();
    let names: Vec<&str> = line
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap().0)
        .collect();
    assert_eq!(names, FIELDS);
    assert_eq!(field(line, "id"), id_a.to_string());
    assert_eq!(field(line, "name"), "alpha");
    assert_eq!(field(line, "db"), "4");
    assert_eq!(field(line, "flags"), "N");
    assert_eq!(field(line, "cmd"), "client|info");
    assert_eq!(field(line, "argv-mem"), "10");
    assert_eq!(field(line, "user"), "default");
    assert_eq!(field(line, "multi"), "-1");
    assert_eq!(field(line, "resp"), "2");
    assert!(field(line, "addr").starts_with("127.0.0.1:"));
    assert_eq!(field(line, "laddr"), format!("127.0.0.1:{}", srv.port));

    // CLIENT LIST: one line per client, in id order, each showing its last command.
    let _ = b.cmd(&["PING"]);
    let list = text(a.cmd(&["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert_eq!(field(lines[0], "id"), id_a.to_string());
    assert_eq!(field(lines[0], "cmd"), "client|list");
    assert_eq!(field(lines[1], "id"), id_b.to_string());
    assert_eq!(field(lines[1], "cmd"), "ping");
    assert_eq!(field(lines[1], "name"), "");

    let only_b = text(a.cmd(&["CLIENT", "LIST", "ID", &id_b.to_string(), "999999"]));
    assert_eq!(only_b.lines().count(), 1);
    assert_eq!(field(only_b.trim_end(), "id"), id_b.to_string());
    assert_eq!(
        text(a.cmd(&["CLIENT", "LIST", "TYPE", "normal"]))
            .lines()
            .count(),
        2
    );
    assert_eq!(text(a.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"])), "");
    assert_eq!(
        error_text(&a.cmd(&["CLIENT", "LIST", "TYPE", "bogus"])),
        "ERR Unknown client type 'bogus'"
    );
    assert_eq!(
        error_text(&a.cmd(&["CLIENT", "LIST", "ID", "x"])),
        "ERR Invalid client ID"
    );
    assert_eq!(
        error_text(&a.cmd(&["CLIENT", "LIST", "bogus", "x"])),
        "ERR syntax error"
    );

    // An empty name clears it.
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", ""]), simple("OK"));
    assert_eq!(a.cmd(&["CLIENT", "GETNAME"]), Reply::Null);
}

#[test]
fn setinfo_no_evict_and_help() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name", "redis-py"]),
        simple("OK")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "LIB-VER", "5.0.1"]),
        simple("OK")
    );
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "SETINFO", "lib-name", "a b"])),
        "ERR lib-name cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "SETINFO", "color", "red"])),
        "ERR Unrecognized option 'color'"
    );
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), simple("OK"));
    let info = text(c.cmd(&["CLIENT", "INFO"]));
    assert_eq!(field(info.trim_end(), "lib-name"), "redis-py");
    assert_eq!(field(info.trim_end(), "lib-ver"), "5.0.1");
    assert_eq!(field(info.trim_end(), "flags"), "e");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "off"]), simple("OK"));
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "NO-EVICT", "maybe"])),
        "ERR syntax error"
    );

    match c.cmd(&["CLIENT", "HELP"]) {
        Reply::Array(lines) => {
            assert_eq!(
                lines[0],
                simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            );
            assert_eq!(lines.last(), Some(&simple("    Prints this help.")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "NOPE"])),
        "ERR unknown subcommand 'NOPE'. Try CLIENT HELP."
    );
    assert_eq!(
        error_text(&c.cmd(&["CLIENT"])),
        "ERR wrong number of arguments for 'client' command"
    );
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "ID", "x"])),
        "ERR wrong number of arguments for 'client|id' command"
    );

    // What redis-rs does on connect works.
    let mut conn = srv.conn();
    let _: () = redis::cmd("CLIENT")
        .arg("SETINFO")
        .arg("LIB-NAME")
        .arg("redis-rs")
        .query(&mut conn)
        .unwrap();
}

#[test]
fn kill_by_id_closes_that_connection() {
    let srv = TestServer::fincache();
    let mut killer = RawConn::connect(srv.port).unwrap();
    let mut victim = RawConn::connect(srv.port).unwrap();
    let victim_id = int(victim.cmd(&["CLIENT", "ID"]));
    let my_id = int(killer.cmd(&["CLIENT", "ID"]));

    assert_eq!(
        int(killer.cmd(&["CLIENT", "KILL", "ID", &victim_id.to_string()])),
        1
    );
    // Closed promptly, without sending anything.
    victim.set_read_timeout(Duration::from_secs(2));
    assert!(victim.wait_closed().is_some(), "victim still open");
    // Gone from CLIENT LIST at once.
    // (Only the victim is checked: the harness's start-up probe connection may not have been
    // reaped yet on a loaded machine.)
    let list = text(killer.cmd(&["CLIENT", "LIST"]));
    let victim_prefix = format!("id={victim_id} ");
    assert!(
        !list.lines().any(|l| l.starts_with(&victim_prefix)),
        "{list}"
    );
    assert!(
        list.lines().any(|l| l.starts_with(&format!("id={my_id} "))),
        "{list}"
    );
    assert_eq!(int(killer.cmd(&["CLIENT", "KILL", "ID", "999999"])), 0);

    // The redis crate sees the dead connection.
    let mut conn = srv.conn();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut conn).unwrap();
    assert_eq!(
        int(killer.cmd(&["CLIENT", "KILL", "ID", &id.to_string()])),
        1
    );
    let r: redis::RedisResult<String> = redis::cmd("PING").query(&mut conn);
    assert!(r.is_err());

    // Old form by address; SKIPME defaults to yes in the new form only.
    let mut third = RawConn::connect(srv.port).unwrap();
    let info = text(third.cmd(&["CLIENT", "INFO"]));
    let addr = field(info.trim_end(), "addr").to_string();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", &addr]), simple("OK"));
    assert!(third.wait_closed().is_some());
    assert_eq!(
        error_text(&killer.cmd(&["CLIENT", "KILL", "1.2.3.4:5"])),
        "ERR No such client"
    );
    assert_eq!(
        int(killer.cmd(&["CLIENT", "KILL", "ID", &my_id.to_string()])),
        0
    );
    assert_eq!(
        int(killer.cmd(&["CLIENT", "KILL", "TYPE", "normal", "USER", "default"])),
        0
    );
    assert_eq!(
        error_text(&killer.cmd(&["CLIENT", "KILL", "USER", "bob"])),
        "ERR No such user 'bob'"
    );
    assert_eq!(
        error_text(&killer.cmd(&["CLIENT", "KILL", "ID", "0"])),
        "ERR client-id should be greater than 0"
    );
    // Killing itself: the reply arrives, then the connection closes.
    killer
        .send(&["CLIENT", "KILL", "ID", &my_id.to_string(), "SKIPME", "no"])
        .unwrap();
    assert_eq!(killer.read_reply().unwrap(), Reply::Int(1));
    assert!(killer.wait_closed().is_some());
}

#[test]
fn pause_write_delays_writes_but_not_reads() {
    let srv = TestServer::fincache();
    let mut admin = RawConn::connect(srv.port).unwrap();
    let mut c = RawConn::connect(srv.port).unwrap();
    assert_eq!(c.cmd(&["SET", "k", "v"]), simple("OK"));

    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "800", "WRITE"]),
        simple("OK")
    );
    let t = Instant::now();
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Bulk(b"v".to_vec()));
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    assert_eq!(c.cmd(&["SET", "k", "w"]), simple("OK"));
    assert!(
        t.elapsed() >= Duration::from_millis(600),
        "{:?}",
        t.elapsed()
    );

    // UNPAUSE releases waiting writers at once (it is not a write, so it runs in WRITE mode).
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "10000", "WRITE"]),
        simple("OK")
    );
    let t = Instant::now();
    c.send(&["SET", "n", "1"]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), simple("OK"));
    assert_eq!(c.read_reply().unwrap(), simple("OK"));
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[test]
fn pause_all_delays_every_command_in_order() {
    let srv = TestServer::fincache();
    let mut admin = RawConn::connect(srv.port).unwrap();
    let mut c = RawConn::connect(srv.port).unwrap();
    // The pausing client's own later commands wait too, but its PAUSE reply comes at once.
    admin
        .send_raw(
            &[
                support::encode_command(&["CLIENT", "PAUSE", "600"]),
                support::encode_command(&["PING"]),
            ]
            .concat(),
        )
        .unwrap();
    let t = Instant::now();
    assert_eq!(admin.read_reply().unwrap(), simple("OK"));
    assert!(t.elapsed() < Duration::from_millis(300));
    c.send_raw(
        &[
            support::encode_command(&["ECHO", "1"]),
            support::encode_command(&["ECHO", "2"]),
        ]
        .concat(),
    )
    .unwrap();
    assert_eq!(c.read_reply().unwrap(), Reply::Bulk(b"1".to_vec()));
    assert_eq!(c.read_reply().unwrap(), Reply::Bulk(b"2".to_vec()));
    assert_eq!(admin.read_reply().unwrap(), simple("PONG"));
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );

    for (args, want) in [
        (
            vec!["CLIENT", "PAUSE", "x"],
            "ERR timeout is not an integer or out of range",
        ),
        (vec!["CLIENT", "PAUSE", "-1"], "ERR timeout is negative"),
        (
            vec!["CLIENT", "PAUSE", "10", "SOME"],
            "ERR CLIENT PAUSE mode must be WRITE or ALL",
        ),
        (
            vec!["CLIENT", "PAUSE", "10", "WRITE", "x"],
            "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.",
        ),
    ] {
        assert_eq!(error_text(&c.cmd(&args)), want, "{args:?}");
    }
}

#[test]
fn reply_off_and_skip_suppress_replies() {
    let srv = TestServer::fincache();
    let mut c = RawConn::connect(srv.port).unwrap();
    let batch: Vec<u8> = [
        support::encode_command(&["CLIENT", "REPLY", "OFF"]),
        support::encode_command(&["SET", "a", "1"]),
        support::encode_command(&["NOSUCHCOMMAND"]),
        support::encode_command(&["CLIENT", "REPLY", "SKIP"]),
        support::encode_command(&["CLIENT", "REPLY", "ON"]),
        support::encode_command(&["CLIENT", "REPLY", "SKIP"]),
        support::encode_command(&["ECHO", "skipped"]),
        support::encode_command(&["ECHO", "shown"]),
        support::encode_command(&["GET", "a"]),
    ]
    .concat();
    c.send_raw(&batch).unwrap();
    assert_eq!(c.read_reply().unwrap(), simple("OK"));
    assert_eq!(c.read_reply().unwrap(), Reply::Bulk(b"shown".to_vec()));
    // The write under REPLY OFF did run.
    assert_eq!(c.read_reply().unwrap(), Reply::Bulk(b"1".to_vec()));
    c.set_read_timeout(Duration::from_millis(300));
    assert!(c.read_reply().is_err(), "unexpected extra reply");
    c.set_read_timeout(Duration::from_secs(10));
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "REPLY", "MAYBE"])),
        "ERR syntax error"
    );
}
