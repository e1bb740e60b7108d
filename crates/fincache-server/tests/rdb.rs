//! RDB snapshots against a real redis-server 7.0, both ways: a `dump.rdb` Redis wrote loads
//! into FinCache with every key reading back the same, and a snapshot FinCache wrote loads into
//! Redis (`DEBUG RELOAD NOSAVE`) the same. Plus SAVE/LASTSAVE, save rules, restart, failure.

mod support;

use redis::Connection;
use std::collections::BTreeMap;
use std::time::Duration;
use support::TestServer;

fn cmd(c: &mut Connection, args: &[&str]) -> redis::Value {
    let mut q = redis::cmd(args[0]);
    for a in &args[1..] {
        q.arg(*a);
    }
    q.query(c)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Fills the selected databases with every type in every encoding Redis 7.0 uses, with TTLs.
pub fn populate(c: &mut Connection) {
    cmd(c, &["SELECT", "0"]);
    cmd(c, &["SET", "s:raw", "hello world"]);
    cmd(c, &["SET", "s:int", "12345"]);
    cmd(c, &["SET", "s:neg", "-7"]);
    cmd(c, &["SET", "s:bigint", "1234567890123456"]);
    cmd(c, &["SET", "s:empty", ""]);
    cmd(c, &["SET", "s:compressible", &"abcdefgh".repeat(500)]);
    cmd(c, &["SET", "s:binary", "\u{1}\u{2}\u{fe}x"]);
    cmd(c, &["SET", "s:ttl", "expiring", "PX", "500000"]);
    cmd(
        c,
        &[
            "RPUSH",
            "l:small",
            "a",
            "1",
            "-300",
            "70000",
            "bb",
            "9999999999",
        ],
    );
    let big: Vec<String> = (0..600)
        .map(|i| format!("element-{i}-{}", "x".repeat(i % 90)))
        .collect();
    let mut args = vec!["RPUSH", "l:big"];
    args.extend(big.iter().map(String::as_str));
    cmd(c, &args);
    cmd(c, &["RPUSH", "l:longval", &"q".repeat(10000), "tail"]);
    cmd(c, &["HSET", "h:small", "f1", "v1", "n", "42", "e", ""]);
    let fields: Vec<String> = (0..300).map(|i| format!("field{i}")).collect();
    let mut args = vec!["HSET", "h:big"];
    for f in &fields {
        args.push(f);
        args.push(f);
    }
    cmd(c, &args);
    cmd(c, &["HSET", "h:ttl", "a", "b"]);
    cmd(c, &["PEXPIRE", "h:ttl", "900000"]);
    cmd(c, &["SADD", "set:ints", "1", "2", "3", "-40000", "100000"]);
    cmd(c, &["SADD", "set:bigints", "1", "5000000000"]);
    cmd(c, &["SADD", "set:strs", "apple", "banana", "1"]);
    let members: Vec<String> = (0..700).map(|i| i.to_string()).collect();
    let mut args = vec!["SADD", "set:manyints"];
    args.extend(members.iter().map(String::as_str));
    cmd(c, &args);
    let members: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", "set:big"];
    args.extend(members.iter().map(String::as_str));
    cmd(c, &args);
    cmd(
        c,
        &[
            "ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "lo", "+inf", "hi", "0.1", "c",
        ],
    );
    let mut args = vec!["ZADD".to_string(), "z:big".to_string()];
    for i in 0..400 {
        args.push(format!("{}", f64::from(i) / 3.0));
        args.push(format!("member{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cmd(c, &args);
    cmd(c, &["ZADD", "z:longmember", "3", &"m".repeat(200)]);
    cmd(c, &["SELECT", "3"]);
    cmd(c, &["SET", "db3:key", "in three"]);
    cmd(c, &["RPUSH", "db3:list", "x"]);
    cmd(c, &["SET", "db3:ttl", "v", "EX", "1000"]);
    cmd(c, &["SELECT", "15"]);
    cmd(c, &["ZADD", "db15:z", "5", "five"]);
    cmd(c, &["SELECT", "0"]);
}

fn text(v: &redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => format!("{:?}", String::from_utf8_lossy(b)),
        redis::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(text).collect();
            format!("[{}]", parts.join(","))
        }
        other => format!("{other:?}"),
    }
}

/// Members and scores, the scores compared as numbers: Redis 7.0 prints them with `%.17g`
/// (`0.10000000000000001`), FinCache as later Redis versions do (`0.1`).
fn zset_text(v: &redis::Value) -> String {
    let redis::Value::Array(items) = v else {
        return text(v);
    };
    let parts: Vec<String> = items
        .chunks(2)
        .map(|p| {
            let score = match &p[1] {
                redis::Value::BulkString(b) => {
                    let s = String::from_utf8_lossy(b);
                    s.parse::<f64>()
                        .map(|f| f.to_string())
                        .unwrap_or(s.into_owned())
                }
                other => text(other),
            };
            format!("{}:{score}", text(&p[0]))
        })
        .collect();
    parts.join(",")
}

fn sorted_text(v: &redis::Value, pairs: bool) -> String {
    let redis::Value::Array(items) = v else {
        return text(v);
    };
    let mut parts: Vec<String> = if pairs {
        items
            .chunks(2)
            .map(|p| format!("{}={}", text(&p[0]), text(&p[1])))
            .collect()
    } else {
        items.iter().map(text).collect()
    };
    parts.sort();
    parts.join(",")
}

/// Every key of every database, read without DUMP, with its TTL rounded to 10 s.
pub fn contents(c: &mut Connection) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for db in 0..16 {
        cmd(c, &["SELECT", &db.to_string()]);
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        for k in keys {
            let ty: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let val = match ty.as_str() {
                "string" => text(&cmd(c, &["GET", &k])),
                "list" => text(&cmd(c, &["LRANGE", &k, "0", "-1"])),
                "hash" => sorted_text(&cmd(c, &["HGETALL", &k]), true),
                "set" => sorted_text(&cmd(c, &["SMEMBERS", &k]), false),
                "zset" => zset_text(&cmd(c, &["ZRANGE", &k, "0", "-1", "WITHSCORES"])),
                other => panic!("unexpected type {other}"),
            };
            let pttl: i64 = redis::cmd("PTTL").arg(&k).query(c).unwrap();
            let ttl = if pttl < 0 {
                pttl
            } else {
                (pttl + 5000) / 10000
            };
            out.insert(format!("{db}/{k}"), format!("{ty} ttl={ttl} {val}"));
        }
    }
    cmd(c, &["SELECT", "0"]);
    out
}

/// Compares two key dumps, reporting the first differences briefly.
pub fn assert_same(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>) {
    let short = |s: Option<&String>| {
        s.map(|s| s.chars().take(300).collect::<String>())
            .unwrap_or_else(|| "<missing>".into())
    };
    let mut diffs = Vec::new();
    for k in want.keys().chain(got.keys()) {
        if got.get(k) != want.get(k) && !diffs.iter().any(|(d, _, _)| d == k) {
            diffs.push((k.clone(), short(got.get(k)), short(want.get(k))));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} keys differ, first: {:#?}",
        diffs.len(),
        &diffs[..diffs.len().min(3)]
    );
}

fn config_get(c: &mut Connection, name: &str) -> String {
    let v: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(name).query(c).unwrap();
    v[1].clone()
}

#[test]
fn redis_snapshot_loads_into_fincache() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let mut rc = redis.conn();
    populate(&mut rc);
    let expected = contents(&mut rc);
    assert!(expected.len() > 20);
    cmd(&mut rc, &["SAVE"]);
    let dir = config_get(&mut rc, "dir");
    let fin = TestServer::fincache_with(&["--dir", &dir, "--dbfilename", "dump.rdb"]);
    let mut fc = fin.conn();
    assert_same(&contents(&mut fc), &expected);
}

#[test]
fn fincache_snapshot_loads_into_redis() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let fin = TestServer::fincache();
    let mut fc = fin.conn();
    populate(&mut fc);
    let expected = contents(&mut fc);
    cmd(&mut fc, &["SAVE"]);
    let dir = config_get(&mut fc, "dir");
    let mut rc = redis.conn();
    cmd(&mut rc, &["CONFIG", "SET", "dir", &dir]);
    cmd(&mut rc, &["CONFIG", "SET", "dbfilename", "dump.rdb"]);
    cmd(&mut rc, &["DEBUG", "RELOAD", "NOSAVE"]);
    assert_same(&contents(&mut rc), &expected);
}

#[test]
fn save_then_restart_keeps_data_and_lastsave_moves() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let expected = {
        let fin = TestServer::fincache_with(&["--dir", d]);
        let mut c = fin.conn();
        let before: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
        populate(&mut c);
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        assert!(
            !info.contains("rdb_changes_since_last_save:0\r\n"),
            "{info}"
        );
        std::thread::sleep(Duration::from_millis(1100));
        cmd(&mut c, &["SAVE"]);
        let after: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
        assert!(after > before, "{after} > {before}");
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
        assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
        contents(&mut c)
    };
    let fin = TestServer::fincache_with(&["--dir", d]);
    let mut c = fin.conn();
    assert_same(&contents(&mut c), &expected);
}

#[test]
fn shutdown_saves_with_save_points_and_not_with_nosave() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("dump.rdb");
    {
        let fin = TestServer::fincache_with(&["--dir", d, "--save", "3600 1"]);
        let mut c = fin.conn();
        cmd(&mut c, &["SET", "k", "v"]);
        let _ = redis::cmd("SHUTDOWN").query::<redis::Value>(&mut c);
    }
    assert!(
        file.exists(),
        "SHUTDOWN with save points writes the snapshot"
    );
    std::fs::remove_file(&file).unwrap();
    {
        let fin = TestServer::fincache_with(&["--dir", d, "--save", "3600 1"]);
        let mut c = fin.conn();
        cmd(&mut c, &["SET", "k", "v"]);
        let _ = redis::cmd("SHUTDOWN")
            .arg("NOSAVE")
            .query::<redis::Value>(&mut c);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(!file.exists(), "SHUTDOWN NOSAVE writes nothing");
}

#[test]
fn save_rule_triggers_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let fin = TestServer::fincache_with(&["--dir", d, "--save", "1 2"]);
    let mut c = fin.conn();
    cmd(&mut c, &["SET", "a", "1"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !dir.path().join("dump.rdb").exists(),
        "one change is below the rule"
    );
    cmd(&mut c, &["SET", "b", "2"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !dir.path().join("dump.rdb").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot after the rule was met"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn failed_save_keeps_previous_snapshot_and_reports_err() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("data");
    std::fs::create_dir(&sub).unwrap();
    let fin = TestServer::fincache_with(&["--dir", sub.to_str().unwrap()]);
    let mut c = fin.conn();
    cmd(&mut c, &["SET", "a", "1"]);
    cmd(&mut c, &["SAVE"]);
    let good = std::fs::read(sub.join("dump.rdb")).unwrap();
    // Make the directory unwritable by replacing the file's directory entry's parent with a
    // read-only one: rename into place fails when the target is a non-empty directory.
    std::fs::remove_file(sub.join("dump.rdb")).unwrap();
    std::fs::create_dir(sub.join("dump.rdb")).unwrap();
    std::fs::write(sub.join("dump.rdb").join("x"), b"x").unwrap();
    cmd(&mut c, &["SET", "a", "2"]);
    let err = redis::cmd("SAVE").query::<String>(&mut c).unwrap_err();
    assert_eq!(err.code(), Some("ERR"), "{err}");
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("rdb_last_bgsave_status:err"), "{info}");
    // No temp file is left behind, and the directory entry is untouched.
    let leftovers: Vec<_> = std::fs::read_dir(&sub)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("dump.rdb")]);
    // Restore the good snapshot: a later SAVE succeeds and overwrites it atomically.
    std::fs::remove_dir_all(sub.join("dump.rdb")).unwrap();
    std::fs::write(sub.join("dump.rdb"), &good).unwrap();
    cmd(&mut c, &["SAVE"]);
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
}

#[test]
fn corrupt_snapshot_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let fin = TestServer::fincache_with(&["--dir", dir.path().to_str().unwrap()]);
    let mut c = fin.conn();
    cmd(&mut c, &["SET", "a", "hello"]);
    cmd(&mut c, &["SAVE"]);
    drop(c);
    drop(fin);
    let path = dir.path().join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 12] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let port = support::free_port();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_fincache"))
        .args(["--port", &port.to_string(), "--api-enabled", "no"])
        .args(["--dir", dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "a corrupt snapshot must stop the start-up"
    );
}

fn bgsave_running(c: &mut Connection) -> bool {
    let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
    info.contains("rdb_bgsave_in_progress:1")
}

fn wait_bgsave_done(c: &mut Connection) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while bgsave_running(c) {
        assert!(
            std::time::Instant::now() < deadline,
            "BGSAVE did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bgsave_is_point_in_time_under_concurrent_writes() {
    const N: usize = 150_000;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let fin = TestServer::fincache_with(&["--dir", d]);
    let mut c = fin.conn();
    let mut p = redis::pipe();
    for i in 0..N {
        p.cmd("SET")
            .arg(format!("k{i}"))
            .arg(format!("old-{i}-{}", "p".repeat(40)))
            .ignore();
    }
    p.cmd("RPUSH").arg("list").arg("a").arg("b").ignore();
    p.query::<()>(&mut c).unwrap();
    let mut w = fin.conn();
    let started: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    assert_eq!(started, "Background saving started");
    let overlapped = bgsave_running(&mut c);
    // A second BGSAVE while one runs is refused; with SCHEDULE it is queued.
    if overlapped {
        if let Err(e) = redis::cmd("BGSAVE").query::<String>(&mut c) {
            assert!(
                e.to_string()
                    .contains("Background save already in progress"),
                "{e}"
            );
        }
    }
    // Writes right after the start: overwrite, delete, create, a transaction across shards.
    let mut p = redis::pipe();
    for i in (0..N).rev() {
        p.cmd("SET").arg(format!("k{i}")).arg("new").ignore();
        if i % 1000 == 0 {
            p.cmd("DEL").arg(format!("k{}", i + 1)).ignore();
            p.cmd("SET").arg(format!("fresh{i}")).arg("x").ignore();
        }
    }
    p.cmd("RPUSH").arg("list").arg("c").ignore();
    p.query::<()>(&mut w).unwrap();
    let () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("k1")
        .arg("tx")
        .cmd("SET")
        .arg("k99999")
        .arg("tx")
        .query(&mut w)
        .unwrap();
    wait_bgsave_done(&mut c);
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    drop((c, w, fin));
    let fin = TestServer::fincache_with(&["--dir", d]);
    let mut c = fin.conn();
    let size: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(size, N + 1, "exactly the keys that existed at the start");
    let list: Vec<String> = redis::cmd("LRANGE")
        .arg("list")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(list, ["a", "b"]);
    for i in (0..N).step_by(997).chain([1, 99_999, 1001]) {
        let v: String = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query(&mut c)
            .unwrap();
        assert_eq!(v, format!("old-{i}-{}", "p".repeat(40)), "k{i}");
    }
}

#[test]
fn bgsave_schedule_and_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let fin = TestServer::fincache_with(&["--dir", dir.path().to_str().unwrap()]);
    let mut c = fin.conn();
    cmd(&mut c, &["SET", "a", "1"]);
    let e = redis::cmd("BGSAVE")
        .arg("NOW")
        .query::<String>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("syntax error"), "{e}");
    let r: String = redis::cmd("BGSAVE").arg("SCHEDULE").query(&mut c).unwrap();
    assert!(
        r == "Background saving started" || r == "Background saving scheduled",
        "{r}"
    );
    wait_bgsave_done(&mut c);
    assert!(dir.path().join("dump.rdb").exists());
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
}

#[test]
fn shutdown_save_writes_even_without_save_points_and_refuses_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("dump.rdb");
    // A failed save keeps the server running (unless FORCE).
    let fin = TestServer::fincache_with(&["--dir", d]);
    let mut c = fin.conn();
    cmd(&mut c, &["SET", "k", "v"]);
    std::fs::create_dir(&file).unwrap();
    std::fs::write(file.join("x"), b"x").unwrap();
    let e = redis::cmd("SHUTDOWN")
        .arg("SAVE")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Errors trying to SHUTDOWN. Check logs."),
        "{e}"
    );
    assert_eq!(
        cmd(&mut c, &["GET", "k"]),
        redis::Value::BulkString(b"v".to_vec())
    );
    std::fs::remove_dir_all(&file).unwrap();
    let _ = redis::cmd("SHUTDOWN")
        .arg("SAVE")
        .query::<redis::Value>(&mut c);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !file.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "SHUTDOWN SAVE wrote no snapshot"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(fin);
    let fin = TestServer::fincache_with(&["--dir", d]);
    let mut c = fin.conn();
    assert_eq!(
        cmd(&mut c, &["GET", "k"]),
        redis::Value::BulkString(b"v".to_vec())
    );
}

#[test]
fn snapshot_settings_save_periodically_and_load_from_snapshot_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.rdb");
    let p = path.to_str().unwrap();
    let flags = [
        "--snapshot-enabled",
        "yes",
        "--snapshot-interval",
        "1",
        "--snapshot-path",
        p,
    ];
    {
        let fin = TestServer::fincache_with(&flags);
        let mut c = fin.conn();
        cmd(&mut c, &["SET", "periodic", "yes"]);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !path.exists() {
            assert!(std::time::Instant::now() < deadline, "no periodic snapshot");
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_bgsave_done(&mut c);
    }
    let fin = TestServer::fincache_with(&flags);
    let mut c = fin.conn();
    assert_eq!(
        cmd(&mut c, &["GET", "periodic"]),
        redis::Value::BulkString(b"yes".to_vec())
    );
}
