//! The HTTP API: REST routes, the WebSocket and Server-Sent-Events Pub/Sub bridge, Prometheus
//! `/metrics`, `/health` and `/ready`, the OpenAPI document and the embedded dashboard, served
//! by axum on hyper from the `fincache` process itself (`api-enabled`, `api-port`).
//!
//! The API is one more client of the command layer, not a second implementation: a REST call
//! becomes the command a RESP client would send, run by an [`HttpClient`] through the
//! dispatcher (see `client.rs`), and its RESP3 reply is rendered as JSON (`json.rs`). So
//! authentication, CLIENT PAUSE, MONITOR, notifications, statistics and the slow log see it.
//!
//! Layers around every route (outermost first): request metrics (`guard::track`) → CORS
//! (`guard::cors`) → per-IP token bucket (`guard::rate_limit`); the `/api/v1` routes also pass
//! `guard::authenticate`. `/health`, `/ready` and `/metrics` are exempt from the rate limit and
//! from authentication (probes and scrapers).
//!
//! Connections are served by hyper's HTTP/1.1 server with upgrades (WebSockets): the time to
//! read a request head is bounded by `api-read-timeout` (and a body by the same, in
//! [`json::JsonBody`]), a write that makes no progress for `api-write-timeout` closes the
//! connection (`timeout.rs`). No lock is held across an `.await`.

pub mod client;
pub mod error;
pub mod extract;
pub mod guard;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod stats;
mod timeout;
pub mod ws;

pub use client::HttpClient;
pub use stats::HttpStats;

use crate::server::{Server, Shutdown};
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What every handler can reach.
pub struct HttpState {
    pub server: Arc<Server>,
    pub limiter: guard::RateLimiter,
    /// The OpenAPI document, rendered once at start.
    pub openapi_json: std::sync::OnceLock<String>,
}

pub type AppState = Arc<HttpState>;

/// Binds the HTTP listeners: `api-bind` (or `bind` when empty) on `api-port`.
///
/// A busy port fails the start, as a busy RESP port does, except for the default address
/// (`api-port 8080`, no `api-bind`): the API is on by default, and a second FinCache on one
/// machine (or a port some other service took) must not keep the data store from starting.
/// Then the server logs a warning and serves RESP only.
pub async fn bind(config: &crate::config::Config) -> anyhow::Result<Vec<TcpListener>> {
    let addrs = if config.api_bind.trim().is_empty() {
        &config.bind
    } else {
        &config.api_bind
    };
    match crate::net::listener::bind(addrs, config.api_port).await {
        Ok(listeners) => Ok(listeners),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && is_default_address(config) => {
            tracing::warn!(
                error = %e,
                "the HTTP API's default port is busy: serving without the HTTP API \
                 (set api-port to choose another, or api-enabled no)"
            );
            Ok(Vec::new())
        }
        Err(e) => Err(anyhow::anyhow!("HTTP API: {e}")),
    }
}

/// Whether the API listens where it does by default (no address or port was chosen).
fn is_default_address(config: &crate::config::Config) -> bool {
    let default = crate::config::Config::default();
    config.api_port == default.api_port && config.api_bind.trim().is_empty()
}

/// Starts serving the HTTP API on `listeners`; the tasks end when the server shuts down.
pub fn spawn(
    server: &Arc<Server>,
    listeners: Vec<TcpListener>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let state = Arc::new(HttpState {
        server: server.clone(),
        limiter: guard::RateLimiter::default(),
        openapi_json: std::sync::OnceLock::new(),
    });
    let (router, openapi) = routes::router(&state);
    let _ = state
        .openapi_json
        .set(openapi.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    let app = router.with_state(state);
    listeners
        .into_iter()
        .map(|l| {
            if let Ok(addr) = l.local_addr() {
                tracing::info!(%addr, "serving the HTTP API (dashboard at /dashboard)");
            }
            tokio::spawn(accept_loop(server.clone(), app.clone(), l))
        })
        .collect()
}

/// Accepts HTTP connections until the server shuts down.
async fn accept_loop(server: Arc<Server>, app: axum::Router, listener: TcpListener) {
    let mut shutdown = server.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stopped(&mut shutdown) => return,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(server.clone(), app.clone(), stream, peer));
    }
}

/// Serves one HTTP/1.1 connection (keep-alive, upgrades) until it closes or the server stops.
async fn serve_connection(
    server: Arc<Server>,
    app: axum::Router,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
) {
    let (read_timeout, write_timeout) = {
        let c = server.config.read();
        (c.api_read_timeout, c.api_write_timeout)
    };
    let local = stream.local_addr().ok();
    let io = TokioIo::new(timeout::WriteTimeout::new(stream, secs(write_timeout)));
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            if let Some(local) = local {
                req.extensions_mut().insert(guard::LocalAddr(local));
            }
            let mut app = app.clone();
            async move {
                use tower::Service;
                app.call(req.map(axum::body::Body::new)).await
            }
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new());
    builder.header_read_timeout(secs(read_timeout));
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let mut shutdown = server.shutdown.subscribe();
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopped(&mut shutdown) => {}
    }
    // Finish the request in flight, then close.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(1), conn).await;
}

/// Resolves once the server is asked to stop (without holding the channel's lock after).
pub(crate) async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<Shutdown>) {
    let _ = shutdown.wait_for(|s| *s != Shutdown::Running).await;
}

/// A timeout setting in seconds (0 = none).
fn secs(s: u64) -> Option<Duration> {
    (s > 0).then(|| Duration::from_secs(s))
}
