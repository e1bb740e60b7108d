//! Generic key commands through a real client: DEL/UNLINK/EXISTS/TYPE/TOUCH, RENAME/RENAMENX,
//! COPY/MOVE, SELECT/SWAPDB, FLUSHDB/FLUSHALL, KEYS, SCAN (including its guarantee under
//! concurrent writes), RANDOMKEY and OBJECT. Glob patterns are compared with `redis-server`.

mod support;
use support::err_text;

use redis::{Connection, Value};
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::{raw, TestServer};

fn int(conn: &mut Connection, args: &[&str]) -> i64 {
    match raw(conn, args) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

fn ok(conn: &mut Connection, args: &[&str]) {
    match raw(conn, args) {
        Ok(Value::Okay) => {}
        Ok(Value::SimpleString(s)) if s == "OK" => {}
        other => panic!("{args:?}: expected OK, got {other:?}"),
    }
}

fn get(conn: &mut Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(conn).expect("GET")
}

/// Every key of a full SCAN iteration with the given extra options (duplicates kept).
fn scan_all(conn: &mut Connection, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    let mut calls = 0;
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg(extra)
            .query(conn)
            .expect("SCAN");
        keys.extend(batch);
        calls += 1;
        assert!(calls < 1_000_000, "SCAN does not terminate");
        if next == "0" {
            return keys;
        }
        cursor = next;
    }
}

#[test]
fn del_unlink_exists_type_touch() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["SET", "b", "2"]);
    assert_eq!(int(&mut c, &["EXISTS", "a", "a", "b", "nope"]), 3);
    assert_eq!(int(&mut c, &["TOUCH", "a", "nope", "b"]), 2);
    assert_eq!(
        raw(&mut c, &["TYPE", "a"]).unwrap(),
        Value::SimpleString("string".into())
    );
    assert_eq!(
        raw(&mut c, &["TYPE", "nope"]).unwrap(),
        Value::SimpleString("none".into())
    );
    assert_eq!(int(&mut c, &["DEL", "a", "a", "nope"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "a"]), 0);
    assert_eq!(int(&mut c, &["UNLINK", "b", "a"]), 1);
    assert_eq!(int(&mut c, &["DBSIZE"]), 0);
    assert_eq!(
        err_text(raw(&mut c, &["DEL"])),
        "ERR wrong number of arguments for 'del' command"
    );
    // Keys spread over many shards in one call.
    let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
    for k in &keys {
        ok(&mut c, &["SET", k, "v"]);
    }
    let mut args = vec!["DEL"];
    args.extend(keys.iter().map(String::as_str));
    assert_eq!(int(&mut c, &args), 200);
}

#[test]
fn rename_and_renamenx() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    assert_eq!(
        err_text(raw(&mut c, &["RENAME", "nope", "x"])),
        "ERR no such key"
    );
    assert_eq!(
        err_text(raw(&mut c, &["RENAMENX", "nope", "x"])),
        "ERR no such key"
    );
    ok(&mut c, &["SET", "src", "v"]);
    ok(&mut c, &["RENAME", "src", "src"]);
    assert_eq!(int(&mut c, &["RENAMENX", "src", "src"]), 0);
    assert_eq!(int(&mut c, &["PEXPIRE", "src", "100000"]), 1);
    ok(&mut c, &["SET", "dst", "old"]);
    ok(&mut c, &["RENAME", "src", "dst"]);
    assert_eq!(get(&mut c, "dst").as_deref(), Some("v"));
    assert_eq!(int(&mut c, &["EXISTS", "src"]), 0);
    let pttl = int(&mut c, &["PTTL", "dst"]);
    assert!(
        pttl > 90_000 && pttl <= 100_000,
        "TTL travels with the value: {pttl}"
    );
    ok(&mut c, &["SET", "other", "x"]);
    assert_eq!(int(&mut c, &["RENAMENX", "dst", "other"]), 0);
    assert_eq!(int(&mut c, &["RENAMENX", "dst", "fresh"]), 1);
    assert_eq!(get(&mut c, "fresh").as_deref(), Some("v"));
    // A key without TTL renamed over a key with one: the result has no TTL.
    assert_eq!(int(&mut c, &["EXPIRE", "fresh", "100"]), 1);
    ok(&mut c, &["RENAME", "other", "fresh"]);
    assert_eq!(int(&mut c, &["TTL", "fresh"]), -1);
}

#[test]
fn copy_and_move_between_databases() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let mut c1 = server.conn();
    ok(&mut c1, &["SELECT", "1"]);
    ok(&mut c, &["SET", "a", "1"]);
    assert_eq!(int(&mut c, &["PEXPIRE", "a", "100000"]), 1);
    assert_eq!(int(&mut c, &["COPY", "a", "b"]), 1);
    assert!(int(&mut c, &["PTTL", "b"]) > 90_000);
    assert_eq!(int(&mut c, &["COPY", "a", "b"]), 0);
    ok(&mut c, &["SET", "a", "2"]);
    assert_eq!(int(&mut c, &["COPY", "a", "b", "REPLACE"]), 1);
    assert_eq!(get(&mut c, "b").as_deref(), Some("2"));
    assert_eq!(int(&mut c, &["TTL", "b"]), -1);
    assert_eq!(int(&mut c, &["COPY", "a", "a", "DB", "1"]), 1);
    assert_eq!(get(&mut c1, "a").as_deref(), Some("2"));
    assert_eq!(
        err_text(raw(&mut c, &["COPY", "a", "a"])),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err_text(raw(&mut c, &["COPY", "a", "a", "DB", "0"])),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err_text(raw(&mut c, &["COPY", "a", "x", "DB", "16"])),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err_text(raw(&mut c, &["COPY", "a", "x", "DB"])),
        "ERR syntax error"
    );
    assert_eq!(int(&mut c, &["COPY", "nope", "x"]), 0);

    // MOVE: fails when the key exists there, keeps the TTL when it moves.
    assert_eq!(int(&mut c, &["MOVE", "a", "1"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "b", "500"]), 1);
    assert_eq!(int(&mut c, &["MOVE", "b", "1"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "b"]), 0);
    let ttl = int(&mut c1, &["TTL", "b"]);
    assert!((490..=500).contains(&ttl), "{ttl}");
    assert_eq!(int(&mut c, &["MOVE", "nope", "1"]), 0);
    assert_eq!(
        err_text(raw(&mut c, &["MOVE", "a", "0"])),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err_text(raw(&mut c, &["MOVE", "a", "x"])),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(raw(&mut c, &["MOVE", "a", "-1"])),
        "ERR DB index is out of range"
    );
}

#[test]
fn select_swapdb_flush() {
    let server = TestServer::fincache();
    let mut c0 = server.conn();
    let mut c1 = server.conn();
    ok(&mut c1, &["SELECT", "1"]);
    ok(&mut c0, &["SET", "zero", "0"]);
    ok(&mut c1, &["SET", "one", "1"]);
    assert_eq!(int(&mut c0, &["DBSIZE"]), 1);
    ok(&mut c0, &["SWAPDB", "0", "1"]);
    // Each connection keeps its number and sees the other contents at once.
    assert_eq!(get(&mut c0, "one").as_deref(), Some("1"));
    assert_eq!(get(&mut c1, "zero").as_deref(), Some("0"));
    ok(&mut c0, &["SWAPDB", "1", "1"]);
    assert_eq!(
        err_text(raw(&mut c0, &["SWAPDB", "0", "16"])),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err_text(raw(&mut c0, &["SWAPDB", "x", "1"])),
        "ERR invalid first DB index"
    );
    assert_eq!(
        err_text(raw(&mut c0, &["SWAPDB", "1", "4294967296"])),
        "ERR invalid second DB index"
    );
    assert_eq!(
        err_text(raw(&mut c0, &["SELECT", "16"])),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err_text(raw(&mut c0, &["SELECT", "4294967296"])),
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    );
    ok(&mut c0, &["FLUSHDB"]);
    assert_eq!(int(&mut c0, &["DBSIZE"]), 0);
    assert_eq!(int(&mut c1, &["DBSIZE"]), 1);
    ok(&mut c0, &["SET", "again", "x"]);
    ok(&mut c0, &["FLUSHALL", "ASYNC"]);
    assert_eq!(int(&mut c0, &["DBSIZE"]), 0);
    assert_eq!(int(&mut c1, &["DBSIZE"]), 0);
    assert_eq!(
        err_text(raw(&mut c0, &["FLUSHALL", "LATER"])),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(raw(&mut c0, &["FLUSHDB", "SYNC", "ASYNC"])),
        "ERR syntax error"
    );
    ok(&mut c0, &["FLUSHDB", "sync"]);
}

#[test]
fn databases_setting_bounds_select() {
    let server = TestServer::fincache_with(&["--databases", "4"]);
    let mut c = server.conn();
    ok(&mut c, &["SELECT", "3"]);
    assert_eq!(
        err_text(raw(&mut c, &["SELECT", "4"])),
        "ERR DB index is out of range"
    );
}

#[test]
fn keys_and_scan_see_every_key() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let mut expected = BTreeSet::new();
    for i in 0..1000 {
        let k = format!("user:{i}");
        ok(&mut c, &["SET", &k, "v"]);
        expected.insert(k);
    }
    ok(&mut c, &["SET", "", "empty"]);
    let keys: Vec<String> = redis::cmd("KEYS").arg("user:*").query(&mut c).unwrap();
    assert_eq!(keys.into_iter().collect::<BTreeSet<_>>(), expected);
    let all: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    assert_eq!(all.len(), 1001, "KEYS * includes the empty key");
    let starstar: Vec<String> = redis::cmd("KEYS").arg("**").query(&mut c).unwrap();
    assert_eq!(
        starstar.len(),
        1000,
        "only the exact pattern * matches the empty key"
    );

    let scanned = scan_all(&mut c, &["COUNT", "7"]);
    let set: BTreeSet<String> = scanned.iter().cloned().collect();
    assert_eq!(
        scanned.len(),
        1001,
        "a quiet keyspace is scanned once per key"
    );
    assert_eq!(set.len(), 1001);
    let matched: BTreeSet<String> = scan_all(&mut c, &["MATCH", "user:1*"])
        .into_iter()
        .collect();
    assert_eq!(matched.len(), 111);
    assert!(scan_all(&mut c, &["TYPE", "list"]).is_empty());
    assert!(scan_all(&mut c, &["TYPE", "nosuchtype"]).is_empty());
    assert_eq!(
        scan_all(&mut c, &["TYPE", "STRING", "COUNT", "1000"]).len(),
        1001
    );

    // COUNT bounds a call's keys.
    let (_, batch): (String, Vec<String>) = redis::cmd("SCAN")
        .arg("0")
        .arg("COUNT")
        .arg("5")
        .query(&mut c)
        .unwrap();
    assert!(batch.len() <= 5);

    assert_eq!(
        err_text(raw(&mut c, &["SCAN", "abc"])),
        "ERR invalid cursor"
    );
    assert_eq!(err_text(raw(&mut c, &["SCAN", " 1"])), "ERR invalid cursor");
    assert_eq!(
        err_text(raw(&mut c, &["SCAN", "18446744073709551616"])),
        "ERR invalid cursor"
    );
    assert_eq!(
        err_text(raw(&mut c, &["SCAN", "0", "COUNT", "0"])),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(raw(&mut c, &["SCAN", "0", "COUNT", "x"])),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(raw(&mut c, &["SCAN", "0", "MATCH"])),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(raw(&mut c, &["SCAN", "0", "FOO", "bar"])),
        "ERR syntax error"
    );
    // Odd but valid cursors never fail.
    for cursor in ["-1", "", "+3", "18446744073709551615", "12345678901234"] {
        let r = raw(&mut c, &["SCAN", cursor]);
        assert!(r.is_ok(), "SCAN {cursor:?}: {r:?}");
    }
}

/// Redis's SCAN guarantee: a key present for the whole iteration is returned, even while other
/// keys are deleted and inserted concurrently (deletion moves keys inside a shard).
#[test]
fn scan_returns_stable_keys_despite_concurrent_churn() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let mut stable = HashSet::new();
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        let s = format!("stable:{i}");
        pipe.cmd("SET").arg(&s).arg("1").ignore();
        pipe.cmd("SET").arg(format!("churn:{i}")).arg("1").ignore();
        stable.insert(s);
    }
    pipe.query::<()>(&mut c).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2 {
        let stop = stop.clone();
        let mut wc = server.conn();
        writers.push(std::thread::spawn(move || {
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut p = redis::pipe();
                for i in 0..50 {
                    let n = (round * 50 + i) % 3000;
                    // Delete an old churn key (moves the shard's last key into its slot) and
                    // add a new one.
                    p.cmd("DEL").arg(format!("churn:{n}")).ignore();
                    p.cmd("SET")
                        .arg(format!("new:{w}:{round}:{i}"))
                        .arg("1")
                        .ignore();
                    if i % 5 == 0 {
                        p.cmd("DEL")
                            .arg(format!("new:{w}:{}:{i}", round.saturating_sub(3)))
                            .ignore();
                    }
                }
                p.query::<()>(&mut wc).unwrap();
                round += 1;
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg("COUNT")
            .arg("20")
            .query(&mut c)
            .unwrap();
        seen.extend(batch);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let missing: Vec<&String> = stable.iter().filter(|k| !seen.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} stable keys missed, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn randomkey_and_object() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    assert_eq!(raw(&mut c, &["RANDOMKEY"]).unwrap(), Value::Nil);
    ok(&mut c, &["SET", "only", "1"]);
    assert_eq!(
        raw(&mut c, &["RANDOMKEY"]).unwrap(),
        Value::BulkString(b"only".to_vec())
    );
    ok(&mut c, &["SET", "gone", "1"]);
    assert_eq!(int(&mut c, &["PEXPIRE", "gone", "1"]), 1);
    std::thread::sleep(std::time::Duration::from_millis(20));
    for _ in 0..20 {
        assert_eq!(
            raw(&mut c, &["RANDOMKEY"]).unwrap(),
            Value::BulkString(b"only".to_vec())
        );
    }

    let enc =
        |c: &mut Connection, k: &str| -> Value { raw(c, &["OBJECT", "ENCODING", k]).unwrap() };
    ok(&mut c, &["SET", "n", "12345"]);
    ok(&mut c, &["SET", "s", "hello"]);
    ok(&mut c, &["SET", "l", &"x".repeat(45)]);
    ok(&mut c, &["SET", "e", &"x".repeat(44)]);
    assert_eq!(enc(&mut c, "n"), Value::BulkString(b"int".to_vec()));
    assert_eq!(enc(&mut c, "s"), Value::BulkString(b"embstr".to_vec()));
    assert_eq!(enc(&mut c, "e"), Value::BulkString(b"embstr".to_vec()));
    assert_eq!(enc(&mut c, "l"), Value::BulkString(b"raw".to_vec()));
    assert_eq!(enc(&mut c, "nope"), Value::Nil);
    ok(&mut c, &["SET", "shared", "100"]);
    assert_eq!(int(&mut c, &["OBJECT", "REFCOUNT", "shared"]), 2147483647);
    assert_eq!(int(&mut c, &["OBJECT", "REFCOUNT", "n"]), 1);
    assert_eq!(int(&mut c, &["OBJECT", "REFCOUNT", "s"]), 1);
    assert_eq!(int(&mut c, &["OBJECT", "IDLETIME", "s"]), 0);
    assert_eq!(
        raw(&mut c, &["OBJECT", "IDLETIME", "nope"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        err_text(raw(&mut c, &["OBJECT", "FREQ", "s"])),
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    assert_eq!(
        raw(&mut c, &["OBJECT", "FREQ", "nope"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        err_text(raw(&mut c, &["OBJECT", "NOPE", "s"])),
        "ERR unknown subcommand 'NOPE'. Try OBJECT HELP."
    );
    match raw(&mut c, &["OBJECT", "HELP"]).unwrap() {
        Value::Array(lines) => assert_eq!(lines.len(), 15),
        other => panic!("OBJECT HELP: {other:?}"),
    }
}

#[test]
fn object_under_an_lfu_policy() {
    let server = TestServer::fincache_with(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = server.conn();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        err_text(raw(&mut c, &["OBJECT", "IDLETIME", "k"])),
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    assert_eq!(
        raw(&mut c, &["OBJECT", "IDLETIME", "nope"]).unwrap(),
        Value::Nil
    );
}

#[test]
fn object_idletime_grows_and_touch_resets_it() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    ok(&mut c, &["SET", "k", "v"]);
    std::thread::sleep(std::time::Duration::from_millis(2300));
    let idle = int(&mut c, &["OBJECT", "IDLETIME", "k"]);
    assert!((1..=3).contains(&idle), "idle {idle}");
    // EXISTS, TYPE and TTL do not touch the key; TOUCH does.
    int(&mut c, &["EXISTS", "k"]);
    int(&mut c, &["TTL", "k"]);
    assert!(int(&mut c, &["OBJECT", "IDLETIME", "k"]) >= 1);
    assert_eq!(int(&mut c, &["TOUCH", "k"]), 1);
    assert_eq!(int(&mut c, &["OBJECT", "IDLETIME", "k"]), 0);
}

/// Patterns with Redis's glob quirks, compared key for key with `redis-server`.
#[test]
fn keys_glob_matches_redis() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipping the glob comparison");
        return;
    };
    let fincache = TestServer::fincache();
    let keys: &[&[u8]] = &[
        b"",
        b"a",
        b"b",
        b"ab",
        b"abc",
        b"aXc",
        b"hello",
        b"hallo",
        b"hllo",
        b"heeello",
        b"]",
        b"[",
        b"\\",
        b"-",
        b"^",
        b"?",
        b"*",
        b"x-",
        b"xa",
        b"xb",
        b"a*b",
        b"a?b",
        b"A",
        b"B",
        b"\xc8",
        b"\xff",
        b"a\xc8",
        b"user:1:balance",
        b"user::balance",
        b"{tag}x",
        b"a\\b",
    ];
    let patterns: &[&[u8]] = &[
        b"*",
        b"**",
        b"?",
        b"??",
        b"*?",
        b"?*",
        b"a*",
        b"*a",
        b"h?llo",
        b"h*llo",
        b"h[ae]llo",
        b"h[^e]llo",
        b"h[a-b]llo",
        b"h[b-a]llo",
        b"[]]",
        b"[]a]",
        b"[\\]]",
        b"[\\-]",
        b"[\\",
        b"\\?",
        b"\\*",
        b"a\\*b",
        b"\\",
        b"x[a-",
        b"[^",
        b"[",
        b"[abc",
        b"[a-\xff]",
        b"[\x80-\xff]",
        b"[\xc8]",
        b"*\xc8",
        b"user:*:balance",
        b"user:?*:balance",
        b"[a-c]",
        b"[A-C]",
        b"[^a-c]",
        b"*[",
        b"a**b",
        b"*b*",
        b"{tag}*",
        b"a\\\\b",
        b"[\\\\]",
        b"",
    ];
    let mut conns = [fincache.conn(), redis.conn()];
    for conn in conns.iter_mut() {
        for k in keys {
            redis::cmd("SET")
                .arg(*k)
                .arg("1")
                .query::<()>(conn)
                .unwrap();
        }
    }
    let mut mismatches = Vec::new();
    for p in patterns {
        let mut results: Vec<BTreeSet<Vec<u8>>> = Vec::new();
        for conn in conns.iter_mut() {
            let found: Vec<Vec<u8>> = redis::cmd("KEYS").arg(*p).query(conn).unwrap();
            results.push(found.into_iter().collect());
        }
        if results[0] != results[1] {
            mismatches.push(format!(
                "pattern {:?}: fincache {:?} redis {:?}",
                String::from_utf8_lossy(p),
                results[0],
                results[1]
            ));
        }
        // SCAN MATCH uses the same matcher.
        let mut cursor = "0".to_string();
        let mut scanned = BTreeSet::new();
        loop {
            let (next, batch): (String, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(&cursor)
                .arg("MATCH")
                .arg(*p)
                .query(&mut conns[0])
                .unwrap();
            scanned.extend(batch);
            if next == "0" {
                break;
            }
            cursor = next;
        }
        assert_eq!(
            scanned,
            results[0],
            "SCAN MATCH {:?} differs from KEYS",
            String::from_utf8_lossy(p)
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// COMMAND INFO of every key command matches `redis-server`.
#[test]
fn command_info_matches_redis() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipping");
        return;
    };
    let fincache = TestServer::fincache();
    let (mut f, mut r) = (fincache.conn(), redis.conn());
    for name in [
        "del",
        "unlink",
        "exists",
        "type",
        "keys",
        "scan",
        "randomkey",
        "rename",
        "renamenx",
        "copy",
        "move",
        "touch",
        "dbsize",
        "flushdb",
        "flushall",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "persist",
        "select",
        "swapdb",
    ] {
        let ours = raw(&mut f, &["COMMAND", "INFO", name]);
        let theirs = raw(&mut r, &["COMMAND", "INFO", name]);
        match (&ours, &theirs) {
            (Ok(o), Ok(t)) => assert_eq!(o, t, "COMMAND INFO {name}"),
            _ => panic!("COMMAND INFO {name}: {ours:?} vs {theirs:?}"),
        }
    }
}
