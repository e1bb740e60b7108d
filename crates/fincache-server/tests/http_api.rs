//! The HTTP API's data routes through real HTTP (reqwest) against the `fincache` binary: keys,
//! listing, flush, stats, the command and pipeline routes, sorted sets and scripts, with their
//! error statuses (400, 404, 405, 409, 415). Commands sent over HTTP are checked to be seen by
//! the command layer (statistics, keyspace notifications, CLIENT LIST) as RESP commands are.
//! Authentication, rate limits, CORS and the body limit are in `http_access.rs`.

mod http_support;
mod support;

use http_support::{assert_error, status_json, HttpServer};
use serde_json::json;

#[tokio::test]
async fn keys_set_get_delete_and_ttl() {
    let s = HttpServer::start(&[]);
    let (st, body) = status_json(
        s.post("/api/v1/keys/greeting", json!({"value": "hello"}))
            .await,
    )
    .await;
    assert_eq!(
        (st, body),
        (200, json!({"key": "greeting", "stored": true}))
    );
    let (st, body) = status_json(s.get("/api/v1/keys/greeting").await).await;
    assert_eq!(st, 200);
    assert_eq!(
        body,
        json!({"key": "greeting", "type": "string", "value": "hello", "ttl": null, "pttl": null})
    );

    // A TTL in seconds (fractions allowed); RESP sees the same key.
    let (st, _) = status_json(
        s.post("/api/v1/keys/session", json!({"value": 42, "ttl": 100}))
            .await,
    )
    .await;
    assert_eq!(st, 200);
    let (_, body) = status_json(s.get("/api/v1/keys/session").await).await;
    assert_eq!(body["value"], "42");
    assert_eq!(body["ttl"], 100);
    let pttl = body["pttl"].as_i64().unwrap();
    assert!((90_000..=100_000).contains(&pttl), "{body}");
    let mut c = s.resp();
    let ttl: i64 = redis::cmd("TTL").arg("session").query(&mut c).unwrap();
    assert!((99..=100).contains(&ttl));
    s.post("/api/v1/keys/short", json!({"value": "x", "ttl": 0.25}))
        .await;
    let pttl: i64 = redis::cmd("PTTL").arg("short").query(&mut c).unwrap();
    assert!((1..=250).contains(&pttl), "{pttl}");

    // Objects and arrays are stored as their JSON text; {"base64"} as bytes.
    s.post(
        "/api/v1/keys/doc",
        json!({"value": {"px": 1.5, "sym": "AAPL"}}),
    )
    .await;
    let raw: String = redis::cmd("GET").arg("doc").query(&mut c).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&raw).unwrap(),
        json!({"px": 1.5, "sym": "AAPL"})
    );
    s.post("/api/v1/keys/bin", json!({"value": {"base64": "AP8="}}))
        .await;
    let bytes: Vec<u8> = redis::cmd("GET").arg("bin").query(&mut c).unwrap();
    assert_eq!(bytes, vec![0, 0xff]);
    let (_, body) = status_json(s.get("/api/v1/keys/bin").await).await;
    assert_eq!(body["value"], json!({"base64": "AP8="}));

    // NX / XX.
    let (st, body) = status_json(
        s.post("/api/v1/keys/greeting", json!({"value": "x", "nx": true}))
            .await,
    )
    .await;
    assert_eq!(st, 409);
    assert_error(&body, "KEY_EXISTS");
    let (st, body) = status_json(
        s.post("/api/v1/keys/absent", json!({"value": "x", "xx": true}))
            .await,
    )
    .await;
    assert_eq!(st, 404);
    assert_error(&body, "NOT_FOUND");

    let (st, body) = status_json(s.delete("/api/v1/keys/greeting").await).await;
    assert_eq!(
        (st, body),
        (200, json!({"key": "greeting", "deleted": true}))
    );
    let (st, body) = status_json(s.get("/api/v1/keys/greeting").await).await;
    assert_eq!(st, 404);
    assert_error(&body, "NOT_FOUND");
    let (st, _) = status_json(s.delete("/api/v1/keys/greeting").await).await;
    assert_eq!(st, 404);

    // Keys with characters that need percent-encoding.
    s.post("/api/v1/keys/a%20b%2Fc", json!({"value": "spaced"}))
        .await;
    let v: String = redis::cmd("GET").arg("a b/c").query(&mut c).unwrap();
    assert_eq!(v, "spaced");
}

#[tokio::test]
async fn collections_come_back_typed() {
    let s = HttpServer::start(&[]);
    let mut c = s.resp();
    let _: () = redis::cmd("RPUSH")
        .arg("l")
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg("h")
        .arg("f")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SADD").arg("s").arg("m").query(&mut c).unwrap();
    let _: () = redis::cmd("ZADD")
        .arg("z")
        .arg("1.5")
        .arg("m")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("EXPIRE")
        .arg("l")
        .arg("50")
        .query(&mut c)
        .unwrap();
    let (_, l) = status_json(s.get("/api/v1/keys/l").await).await;
    assert_eq!(
        (l["type"].clone(), l["value"].clone(), l["ttl"].clone()),
        (json!("list"), json!(["a", "b"]), json!(50))
    );
    let (_, h) = status_json(s.get("/api/v1/keys/h").await).await;
    assert_eq!(
        (h["type"].clone(), h["value"].clone()),
        (json!("hash"), json!({"f": "v"}))
    );
    let (_, set) = status_json(s.get("/api/v1/keys/s").await).await;
    assert_eq!(
        (set["type"].clone(), set["value"].clone()),
        (json!("set"), json!(["m"]))
    );
    let (_, z) = status_json(s.get("/api/v1/keys/z").await).await;
    assert_eq!(
        (z["type"].clone(), z["value"].clone()),
        (json!("zset"), json!([{"member": "m", "score": 1.5}]))
    );
}

#[tokio::test]
async fn listing_pages_through_every_key_with_scan() {
    let s = HttpServer::start(&[]);
    let mut c = s.resp();
    for i in 0..250 {
        let _: () = redis::cmd("SET")
            .arg(format!("user:{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    let _: () = redis::cmd("SET").arg("other").arg(1).query(&mut c).unwrap();
    let _: () = redis::cmd("RPUSH")
        .arg("user:list")
        .arg(1)
        .query(&mut c)
        .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut pages = 0;
    loop {
        let (st, page) = status_json(
            s.get(&format!(
                "/api/v1/keys?pattern=user:*&cursor={cursor}&count=50"
            ))
            .await,
        )
        .await;
        assert_eq!(st, 200, "{page}");
        for k in page["keys"].as_array().unwrap() {
            seen.insert(k.as_str().unwrap().to_string());
        }
        cursor = page["cursor"].as_str().unwrap().to_string();
        pages += 1;
        if cursor == "0" {
            break;
        }
        assert!(pages < 100, "SCAN does not finish");
    }
    assert!(pages > 1);
    assert_eq!(seen.len(), 251);
    assert!(!seen.contains("other"));
    // TYPE filter, database selection, and bad input.
    let (_, page) = status_json(
        s.get("/api/v1/keys?pattern=user:*&type=list&count=1000")
            .await,
    )
    .await;
    assert_eq!(page["keys"], json!(["user:list"]));
    let (_, page) = status_json(s.get("/api/v1/keys?db=1").await).await;
    assert_eq!(page, json!({"cursor": "0", "keys": []}));
    let (st, body) = status_json(s.get("/api/v1/keys?cursor=abc").await).await;
    assert_eq!(st, 400);
    assert_error(&body, "ERR");
    let (st, body) = status_json(s.get("/api/v1/keys?db=99").await).await;
    assert_eq!(st, 400);
    assert_eq!(body["error"]["message"], "ERR DB index is out of range");
}

#[tokio::test]
async fn flush_stats_and_database_selection() {
    let s = HttpServer::start(&[]);
    s.post("/api/v1/keys/a?db=2", json!({"value": "in two"}))
        .await;
    s.post("/api/v1/keys/a", json!({"value": "in zero"})).await;
    let (_, v) = status_json(s.get("/api/v1/keys/a?db=2").await).await;
    assert_eq!(v["value"], "in two");
    let (_, stats) = status_json(s.get("/api/v1/stats").await).await;
    assert_eq!(stats["keys"], 2);
    assert_eq!(stats["info"]["keyspace"]["db2"]["keys"], 1);
    assert_eq!(stats["info"]["server"]["redis_version"], "7.2.4");
    assert!(stats["used_memory"].as_u64().unwrap() > 0);
    // The GET of db 2 above counted one hit.
    assert!(stats["keyspace_hits"].as_u64().unwrap() >= 1);
    assert!(stats["hit_ratio"].is_number());

    let (st, body) = status_json(s.post("/api/v1/flush?db=2", json!(null)).await).await;
    assert_eq!((st, body), (200, json!({"flushed": "db", "db": 2})));
    let (st, _) = status_json(s.get("/api/v1/keys/a?db=2").await).await;
    assert_eq!(st, 404);
    let (st, _) = status_json(s.get("/api/v1/keys/a").await).await;
    assert_eq!(st, 200);
    let (st, body) = status_json(s.post("/api/v1/flush?async=true", json!(null)).await).await;
    assert_eq!((st, body), (200, json!({"flushed": "all", "db": null})));
    let (_, stats) = status_json(s.get("/api/v1/stats").await).await;
    assert_eq!(stats["keys"], 0);
}

#[tokio::test]
async fn command_route_returns_typed_json_and_honest_statuses() {
    let s = HttpServer::start(&[]);
    assert_eq!(
        s.command(json!(["SET", "k", "v"])).await,
        (200, json!({"result": "OK"}))
    );
    assert_eq!(
        s.command(json!(["GET", "k"])).await,
        (200, json!({"result": "v"}))
    );
    assert_eq!(
        s.command(json!(["GET", "missing"])).await,
        (200, json!({"result": null}))
    );
    assert_eq!(
        s.command(json!(["INCRBY", "n", 5])).await,
        (200, json!({"result": 5}))
    );
    assert_eq!(
        s.command(json!([
            "ZADD",
            "orderbook:AAPL",
            "150.20",
            "bid:1000:user1"
        ]))
        .await,
        (200, json!({"result": 1}))
    );
    assert_eq!(
        s.command(json!(["ZSCORE", "orderbook:AAPL", "bid:1000:user1"]))
            .await,
        (200, json!({"result": 150.2}))
    );
    s.command(json!(["HSET", "h", "a", "1"])).await;
    assert_eq!(
        s.command(json!(["HGETALL", "h"])).await,
        (200, json!({"result": {"a": "1"}}))
    );
    assert_eq!(
        s.command(json!(["EXISTS", "k", "h", "nope"])).await,
        (200, json!({"result": 2}))
    );
    assert_eq!(
        s.command(json!(["SET", {"base64": "/w=="}, "bin"])).await.0,
        200
    );
    // A key that is not UTF-8 comes back as {"base64"}.
    let (_, keys) = s.command(json!(["KEYS", "*"])).await;
    assert!(keys["result"]
        .as_array()
        .unwrap()
        .contains(&json!({"base64": "/w=="})));

    // Error replies keep Redis's text; the status follows the code.
    let (st, body) = s.command(json!(["INCR", "h"])).await;
    assert_eq!(st, 409);
    assert_eq!(body["error"]["code"], "WRONGTYPE");
    assert_eq!(
        body["error"]["message"],
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    let (st, body) = s.command(json!(["NOSUCHCMD"])).await;
    assert_eq!(st, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("ERR unknown command 'NOSUCHCMD'"));
    let (st, body) = s.command(json!(["GET"])).await;
    assert_eq!(st, 400);
    assert_eq!(
        body["error"]["message"],
        "ERR wrong number of arguments for 'get' command"
    );
    let (st, body) = s.command(json!([])).await;
    assert_eq!(st, 400);
    assert_error(&body, "BAD_REQUEST");
    let (st, body) = s.command(json!(["GET", [1]])).await;
    assert_eq!(st, 400);
    assert_error(&body, "BAD_REQUEST");

    // Malformed bodies.
    let r = s
        .http
        .post(s.url("/api/v1/command"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (st, body) = status_json(r).await;
    assert_eq!(st, 400);
    assert_error(&body, "BAD_REQUEST");
    let r = s
        .http
        .post(s.url("/api/v1/command"))
        .body("{}")
        .send()
        .await
        .unwrap();
    let (st, body) = status_json(r).await;
    assert_eq!(st, 415);
    assert_error(&body, "UNSUPPORTED_MEDIA_TYPE");
    let (st, body) = status_json(s.post("/api/v1/command", json!({"argv": []})).await).await;
    assert_eq!(st, 400);
    assert_error(&body, "BAD_REQUEST");

    // Unknown routes and methods.
    let (st, body) = status_json(s.get("/api/v1/nope").await).await;
    assert_eq!(st, 404);
    assert_error(&body, "NOT_FOUND");
    let (st, body) = status_json(s.delete("/api/v1/command").await).await;
    assert_eq!(st, 405);
    assert_error(&body, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn pipeline_runs_in_one_client_so_transactions_work() {
    let s = HttpServer::start(&[]);
    let (st, body) = status_json(
        s.post(
            "/api/v1/pipeline",
            json!({"commands": [["MULTI"], ["INCR", "c"], ["INCR", "c"], ["EXEC"], ["GET", "c"], ["LPUSH", "c", "x"]]}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        body["results"],
        json!([
            {"result": "OK"},
            {"result": "QUEUED"},
            {"result": "QUEUED"},
            {"result": [1, 2]},
            {"result": "2"},
            {"error": {"code": "WRONGTYPE", "message": "WRONGTYPE Operation against a key holding the wrong kind of value"}}
        ])
    );
}

#[tokio::test]
async fn blocking_commands_wait_over_http() {
    let s = HttpServer::start(&[]);
    // Times out as BLPOP does.
    let (st, body) = s.command(json!(["BLPOP", "q", "0.2"])).await;
    assert_eq!((st, body), (200, json!({"result": null})));
    // Served by a RESP client's push while the HTTP request waits.
    let port = s.server.port;
    let pusher = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let _: () = redis::cmd("RPUSH")
            .arg("q")
            .arg("job")
            .query(&mut c)
            .unwrap();
    });
    let (st, body) = s.command(json!(["BLPOP", "q", "10"])).await;
    pusher.join().unwrap();
    assert_eq!((st, body), (200, json!({"result": ["q", "job"]})));
}

#[tokio::test]
async fn http_commands_are_seen_by_the_command_layer() {
    let s = HttpServer::start(&["--notify-keyspace-events", "KEA"]);
    let mut sub = s.resp();
    let mut pubsub = sub.as_pubsub();
    pubsub.subscribe("__keyevent@0__:set").unwrap();
    pubsub
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    s.post("/api/v1/keys/watched", json!({"value": "1"})).await;
    let msg = pubsub.get_message().unwrap();
    assert_eq!(msg.get_payload::<String>().unwrap(), "watched");
    drop(pubsub);

    let mut c = s.resp();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut c)
        .unwrap();
    assert!(info.contains("cmdstat_set:calls=1,"), "{info}");
    // A request in progress is a client: CLIENT LIST (run over HTTP) shows it.
    let (_, body) = s.command(json!(["CLIENT", "LIST"])).await;
    let list = body["result"].as_str().unwrap();
    assert!(list.contains("lib-name=fincache-http"), "{list}");
    assert!(list.contains("cmd=client|list"), "{list}");
    // ... and leaves once answered.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
    assert!(!list.contains("fincache-http"), "{list}");
}

#[tokio::test]
async fn sorted_set_routes() {
    let s = HttpServer::start(&[]);
    let (st, body) = status_json(
        s.post(
            "/api/v1/sorted-sets/book/add",
            json!({"members": [
                {"member": "bid:1", "score": 150.2},
                {"member": "bid:2", "score": 149},
                {"member": "bid:3", "score": "+inf"}
            ]}),
        )
        .await,
    )
    .await;
    assert_eq!((st, body), (200, json!({"added": 3})));
    let (_, body) = status_json(s.get("/api/v1/sorted-sets/book/range").await).await;
    assert_eq!(body, json!({"members": ["bid:2", "bid:1", "bid:3"]}));
    let (_, body) = status_json(
        s.get("/api/v1/sorted-sets/book/range?start=0&stop=1&withscores=true")
            .await,
    )
    .await;
    assert_eq!(
        body,
        json!({"members": [{"member": "bid:2", "score": 149.0}, {"member": "bid:1", "score": 150.2}]})
    );
    let (_, body) = status_json(
        s.get("/api/v1/sorted-sets/book/revrange?stop=0&withscores=true")
            .await,
    )
    .await;
    assert_eq!(
        body,
        json!({"members": [{"member": "bid:3", "score": "inf"}]})
    );
    let (_, body) = status_json(s.get("/api/v1/sorted-sets/none/range").await).await;
    assert_eq!(body, json!({"members": []}));
    // Updates with options; errors from ZADD itself.
    let (_, body) = status_json(
        s.post(
            "/api/v1/sorted-sets/book/add",
            json!({"members": [{"member": "bid:2", "score": 151}], "gt": true, "ch": true}),
        )
        .await,
    )
    .await;
    assert_eq!(body, json!({"added": 1}));
    let (st, body) = status_json(
        s.post(
            "/api/v1/sorted-sets/book/add",
            json!({"members": [{"member": "x", "score": "abc"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(body["error"]["message"], "ERR value is not a valid float");
    let (st, _) = status_json(
        s.post(
            "/api/v1/sorted-sets/book/add",
            json!({"members": [{"member": "x", "score": 1}], "nx": true, "gt": true}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    let (st, _) = status_json(s.get("/api/v1/sorted-sets/book/range?start=x").await).await;
    assert_eq!(st, 400);
    s.post("/api/v1/keys/str", json!({"value": "v"})).await;
    let (st, body) = status_json(s.get("/api/v1/sorted-sets/str/range").await).await;
    assert_eq!(st, 409);
    assert_error(&body, "WRONGTYPE");
}

#[tokio::test]
async fn script_routes_store_named_functions() {
    let s = HttpServer::start(&[]);
    let (st, body) = status_json(
        s.post(
            "/api/v1/scripts",
            json!({"name": "transfer", "script": "local a = redis.call('DECRBY', KEYS[1], ARGV[1])\nredis.call('INCRBY', KEYS[2], ARGV[1])\nreturn a"}),
        )
        .await,
    )
    .await;
    assert_eq!((st, body), (200, json!({"name": "transfer"})));
    s.post(
        "/api/v1/scripts",
        json!({"name": "peek", "script": "return redis.call('GET', KEYS[1])", "flags": ["no-writes"]}),
    )
    .await;
    let (_, body) = status_json(s.get("/api/v1/scripts").await).await;
    let mut names: Vec<_> = body["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["peek", "transfer"]);
    let mut c = s.resp();
    let _: () = redis::cmd("SET")
        .arg("acct:a")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let (st, body) = status_json(
        s.post(
            "/api/v1/scripts/transfer/execute",
            json!({"keys": ["acct:a", "acct:b"], "args": [30]}),
        )
        .await,
    )
    .await;
    assert_eq!((st, body), (200, json!({"result": 70})));
    let b: i64 = redis::cmd("GET").arg("acct:b").query(&mut c).unwrap();
    assert_eq!(b, 30);
    let (_, body) = status_json(
        s.post(
            "/api/v1/scripts/peek/execute",
            json!({"keys": ["acct:b"], "readonly": true}),
        )
        .await,
    )
    .await;
    assert_eq!(body, json!({"result": "30"}));
    // A function RESP clients can call too.
    let v: String = redis::cmd("FCALL")
        .arg("peek")
        .arg(1)
        .arg("acct:a")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, "70");

    // Errors: exists (409), unknown (404), bad name/flag/code (400), write in FCALL_RO (400).
    let (st, _) = status_json(
        s.post(
            "/api/v1/scripts",
            json!({"name": "peek", "script": "return 1"}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 409);
    let (st, _) = status_json(
        s.post(
            "/api/v1/scripts",
            json!({"name": "peek", "script": "return 2", "replace": true}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, _) = status_json(s.post("/api/v1/scripts/nope/execute", json!({})).await).await;
    assert_eq!(st, 404);
    let (st, _) = status_json(
        s.post(
            "/api/v1/scripts",
            json!({"name": "bad name", "script": "return 1"}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    let (st, _) = status_json(
        s.post(
            "/api/v1/scripts",
            json!({"name": "f", "script": "return 1", "flags": ["sudo"]}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    let (st, _) = status_json(
        s.post(
            "/api/v1/scripts",
            json!({"name": "broken", "script": "return ("}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    let (st, _) = status_json(
        s.post(
            "/api/v1/scripts/transfer/execute",
            json!({"keys": ["a", "b"], "args": [1], "readonly": true}),
        )
        .await,
    )
    .await;
    assert_eq!(st, 400);
    let (st, body) = status_json(s.delete("/api/v1/scripts/peek").await).await;
    assert_eq!((st, body), (200, json!({"name": "peek", "deleted": true})));
    let (st, _) = status_json(s.delete("/api/v1/scripts/peek").await).await;
    assert_eq!(st, 404);
}
