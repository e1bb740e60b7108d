//! Key expiry through a real client: the EXPIRE family and its conditions, TTL/PTTL/
//! EXPIRETIME/PEXPIRETIME, PERSIST, lazy expiry on access, and active expiry of keys nobody
//! reads (with DEBUG SET-ACTIVE-EXPIRE switching it off).

mod support;
use support::err_text;

use redis::{Connection, RedisResult, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{raw, TestServer};

fn int(conn: &mut Connection, args: &[&str]) -> i64 {
    match raw(conn, args) {
        Ok(Value::Int(n)) => n,
        other => panic!("{args:?}: expected an integer, got {other:?}"),
    }
}

fn set(conn: &mut Connection, key: &str, value: &str) {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query::<()>(conn)
        .expect("SET");
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn info_field(conn: &mut Connection, field: &str) -> Option<u64> {
    let text: String = redis::cmd("INFO").arg("stats").query(conn).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn ttl_family_reports_and_rounds() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    assert_eq!(int(&mut c, &["TTL", "nope"]), -2);
    assert_eq!(int(&mut c, &["PTTL", "nope"]), -2);
    assert_eq!(int(&mut c, &["EXPIRETIME", "nope"]), -2);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "nope"]), -2);
    set(&mut c, "k", "v");
    assert_eq!(int(&mut c, &["TTL", "k"]), -1);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "k"]), -1);
    assert_eq!(int(&mut c, &["PEXPIRE", "k", "10400"]), 1);
    assert_eq!(
        int(&mut c, &["TTL", "k"]),
        10,
        "rounded to the nearest second"
    );
    assert_eq!(int(&mut c, &["PEXPIRE", "k", "10600"]), 1);
    assert_eq!(int(&mut c, &["TTL", "k"]), 11);
    let pttl = int(&mut c, &["PTTL", "k"]);
    assert!((10_000..=10_600).contains(&pttl), "{pttl}");

    let at = unix_ms() + 100_000;
    assert_eq!(int(&mut c, &["PEXPIREAT", "k", &at.to_string()]), 1);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "k"]), at);
    assert_eq!(int(&mut c, &["EXPIRETIME", "k"]), (at + 500) / 1000);
    assert_eq!(int(&mut c, &["EXPIREAT", "k", &(at / 1000).to_string()]), 1);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "k"]), at / 1000 * 1000);

    // The largest deadline Redis accepts.
    assert_eq!(int(&mut c, &["PEXPIREAT", "k", "9223372036854775807"]), 1);
    assert_eq!(int(&mut c, &["EXPIRETIME", "k"]), 9223372036854776);

    assert_eq!(int(&mut c, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut c, &["PERSIST", "k"]), 0);
    assert_eq!(int(&mut c, &["PERSIST", "nope"]), 0);
    assert_eq!(int(&mut c, &["TTL", "k"]), -1);
}

#[test]
fn expire_conditions_and_errors() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    assert_eq!(int(&mut c, &["EXPIRE", "nope", "10"]), 0);
    set(&mut c, "k", "v");
    assert_eq!(
        int(&mut c, &["EXPIRE", "k", "100", "XX"]),
        0,
        "XX needs a TTL"
    );
    assert_eq!(
        int(&mut c, &["EXPIRE", "k", "100", "GT"]),
        0,
        "no TTL counts as infinite"
    );
    assert_eq!(
        int(&mut c, &["EXPIRE", "k", "100", "LT"]),
        1,
        "anything is less than infinite"
    );
    assert_eq!(int(&mut c, &["EXPIRE", "k", "200", "NX"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "k", "200", "gt"]), 1);
    assert_eq!(int(&mut c, &["EXPIRE", "k", "150", "GT"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "k", "300", "LT"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "k", "50", "XX", "LT"]), 1);
    assert_eq!(int(&mut c, &["TTL", "k"]), 50);
    assert_eq!(int(&mut c, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut c, &["EXPIRE", "k", "60", "NX"]), 1);

    assert_eq!(
        err_text(raw(&mut c, &["EXPIRE", "k", "10", "FOO"])),
        "ERR Unsupported option FOO"
    );
    assert_eq!(
        err_text(raw(&mut c, &["EXPIRE", "k", "x", "NX", "XX"])),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err_text(raw(&mut c, &["PEXPIRE", "k", "10", "GT", "LT"])),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        err_text(raw(&mut c, &["EXPIRE", "k", "x"])),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(raw(&mut c, &["EXPIRE", "k", "9223372036854776"])),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err_text(raw(&mut c, &["PEXPIRE", "k", "9223372036854775807"])),
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        err_text(raw(&mut c, &["EXPIREAT", "k", "-9223372036854776"])),
        "ERR invalid expire time in 'expireat' command"
    );
    assert_eq!(
        err_text(raw(&mut c, &["EXPIRE", "k"])),
        "ERR wrong number of arguments for 'expire' command"
    );
    assert_eq!(
        int(&mut c, &["TTL", "k"]),
        60,
        "failed commands change nothing"
    );
}

#[test]
fn past_deadlines_delete_at_once() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    for args in [
        &["EXPIRE", "k", "0"][..],
        &["EXPIRE", "k", "-5"],
        &["PEXPIRE", "k", "-9223372036854775808"],
        &["EXPIREAT", "k", "1"],
        &["PEXPIREAT", "k", "0"],
    ] {
        set(&mut c, "k", "v");
        assert_eq!(int(&mut c, args), 1, "{args:?}");
        assert_eq!(int(&mut c, &["EXISTS", "k"]), 0, "{args:?}");
    }
    // A failed condition deletes nothing.
    set(&mut c, "k", "v");
    assert_eq!(int(&mut c, &["EXPIRE", "k", "-1", "XX"]), 0);
    assert_eq!(int(&mut c, &["EXISTS", "k"]), 1);
}

#[test]
fn lazy_expiry_on_access() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg("0")
        .query::<()>(&mut c)
        .ok();
    for k in ["a", "b", "c", "d", "e"] {
        set(&mut c, k, "v");
        assert_eq!(int(&mut c, &["PEXPIRE", k, "30"]), 1);
    }
    std::thread::sleep(Duration::from_millis(80));
    let none: Option<String> = redis::cmd("GET").arg("a").query(&mut c).unwrap();
    assert_eq!(none, None);
    assert_eq!(int(&mut c, &["EXISTS", "b"]), 0);
    assert_eq!(int(&mut c, &["TTL", "c"]), -2);
    assert_eq!(
        raw(&mut c, &["TYPE", "d"]).unwrap(),
        Value::SimpleString("none".into())
    );
    assert_eq!(int(&mut c, &["EXPIRE", "e", "100"]), 0);
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[test]
fn active_expiry_removes_keys_nobody_reads() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        let k = format!("volatile:{i}");
        pipe.cmd("SET").arg(&k).arg("v").ignore();
        pipe.cmd("PEXPIRE").arg(&k).arg(50).ignore();
    }
    for i in 0..100 {
        pipe.cmd("SET").arg(format!("keep:{i}")).arg("v").ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = int(&mut c, &["DBSIZE"]);
        if n == 100 {
            break;
        }
        assert!(Instant::now() < deadline, "DBSIZE still {n} after 5 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Some(expired) = info_field(&mut c, "expired_keys") {
        assert!(expired >= 2000, "INFO expired_keys {expired}");
    }
}

#[test]
fn active_expiry_can_be_switched_off() {
    let server = TestServer::fincache();
    let mut c = server.conn();
    let switched: RedisResult<Value> = redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg("0")
        .query(&mut c);
    if switched.is_err() {
        eprintln!("DEBUG SET-ACTIVE-EXPIRE is not available: skipping");
        return;
    }
    let mut pipe = redis::pipe();
    for i in 0..500 {
        let k = format!("volatile:{i}");
        pipe.cmd("SET").arg(&k).arg("v").ignore();
        pipe.cmd("PEXPIRE").arg(&k).arg(50).ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        int(&mut c, &["DBSIZE"]),
        500,
        "nothing is collected while switched off"
    );
    redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg("1")
        .query::<()>(&mut c)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while int(&mut c, &["DBSIZE"]) > 0 {
        assert!(
            Instant::now() < deadline,
            "keys not collected after switching back on"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn active_expiry_reaches_every_database() {
    let server = TestServer::fincache();
    let mut conns: Vec<Connection> = (0..16).map(|_| server.conn()).collect();
    for (db, c) in conns.iter_mut().enumerate() {
        redis::cmd("SELECT").arg(db).query::<()>(c).unwrap();
        let mut pipe = redis::pipe();
        for i in 0..100 {
            let k = format!("k{i}");
            pipe.cmd("SET").arg(&k).arg("v").ignore();
            pipe.cmd("PEXPIRE").arg(&k).arg(30).ignore();
        }
        pipe.query::<()>(c).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    for c in conns.iter_mut() {
        while int(c, &["DBSIZE"]) > 0 {
            assert!(
                Instant::now() < deadline,
                "a database kept its expired keys"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
