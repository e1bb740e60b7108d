//! Lua scripting through real connections: busy scripts (BUSY for other clients, SCRIPT KILL,
//! UNKILLABLE, SHUTDOWN NOSAVE), atomicity against a concurrent reader, determinism of
//! `math.random`, RESP3 conversions seen by a RESP3 client, and the sandbox keeping one
//! script's changes from the next. Single-connection behaviour (every conversion, sandbox
//! errors, flags, libraries) is compared with redis-server in `cases/scripting.case`.

mod support;

use fincache_resp::Reply;
use std::time::{Duration, Instant};
use support::{RawConn, TestServer};

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

fn error_text(r: &Reply) -> String {
    match r {
        Reply::Error(e) => e.clone(),
        other => panic!("not an error: {other:?}"),
    }
}

/// Waits until `cond` holds (polling), or panics after `limit`.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "condition not reached in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

#[test]
fn busy_script_busy_errors_and_script_kill() {
    let s = TestServer::fincache_with(&["--busy-reply-threshold", "100"]);
    let port = s.port;
    let runner = std::thread::spawn(move || {
        let mut a = RawConn::connect(port).unwrap();
        a.set_read_timeout(Duration::from_secs(20));
        a.cmd(&["EVAL", "local i = 0 while true do i = i + 1 end", "0"])
    });
    let mut b = RawConn::connect(port).unwrap();
    // Past the threshold others get BUSY, without waiting for the script.
    wait_for(Duration::from_secs(5), || {
        b.cmd(&["GET", "k"]) == Reply::Error(BUSY_EVAL.into())
    });
    let started = Instant::now();
    assert_eq!(b.cmd(&["SET", "k", "v"]), Reply::Error(BUSY_EVAL.into()));
    assert!(started.elapsed() < Duration::from_secs(1));
    // MULTI is allowed while busy; a queued command is refused, which dooms the EXEC.
    assert_eq!(b.cmd(&["MULTI"]), ok());
    assert_eq!(b.cmd(&["INCR", "k"]), Reply::Error(BUSY_EVAL.into()));
    assert_eq!(
        error_text(&b.cmd(&["EXEC"])),
        format!("EXECABORT Transaction discarded because of: {BUSY_EVAL}")
    );
    // FUNCTION KILL and FUNCTION STATS name the running EVAL.
    assert_eq!(b.cmd(&["FUNCTION", "KILL"]), Reply::Error(BUSY_EVAL.into()));
    assert_eq!(
        b.cmd(&["FUNCTION", "STATS"]),
        Reply::Error(BUSY_EVAL.into())
    );
    assert_eq!(b.cmd(&["SCRIPT", "KILL"]), ok());
    let reply = runner.join().unwrap();
    let text = error_text(&reply);
    assert!(
        text.starts_with("ERR Script killed by user with SCRIPT KILL... script: "),
        "{text}"
    );
    assert_eq!(b.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(
        b.cmd(&["SCRIPT", "KILL"]),
        Reply::Error("NOTBUSY No scripts in execution right now.".into())
    );
}

#[test]
fn a_script_that_wrote_is_unkillable_but_shutdown_nosave_stops_the_server() {
    let mut s = TestServer::fincache_with(&["--busy-reply-threshold", "100"]);
    let port = s.port;
    let _runner = std::thread::spawn(move || {
        let mut a = RawConn::connect(port).unwrap();
        a.set_read_timeout(Duration::from_secs(20));
        let _ = a.call(&["EVAL", "redis.call('set', 'x', 'y') while true do end", "0"]);
    });
    let mut b = RawConn::connect(port).unwrap();
    wait_for(Duration::from_secs(5), || {
        b.cmd(&["PING"]) == Reply::Error(BUSY_EVAL.into())
    });
    let unkillable = error_text(&b.cmd(&["SCRIPT", "KILL"]));
    assert!(unkillable.starts_with("UNKILLABLE Sorry the script already executed write commands"));
    // SHUTDOWN without NOSAVE is refused while busy.
    assert_eq!(b.cmd(&["SHUTDOWN"]), Reply::Error(BUSY_EVAL.into()));
    let _ = b.call(&["SHUTDOWN", "NOSAVE"]);
    wait_for(Duration::from_secs(10), || s.exited());
}

#[test]
fn scripts_are_atomic_for_concurrent_readers() {
    let s = TestServer::fincache();
    let port = s.port;
    let mut w = RawConn::connect(port).unwrap();
    w.cmd(&["MSET", "{x}a", "500", "b", "500"]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut r = RawConn::connect(port).unwrap();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Reply::Array(items) = r.cmd(&["MGET", "{x}a", "b"]) {
                    let v = |r: &Reply| match r {
                        Reply::Bulk(b) => std::str::from_utf8(b).unwrap().parse::<i64>().unwrap(),
                        other => panic!("{other:?}"),
                    };
                    assert_eq!(v(&items[0]) + v(&items[1]), 1000, "saw half a script");
                }
                n += 1;
            }
            n
        })
    };
    let script = "redis.call('decrby', KEYS[1], 3) redis.call('incrby', KEYS[2], 3) return 1";
    let deadline = Instant::now() + Duration::from_millis(600);
    let mut runs = 0;
    while Instant::now() < deadline {
        assert_eq!(w.cmd(&["EVAL", script, "2", "{x}a", "b"]), Reply::Int(1));
        runs += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(runs > 10 && reads > 10);
}

#[test]
fn math_random_follows_redis_generator() {
    let script = "return {math.random(100), math.random(100), math.random(100), math.random(100)}";
    let fresh = |port: u16| RawConn::connect(port).unwrap().cmd(&["EVAL", script, "0"]);
    let f = TestServer::fincache();
    let ints = |v: &[i64]| Reply::Array(v.iter().map(|&n| Reply::Int(n)).collect());
    // redisLrand48 from its fixed initial state, as a freshly started Redis.
    assert_eq!(fresh(f.port), ints(&[40, 85, 36, 45]));
    if let Some(r) = TestServer::redis() {
        assert_eq!(fresh(r.port), ints(&[40, 85, 36, 45]));
    }
    // The sequence goes on across scripts and connections (Redis 7 does not reseed).
    let again = fresh(f.port);
    assert_ne!(again, ints(&[40, 85, 36, 45]));
    let mut c = RawConn::connect(f.port).unwrap();
    let seeded = "math.randomseed(7) return {math.random(1000), math.random(1000)}";
    let first = c.cmd(&["EVAL", seeded, "0"]);
    assert_eq!(c.cmd(&["EVAL", seeded, "0"]), first);
}

#[test]
fn resp3_client_sees_resp3_types() {
    let s = TestServer::fincache();
    let mut c = RawConn::connect(s.port).unwrap();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["HSET", "h", "f", "v"]);
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "redis.setresp(3) return redis.call('hgetall', 'h')",
            "0"
        ]),
        Reply::Map(vec![(
            Reply::Bulk(b"f".to_vec()),
            Reply::Bulk(b"v".to_vec())
        )])
    );
    assert_eq!(
        c.cmd(&["EVAL", "redis.setresp(3) return true", "0"]),
        Reply::Bool(true)
    );
    assert_eq!(c.cmd(&["EVAL", "return true", "0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EVAL", "return false", "0"]), Reply::Null);
    assert_eq!(
        c.cmd(&["EVAL", "return {double=1.5}", "0"]),
        Reply::Double(1.5)
    );
    assert_eq!(
        c.cmd(&["EVAL", "return {big_number='12345678901234567890'}", "0"]),
        Reply::BigNumber("12345678901234567890".into())
    );
    assert_eq!(
        c.cmd(&["EVAL", "return {set={a=true}}", "0"]),
        Reply::Set(vec![Reply::Bulk(b"a".to_vec())])
    );
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return {verbatim_string={format='txt', string='hi'}}",
            "0"
        ]),
        Reply::Verbatim("txt".into(), b"hi".to_vec())
    );
    // A RESP3 client's protocol does not change what redis.call returns (RESP2 by default).
    assert_eq!(
        c.cmd(&["EVAL", "return type(redis.call('hgetall', 'h'))", "0"]),
        Reply::Bulk(b"table".to_vec())
    );
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('hgetall', 'h')[1]", "0"]),
        Reply::Bulk(b"f".to_vec())
    );
}

#[test]
fn sandbox_changes_do_not_leak_between_scripts() {
    let s = TestServer::fincache();
    let mut c = RawConn::connect(s.port).unwrap();
    let attempts = [
        "redis.call = function() return 'hacked' end",
        "string.len = function() return 0 end",
        "rawset(string, 'len', nil)",
        "setmetatable(_G, nil)",
        "getmetatable('').__index = {}",
        "local mt = getmetatable('') mt.__index.upper = nil",
        "_G.redis = nil",
        "rawset(_G, 'evil', 1)",
        "local g = _G g.tostring = nil",
    ];
    for a in attempts {
        let _ = c.cmd(&["EVAL", a, "0"]);
    }
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('ping')", "0"]),
        Reply::Simple("PONG".into())
    );
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return {string.len('abc'), ('abc'):upper(), tostring(1)}",
            "0"
        ]),
        Reply::Array(vec![
            Reply::Int(3),
            Reply::Bulk(b"ABC".to_vec()),
            Reply::Bulk(b"1".to_vec())
        ])
    );
    let err = error_text(&c.cmd(&["EVAL", "return evil", "0"]));
    assert!(err.contains("nonexistent global variable 'evil'"), "{err}");
}

#[test]
fn scripts_see_one_instant() {
    let s = TestServer::fincache();
    let mut c = RawConn::connect(s.port).unwrap();
    // A key expiring while the script runs stays visible to the whole script (time frozen).
    c.cmd(&["SET", "k", "v", "PX", "100"]);
    let script = "local a = redis.call('get', 'k') \
                  local t = redis.call('time') local s = tonumber(t[1]) \
                  while tonumber(redis.call('time')[1]) < s + 1 do end \
                  return {a, redis.call('get', 'k')}";
    assert_eq!(
        c.cmd(&["EVAL", script, "0"]),
        Reply::Array(vec![Reply::Bulk(b"v".to_vec()), Reply::Bulk(b"v".to_vec())])
    );
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Null);
}
