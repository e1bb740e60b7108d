//! Operations routes: `/health`, `/ready`, `/metrics`, the OpenAPI document, `/api/v1/stats`,
//! the standalone cluster view, the security summary, and the embedded dashboard.

use super::check;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Path;
use crate::http::guard::Client;
use crate::http::{metrics, AppState, HttpClient};
use crate::server::Shutdown;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fincache_resp::Reply;
use serde::Serialize;
use serde_json::{Map, Number, Value};
use std::sync::atomic::Ordering;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `ready` for /ready.
    pub status: String,
    pub uptime_seconds: u64,
}

fn health_disabled() -> ApiError {
    ApiError::not_found("health checks are off (enable-health no)")
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "ops",
    responses(
        (status = 200, description = "Alive", body = Health),
        (status = 404, description = "enable-health is no", body = ErrorBody),
    ))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let server = &state.server;
    if !server.config.read().enable_health {
        return Err(health_disabled());
    }
    Ok(Json(Health {
        status: "ok".into(),
        uptime_seconds: server.started.elapsed().as_secs(),
    }))
}

/// Readiness: data loaded and accepting writes. 503 while a snapshot or AOF loads, or while
/// the server shuts down.
#[utoipa::path(get, path = "/ready", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Loading or shutting down", body = ErrorBody),
        (status = 404, description = "enable-health is no", body = ErrorBody),
    ))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let server = &state.server;
    if !server.config.read().enable_health {
        return Err(health_disabled());
    }
    if server.loading.load(Ordering::Acquire) {
        return Err(ApiError::not_ready("loading the dataset in memory"));
    }
    if *server.shutdown.borrow() != Shutdown::Running {
        return Err(ApiError::not_ready("shutting down"));
    }
    Ok(Json(Health {
        status: "ready".into(),
        uptime_seconds: server.started.elapsed().as_secs(),
    }))
}

/// Prometheus metrics in the text exposition format (docs/METRICS.md).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "text/plain"),
        (status = 404, description = "enable-metrics is no", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let server = &state.server;
    if !server.config.read().enable_metrics {
        return Err(ApiError::not_found("metrics are off (enable-metrics no)"));
    }
    let text = metrics::render(server);
    Ok(([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response())
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    let doc = state.openapi_json.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}

/// Server statistics: a summary for dashboards plus every INFO section.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub uptime_seconds: u64,
    pub ops_per_sec: u64,
    pub total_commands_processed: u64,
    pub connected_clients: u64,
    pub blocked_clients: u64,
    pub used_memory: u64,
    pub used_memory_rss: u64,
    pub maxmemory: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// hits / (hits + misses); null before any lookup.
    pub hit_ratio: Option<f64>,
    pub keys: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    /// Number of databases (`SELECT 0` … `databases - 1`).
    pub databases: u64,
    /// Every INFO section: `{"server": {"redis_version": "7.2.4", …}, "keyspace": {"db0":
    /// {"keys": 1, …}}, …}`; numbers as numbers.
    #[schema(value_type = Object)]
    pub info: Value,
}

/// Statistics, from INFO run through the command layer.
#[utoipa::path(get, path = "/api/v1/stats", tag = "ops",
    responses(
        (status = 200, description = "Statistics", body = Stats),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ))]
pub async fn stats(
    State(state): State<AppState>,
    Client(mut c): Client,
) -> Result<Json<Stats>, ApiError> {
    let databases = state.server.keyspace.db_count() as u64;
    let info = info_sections(&mut c, "everything").await?;
    let num = |section: &str, field: &str| {
        info.get(section)
            .and_then(|s| s.get(field))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let (hits, misses) = (
        num("stats", "keyspace_hits"),
        num("stats", "keyspace_misses"),
    );
    let keys = info
        .get("keyspace")
        .and_then(Value::as_object)
        .map_or(0, |dbs| {
            dbs.values()
                .filter_map(|db| db.get("keys").and_then(Value::as_u64))
                .sum()
        });
    Ok(Json(Stats {
        uptime_seconds: num("server", "uptime_in_seconds"),
        ops_per_sec: num("stats", "instantaneous_ops_per_sec"),
        total_commands_processed: num("stats", "total_commands_processed"),
        connected_clients: num("clients", "connected_clients"),
        blocked_clients: num("clients", "blocked_clients"),
        used_memory: num("memory", "used_memory"),
        used_memory_rss: num("memory", "used_memory_rss"),
        maxmemory: num("memory", "maxmemory"),
        keyspace_hits: hits,
        keyspace_misses: misses,
        hit_ratio: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
        keys,
        expired_keys: num("stats", "expired_keys"),
        evicted_keys: num("stats", "evicted_keys"),
        databases,
        info: Value::Object(info),
    }))
}

/// Runs `INFO <section>` and parses it into `{section: {field: value}}`.
async fn info_sections(c: &mut HttpClient, section: &str) -> Result<Map<String, Value>, ApiError> {
    let text = match check(c.call(&["INFO", section]).await)? {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
        other => return Err(ApiError::bad_request(format!("INFO replied {other:?}"))),
    };
    Ok(parse_info(&text))
}

/// INFO text as JSON: `# Name` starts a section (lower-cased); `field:value` lines fill it;
/// `a=1,b=2` values (keyspace, commandstats) become objects; numbers become numbers.
pub fn parse_info(text: &str) -> Map<String, Value> {
    let mut sections = Map::new();
    let mut current = String::from("info");
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(name) = line.strip_prefix("# ") {
            current = name.trim().to_ascii_lowercase();
            sections
                .entry(current.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        let parsed = if value.contains('=') && value.contains(',') || is_assignment(value) {
            let mut obj = Map::new();
            for part in value.split(',') {
                if let Some((k, v)) = part.split_once('=') {
                    obj.insert(k.to_string(), scalar(v));
                }
            }
            Value::Object(obj)
        } else {
            scalar(value)
        };
        let section = sections
            .entry(current.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(s) = section {
            s.insert(field.to_string(), parsed);
        }
    }
    sections
}

/// `count=3` alone (errorstats) is an object too.
fn is_assignment(v: &str) -> bool {
    v.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    })
}

/// An INFO value: an integer or a float as a number, anything else as a string.
fn scalar(v: &str) -> Value {
    if let Ok(n) = v.parse::<i64>() {
        return Value::Number(n.into());
    }
    if let Ok(f) = v.parse::<f64>() {
        if let Some(n) = Number::from_f64(f) {
            return Value::Number(n);
        }
    }
    Value::String(v.to_string())
}

/// The standalone server as a one-node cluster.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterInfo {
    /// `standalone` (cluster mode is not built yet).
    pub mode: String,
    pub cluster_enabled: bool,
    /// `ok` while the node serves every slot.
    pub state: String,
    pub known_nodes: u32,
    pub size: u32,
    pub slots_assigned: u32,
    pub slots_ok: u32,
    pub my_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterNode {
    pub id: String,
    /// `host:port` of the RESP listener.
    pub address: String,
    pub role: String,
    /// Slot ranges served, `[[first, last]]`.
    pub slots: Vec<[u32; 2]>,
    pub connected: bool,
    pub keys: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterNodes {
    pub nodes: Vec<ClusterNode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterHealth {
    /// `ok` or `loading`.
    pub status: String,
    pub nodes_total: u32,
    pub nodes_healthy: u32,
}

/// The node's id, RESP address and key count, from INFO.
async fn this_node(c: &mut HttpClient, state: &AppState) -> Result<ClusterNode, ApiError> {
    let info = info_sections(c, "everything").await?;
    let get = |s: &str, f: &str| info.get(s).and_then(|s| s.get(f)).cloned();
    let id = get("server", "run_id")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let port = get("server", "tcp_port")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let host = {
        let bind = state.server.config.read().bind.clone();
        let first = bind.split_whitespace().next().unwrap_or("127.0.0.1");
        first.trim_start_matches('-').to_string()
    };
    let keys = info
        .get("keyspace")
        .and_then(Value::as_object)
        .map_or(0, |dbs| {
            dbs.values()
                .filter_map(|db| db.get("keys").and_then(Value::as_u64))
                .sum()
        });
    Ok(ClusterNode {
        id,
        address: format!("{host}:{port}"),
        role: "master".into(),
        slots: vec![[0, 16383]],
        connected: true,
        keys,
    })
}

/// Cluster summary (a standalone server answers as a one-node deployment).
#[utoipa::path(get, path = "/api/v1/cluster/info", tag = "ops",
    responses((status = 200, description = "Cluster summary", body = ClusterInfo)))]
pub async fn cluster_info(
    State(state): State<AppState>,
    Client(mut c): Client,
) -> Result<Json<ClusterInfo>, ApiError> {
    let node = this_node(&mut c, &state).await?;
    Ok(Json(ClusterInfo {
        mode: "standalone".into(),
        cluster_enabled: false,
        state: "ok".into(),
        known_nodes: 1,
        size: 1,
        slots_assigned: 16384,
        slots_ok: 16384,
        my_id: node.id,
    }))
}

/// The cluster's nodes: this one.
#[utoipa::path(get, path = "/api/v1/cluster/nodes", tag = "ops",
    responses((status = 200, description = "Nodes", body = ClusterNodes)))]
pub async fn cluster_nodes(
    State(state): State<AppState>,
    Client(mut c): Client,
) -> Result<Json<ClusterNodes>, ApiError> {
    let node = this_node(&mut c, &state).await?;
    Ok(Json(ClusterNodes { nodes: vec![node] }))
}

/// Cluster health: every node serving (503 while this one loads).
#[utoipa::path(get, path = "/api/v1/cluster/health", tag = "ops",
    responses(
        (status = 200, description = "Healthy", body = ClusterHealth),
        (status = 503, description = "Loading", body = ErrorBody),
    ))]
pub async fn cluster_health(
    State(state): State<AppState>,
) -> Result<Json<ClusterHealth>, ApiError> {
    if state.server.loading.load(Ordering::Acquire) {
        return Err(ApiError::not_ready("loading the dataset in memory"));
    }
    Ok(Json(ClusterHealth {
        status: "ok".into(),
        nodes_total: 1,
        nodes_healthy: 1,
    }))
}

/// What protects the server (never a secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityStatus {
    /// TLS listener on (not built yet: always false).
    pub tls_enabled: bool,
    /// `requirepass` set: RESP clients must AUTH.
    pub auth_enabled: bool,
    /// `api-key` set: HTTP clients must present it.
    pub api_key_required: bool,
    /// Users known to the server (the default user until ACLs exist).
    pub acl_users: u32,
    pub protected_mode: bool,
    pub cors_enabled: bool,
    /// HTTP requests per second per client IP (0 = unlimited).
    pub rate_limit: u64,
}

/// TLS, authentication and API protection switches.
#[utoipa::path(get, path = "/api/v1/security/status", tag = "ops",
    responses((status = 200, description = "Security summary", body = SecurityStatus)))]
pub async fn security_status(State(state): State<AppState>) -> Json<SecurityStatus> {
    let c = state.server.config.read();
    Json(SecurityStatus {
        tls_enabled: c.tls_port != 0,
        auth_enabled: !c.requirepass.is_empty(),
        api_key_required: !c.api_key.is_empty(),
        acl_users: 1,
        protected_mode: false,
        cors_enabled: c.api_cors_enabled,
        rate_limit: c.api_rate_limit,
    })
}

const DASHBOARD_HTML: &str = include_str!("../../../assets/dashboard.html");
const DASHBOARD_JS: &str = include_str!("../../../assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("../../../assets/dashboard.css");
const FAVICON_SVG: &str = include_str!("../../../assets/favicon.svg");

fn html(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The web dashboard (live charts, key browser, console, Pub/Sub monitor); works offline.
#[utoipa::path(get, path = "/dashboard", tag = "dashboard",
    responses((status = 200, description = "The dashboard page", body = String, content_type = "text/html")))]
pub async fn dashboard() -> Response {
    html(DASHBOARD_HTML)
}

/// The dashboard, at the address users of earlier FinCache releases know.
#[utoipa::path(get, path = "/sandbox", tag = "dashboard",
    responses((status = 200, description = "The dashboard page", body = String, content_type = "text/html")))]
pub async fn sandbox() -> Response {
    html(DASHBOARD_HTML)
}

/// The dashboard's script, style sheet and icon, embedded in the binary.
#[utoipa::path(get, path = "/dashboard/assets/{file}", tag = "dashboard",
    params(("file" = String, Path, description = "`dashboard.js`, `dashboard.css` or `favicon.svg`")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"),
            (String = "text/css"),
            (String = "image/svg+xml"),
        )),
        (status = 404, description = "No such file", body = ErrorBody),
    ))]
pub async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (body, kind) = match file.as_str() {
        "dashboard.js" => (DASHBOARD_JS, "text/javascript; charset=utf-8"),
        "dashboard.css" => (DASHBOARD_CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON_SVG, "image/svg+xml"),
        _ => return Err(ApiError::not_found(format!("no asset {file}"))),
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AppState {
        std::sync::Arc::new(crate::http::HttpState {
            server: crate::server::Server::new(crate::config::Config::default()),
            limiter: Default::default(),
            openapi_json: Default::default(),
        })
    }

    #[tokio::test]
    async fn ready_is_503_while_loading_or_stopping() {
        let st = state();
        assert!(ready(State(st.clone())).await.is_ok());
        st.server.loading.store(true, Ordering::Release);
        let e = ready(State(st.clone())).await.unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "NOT_READY")
        );
        assert!(cluster_health(State(st.clone())).await.is_err());
        // Liveness does not depend on it.
        assert!(health(State(st.clone())).await.is_ok());
        st.server.loading.store(false, Ordering::Release);
        st.server.request_shutdown();
        let e = ready(State(st.clone())).await.unwrap_err();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn info_text_becomes_json() {
        let text = "# Server\r\nredis_version:7.2.4\r\nuptime_in_seconds:5\r\n\r\n# Stats\r\n\
                    instantaneous_input_kbps:0.25\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n\
                    # Errorstats\r\nerrorstat_ERR:count=3\r\n";
        let v = Value::Object(parse_info(text));
        assert_eq!(v["server"]["redis_version"], "7.2.4");
        assert_eq!(v["server"]["uptime_in_seconds"], 5);
        assert_eq!(v["stats"]["instantaneous_input_kbps"], 0.25);
        assert_eq!(v["keyspace"]["db0"]["keys"], 2);
        assert_eq!(v["errorstats"]["errorstat_ERR"]["count"], 3);
    }
}
