//! What stands around the routes: request metrics, CORS, the per-IP rate limit, and
//! authentication, plus the [`Client`] extractor that gives a handler its command-layer client.
//!
//! Settings are read per request, so `CONFIG SET api-rate-limit`, `api-rate-burst`,
//! `api-cors-enabled`, `api-cors-origins`, `api-key` and `requirepass` apply at once.
//!
//! Authentication: with `api-key` set, `/api/v1` requests must carry it (`Authorization:
//! Bearer <key>`, `X-API-Key: <key>`, or `?token=<key>` for browsers' WebSocket and
//! EventSource, which cannot set headers): none → 401, a wrong one → 403; the key admits the
//! request as the default user. Without `api-key`, a token given is the `requirepass` password:
//! the request's client runs `AUTH <token>` through the command layer (wrong → 403), and a
//! request without one gets 401 from the first command that needs authentication (NOAUTH).

use super::error::ApiError;
use super::{AppState, HttpClient};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Buckets kept before idle (full) ones are dropped.
const MAX_TRACKED_IPS: usize = 10_000;

/// A token bucket per client IP.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// Takes one token for `ip` (`rate` per second, at most `burst` saved up). `Err(seconds)`:
    /// the bucket is empty; the next token comes in about that many seconds (at least 1).
    pub fn check(&self, ip: IpAddr, rate: u64, burst: u64, now: Instant) -> Result<(), u64> {
        if rate == 0 {
            return Ok(());
        }
        let rate = rate as f64;
        let capacity = if burst == 0 { rate } else { burst as f64 };
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MAX_TRACKED_IPS && !buckets.contains_key(&ip) {
            // Forget clients whose bucket has refilled: they lose nothing.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < capacity
            });
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refill = now.saturating_duration_since(b.updated).as_secs_f64() * rate;
        b.tokens = (b.tokens + refill).min(capacity);
        b.updated = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / rate;
            Err((wait.ceil() as u64).max(1))
        }
    }
}

/// The local address a connection was accepted on (inserted by the accept loop).
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub SocketAddr);

/// The peer address hyper accepted (inserted by the accept loop).
fn peer(parts_ext: &axum::http::Extensions) -> Option<SocketAddr> {
    parts_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// Whether a path skips the rate limit and authentication (probes and scrapers).
fn is_probe(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/metrics")
}

/// Outermost layer: counts every request by route template, method and status.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().as_str().to_string();
    let response = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    state
        .server
        .http
        .observe(&route, &method, response.status().as_u16(), secs);
    response
}

/// CORS (`api-cors-enabled`, `api-cors-origins`): answers preflight requests and marks
/// responses to allowed origins. Requests without an `Origin` pass untouched.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (enabled, origins) = {
        let c = state.server.config.read();
        (c.api_cors_enabled, c.api_cors_origins.clone())
    };
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin.filter(|_| enabled) else {
        return next.run(req).await;
    };
    let any = origins.split_whitespace().any(|o| o == "*");
    let allowed = any
        || origin.to_str().is_ok_and(|o| {
            origins
                .split_whitespace()
                .any(|a| a.eq_ignore_ascii_case(o))
        });
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if allowed {
            let h = response.headers_mut();
            allow_origin(h, &origin, any);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            let requested = req
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned()
                .unwrap_or_else(|| {
                    HeaderValue::from_static("authorization, content-type, x-api-key")
                });
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(600));
        }
        return response;
    }
    let mut response = next.run(req).await;
    if allowed {
        let h = response.headers_mut();
        allow_origin(h, &origin, any);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    response
}

fn allow_origin(h: &mut HeaderMap, origin: &HeaderValue, any: bool) {
    if any {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    } else {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

/// The per-IP token bucket (`api-rate-limit` per second, `api-rate-burst`): 429 with
/// `Retry-After` when a client's bucket is empty.
pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_probe(req.uri().path()) {
        let (rate, burst) = {
            let c = state.server.config.read();
            (c.api_rate_limit, c.api_rate_burst)
        };
        if let Some(ip) = peer(req.extensions()).map(|p| p.ip()) {
            if let Err(wait) = state.limiter.check(ip, rate, burst, Instant::now()) {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITED",
                    format!("more than {rate} requests per second from {ip}"),
                );
                e.retry_after_secs = Some(wait);
                return e.into_response();
            }
        }
    }
    next.run(req).await
}

/// How a request authenticated (an extension set by [`authenticate`]).
#[derive(Debug, Clone)]
pub enum Access {
    /// It presented the configured `api-key`.
    ApiKey,
    /// It presented a token while no `api-key` is set: the `requirepass` password to try.
    Password(String),
    /// It presented nothing.
    Anonymous,
}

/// The credential a request carries: `Authorization: Bearer`, `X-API-Key`, or `?token=`.
fn token(req: &Request) -> Option<String> {
    let h = req.headers();
    if let Some(v) = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim().to_string());
        }
    }
    if let Some(v) = h.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    #[derive(serde::Deserialize)]
    struct TokenQuery {
        token: Option<String>,
    }
    axum::extract::Query::<TokenQuery>::try_from_uri(req.uri())
        .ok()
        .and_then(|q| q.0.token)
}

/// Checks `api-key` and records how the request authenticated (see the module header).
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let api_key = state.server.config.read().api_key.clone();
    let presented = token(&req);
    let access = if api_key.is_empty() {
        presented.map_or(Access::Anonymous, Access::Password)
    } else {
        match presented {
            None => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "an API key is required (Authorization: Bearer <key> or X-API-Key)",
                )
                .into_response()
            }
            Some(t) if constant_time_eq(t.as_bytes(), api_key.as_bytes()) => Access::ApiKey,
            Some(_) => {
                return ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", "invalid API key")
                    .into_response()
            }
        }
    };
    req.extensions_mut().insert(access);
    next.run(req).await
}

/// Compares secrets in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A handler's command-layer client, registered for this request (and authenticated as the
/// request's credentials allow). Dropped with the request.
pub struct Client(pub HttpClient);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = parts
            .extensions
            .get::<Access>()
            .cloned()
            .unwrap_or(Access::Anonymous);
        let server = &state.server;
        let running = *server.shutdown.borrow() == crate::server::Shutdown::Running;
        if !running {
            return Err(ApiError::not_ready("the server is shutting down"));
        }
        let local = parts.extensions.get::<LocalAddr>().map(|l| l.0);
        let mut client = HttpClient::new(
            server,
            peer(&parts.extensions),
            local,
            matches!(access, Access::ApiKey),
        );
        if let Access::Password(password) = access {
            let reply = client
                .call(&[b"AUTH".as_slice(), password.as_bytes()])
                .await;
            if let fincache_resp::Reply::Error(e) = reply {
                let mut err = ApiError::from_command(&e);
                if err.status == StatusCode::BAD_REQUEST {
                    // "AUTH <password> called without any password configured": the token
                    // is not needed, but it is not accepted either.
                    err.status = StatusCode::FORBIDDEN;
                }
                return Err(err);
            }
        }
        Ok(Client(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn token_bucket_refills_at_the_rate() {
        let l = RateLimiter::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check(ip, 1, 3, t0), Ok(()));
        }
        assert_eq!(l.check(ip, 1, 3, t0), Err(1));
        assert_eq!(l.check(ip, 1, 3, t0 + Duration::from_millis(1100)), Ok(()));
        // Another client has its own bucket; rate 0 is unlimited.
        assert_eq!(l.check("10.0.0.1".parse().unwrap(), 1, 3, t0), Ok(()));
        assert_eq!(l.check(ip, 0, 0, t0), Ok(()));
    }

    #[test]
    fn secrets_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
