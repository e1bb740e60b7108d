//! Replies as typed JSON, JSON values as command arguments, and the JSON body extractor.
//!
//! Replies (RESP3) map to JSON by type: simple and bulk strings → strings (a bulk that is not
//! UTF-8 → `{"base64": "..."}`), integers → numbers, null → null, arrays, sets and pushes →
//! arrays, maps → objects (keys as strings; a map with a key that is not a string or number →
//! an array of `[key, value]` pairs), doubles → numbers (`"inf"`, `"-inf"`, `"nan"` as
//! strings), booleans → booleans, big numbers → strings, verbatim strings → their text, and an
//! error inside an array (EXEC) → `{"error": "..."}`.
//!
//! Arguments go the other way: a JSON string is its UTF-8 bytes, a number or boolean its text,
//! `{"base64": "..."}` the decoded bytes.

use super::error::ApiError;
use super::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use base64::Engine;
use fincache_resp::Reply;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};
use std::time::Duration;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A byte string as JSON: a string when it is UTF-8, else `{"base64": "..."}`.
pub fn bytes_to_json(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => base64_object(b),
    }
}

/// Owned bytes as JSON, without copying when they are UTF-8.
pub fn vec_to_json(b: Vec<u8>) -> Value {
    match String::from_utf8(b) {
        Ok(s) => Value::String(s),
        Err(e) => base64_object(e.as_bytes()),
    }
}

fn base64_object(b: &[u8]) -> Value {
    let mut m = Map::new();
    m.insert("base64".into(), Value::String(B64.encode(b)));
    Value::Object(m)
}

fn double_to_json(v: f64) -> Value {
    match Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None if v.is_nan() => Value::String("nan".into()),
        None if v > 0.0 => Value::String("inf".into()),
        None => Value::String("-inf".into()),
    }
}

/// A reply as typed JSON (see the module header).
pub fn reply_to_json(r: Reply) -> Value {
    match r {
        Reply::Simple(s) => Value::String(s),
        Reply::Error(e) => {
            let mut m = Map::new();
            m.insert("error".into(), Value::String(e));
            Value::Object(m)
        }
        Reply::Int(n) => Value::Number(n.into()),
        Reply::Bulk(b) => vec_to_json(b),
        Reply::Null => Value::Null,
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            Value::Array(items.into_iter().map(reply_to_json).collect())
        }
        Reply::Map(pairs) => map_to_json(pairs),
        Reply::Double(v) => double_to_json(v),
        Reply::Bool(b) => Value::Bool(b),
        Reply::BigNumber(d) => Value::String(d),
        Reply::Verbatim(_, text) => vec_to_json(text),
    }
}

fn map_key(k: &Reply) -> Option<String> {
    match k {
        Reply::Simple(s) => Some(s.clone()),
        Reply::Bulk(b) => std::str::from_utf8(b).ok().map(str::to_string),
        Reply::Int(n) => Some(n.to_string()),
        Reply::Double(v) => Some(fincache_resp::encode::format_double(*v)),
        Reply::Verbatim(_, t) => std::str::from_utf8(t).ok().map(str::to_string),
        _ => None,
    }
}

fn map_to_json(pairs: Vec<(Reply, Reply)>) -> Value {
    if pairs.iter().all(|(k, _)| map_key(k).is_some()) {
        let mut m = Map::new();
        for (k, v) in pairs {
            if let Some(k) = map_key(&k) {
                m.insert(k, reply_to_json(v));
            }
        }
        Value::Object(m)
    } else {
        Value::Array(
            pairs
                .into_iter()
                .map(|(k, v)| Value::Array(vec![reply_to_json(k), reply_to_json(v)]))
                .collect(),
        )
    }
}

/// A JSON argument as bytes: string, number, boolean, or `{"base64": "..."}`. `what` names the
/// argument in the error.
pub fn json_to_arg(v: &Value, what: &str) -> Result<Vec<u8>, ApiError> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Number(n) => Ok(n.to_string().into_bytes()),
        Value::Bool(b) => Ok(if *b {
            b"true".to_vec()
        } else {
            b"false".to_vec()
        }),
        Value::Object(m) if m.len() == 1 => match m.get("base64") {
            Some(Value::String(s)) => B64
                .decode(s)
                .map_err(|e| ApiError::bad_request(format!("{what}: invalid base64: {e}"))),
            _ => Err(not_an_arg(what)),
        },
        _ => Err(not_an_arg(what)),
    }
}

fn not_an_arg(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{what} must be a string, a number, a boolean or {{\"base64\": \"...\"}}"
    ))
}

/// A JSON request body, with every rejection in the API's error shape: 413 when the body is
/// larger than `api-max-body-size`, 415 without a JSON content type, 400 when it does not
/// parse or does not match the expected fields, 408 when it does not arrive within
/// `api-read-timeout`.
pub struct JsonBody<T>(pub T);

impl<T> FromRequest<AppState> for JsonBody<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        // `api-read-timeout` bounds the body too (hyper bounds the head).
        let limit = state.server.config.read().api_read_timeout;
        let read = axum::Json::<T>::from_request(req, state);
        let result = if limit == 0 {
            read.await
        } else {
            match tokio::time::timeout(Duration::from_secs(limit), read).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "REQUEST_TIMEOUT",
                        format!("the body did not arrive within {limit} s (api-read-timeout)"),
                    ))
                }
            }
        };
        match result {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => {
                let status = rejection.status();
                let code = match status.as_u16() {
                    413 => "PAYLOAD_TOO_LARGE",
                    415 => "UNSUPPORTED_MEDIA_TYPE",
                    _ => "BAD_REQUEST",
                };
                // 422 (JSON of the wrong shape) is reported as 400, as every other bad input.
                let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
                    StatusCode::BAD_REQUEST
                } else {
                    status
                };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replies_become_typed_json() {
        let r = Reply::Array(vec![
            Reply::Int(1),
            Reply::Bulk(b"a".to_vec()),
            Reply::Bulk(vec![0xff]),
            Reply::Null,
            Reply::Double(1.5),
            Reply::Double(f64::INFINITY),
            Reply::Bool(true),
            Reply::Error("ERR x".into()),
        ]);
        assert_eq!(
            reply_to_json(r),
            json!([1, "a", {"base64": "/w=="}, null, 1.5, "inf", true, {"error": "ERR x"}])
        );
        let m = Reply::Map(vec![(Reply::Bulk(b"f".to_vec()), Reply::Int(2))]);
        assert_eq!(reply_to_json(m), json!({"f": 2}));
        let odd = Reply::Map(vec![(Reply::Null, Reply::Int(2))]);
        assert_eq!(reply_to_json(odd), json!([[null, 2]]));
    }

    #[test]
    fn arguments_from_json() {
        assert_eq!(json_to_arg(&json!("x"), "v").unwrap(), b"x");
        assert_eq!(json_to_arg(&json!(1.5), "v").unwrap(), b"1.5");
        assert_eq!(json_to_arg(&json!(-3), "v").unwrap(), b"-3");
        assert_eq!(
            json_to_arg(&json!({"base64": "/w=="}), "v").unwrap(),
            vec![0xff]
        );
        assert!(json_to_arg(&json!([1]), "v").is_err());
        assert!(json_to_arg(&json!(null), "v").is_err());
        assert!(json_to_arg(&json!({"base64": "!"}), "v").is_err());
    }
}
