//! maxmemory and eviction: every policy keeps used memory at the limit under a write load and
//! evicts the keys its policy says; noeviction refuses writes with the OOM error; LFU counters
//! (OBJECT FREQ); `evicted` keyspace events and WATCH.
//!
//! Sizes are small (a few MB over the server's start-up memory) so each test runs in seconds.

mod support;

use redis::{Connection, RedisResult, Value};
use support::TestServer;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn info_field(c: &mut Connection, section: &str, name: &str) -> u64 {
    let text: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no {name}"))
}

fn used_memory(c: &mut Connection) -> u64 {
    info_field(c, "memory", "used_memory")
}

fn evicted(c: &mut Connection) -> u64 {
    info_field(c, "stats", "evicted_keys")
}

fn config_set(c: &mut Connection, name: &str, value: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(c)
        .unwrap();
}

/// Sets maxmemory to the current used memory plus `headroom` bytes; returns the limit.
fn limit_to_used_plus(c: &mut Connection, headroom: u64) -> u64 {
    let limit = used_memory(c) + headroom;
    config_set(c, "maxmemory", &limit.to_string());
    limit
}

fn exists(c: &mut Connection, key: &str) -> bool {
    redis::cmd("EXISTS").arg(key).query::<i64>(c).unwrap() == 1
}

/// Redis lets used memory pass the limit by what one command allocates before the next
/// command evicts; allow that plus allocator slack.
fn assert_near_limit(c: &mut Connection, limit: u64) {
    let used = used_memory(c);
    assert!(
        used <= limit + limit / 20 + 64 * 1024,
        "used {used} is well over maxmemory {limit}"
    );
}

fn value(n: usize) -> String {
    "v".repeat(n)
}

#[test]
fn every_policy_keeps_memory_at_the_limit() {
    let policies = [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ];
    for policy in policies {
        let srv = TestServer::fincache();
        let mut c = srv.conn();
        config_set(&mut c, "maxmemory-policy", policy);
        // Keys without TTL: volatile policies must never evict them.
        for i in 0..200 {
            let _: () = redis::cmd("SET")
                .arg(format!("keep:{i}"))
                .arg(value(100))
                .query(&mut c)
                .unwrap();
        }
        let limit = limit_to_used_plus(&mut c, 2 << 20);
        let mut pipe = redis::pipe();
        for i in 0..12_000 {
            pipe.cmd("SET")
                .arg(format!("load:{i}"))
                .arg(value(400))
                .arg("EX")
                .arg(100_000)
                .ignore();
            if i % 500 == 499 {
                let r: RedisResult<()> = pipe.query(&mut c);
                r.unwrap_or_else(|e| panic!("{policy}: {e}"));
                pipe = redis::pipe();
            }
        }
        assert_near_limit(&mut c, limit);
        assert!(evicted(&mut c) > 1000, "{policy}: too few evictions");
        let dbsize: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert!(
            dbsize < 12_000,
            "{policy}: nothing was evicted ({dbsize} keys)"
        );
        if policy.starts_with("volatile") {
            for i in 0..200 {
                assert!(
                    exists(&mut c, &format!("keep:{i}")),
                    "{policy} evicted keep:{i}"
                );
            }
        }
    }
}

#[test]
fn allkeys_lru_keeps_the_hot_set() {
    let srv = TestServer::fincache();
    let mut c = srv.conn();
    config_set(&mut c, "maxmemory-policy", "allkeys-lru");
    let mut pipe = redis::pipe();
    for i in 0..100 {
        pipe.cmd("SET")
            .arg(format!("hot:{i}"))
            .arg(value(1000))
            .ignore();
    }
    for i in 0..1500 {
        pipe.cmd("SET")
            .arg(format!("cold:{i}"))
            .arg(value(1000))
            .ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    // The LRU clock has one-second resolution: let the cold keys age.
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let limit = limit_to_used_plus(&mut c, 0);
    for round in 0..8 {
        for i in 0..100 {
            let _: Option<String> = redis::cmd("GET")
                .arg(format!("hot:{i}"))
                .query(&mut c)
                .unwrap();
        }
        let mut pipe = redis::pipe();
        for i in 0..100 {
            pipe.cmd("SET")
                .arg(format!("new:{round}:{i}"))
                .arg(value(1000))
                .ignore();
        }
        let _: () = pipe.query(&mut c).unwrap();
    }
    assert_near_limit(&mut c, limit);
    assert!(evicted(&mut c) >= 500, "expected evictions");
    let hot_left = (0..100)
        .filter(|i| exists(&mut c, &format!("hot:{i}")))
        .count();
    assert!(hot_left >= 90, "only {hot_left} of 100 hot keys survived");
}

#[test]
fn volatile_ttl_evicts_the_shortest_ttls_first() {
    let srv = TestServer::fincache();
    let mut c = srv.conn();
    config_set(&mut c, "maxmemory-policy", "volatile-ttl");
    let mut pipe = redis::pipe();
    for i in 0..400 {
        pipe.cmd("SET")
            .arg(format!("short:{i}"))
            .arg(value(1000))
            .arg("EX")
            .arg(1000 + i)
            .ignore();
        pipe.cmd("SET")
            .arg(format!("long:{i}"))
            .arg(value(1000))
            .arg("EX")
            .arg(1_000_000 + i)
            .ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    limit_to_used_plus(&mut c, 0);
    let mut pipe = redis::pipe();
    for i in 0..300 {
        pipe.cmd("SET")
            .arg(format!("later:{i}"))
            .arg(value(1000))
            .arg("EX")
            .arg(2_000_000)
            .ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    let short_gone = (0..400)
        .filter(|i| !exists(&mut c, &format!("short:{i}")))
        .count();
    let long_gone = (0..400)
        .filter(|i| !exists(&mut c, &format!("long:{i}")))
        .count();
    assert!(
        short_gone >= 200,
        "only {short_gone} short-TTL keys evicted"
    );
    assert!(
        long_gone * 5 <= short_gone,
        "long-TTL keys evicted too: {long_gone} vs {short_gone}"
    );
}

#[test]
fn noeviction_refuses_writes_but_serves_reads() {
    let srv = TestServer::fincache();
    let mut c = srv.conn();
    let _: () = redis::cmd("SET")
        .arg("present")
        .arg("yes")
        .query(&mut c)
        .unwrap();
    // A transaction queued while there was room: its EXEC is refused once memory is full.
    let mut queued = srv.conn();
    let _: () = redis::cmd("MULTI").query(&mut queued).unwrap();
    let _: () = redis::cmd("SET")
        .arg("q")
        .arg("1")
        .query(&mut queued)
        .unwrap();
    limit_to_used_plus(&mut c, 256 * 1024);
    let mut refused = None;
    for i in 0..5000 {
        let r: RedisResult<()> = redis::cmd("SET")
            .arg(format!("k:{i}"))
            .arg(value(1000))
            .query(&mut c);
        if let Err(e) = r {
            refused = Some(e);
            break;
        }
    }
    let e = refused.expect("writes past maxmemory must be refused");
    assert_eq!(e.code(), Some("OOM"), "{e:?}");
    assert!(
        e.to_string()
            .contains("command not allowed when used memory"),
        "{e}"
    );
    let mut raw = support::RawConn::connect(srv.port).unwrap();
    match raw.cmd(&["SET", "again", "x"]) {
        fincache_resp::Reply::Error(e) => assert_eq!(e, OOM),
        other => panic!("SET under OOM: {other:?}"),
    }
    let exec: RedisResult<Value> = redis::cmd("EXEC").query(&mut queued);
    let abort = exec.unwrap_err();
    assert_eq!(abort.code(), Some("EXECABORT"), "{abort:?}");
    assert!(
        abort.to_string().contains("OOM command not allowed"),
        "{abort}"
    );
    assert!(!exists(&mut c, "q"));
    assert_eq!(evicted(&mut c), 0);
    let v: String = redis::cmd("GET").arg("present").query(&mut c).unwrap();
    assert_eq!(v, "yes");
    // Inside MULTI even a read is refused at queueing time, and EXEC aborts (as in Redis).
    let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
    let q: RedisResult<()> = redis::cmd("GET").arg("present").query(&mut c);
    assert_eq!(q.unwrap_err().code(), Some("OOM"));
    let exec: RedisResult<Value> = redis::cmd("EXEC").query(&mut c);
    let abort = exec.unwrap_err();
    assert_eq!(abort.code(), Some("EXECABORT"), "{abort:?}");
    // Deleting is allowed.
    let n: i64 = redis::cmd("DEL").arg("k:0").query(&mut c).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn object_freq_counts_accesses_under_lfu() {
    let srv = TestServer::fincache();
    let mut c = srv.conn();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let lru_err: RedisResult<i64> = redis::cmd("OBJECT").arg("FREQ").arg("k").query(&mut c);
    assert!(lru_err
        .unwrap_err()
        .to_string()
        .contains("An LFU maxmemory policy is not selected"));
    config_set(&mut c, "maxmemory-policy", "allkeys-lfu");
    // Factor 0: every access increments the counter.
    config_set(&mut c, "lfu-log-factor", "0");
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let f0: i64 = redis::cmd("OBJECT")
        .arg("FREQ")
        .arg("k")
        .query(&mut c)
        .unwrap();
    for _ in 0..10 {
        let _: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    }
    let f1: i64 = redis::cmd("OBJECT")
        .arg("FREQ")
        .arg("k")
        .query(&mut c)
        .unwrap();
    assert_eq!(f1, f0 + 10, "factor 0 increments once per access");
    // The default factor grows logarithmically: 200 accesses add only a few steps.
    config_set(&mut c, "lfu-log-factor", "10");
    for _ in 0..200 {
        let _: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    }
    let f2: i64 = redis::cmd("OBJECT")
        .arg("FREQ")
        .arg("k")
        .query(&mut c)
        .unwrap();
    assert!(f2 > f1 && f2 < f1 + 40, "{f1} -> {f2}");
    let missing: Option<i64> = redis::cmd("OBJECT")
        .arg("FREQ")
        .arg("nokey")
        .query(&mut c)
        .unwrap();
    assert_eq!(missing, None);
    let idle: RedisResult<i64> = redis::cmd("OBJECT").arg("IDLETIME").arg("k").query(&mut c);
    assert!(idle
        .unwrap_err()
        .to_string()
        .contains("An LFU maxmemory policy is selected"));
}

#[test]
fn eviction_publishes_events_and_touches_watched_keys() {
    let srv = TestServer::fincache();
    let mut c = srv.conn();
    config_set(&mut c, "notify-keyspace-events", "Ee");
    config_set(&mut c, "maxmemory-policy", "volatile-ttl");
    let _: () = redis::cmd("SET")
        .arg("persistent")
        .arg("p")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("doomed")
        .arg("d")
        .arg("EX")
        .arg(1000)
        .query(&mut c)
        .unwrap();

    let mut sub_conn = srv.conn();
    let mut sub = sub_conn.as_pubsub();
    sub.subscribe("__keyevent@0__:evicted").unwrap();
    sub.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();

    let mut watcher = srv.conn();
    let _: () = redis::cmd("WATCH")
        .arg("doomed")
        .query(&mut watcher)
        .unwrap();

    config_set(&mut c, "maxmemory", "1");
    // The next command evicts: the only volatile key goes, then nothing more can.
    let v: Option<String> = redis::cmd("GET").arg("persistent").query(&mut c).unwrap();
    assert_eq!(v.as_deref(), Some("p"));
    assert!(!exists(&mut c, "doomed"));
    assert!(exists(&mut c, "persistent"));
    let oom: RedisResult<()> = redis::cmd("SET").arg("x").arg("y").query(&mut c);
    assert_eq!(oom.unwrap_err().code(), Some("OOM"));

    let msg = sub.get_message().unwrap();
    assert_eq!(msg.get_channel_name(), "__keyevent@0__:evicted");
    assert_eq!(msg.get_payload::<String>().unwrap(), "doomed");

    // Nothing queued (under OOM, MULTI refuses every queued command, as Redis does).
    let _: () = redis::cmd("MULTI").query(&mut watcher).unwrap();
    let exec: Option<Vec<String>> = redis::cmd("EXEC").query(&mut watcher).unwrap();
    assert_eq!(exec, None, "EXEC must fail: a watched key was evicted");
    assert_eq!(evicted(&mut c), 1);
}
