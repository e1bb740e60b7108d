//! Support for the HTTP tests (`tests/http_*.rs`): a FinCache process with its HTTP API on a
//! free port, and a reqwest client pointed at it. Used next to `mod support;`.
#![allow(dead_code)]

use super::support::{free_port, TestServer};
use std::time::{Duration, Instant};

/// A FinCache process serving RESP on `server.port` and HTTP on `http_port`.
pub struct HttpServer {
    pub server: TestServer,
    pub http_port: u16,
    pub http: reqwest::Client,
}

impl HttpServer {
    /// Starts FinCache with the HTTP API on a free port, plus `extra` flags.
    pub fn start(extra: &[&str]) -> HttpServer {
        let http_port = free_port();
        let port_arg = http_port.to_string();
        let mut args = vec!["--api-port", port_arg.as_str()];
        args.extend_from_slice(extra);
        let server = TestServer::fincache_with(&args);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", http_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "HTTP API did not start on {http_port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        HttpServer {
            server,
            http_port,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("reqwest client"),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.http_port, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.http_port, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE")
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    /// POST /api/v1/command and return (status, body).
    pub async fn command(&self, args: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .post("/api/v1/command", serde_json::json!({ "args": args }))
            .await;
        status_json(r).await
    }

    /// A RESP connection to the same server.
    pub fn resp(&self) -> redis::Connection {
        self.server.conn()
    }
}

/// A response's status and JSON body (Null when the body is not JSON).
pub async fn status_json(r: reqwest::Response) -> (u16, serde_json::Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Asserts the error shape `{"error": {"code", "message"}}` with `code`.
pub fn assert_error(body: &serde_json::Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}
