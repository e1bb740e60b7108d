//! Key routes (`/api/v1/keys…`), FLUSH, STATS, and the generic command and pipeline routes.
//! Each builds the argv a RESP client would send and runs it through its [`Client`].

use super::{check, select_db, DbQuery};
use crate::http::client::parse_all;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Path, Query};
use crate::http::guard::Client;
use crate::http::json::{bytes_to_json, json_to_arg, reply_to_json, JsonBody};
use crate::http::HttpClient;
use axum::http::StatusCode;
use axum::Json;
use fincache_resp::Reply;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// A key with its value, type and time to live.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyValue {
    pub key: String,
    /// `string`, `list`, `hash`, `set`, `zset` or `stream`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A string (or `{"base64": ...}`) for strings; an array for lists and sets; an object for
    /// hashes; `[{"member", "score"}]` for sorted sets; the XRANGE entries for streams.
    pub value: Value,
    /// Seconds to live, rounded as TTL does; null without an expiry.
    pub ttl: Option<i64>,
    /// Milliseconds to live; null without an expiry.
    pub pttl: Option<i64>,
}

/// `POST /api/v1/keys/{key}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetKey {
    /// A string, number or boolean (stored as text), `{"base64": ...}` (binary), or any other
    /// object or array (stored as its JSON text).
    pub value: Value,
    /// Seconds to live (fractions allowed, more than 0); none = no expiry.
    pub ttl: Option<f64>,
    /// Only set the key if it does not exist (else 409).
    #[serde(default)]
    pub nx: bool,
    /// Only set the key if it exists (else 404).
    #[serde(default)]
    pub xx: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stored {
    pub key: String,
    pub stored: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub key: String,
    pub deleted: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListKeysQuery {
    /// Glob-style pattern (SCAN MATCH); default `*`.
    pub pattern: Option<String>,
    /// The cursor a previous page returned; `0` (default) starts.
    pub cursor: Option<String>,
    /// Keys to examine per page (SCAN COUNT), default 100.
    pub count: Option<String>,
    /// Only keys of this type (SCAN TYPE).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Database number (default 0).
    pub db: Option<u32>,
}

/// One page of keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyPage {
    /// Pass it back for the next page; `0` when the iteration is complete.
    pub cursor: String,
    /// Key names (strings, or `{"base64": ...}` for keys that are not UTF-8).
    pub keys: Vec<Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlushQuery {
    /// Flush only this database (FLUSHDB); without it every database (FLUSHALL).
    pub db: Option<u32>,
    /// Free the memory in the background (ASYNC).
    #[serde(default, rename = "async")]
    #[param(rename = "async")]
    pub lazy: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Flushed {
    /// `all` or `db`.
    pub flushed: String,
    pub db: Option<u32>,
}

/// `POST /api/v1/command` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The command and its arguments: strings, numbers, booleans or `{"base64": ...}`.
    pub args: Vec<Value>,
    /// Database to run it in (default 0).
    pub db: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommandResult {
    /// The reply as typed JSON.
    pub result: Value,
}

/// `POST /api/v1/pipeline` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineRequest {
    /// Commands run in order by one client (so MULTI … EXEC and SELECT work across them).
    pub commands: Vec<Vec<Value>>,
    pub db: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineResult {
    /// One entry per command: `{"result": ...}` or `{"error": {"code", "message"}}`.
    pub results: Vec<Value>,
}

fn key_param(key: &str) -> &[u8] {
    key.as_bytes()
}

/// The payload of an encoded bulk string reply (`$<len>\r\n<payload>\r\n`).
fn bulk_payload(raw: &[u8]) -> Option<&[u8]> {
    let rest = raw.strip_prefix(b"$")?;
    let nl = rest.iter().position(|&c| c == b'\r')?;
    let len: usize = std::str::from_utf8(&rest[..nl]).ok()?.parse().ok()?;
    rest.get(nl + 2..nl + 2 + len)
}

/// The value of a key that is not a string, by its type.
async fn collection_value(c: &mut HttpClient, kind: &str, key: &[u8]) -> Result<Value, ApiError> {
    let reply = match kind {
        "list" => c.call(&[b"LRANGE".as_slice(), key, b"0", b"-1"]).await,
        "hash" => c.call(&[b"HGETALL".as_slice(), key]).await,
        "set" => c.call(&[b"SMEMBERS".as_slice(), key]).await,
        "zset" => {
            let r = check(
                c.call(&[b"ZRANGE".as_slice(), key, b"0", b"-1", b"WITHSCORES"])
                    .await,
            )?;
            return Ok(scored_members(r));
        }
        "stream" => c.call(&[b"XRANGE".as_slice(), key, b"-", b"+"]).await,
        _ => return Ok(Value::Null),
    };
    Ok(reply_to_json(check(reply)?))
}

/// ZRANGE … WITHSCORES (RESP3 `[[member, score], …]`, or RESP2's flat list) as
/// `[{"member": …, "score": …}]`.
pub fn scored_members(reply: Reply) -> Value {
    let Reply::Array(items) = reply else {
        return reply_to_json(reply);
    };
    let mut out = Vec::with_capacity(items.len());
    let pair = |member: Reply, score: Reply| {
        let mut m = Map::new();
        m.insert("member".into(), reply_to_json(member));
        let score = match score {
            Reply::Bulk(b) => std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .map_or(Value::Null, |v| reply_to_json(Reply::Double(v))),
            other => reply_to_json(other),
        };
        m.insert("score".into(), score);
        Value::Object(m)
    };
    let nested = items
        .iter()
        .all(|i| matches!(i, Reply::Array(p) if p.len() == 2));
    if nested {
        for item in items {
            if let Reply::Array(mut p) = item {
                let score = p.pop().unwrap_or(Reply::Null);
                let member = p.pop().unwrap_or(Reply::Null);
                out.push(pair(member, score));
            }
        }
    } else {
        let mut it = items.into_iter();
        while let (Some(member), Some(score)) = (it.next(), it.next()) {
            out.push(pair(member, score));
        }
    }
    Value::Array(out)
}

/// GET a key: its value (the whole value for collections), type and time to live.
#[utoipa::path(get, path = "/api/v1/keys/{key}", tag = "keys",
    params(("key" = String, Path, description = "The key (UTF-8, percent-encoded)"), DbQuery),
    responses(
        (status = 200, description = "The key", body = KeyValue),
        (status = 404, description = "No such key", body = ErrorBody),
        (status = 400, description = "Bad database number", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ))]
pub async fn get_key(
    Path(key): Path<String>,
    Query(q): Query<DbQuery>,
    Client(mut c): Client,
) -> Result<Json<KeyValue>, ApiError> {
    select_db(&mut c, q.db).await?;
    let k = key_param(&key);
    // One command for strings, as over RESP: the value is copied once, into the JSON.
    let first = {
        let raw = c.call_raw(&[b"GET".as_slice(), k]).await;
        bulk_payload(raw)
            .map(bytes_to_json)
            .ok_or_else(|| parse_all(raw))
    };
    let (kind, value) = match first {
        Ok(value) => ("string".to_string(), value),
        Err(reply) => match reply {
            Reply::Null => return Err(no_such_key(&key)),
            Reply::Error(e) if e.starts_with("WRONGTYPE") => {
                let kind = match check(c.call(&[b"TYPE".as_slice(), k]).await)? {
                    Reply::Simple(t) => t,
                    other => return Err(ApiError::bad_request(format!("TYPE replied {other:?}"))),
                };
                if kind == "none" {
                    return Err(no_such_key(&key));
                }
                let value = collection_value(&mut c, &kind, k).await?;
                (kind, value)
            }
            Reply::Error(e) => return Err(ApiError::from_command(&e)),
            other => ("string".to_string(), reply_to_json(other)),
        },
    };
    let pttl = match check(c.call(&[b"PTTL".as_slice(), k]).await)? {
        Reply::Int(-2) => return Err(no_such_key(&key)),
        Reply::Int(ms) if ms >= 0 => Some(ms),
        _ => None,
    };
    Ok(Json(KeyValue {
        key,
        kind,
        value,
        ttl: pttl.map(|ms| (ms + 500) / 1000),
        pttl,
    }))
}

fn no_such_key(key: &str) -> ApiError {
    ApiError::not_found(format!("no such key: {key}"))
}

/// SET a key (string value) with an optional time to live.
#[utoipa::path(post, path = "/api/v1/keys/{key}", tag = "keys",
    params(("key" = String, Path, description = "The key"), DbQuery),
    request_body = SetKey,
    responses(
        (status = 200, description = "Stored", body = Stored),
        (status = 400, description = "Bad value or ttl", body = ErrorBody),
        (status = 404, description = "xx given and the key does not exist", body = ErrorBody),
        (status = 409, description = "nx given and the key exists", body = ErrorBody),
        (status = 413, description = "Body larger than api-max-body-size", body = ErrorBody),
    ))]
pub async fn set_key(
    Path(key): Path<String>,
    Query(q): Query<DbQuery>,
    Client(mut c): Client,
    JsonBody(body): JsonBody<SetKey>,
) -> Result<Json<Stored>, ApiError> {
    let value = match &body.value {
        Value::Null => return Err(ApiError::bad_request("value must not be null")),
        Value::Array(_) => serde_json::to_vec(&body.value).unwrap_or_default(),
        Value::Object(m) if !(m.len() == 1 && m.contains_key("base64")) => {
            serde_json::to_vec(&body.value).unwrap_or_default()
        }
        v => json_to_arg(v, "value")?,
    };
    if body.nx && body.xx {
        return Err(ApiError::bad_request("nx and xx exclude each other"));
    }
    let mut argv: Vec<Vec<u8>> = vec![b"SET".to_vec(), key.as_bytes().to_vec(), value];
    if let Some(ttl) = body.ttl {
        let ms = ttl * 1000.0;
        if !ms.is_finite() || ms.round() < 1.0 || ms > i64::MAX as f64 / 2.0 {
            return Err(ApiError::bad_request(
                "ttl must be a number of seconds above 0",
            ));
        }
        argv.push(b"PX".to_vec());
        argv.push((ms.round() as i64).to_string().into_bytes());
    }
    if body.nx {
        argv.push(b"NX".to_vec());
    }
    if body.xx {
        argv.push(b"XX".to_vec());
    }
    select_db(&mut c, q.db).await?;
    match check(c.call(&argv).await)? {
        Reply::Null if body.nx => Err(ApiError::new(
            StatusCode::CONFLICT,
            "KEY_EXISTS",
            format!("key exists: {key}"),
        )),
        Reply::Null => Err(no_such_key(&key)),
        _ => Ok(Json(Stored { key, stored: true })),
    }
}

/// DEL a key.
#[utoipa::path(delete, path = "/api/v1/keys/{key}", tag = "keys",
    params(("key" = String, Path, description = "The key"), DbQuery),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such key", body = ErrorBody),
    ))]
pub async fn delete_key(
    Path(key): Path<String>,
    Query(q): Query<DbQuery>,
    Client(mut c): Client,
) -> Result<Json<Deleted>, ApiError> {
    select_db(&mut c, q.db).await?;
    match check(c.call(&[b"DEL".as_slice(), key.as_bytes()]).await)? {
        Reply::Int(0) => Err(no_such_key(&key)),
        _ => Ok(Json(Deleted { key, deleted: true })),
    }
}

/// One page of keys, by SCAN (never KEYS): pass the returned cursor back for the next page.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys",
    params(ListKeysQuery),
    responses(
        (status = 200, description = "A page of keys", body = KeyPage),
        (status = 400, description = "Bad cursor, count or type", body = ErrorBody),
    ))]
pub async fn list_keys(
    Query(q): Query<ListKeysQuery>,
    Client(mut c): Client,
) -> Result<Json<KeyPage>, ApiError> {
    select_db(&mut c, q.db).await?;
    let cursor = q.cursor.unwrap_or_else(|| "0".into());
    let pattern = q.pattern.unwrap_or_else(|| "*".into());
    let count = q.count.unwrap_or_else(|| "100".into());
    let mut argv = vec!["SCAN", &cursor, "MATCH", &pattern, "COUNT", &count];
    if let Some(t) = q.kind.as_deref() {
        argv.extend(["TYPE", t]);
    }
    let reply = check(c.call(&argv).await)?;
    let Reply::Array(mut parts) = reply else {
        return Err(ApiError::bad_request("unexpected SCAN reply"));
    };
    let (keys, next) = match (parts.pop(), parts.pop()) {
        (Some(Reply::Array(keys)), Some(Reply::Bulk(next))) => (keys, next),
        _ => return Err(ApiError::bad_request("unexpected SCAN reply")),
    };
    Ok(Json(KeyPage {
        cursor: String::from_utf8_lossy(&next).into_owned(),
        keys: keys.into_iter().map(reply_to_json).collect(),
    }))
}

/// FLUSHALL, or FLUSHDB of one database.
#[utoipa::path(post, path = "/api/v1/flush", tag = "keys",
    params(FlushQuery),
    responses(
        (status = 200, description = "Flushed", body = Flushed),
        (status = 400, description = "Bad database number", body = ErrorBody),
    ))]
pub async fn flush(
    Query(q): Query<FlushQuery>,
    Client(mut c): Client,
) -> Result<Json<Flushed>, ApiError> {
    let lazy = q.lazy.unwrap_or(false);
    let mode: &[u8] = if lazy { b"ASYNC" } else { b"SYNC" };
    let flushed = if let Some(db) = q.db {
        select_db(&mut c, Some(db)).await?;
        check(c.call(&[b"FLUSHDB".as_slice(), mode]).await)?;
        "db"
    } else {
        check(c.call(&[b"FLUSHALL".as_slice(), mode]).await)?;
        "all"
    };
    Ok(Json(Flushed {
        flushed: flushed.into(),
        db: q.db,
    }))
}

/// Runs any command and returns its reply as typed JSON. An error reply is an error response
/// with the status its code maps to (WRONGTYPE → 409, NOAUTH → 401, others → 400 …).
#[utoipa::path(post, path = "/api/v1/command", tag = "commands",
    request_body = CommandRequest,
    responses(
        (status = 200, description = "The reply", body = CommandResult),
        (status = 400, description = "Bad arguments, unknown command, or an error reply", body = ErrorBody),
        (status = 409, description = "WRONGTYPE", body = ErrorBody),
    ))]
pub async fn command(
    Client(mut c): Client,
    JsonBody(body): JsonBody<CommandRequest>,
) -> Result<Json<CommandResult>, ApiError> {
    let argv = args_of(&body.args)?;
    select_db(&mut c, body.db).await?;
    let reply = check(c.call(&argv).await)?;
    Ok(Json(CommandResult {
        result: reply_to_json(reply),
    }))
}

fn args_of(args: &[Value]) -> Result<Vec<Vec<u8>>, ApiError> {
    if args.is_empty() {
        return Err(ApiError::bad_request("args must name a command"));
    }
    args.iter()
        .enumerate()
        .map(|(i, a)| json_to_arg(a, &format!("args[{i}]")))
        .collect()
}

/// Runs several commands in order with one client; each gets its own result or error.
#[utoipa::path(post, path = "/api/v1/pipeline", tag = "commands",
    request_body = PipelineRequest,
    responses(
        (status = 200, description = "One result per command", body = PipelineResult),
        (status = 400, description = "Bad arguments", body = ErrorBody),
    ))]
pub async fn pipeline(
    Client(mut c): Client,
    JsonBody(body): JsonBody<PipelineRequest>,
) -> Result<Json<PipelineResult>, ApiError> {
    let commands: Vec<Vec<Vec<u8>>> = body
        .commands
        .iter()
        .map(|args| args_of(args))
        .collect::<Result<_, _>>()?;
    select_db(&mut c, body.db).await?;
    let mut results = Vec::with_capacity(commands.len());
    for argv in &commands {
        let entry = match c.call(argv).await {
            Reply::Error(e) => {
                let e = ApiError::from_command(&e);
                serde_json::json!({"error": {"code": e.code, "message": e.message}})
            }
            reply => serde_json::json!({ "result": reply_to_json(reply) }),
        };
        results.push(entry);
    }
    Ok(Json(PipelineResult { results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_payload_reads_the_bytes() {
        assert_eq!(bulk_payload(b"$3\r\nabc\r\n"), Some(&b"abc"[..]));
        assert_eq!(bulk_payload(b"$0\r\n\r\n"), Some(&b""[..]));
        assert_eq!(bulk_payload(b"$5\r\nab\r\n"), None);
        assert_eq!(bulk_payload(b"_\r\n"), None);
    }

    #[test]
    fn scored_members_both_shapes() {
        let flat = Reply::Array(vec![
            Reply::Bulk(b"a".to_vec()),
            Reply::Bulk(b"1.5".to_vec()),
        ]);
        let nested = Reply::Array(vec![Reply::Array(vec![
            Reply::Bulk(b"a".to_vec()),
            Reply::Double(1.5),
        ])]);
        let want = serde_json::json!([{"member": "a", "score": 1.5}]);
        assert_eq!(scored_members(flat), want);
        assert_eq!(scored_members(nested), want);
    }
}
