//! The financial Lua scripts of `examples/lua/`, each loaded with SCRIPT LOAD and run through
//! EVALSHA: fraud check, VWAP, portfolio valuation, sliding-window rate limiter, token bucket,
//! safe lock release. Each scenario also runs against redis-server (when installed) and must
//! give the same replies there.

mod support;

use redis::Value;
use support::TestServer;

const FRAUD_CHECK: &str = include_str!("../../../examples/lua/fraud_check.lua");
const VWAP: &str = include_str!("../../../examples/lua/vwap.lua");
const PORTFOLIO: &str = include_str!("../../../examples/lua/portfolio_value.lua");
const RATE_LIMITER: &str = include_str!("../../../examples/lua/rate_limiter.lua");
const TOKEN_BUCKET: &str = include_str!("../../../examples/lua/token_bucket.lua");
const LOCK_RELEASE: &str = include_str!("../../../examples/lua/safe_lock_release.lua");

/// Loads `script` and returns its SHA1 (checked against SCRIPT LOAD's answer).
fn load(conn: &mut redis::Connection, script: &str) -> String {
    let sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(script)
        .query(conn)
        .expect("SCRIPT LOAD");
    assert_eq!(sha.len(), 40);
    sha
}

fn evalsha(
    conn: &mut redis::Connection,
    sha: &str,
    keys: &[&str],
    args: &[&str],
) -> redis::RedisResult<Value> {
    let mut c = redis::cmd("EVALSHA");
    c.arg(sha).arg(keys.len());
    for k in keys {
        c.arg(*k);
    }
    for a in args {
        c.arg(*a);
    }
    c.query(conn)
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

/// Runs `scenario` on FinCache, checks it with `check`, and compares the replies with
/// redis-server's when it is installed.
fn run_both(scenario: fn(&mut redis::Connection) -> Vec<Value>, check: fn(&[Value])) {
    let fin = TestServer::fincache();
    let got = scenario(&mut fin.conn());
    check(&got);
    if let Some(redis) = TestServer::redis() {
        let want = scenario(&mut redis.conn());
        assert_eq!(got, want, "FinCache and redis-server disagree");
    }
}

#[test]
fn fraud_check_flags_risky_accounts_and_velocity() {
    fn scenario(c: &mut redis::Connection) -> Vec<Value> {
        let sha = load(c, FRAUD_CHECK);
        let run = |c: &mut redis::Connection, now: u64, tx: &str| {
            evalsha(
                c,
                &sha,
                &["risk:acct1", "tx:acct1"],
                &[&now.to_string(), "60000", "3", "80", tx],
            )
            .expect("fraud check")
        };
        let mut out = Vec::new();
        let _: () = redis::cmd("SET")
            .arg("risk:acct1")
            .arg("10")
            .query(c)
            .unwrap();
        out.push(run(c, 1_000_000, "t1"));
        out.push(run(c, 1_010_000, "t2"));
        out.push(run(c, 1_020_000, "t3"));
        // Three transactions within a minute: the fourth is refused.
        out.push(run(c, 1_030_000, "t4"));
        // Once the first two left the window, transactions pass again.
        out.push(run(c, 1_070_001, "t5"));
        // A high risk score refuses whatever the velocity.
        let _: () = redis::cmd("SET")
            .arg("risk:acct1")
            .arg("95.5")
            .query(c)
            .unwrap();
        out.push(run(c, 2_000_000, "t6"));
        out.push(evalsha(c, &sha, &["risk:x", "tx:x"], &["bad"]).unwrap_or(Value::Nil));
        out
    }
    fn check(r: &[Value]) {
        let decision = |v: &Value| match v {
            Value::Array(items) => text(&items[0]),
            other => panic!("{other:?}"),
        };
        assert_eq!(decision(&r[0]), "APPROVED");
        assert_eq!(decision(&r[1]), "APPROVED");
        assert_eq!(decision(&r[2]), "APPROVED");
        assert_eq!(
            r[3],
            Value::Array(vec![bulk("HIGH_RISK"), Value::Int(3), bulk("10")])
        );
        assert_eq!(decision(&r[4]), "APPROVED");
        assert_eq!(
            r[5],
            Value::Array(vec![bulk("HIGH_RISK"), Value::Int(0), bulk("95.5")])
        );
    }
    run_both(scenario, check);
}

#[test]
fn vwap_weights_prices_by_volume() {
    fn scenario(c: &mut redis::Connection) -> Vec<Value> {
        let sha = load(c, VWAP);
        let _: () = redis::cmd("MSET")
            .arg(&[
                "p:AAPL", "190.5", "v:AAPL", "1000", "p:MSFT", "410.25", "v:MSFT", "300",
            ])
            .query(c)
            .unwrap();
        vec![
            evalsha(c, &sha, &["p:AAPL", "v:AAPL", "p:MSFT", "v:MSFT"], &[]).unwrap(),
            evalsha(c, &sha, &["p:AAPL", "v:AAPL", "p:MSFT", "v:MSFT"], &["2"]).unwrap(),
            // Missing keys count as no volume; no volume at all gives nil.
            evalsha(c, &sha, &["p:NONE", "v:NONE"], &[]).unwrap(),
            evalsha(c, &sha, &["p:AAPL"], &[])
                .map_err(|e| e.to_string())
                .err()
                .map_or(Value::Nil, |e| bulk(&e)),
        ]
    }
    fn check(r: &[Value]) {
        // (190.5*1000 + 410.25*300) / 1300 = 241.2115...
        assert_eq!(r[0], bulk("241.2115"));
        assert_eq!(r[1], bulk("241.21"));
        assert_eq!(r[2], Value::Nil);
        assert!(text(&r[3]).contains("VWAP needs pairs"), "{:?}", r[3]);
    }
    run_both(scenario, check);
}

#[test]
fn portfolio_value_from_positions_hash() {
    fn scenario(c: &mut redis::Connection) -> Vec<Value> {
        let sha = load(c, PORTFOLIO);
        let _: () = redis::cmd("HSET")
            .arg(&["pos:alice", "AAPL", "10", "MSFT", "2.5", "XYZ", "100"])
            .query(c)
            .unwrap();
        let _: () = redis::cmd("MSET")
            .arg(&["price:AAPL", "190.5", "price:MSFT", "410"])
            .query(c)
            .unwrap();
        vec![
            evalsha(c, &sha, &["pos:alice"], &["price:"]).unwrap(),
            evalsha(c, &sha, &["pos:nobody"], &["price:"]).unwrap(),
        ]
    }
    fn check(r: &[Value]) {
        assert_eq!(
            r[0],
            Value::Array(vec![
                bulk("2930.00"),
                bulk("AAPL"),
                bulk("1905.00"),
                bulk("MSFT"),
                bulk("1025.00"),
                bulk("XYZ"),
                bulk("0.00"),
            ])
        );
        assert_eq!(r[1], Value::Array(vec![bulk("0.00")]));
    }
    run_both(scenario, check);
}

#[test]
fn sliding_window_rate_limiter() {
    fn scenario(c: &mut redis::Connection) -> Vec<Value> {
        let sha = load(c, RATE_LIMITER);
        let mut out = Vec::new();
        for (i, now) in [1000u64, 1100, 1200, 1300, 2050, 2150].iter().enumerate() {
            let id = format!("req{i}");
            out.push(
                evalsha(
                    c,
                    &sha,
                    &["rl:user1"],
                    &[&now.to_string(), "1000", "3", &id],
                )
                .unwrap(),
            );
        }
        out.push(redis::cmd("ZCARD").arg("rl:user1").query(c).unwrap());
        out
    }
    fn check(r: &[Value]) {
        let arr = |a: i64, b: i64, c: i64| {
            Value::Array(vec![Value::Int(a), Value::Int(b), Value::Int(c)])
        };
        assert_eq!(r[0], arr(1, 2, 0));
        assert_eq!(r[1], arr(1, 1, 0));
        assert_eq!(r[2], arr(1, 0, 0));
        // The fourth request within one second is refused; the oldest leaves in 700 ms.
        assert_eq!(r[3], arr(0, 0, 700));
        // At 2050 the requests of 1000 left the window (scores <= 1050 are removed).
        assert_eq!(r[4], arr(1, 0, 0));
        assert_eq!(r[5], arr(1, 0, 0));
        assert_eq!(r[6], Value::Int(3));
    }
    run_both(scenario, check);
}

#[test]
fn token_bucket_refills_over_time() {
    fn scenario(c: &mut redis::Connection) -> Vec<Value> {
        let sha = load(c, TOKEN_BUCKET);
        let mut out = Vec::new();
        // Capacity 5, 2 tokens per second.
        for (now, want) in [
            (0u64, "1"),
            (0, "3"),
            (0, "2"),
            (0, "1"),
            (1000, "1"),
            (1500, "2"),
        ] {
            out.push(evalsha(c, &sha, &["tb:api"], &["5", "2", &now.to_string(), want]).unwrap());
        }
        out.push(redis::cmd("HGET").arg("tb:api").arg("ts").query(c).unwrap());
        out
    }
    fn check(r: &[Value]) {
        let arr = |a: i64, b: i64| Value::Array(vec![Value::Int(a), Value::Int(b)]);
        assert_eq!(r[0], arr(1, 4));
        assert_eq!(r[1], arr(1, 1));
        // Only one token left: a request for two is refused.
        assert_eq!(r[2], arr(0, 1));
        assert_eq!(r[3], arr(1, 0));
        // One second refills two tokens.
        assert_eq!(r[4], arr(1, 1));
        assert_eq!(r[5], arr(1, 0));
        assert_eq!(r[6], bulk("1500"));
    }
    run_both(scenario, check);
}

#[test]
fn safe_lock_release_only_by_the_owner() {
    fn scenario(c: &mut redis::Connection) -> Vec<Value> {
        let sha = load(c, LOCK_RELEASE);
        let acquired: Value = redis::cmd("SET")
            .arg(&["lock:order42", "token-a", "NX", "PX", "30000"])
            .query(c)
            .unwrap();
        vec![
            acquired,
            evalsha(c, &sha, &["lock:order42"], &["token-b"]).unwrap(),
            redis::cmd("GET").arg("lock:order42").query(c).unwrap(),
            evalsha(c, &sha, &["lock:order42"], &["token-a"]).unwrap(),
            redis::cmd("EXISTS").arg("lock:order42").query(c).unwrap(),
            evalsha(c, &sha, &["lock:order42"], &["token-a"]).unwrap(),
        ]
    }
    fn check(r: &[Value]) {
        assert_eq!(r[1], Value::Int(0));
        assert_eq!(r[2], bulk("token-a"));
        assert_eq!(r[3], Value::Int(1));
        assert_eq!(r[4], Value::Int(0));
        assert_eq!(r[5], Value::Int(0));
    }
    run_both(scenario, check);
}

#[test]
fn scripts_are_cached_by_sha() {
    let fin = TestServer::fincache();
    let mut c = fin.conn();
    for script in [
        FRAUD_CHECK,
        VWAP,
        PORTFOLIO,
        RATE_LIMITER,
        TOKEN_BUCKET,
        LOCK_RELEASE,
    ] {
        let sha = load(&mut c, script);
        let exists: Vec<i64> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(&sha)
            .query(&mut c)
            .unwrap();
        assert_eq!(exists, vec![1]);
    }
}
