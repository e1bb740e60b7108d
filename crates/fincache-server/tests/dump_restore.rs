//! DUMP and RESTORE: payloads cross between redis-server 7.0 and FinCache in both directions
//! for every type and encoding, and RESTORE's options and errors match Redis.

mod support;

use redis::{Connection, Value};
use support::TestServer;

fn cmd(c: &mut Connection, args: &[&str]) -> Value {
    let mut q = redis::cmd(args[0]);
    for a in &args[1..] {
        q.arg(*a);
    }
    q.query(c)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

fn populate(c: &mut Connection) {
    cmd(c, &["SET", "s:raw", "hello world"]);
    cmd(c, &["SET", "s:int", "-12345"]);
    cmd(c, &["SET", "s:long", &"xyz".repeat(400)]);
    cmd(
        c,
        &["RPUSH", "l:small", "a", "1", "-300", "70000", "9999999999"],
    );
    let big: Vec<String> = (0..500)
        .map(|i| format!("e{i}{}", "y".repeat(i % 70)))
        .collect();
    let mut args = vec!["RPUSH", "l:big"];
    args.extend(big.iter().map(String::as_str));
    cmd(c, &args);
    cmd(c, &["HSET", "h:small", "f", "v", "n", "7"]);
    let mut args = vec!["HSET".to_string(), "h:big".to_string()];
    for i in 0..200 {
        args.push(format!("f{i}"));
        args.push("v".repeat(i));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cmd(c, &args);
    cmd(c, &["SADD", "set:ints", "3", "1", "-70000", "5000000000"]);
    cmd(c, &["SADD", "set:strs", "x", "y", "2"]);
    let members: Vec<String> = (0..600).map(|i| format!("m{i}")).collect();
    let mut args = vec!["SADD", "set:big"];
    args.extend(members.iter().map(String::as_str));
    cmd(c, &args);
    cmd(c, &["ZADD", "z:small", "1.5", "a", "-inf", "b", "3", "c"]);
    let mut args = vec!["ZADD".to_string(), "z:big".to_string()];
    for i in 0..300 {
        args.push(format!("{}", f64::from(i) * 1.25));
        args.push(format!("member{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cmd(c, &args);
}

fn read(c: &mut Connection, key: &str) -> String {
    let ty: String = redis::cmd("TYPE").arg(key).query(c).unwrap();
    let v = match ty.as_str() {
        "string" => cmd(c, &["GET", key]),
        "list" => cmd(c, &["LRANGE", key, "0", "-1"]),
        "hash" => cmd(c, &["HGETALL", key]),
        "set" => cmd(c, &["SMEMBERS", key]),
        "zset" => cmd(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"]),
        other => panic!("type {other}"),
    };
    let mut parts: Vec<String> = match v {
        Value::Array(items) if ty == "hash" => items
            .chunks(2)
            .map(|p| format!("{:?}={:?}", p[0], p[1]))
            .collect(),
        Value::Array(items) => items.iter().map(|i| format!("{i:?}")).collect(),
        other => vec![format!("{other:?}")],
    };
    if ty == "hash" || ty == "set" {
        parts.sort();
    }
    format!("{ty}:{}", parts.join(","))
}

const KEYS: &[&str] = &[
    "s:raw", "s:int", "s:long", "l:small", "l:big", "h:small", "h:big", "set:ints", "set:strs",
    "set:big", "z:small", "z:big",
];

fn dump(c: &mut Connection, key: &str) -> Vec<u8> {
    redis::cmd("DUMP").arg(key).query(c).unwrap()
}

#[test]
fn payloads_cross_both_ways() {
    let Some(redis) = TestServer::redis() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let fin = TestServer::fincache();
    let (mut rc, mut fc) = (redis.conn(), fin.conn());
    populate(&mut rc);
    for key in KEYS {
        let payload = dump(&mut rc, key);
        let () = redis::cmd("RESTORE")
            .arg(*key)
            .arg(0)
            .arg(&payload)
            .query(&mut fc)
            .unwrap_or_else(|e| panic!("RESTORE {key} from Redis's payload: {e}"));
        assert_eq!(
            read(&mut fc, key),
            read(&mut rc, key),
            "{key} Redis → FinCache"
        );
        // And back: FinCache's payload restores into Redis under a new name.
        let ours = dump(&mut fc, key);
        let copy = format!("{key}:back");
        let () = redis::cmd("RESTORE")
            .arg(&copy)
            .arg(0)
            .arg(&ours)
            .query(&mut rc)
            .unwrap_or_else(|e| panic!("RESTORE {key} from FinCache's payload into Redis: {e}"));
        assert_eq!(
            read(&mut rc, &copy),
            read(&mut rc, key),
            "{key} FinCache → Redis"
        );
    }
}

#[test]
fn restore_options_and_errors() {
    let fin = TestServer::fincache();
    let mut c = fin.conn();
    cmd(&mut c, &["SET", "src", "value"]);
    let p = dump(&mut c, "src");
    assert_eq!(cmd(&mut c, &["DUMP", "missing"]), Value::Nil);
    let busy = redis::cmd("RESTORE")
        .arg("src")
        .arg(0)
        .arg(&p)
        .query::<()>(&mut c)
        .unwrap_err();
    assert_eq!(busy.code(), Some("BUSYKEY"), "{busy}");
    assert!(busy.to_string().contains("Target key name already exists."));
    let neg = redis::cmd("RESTORE")
        .arg("k")
        .arg(-1)
        .arg(&p)
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        neg.to_string().contains("Invalid TTL value, must be >= 0"),
        "{neg}"
    );
    let nan = redis::cmd("RESTORE")
        .arg("k")
        .arg("x")
        .arg(&p)
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        nan.to_string()
            .contains("value is not an integer or out of range"),
        "{nan}"
    );
    let mut bad = p.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(&bad)
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("DUMP payload version or checksum are wrong"),
        "{e}"
    );
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg("short")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("DUMP payload version or checksum are wrong"),
        "{e}"
    );
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(&p)
        .arg("BOGUS")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("syntax error"), "{e}");
    // REPLACE, with a relative TTL.
    cmd(&mut c, &["SET", "src2", "other"]);
    let () = redis::cmd("RESTORE")
        .arg("src2")
        .arg(100_000)
        .arg(&p)
        .arg("REPLACE")
        .query(&mut c)
        .unwrap();
    let v: String = redis::cmd("GET").arg("src2").query(&mut c).unwrap();
    assert_eq!(v, "value");
    let pttl: i64 = redis::cmd("PTTL").arg("src2").query(&mut c).unwrap();
    assert!(pttl > 90_000 && pttl <= 100_000, "{pttl}");
    // ABSTTL in the past: OK, and the key does not exist.
    let () = redis::cmd("RESTORE")
        .arg("gone")
        .arg(1000)
        .arg(&p)
        .arg("ABSTTL")
        .query(&mut c)
        .unwrap();
    assert_eq!(cmd(&mut c, &["EXISTS", "gone"]), Value::Int(0));
    // IDLETIME sets the idle time (at most the uptime: FinCache's LRU clock starts at 0).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let () = redis::cmd("RESTORE")
        .arg("idle")
        .arg(0)
        .arg(&p)
        .arg("IDLETIME")
        .arg(1000)
        .query(&mut c)
        .unwrap();
    let idle: i64 = redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg("idle")
        .query(&mut c)
        .unwrap();
    assert!(idle >= 2, "{idle}");
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(&p)
        .arg("FREQ")
        .arg(300)
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Invalid FREQ value, must be >= 0 and <= 255"),
        "{e}"
    );
}

#[test]
fn restore_wakes_a_blocked_client() {
    let fin = TestServer::fincache();
    let mut c = fin.conn();
    cmd(&mut c, &["RPUSH", "src", "x", "y"]);
    let payload = dump(&mut c, "src");
    let port = fin.port;
    let waiter = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut b = client.get_connection().unwrap();
        let r: Vec<String> = redis::cmd("BLPOP").arg("dst").arg(5).query(&mut b).unwrap();
        r
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let () = redis::cmd("RESTORE")
        .arg("dst")
        .arg(0)
        .arg(&payload)
        .query(&mut c)
        .unwrap();
    assert_eq!(waiter.join().unwrap(), ["dst", "x"]);
    let rest: Vec<String> = redis::cmd("LRANGE")
        .arg("dst")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(rest, ["y"]);
}
