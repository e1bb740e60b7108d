//! The HTTP API's guards and operations routes through real HTTP: authentication with
//! `requirepass` and `api-key` (401, 403), the per-IP rate limit (429 with Retry-After), CORS,
//! the body limit (413), health, readiness, the cluster and security views, and switching the
//! API off or on a busy port.

mod http_support;
mod support;

use http_support::{assert_error, status_json, HttpServer};
use serde_json::json;

#[tokio::test]
async fn cluster_security_health_and_readiness() {
    let s = HttpServer::start(&[]);
    let (st, body) = status_json(s.get("/api/v1/cluster/info").await).await;
    assert_eq!(st, 200);
    assert_eq!(body["mode"], "standalone");
    assert_eq!(body["known_nodes"], 1);
    let (_, nodes) = status_json(s.get("/api/v1/cluster/nodes").await).await;
    assert_eq!(
        nodes["nodes"][0]["address"],
        format!("127.0.0.1:{}", s.server.port)
    );
    assert_eq!(nodes["nodes"][0]["id"], body["my_id"]);
    assert_eq!(nodes["nodes"][0]["slots"], json!([[0, 16383]]));
    let (_, health) = status_json(s.get("/api/v1/cluster/health").await).await;
    assert_eq!(health["status"], "ok");
    let (_, sec) = status_json(s.get("/api/v1/security/status").await).await;
    assert_eq!(sec["tls_enabled"], false);
    assert_eq!(sec["auth_enabled"], false);
    assert_eq!(sec["acl_users"], 1);

    assert_eq!(status_json(s.get("/health").await).await.1["status"], "ok");
    assert_eq!(
        status_json(s.get("/ready").await).await.1["status"],
        "ready"
    );
    let mut c = s.resp();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("enable-health")
        .arg("no")
        .query(&mut c)
        .unwrap();
    let (st, body) = status_json(s.get("/health").await).await;
    assert_eq!(st, 404);
    assert_error(&body, "NOT_FOUND");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("enable-metrics")
        .arg("no")
        .query(&mut c)
        .unwrap();
    assert_eq!(s.get("/metrics").await.status().as_u16(), 404);
}

#[tokio::test]
async fn requirepass_maps_to_401_and_403() {
    let s = HttpServer::start(&["--requirepass", "s3cret"]);
    let (st, body) = status_json(s.get("/api/v1/keys/k").await).await;
    assert_eq!(st, 401);
    assert_error(&body, "NOAUTH");
    let r = s
        .http
        .get(s.url("/api/v1/keys/k"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    let (st, body) = status_json(r).await;
    assert_eq!(st, 403);
    assert_error(&body, "WRONGPASS");
    let r = s
        .http
        .post(s.url("/api/v1/keys/k"))
        .header("x-api-key", "s3cret")
        .json(&json!({"value": "v"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = s
        .http
        .get(s.url("/api/v1/keys/k"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(status_json(r).await.1["value"], "v");
    // Probes need no credentials.
    assert_eq!(s.get("/health").await.status().as_u16(), 200);
    assert_eq!(s.get("/metrics").await.status().as_u16(), 200);
}

#[tokio::test]
async fn api_key_is_required_when_set() {
    let s = HttpServer::start(&["--api-key", "k-123"]);
    let (st, body) = status_json(s.get("/api/v1/stats").await).await;
    assert_eq!(st, 401);
    assert_error(&body, "UNAUTHORIZED");
    let r = s
        .http
        .get(s.url("/api/v1/stats"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    let (st, body) = status_json(r).await;
    assert_eq!(st, 403);
    assert_error(&body, "FORBIDDEN");
    let r = s
        .http
        .get(s.url("/api/v1/stats"))
        .bearer_auth("k-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = s
        .http
        .get(s.url("/api/v1/stats?token=k-123"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(s.get("/health").await.status().as_u16(), 200);
    assert_eq!(s.get("/api/v1/openapi.json").await.status().as_u16(), 200);
    // CONFIG SET applies at once.
    let mut c = s.resp();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("api-key")
        .arg("")
        .query(&mut c)
        .unwrap();
    assert_eq!(s.get("/api/v1/stats").await.status().as_u16(), 200);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let s = HttpServer::start(&["--api-rate-limit", "2", "--api-rate-burst", "3"]);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let r = s.get("/api/v1/keys?count=1").await;
        if r.status().as_u16() == 429 {
            retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let (_, body) = status_json(r).await;
            assert_error(&body, "RATE_LIMITED");
            statuses.push(429);
        } else {
            statuses.push(r.status().as_u16());
        }
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // Probes are not limited; the bucket refills at the rate.
    assert_eq!(s.get("/health").await.status().as_u16(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(s.get("/api/v1/keys?count=1").await.status().as_u16(), 200);
    // 0 = unlimited, applied at once.
    let mut c = s.resp();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("api-rate-limit")
        .arg("0")
        .query(&mut c)
        .unwrap();
    for _ in 0..20 {
        assert_eq!(s.get("/api/v1/keys?count=1").await.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn cors_allows_configured_origins() {
    let s = HttpServer::start(&["--api-cors-origins", "https://app.example"]);
    let preflight = s
        .http
        .request(reqwest::Method::OPTIONS, s.url("/api/v1/command"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert_eq!(
        h["access-control-allow-headers"],
        "content-type, authorization"
    );
    let r = s
        .http
        .get(s.url("/api/v1/stats"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let r = s
        .http
        .get(s.url("/api/v1/stats"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let mut c = s.resp();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("api-cors-origins")
        .arg("*")
        .query(&mut c)
        .unwrap();
    let r = s
        .http
        .get(s.url("/api/v1/stats"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("api-cors-enabled")
        .arg("no")
        .query(&mut c)
        .unwrap();
    let r = s
        .http
        .get(s.url("/api/v1/stats"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn body_limit_answers_413() {
    let s = HttpServer::start(&["--api-max-body-size", "4kb"]);
    let big = "x".repeat(8 * 1024);
    let (st, body) = status_json(s.post("/api/v1/keys/big", json!({"value": big})).await).await;
    assert_eq!(st, 413);
    assert_error(&body, "PAYLOAD_TOO_LARGE");
    let (st, _) = status_json(
        s.post("/api/v1/keys/small", json!({"value": "x".repeat(1000)}))
            .await,
    )
    .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn the_api_can_be_off_and_a_busy_port_fails_the_start() {
    // api-enabled no: nothing listens on the HTTP port.
    let port = support::free_port();
    let off = support::TestServer::fincache_with(&[
        "--api-enabled",
        "no",
        "--api-port",
        &port.to_string(),
    ]);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    drop(off);
    // A busy HTTP port fails the start, as a busy RESP port does.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_fincache"))
        .args([
            "--port",
            &support::free_port().to_string(),
            "--api-port",
            &busy_port.to_string(),
        ])
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stderr).contains("HTTP API: could not bind"));
    // ... except the default address: a busy 8080 leaves RESP serving, with a warning.
    let _held = std::net::TcpListener::bind("127.0.0.1:8080");
    let s = support::TestServer::fincache_with(&["--api-enabled", "yes"]);
    let pong: String = redis::cmd("PING").query(&mut s.conn()).unwrap();
    assert_eq!(pong, "PONG");
}
