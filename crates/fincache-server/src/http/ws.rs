//! `/api/v1/ws`: the WebSocket Pub/Sub bridge.
//!
//! The socket is one registered client (RESP3, so it may publish while subscribed). Each text
//! frame from the browser is a JSON request, run as the matching command:
//!
//! | request | command | answer(s) |
//! |---|---|---|
//! | `{"type": "subscribe", "channels": [..]}` | SUBSCRIBE | `{"type": "subscribe", "channel", "count"}` per channel |
//! | `{"type": "psubscribe", "patterns": [..]}` | PSUBSCRIBE | `{"type": "psubscribe", "pattern", "count"}` per pattern |
//! | `{"type": "unsubscribe", "channels": [..]}` (none = all) | UNSUBSCRIBE | `{"type": "unsubscribe", …}` |
//! | `{"type": "punsubscribe", "patterns": [..]}` (none = all) | PUNSUBSCRIBE | `{"type": "punsubscribe", …}` |
//! | `{"type": "publish", "channel", "message"}` | PUBLISH | `{"type": "published", "channel", "receivers"}` |
//! | `{"type": "ping"}` | PING | `{"type": "pong"}` |
//!
//! An optional `"id"` in a request is copied into its answers. Messages arrive as
//! `{"type": "message", "channel", "message"}` and `{"type": "pmessage", "pattern", "channel",
//! "message"}`; a bad request gets `{"type": "error", "error": {"code", "message"}}`.
//!
//! Deliveries wait in the client's push buffer under the `pubsub` output limit; a socket too
//! slow to drain it is closed (code 1008), as a slow RESP subscriber is disconnected.

use crate::client::ClientHandle;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::guard::Client;
use crate::http::json::json_to_arg;
use crate::http::routes::pubsub::events_of;
use crate::http::{AppState, HttpClient};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use fincache_resp::Reply;
use serde_json::{json, Value};

/// Upgrade to the WebSocket bridge (see the module documentation for the messages).
#[utoipa::path(get, path = "/api/v1/ws", tag = "pubsub",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ))]
pub async fn websocket(
    State(state): State<AppState>,
    Client(client): Client,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(upgrade.on_upgrade(move |socket| serve(state, client, socket)))
}

/// Runs the bridge until either side closes, the client is killed, or the server stops.
async fn serve(state: AppState, mut client: HttpClient, mut socket: WebSocket) {
    let handle = client.state.handle.clone();
    let mut shutdown = state.server.shutdown.subscribe();
    loop {
        let mut out = Vec::new();
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => out = answer(&mut client, text.as_str()).await,
                Some(Ok(Message::Binary(_))) => {
                    out.push(error_json(None, "BAD_REQUEST", "send JSON text frames"));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // Pings are answered by the protocol layer.
                Some(Ok(_)) => {}
            },
            _ = handle.push_notify.notified() => {}
            _ = handle.kill_notify.notified() => {}
            _ = crate::http::stopped(&mut shutdown) => {
                close(&mut socket, 1001, "server shutting down").await;
                return;
            }
        }
        if handle.is_killed() {
            close(&mut socket, 1008, KILLED).await;
            return;
        }
        for frame in client.take_pushes() {
            out.extend(events_of(frame));
        }
        for v in out {
            if !send(&mut socket, &handle, v).await {
                // A send cut short leaves a partial frame: drop the connection as it is.
                return;
            }
        }
    }
}

const KILLED: &str = "output buffer limit reached or client killed";

/// Sends one message unless the client is killed first (a subscriber too slow to read is cut
/// off at its output limit even while a send waits on it). False: stop serving.
async fn send(socket: &mut WebSocket, handle: &ClientHandle, v: Value) -> bool {
    if handle.is_killed() {
        return false;
    }
    tokio::select! {
        r = socket.send(Message::Text(v.to_string().into())) => r.is_ok(),
        _ = handle.kill_notify.notified() => false,
    }
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let sent = socket.send(Message::Close(Some(frame)));
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sent).await;
}

fn error_json(id: Option<&Value>, code: &str, message: &str) -> Value {
    let mut v = json!({"type": "error", "error": {"code": code, "message": message}});
    if let Some(id) = id {
        v["id"] = id.clone();
    }
    v
}

/// Runs one request and returns its answers.
async fn answer(client: &mut HttpClient, text: &str) -> Vec<Value> {
    let request: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![error_json(None, "BAD_REQUEST", &format!("not JSON: {e}"))],
    };
    let id = request.get("id").cloned();
    let mut answers = match run(client, &request).await {
        Ok(answers) => answers,
        Err(e) => vec![error_json(None, &e.code, &e.message)],
    };
    if let Some(id) = id {
        for a in &mut answers {
            a["id"] = id.clone();
        }
    }
    answers
}

/// The names in `request[field]` as arguments (strings, numbers, `{"base64"}`).
fn names(request: &Value, field: &str) -> Result<Vec<Vec<u8>>, ApiError> {
    match request.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| json_to_arg(v, &format!("{field}[{i}]")))
            .collect(),
        Some(_) => Err(ApiError::bad_request(format!("{field} must be an array"))),
    }
}

async fn run(client: &mut HttpClient, request: &Value) -> Result<Vec<Value>, ApiError> {
    let kind = request
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("a request needs a \"type\""))?;
    let (verb, field): (&[u8], &str) = match kind {
        "subscribe" => (b"SUBSCRIBE", "channels"),
        "psubscribe" => (b"PSUBSCRIBE", "patterns"),
        "unsubscribe" => (b"UNSUBSCRIBE", "channels"),
        "punsubscribe" => (b"PUNSUBSCRIBE", "patterns"),
        "publish" => return publish(client, request).await,
        "ping" => {
            command_ok(client.call(&[b"PING".as_slice()]).await)?;
            return Ok(vec![json!({"type": "pong"})]);
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown type {other:?} (subscribe, psubscribe, unsubscribe, punsubscribe, publish, ping)"
            )))
        }
    };
    let names = names(request, field)?;
    if names.is_empty() && matches!(kind, "subscribe" | "psubscribe") {
        return Err(ApiError::bad_request(format!(
            "{field} must name at least one"
        )));
    }
    let mut argv = vec![verb.to_vec()];
    argv.extend(names);
    let reply = command_ok(client.call(&argv).await)?;
    Ok(events_of(reply))
}

async fn publish(client: &mut HttpClient, request: &Value) -> Result<Vec<Value>, ApiError> {
    let channel = request
        .get("channel")
        .ok_or_else(|| ApiError::bad_request("publish needs a \"channel\""))?;
    let message = request
        .get("message")
        .ok_or_else(|| ApiError::bad_request("publish needs a \"message\""))?;
    let argv = vec![
        b"PUBLISH".to_vec(),
        json_to_arg(channel, "channel")?,
        json_to_arg(message, "message")?,
    ];
    match command_ok(client.call(&argv).await)? {
        Reply::Int(n) => Ok(vec![
            json!({"type": "published", "channel": channel, "receivers": n}),
        ]),
        other => Err(ApiError::bad_request(format!("PUBLISH replied {other:?}"))),
    }
}

fn command_ok(reply: Reply) -> Result<Reply, ApiError> {
    crate::http::routes::check(reply)
}
