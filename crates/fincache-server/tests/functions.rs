//! Functions: FUNCTION LOAD | LIST | DELETE | FLUSH | DUMP | RESTORE | STATS | KILL | HELP,
//! FCALL, FCALL_RO. A transcript of commands is compared reply for reply with redis-server
//! (when installed) in RESP2 and RESP3; DUMP payloads are restored across the two servers.

mod support;

use fincache_resp::Reply;
use std::time::Duration;
use support::{same_reply, show_reply, RawConn, TestServer};

const LIB: &str = "#!lua name=mylib\n\
    redis.register_function('echo_arg', function(keys, args) return args[1] end)\n\
    redis.register_function{function_name='get_key', callback=function(keys, args) \
        return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}\n\
    redis.register_function('set_key', function(keys, args) \
        return redis.call('set', keys[1], args[1]) end)";

const LIB2: &str = "#!lua name=other\n\
    redis.register_function{function_name='other_fn', callback=function() return 2 end, \
        flags={'allow-oom', 'NO-WRITES'}}";

/// The transcript run on both servers; `None` marks a line whose reply is not compared.
fn transcript() -> Vec<Vec<&'static str>> {
    vec![
        vec!["FUNCTION", "FLUSH"],
        vec!["FUNCTION", "LOAD", LIB],
        vec!["FUNCTION", "LOAD", LIB],
        vec!["FUNCTION", "LOAD", "REPLACE", LIB],
        vec!["FUNCTION", "LOAD", "BAD", LIB],
        vec!["FUNCTION", "LOAD", LIB2],
        vec!["FUNCTION", "LIST", "LIBRARYNAME", "myl*"],
        vec!["FUNCTION", "LIST", "LIBRARYNAME", "other", "WITHCODE"],
        vec!["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"],
        vec!["FUNCTION", "LIST", "LIBRARYNAME"],
        vec!["FUNCTION", "LIST", "BAD"],
        vec!["FCALL", "echo_arg", "0", "hello"],
        vec!["FCALL", "ECHO_ARG", "0", "case-insensitive"],
        vec!["FCALL", "set_key", "1", "k", "v"],
        vec!["FCALL", "get_key", "1", "k"],
        vec!["FCALL_RO", "get_key", "1", "k"],
        vec!["FCALL_RO", "set_key", "1", "k", "v"],
        vec!["FCALL", "nosuch", "0"],
        vec!["FCALL", "echo_arg", "-1"],
        vec!["FCALL", "echo_arg", "5"],
        vec!["FCALL", "echo_arg", "x"],
        vec!["FCALL", "other_fn", "0"],
        vec!["FUNCTION", "STATS"],
        vec!["FUNCTION", "LOAD", "return 1"],
        vec!["FUNCTION", "LOAD", "#!lua"],
        vec!["FUNCTION", "LOAD", "#!lua\nreturn 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=empty\nreturn 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=dup\nredis.register_function('echo_arg', function() end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=twice\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad2\nredis.call('set','x','y')"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad3\nredis.register_function('f 3', function() end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad4\nredis.register_function('f4', 'notfunc')"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad5\nredis.register_function{function_name='f5', callback=function() end, flags={'bad'}}"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad6\nredis.register_function{function_name='f5', callback=function() end, nosuch=1}"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad7\nx = 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad8 foo=bar\nredis.register_function('f8', function() return 1 end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=b@d\nredis.register_function('f9', function() return 1 end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad9\nlocal x = redis.setresp"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad10\nreturn string.len('x')"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad11\nredis.register_function()"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad12\nredis.register_function{callback=function() end}"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad13\nredis.register_function{function_name='x'}"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad14\nredis.register_function(1, function() end)"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad15\nredis.register_function('x', function() end, 3)"],
        vec!["FUNCTION", "LOAD", "#!lua name=bad16\nreturn 1 +"],
        vec!["FUNCTION", "LOAD", "#!notlua name=x\nreturn 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=a name=b\nreturn 1"],
        vec!["FUNCTION", "LOAD", "#!lua name=rt\nredis.register_function('rt', function() return redis.register_function end)"],
        vec!["FCALL", "rt", "0"],
        vec!["FUNCTION", "LOAD", "#!lua name=err\nredis.register_function('errf', function() error('boom') end)"],
        vec!["FCALL", "errf", "0"],
        vec!["FUNCTION", "DELETE", "err"],
        vec!["FUNCTION", "DELETE", "rt"],
        vec!["FUNCTION", "DELETE", "nosuch"],
        vec!["FUNCTION", "DELETE", "other"],
        vec!["FUNCTION", "LIST"],
        vec!["FUNCTION", "KILL"],
        vec!["FUNCTION", "RESTORE", "bad"],
        vec!["FUNCTION", "RESTORE", "bad", "BADPOLICY"],
        vec!["FUNCTION", "RESTORE", "a", "b", "c"],
        vec!["FUNCTION", "FLUSH", "BAD"],
        vec!["FUNCTION", "FLUSH", "SYNC", "extra"],
        vec!["FUNCTION", "HELP"],
        vec!["FUNCTION", "NOSUCH"],
        vec!["FUNCTION", "FLUSH", "ASYNC"],
        vec!["FUNCTION", "LIST"],
        vec!["FUNCTION", "STATS"],
        vec!["FCALL", "echo_arg", "0"],
        vec!["FCALL"],
        vec!["EVAL", "return redis.call('fcall', 'x', 0)", "0"],
    ]
}

fn run(port: u16, resp3: bool) -> Vec<Reply> {
    let mut c = RawConn::connect(port).unwrap();
    if resp3 {
        c.cmd(&["HELLO", "3"]);
    }
    transcript()
        .iter()
        .map(|line| normalize(&c.cmd(line)))
        .collect()
}

/// Sorts every list of libraries and of function descriptions by its text: Redis lists them
/// in hash-table order (FinCache in load and registration order).
fn normalize(r: &Reply) -> Reply {
    let starts_with = |r: &Reply, field: &[u8]| match r {
        Reply::Array(items) => items.first() == Some(&Reply::Bulk(field.to_vec())),
        Reply::Map(pairs) => pairs.first().map(|p| &p.0) == Some(&Reply::Bulk(field.to_vec())),
        _ => false,
    };
    let is_function = |r: &Reply| starts_with(r, b"name") || starts_with(r, b"library_name");
    match r {
        Reply::Array(items) => {
            let mut items: Vec<Reply> = items.iter().map(normalize).collect();
            if !items.is_empty() && items.iter().all(is_function) {
                items.sort_by_key(show_reply);
            }
            Reply::Array(items)
        }
        Reply::Map(pairs) => Reply::Map(
            pairs
                .iter()
                .map(|(k, v)| (normalize(k), normalize(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn transcript_matches_redis() {
    let f = TestServer::fincache();
    // FinCache alone: spot checks.
    let got = run(f.port, false);
    assert_eq!(got[1], Reply::Bulk(b"mylib".to_vec()));
    assert_eq!(
        got[2],
        Reply::Error("ERR Library 'mylib' already exists".into())
    );
    assert_eq!(got[11], Reply::Bulk(b"hello".to_vec()));
    let Some(r) = TestServer::redis() else {
        return;
    };
    for resp3 in [false, true] {
        let want = run(r.port, resp3);
        let got = run(f.port, resp3);
        let lines = transcript();
        let mut diffs = Vec::new();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            if !same_reply(g, w) {
                diffs.push(format!(
                    "{:?}\n  fincache: {}\n  redis:    {}",
                    lines[i],
                    show_reply(g),
                    show_reply(w)
                ));
            }
        }
        assert!(diffs.is_empty(), "resp3={resp3}:\n{}", diffs.join("\n"));
    }
}

#[test]
fn dump_and_restore_across_servers() {
    let f = TestServer::fincache();
    let mut fc = RawConn::connect(f.port).unwrap();
    fc.cmd(&["FUNCTION", "LOAD", LIB]);
    fc.cmd(&["FUNCTION", "LOAD", LIB2]);
    let Reply::Bulk(payload) = fc.cmd(&["FUNCTION", "DUMP"]) else {
        panic!("no payload");
    };
    // Restore into a fresh FinCache with each policy.
    let g = TestServer::fincache();
    let mut gc = RawConn::connect(g.port).unwrap();
    let restore = |c: &mut RawConn, p: &[u8], policy: Option<&str>| {
        let mut argv: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", p];
        if let Some(pol) = policy {
            argv.push(pol.as_bytes());
        }
        c.call(&argv).unwrap()
    };
    assert_eq!(restore(&mut gc, &payload, None), Reply::Simple("OK".into()));
    assert_eq!(
        restore(&mut gc, &payload, None),
        Reply::Error("ERR Library mylib already exists".into())
    );
    assert_eq!(
        restore(&mut gc, &payload, Some("REPLACE")),
        Reply::Simple("OK".into())
    );
    gc.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=extra\nredis.register_function('x', function() return 1 end)",
    ]);
    assert_eq!(
        restore(&mut gc, &payload, Some("FLUSH")),
        Reply::Simple("OK".into())
    );
    assert_eq!(
        gc.cmd(&["FCALL", "x", "0"]),
        Reply::Error("ERR Function not found".into())
    );
    assert_eq!(
        gc.cmd(&["FCALL", "echo_arg", "0", "back"]),
        Reply::Bulk(b"back".to_vec())
    );
    let mut bad = payload.clone();
    bad[5] ^= 0xff;
    assert_eq!(
        restore(&mut gc, &bad, None),
        Reply::Error("ERR DUMP payload version or checksum are wrong".into())
    );

    let Some(r) = TestServer::redis() else {
        return;
    };
    // FinCache's payload restores into Redis, and Redis's (LZF-compressed) into FinCache.
    let mut rc = RawConn::connect(r.port).unwrap();
    assert_eq!(restore(&mut rc, &payload, None), Reply::Simple("OK".into()));
    assert_eq!(
        rc.cmd(&["FCALL", "echo_arg", "0", "in redis"]),
        Reply::Bulk(b"in redis".to_vec())
    );
    let Reply::Bulk(redis_payload) = rc.cmd(&["FUNCTION", "DUMP"]) else {
        panic!("no redis payload");
    };
    let h = TestServer::fincache();
    let mut hc = RawConn::connect(h.port).unwrap();
    assert_eq!(
        restore(&mut hc, &redis_payload, None),
        Reply::Simple("OK".into())
    );
    assert_eq!(hc.cmd(&["FCALL", "other_fn", "0"]), Reply::Int(2));
    let list = |c: &mut RawConn| c.cmd(&["FUNCTION", "LIST", "LIBRARYNAME", "mylib", "WITHCODE"]);
    assert!(same_reply(
        &normalize(&list(&mut hc)),
        &normalize(&list(&mut rc))
    ));
}

#[test]
fn busy_function_stats_and_kill() {
    let s = TestServer::fincache_with(&["--busy-reply-threshold", "100"]);
    let port = s.port;
    let mut c = RawConn::connect(port).unwrap();
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
    ]);
    let runner = std::thread::spawn(move || {
        let mut a = RawConn::connect(port).unwrap();
        a.set_read_timeout(Duration::from_secs(20));
        a.cmd(&["FCALL", "spin", "1", "somekey", "arg"])
    });
    let busy =
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while c.cmd(&["PING"]) != Reply::Error(busy.into()) {
        assert!(std::time::Instant::now() < deadline, "never busy");
        std::thread::sleep(Duration::from_millis(20));
    }
    match c.cmd(&["FUNCTION", "STATS"]) {
        Reply::Array(items) => {
            assert_eq!(items[0], Reply::Bulk(b"running_script".to_vec()));
            let Reply::Array(running) = &items[1] else {
                panic!("{:?}", items[1]);
            };
            assert_eq!(running[1], Reply::Bulk(b"spin".to_vec()));
            assert_eq!(
                running[3],
                Reply::Array(
                    ["FCALL", "spin", "1", "somekey", "arg"]
                        .iter()
                        .map(|a| Reply::Bulk(a.as_bytes().to_vec()))
                        .collect()
                )
            );
            assert!(matches!(running[5], Reply::Int(ms) if ms >= 100));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.cmd(&["SCRIPT", "KILL"]), Reply::Error(busy.into()));
    assert_eq!(c.cmd(&["FUNCTION", "KILL"]), Reply::Simple("OK".into()));
    let killed = runner.join().unwrap();
    match killed {
        Reply::Error(e) => assert!(
            e.starts_with(
                "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
            ),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
}
