//! Pub/Sub routes: PUBLISH, the active channels, and subscribing over Server-Sent Events.
//!
//! An SSE stream is a registered client that ran SUBSCRIBE / PSUBSCRIBE through the command
//! layer: PUBLISH (from RESP or HTTP) appends the message to its push buffer as to any
//! subscriber, under the `pubsub` class of `client-output-buffer-limit`; the stream turns each
//! frame into an event. A consumer too slow for that limit is disconnected, as over RESP. The
//! stream ends (and the client unsubscribes) when the HTTP client goes away.

use super::check;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Query;
use crate::http::guard::Client;
use crate::http::json::{json_to_arg, reply_to_json, JsonBody};
use crate::http::{AppState, HttpClient};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use fincache_resp::Reply;
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// A string, number, boolean or `{"base64": ...}`.
    pub channel: Value,
    pub message: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    /// Subscribers (channel and pattern) that received it.
    pub receivers: i64,
}

/// PUBLISH a message.
#[utoipa::path(post, path = "/api/v1/pubsub/publish", tag = "pubsub",
    request_body = PublishRequest,
    responses(
        (status = 200, description = "Published", body = Published),
        (status = 400, description = "Bad channel or message", body = ErrorBody),
    ))]
pub async fn publish(
    Client(mut c): Client,
    JsonBody(body): JsonBody<PublishRequest>,
) -> Result<Json<Published>, ApiError> {
    let channel = json_to_arg(&body.channel, "channel")?;
    let message = json_to_arg(&body.message, "message")?;
    match check(c.call(&[b"PUBLISH".to_vec(), channel, message]).await)? {
        Reply::Int(receivers) => Ok(Json(Published { receivers })),
        other => Err(ApiError::bad_request(format!("PUBLISH replied {other:?}"))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChannelsQuery {
    /// Only channels matching this glob (PUBSUB CHANNELS pattern).
    pub pattern: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelInfo {
    pub channel: Value,
    pub subscribers: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Channels {
    pub channels: Vec<ChannelInfo>,
    /// Patterns subscribed to (PUBSUB NUMPAT).
    pub patterns: i64,
}

/// Active channels with their subscriber counts (PUBSUB CHANNELS, NUMSUB, NUMPAT).
#[utoipa::path(get, path = "/api/v1/pubsub/channels", tag = "pubsub",
    params(ChannelsQuery),
    responses((status = 200, description = "Active channels", body = Channels)))]
pub async fn channels(
    Query(q): Query<ChannelsQuery>,
    Client(mut c): Client,
) -> Result<Json<Channels>, ApiError> {
    let mut argv: Vec<Vec<u8>> = vec![b"PUBSUB".to_vec(), b"CHANNELS".to_vec()];
    if let Some(p) = q.pattern {
        argv.push(p.into_bytes());
    }
    let names = match check(c.call(&argv).await)? {
        Reply::Array(names) | Reply::Set(names) => names,
        _ => Vec::new(),
    };
    let mut channels = Vec::with_capacity(names.len());
    if !names.is_empty() {
        let mut numsub: Vec<Vec<u8>> = vec![b"PUBSUB".to_vec(), b"NUMSUB".to_vec()];
        for n in &names {
            if let Reply::Bulk(b) = n {
                numsub.push(b.clone());
            }
        }
        let counts = check(c.call(&numsub).await)?;
        // RESP3: a map channel → count; RESP2: a flat list.
        let pairs: Vec<(Reply, Reply)> = match counts {
            Reply::Map(pairs) => pairs,
            Reply::Array(flat) => {
                let mut it = flat.into_iter();
                std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect()
            }
            _ => Vec::new(),
        };
        for (name, count) in pairs {
            let subscribers = if let Reply::Int(n) = count { n } else { 0 };
            channels.push(ChannelInfo {
                channel: reply_to_json(name),
                subscribers,
            });
        }
    }
    let patterns = match check(c.call(&["PUBSUB", "NUMPAT"]).await)? {
        Reply::Int(n) => n,
        _ => 0,
    };
    Ok(Json(Channels { channels, patterns }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscribeQuery {
    /// Channels, comma-separated.
    pub channels: Option<String>,
    /// Glob patterns, comma-separated.
    pub patterns: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub patterns: Vec<String>,
}

fn split_list(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// Subscribe over Server-Sent Events. Events: `subscribe` / `psubscribe` (one per name, `{"type",
/// "channel"|"pattern", "count"}`), then `message` (`{"type": "message", "channel", "message"}`)
/// and `pmessage` (`{"type": "pmessage", "pattern", "channel", "message"}`).
#[utoipa::path(get, path = "/api/v1/pubsub/subscribe", tag = "pubsub",
    params(SubscribeQuery),
    responses(
        (status = 200, description = "An event stream", body = String, content_type = "text/event-stream"),
        (status = 400, description = "No channel or pattern", body = ErrorBody),
    ))]
pub async fn subscribe_get(
    State(state): State<AppState>,
    Query(q): Query<SubscribeQuery>,
    Client(c): Client,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    event_stream(state, c, split_list(q.channels), split_list(q.patterns)).await
}

/// Subscribe over Server-Sent Events, the names in a JSON body (same events as GET).
#[utoipa::path(post, path = "/api/v1/pubsub/subscribe", tag = "pubsub",
    request_body = SubscribeRequest,
    responses(
        (status = 200, description = "An event stream", body = String, content_type = "text/event-stream"),
        (status = 400, description = "No channel or pattern", body = ErrorBody),
    ))]
pub async fn subscribe_post(
    State(state): State<AppState>,
    Client(c): Client,
    JsonBody(body): JsonBody<SubscribeRequest>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    event_stream(state, c, body.channels, body.patterns).await
}

/// Subscribes the client, then streams its pushes as events until the HTTP client leaves,
/// the subscriber is killed (output limit, CLIENT KILL) or the server stops.
async fn event_stream(
    state: AppState,
    mut c: HttpClient,
    channels: Vec<String>,
    patterns: Vec<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if channels.is_empty() && patterns.is_empty() {
        return Err(ApiError::bad_request(
            "name at least one channel or pattern",
        ));
    }
    let mut first = VecDeque::new();
    for (verb, names) in [("SUBSCRIBE", &channels), ("PSUBSCRIBE", &patterns)] {
        if names.is_empty() {
            continue;
        }
        let mut argv = vec![verb.to_string()];
        argv.extend(names.iter().cloned());
        let reply = check(c.call(&argv).await)?;
        first.extend(events_of(reply));
    }
    let shutdown = state.server.shutdown.subscribe();
    let stream = futures_util::stream::unfold(
        (c, first, shutdown),
        |(c, mut pending, mut shutdown)| async move {
            loop {
                if let Some(v) = pending.pop_front() {
                    let event = Event::default()
                        .event(v["type"].as_str().unwrap_or("message"))
                        .data(v.to_string());
                    return Some((Ok(event), (c, pending, shutdown)));
                }
                let handle = c.state.handle.clone();
                if handle.is_killed() {
                    return None;
                }
                if !handle.has_pushes() {
                    tokio::select! {
                        _ = handle.push_notify.notified() => {}
                        _ = handle.kill_notify.notified() => return None,
                        _ = crate::http::stopped(&mut shutdown) => return None,
                    }
                }
                for frame in c.take_pushes() {
                    pending.extend(events_of(frame));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Pub/Sub frames as JSON events: confirmations (`subscribe`, `unsubscribe`, `psubscribe`,
/// `punsubscribe`), `message`, `pmessage`, `smessage`; any other push as `{"type": "push"}`.
/// An array of frames (several confirmations) gives one event each.
pub fn events_of(reply: Reply) -> Vec<Value> {
    let text = |r: &Reply| match r {
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Simple(s) => s.clone(),
        _ => String::new(),
    };
    match reply {
        Reply::Push(items) | Reply::Array(items)
            if items
                .first()
                .is_some_and(|f| matches!(f, Reply::Bulk(_) | Reply::Simple(_))) =>
        {
            let kind = text(&items[0]);
            let mut it = items.into_iter().skip(1);
            match kind.as_str() {
                "message" | "smessage" => {
                    let (channel, message) = (it.next(), it.next());
                    vec![json!({
                        "type": kind,
                        "channel": channel.map_or(Value::Null, reply_to_json),
                        "message": message.map_or(Value::Null, reply_to_json),
                    })]
                }
                "pmessage" => {
                    let (pattern, channel, message) = (it.next(), it.next(), it.next());
                    vec![json!({
                        "type": kind,
                        "pattern": pattern.map_or(Value::Null, reply_to_json),
                        "channel": channel.map_or(Value::Null, reply_to_json),
                        "message": message.map_or(Value::Null, reply_to_json),
                    })]
                }
                "subscribe" | "unsubscribe" | "ssubscribe" | "sunsubscribe" | "psubscribe"
                | "punsubscribe" => {
                    let name_field = if kind.starts_with('p') {
                        "pattern"
                    } else {
                        "channel"
                    };
                    let (name, count) = (it.next(), it.next());
                    vec![json!({
                        "type": kind,
                        name_field: name.map_or(Value::Null, reply_to_json),
                        "count": count.map_or(Value::Null, reply_to_json),
                    })]
                }
                _ => {
                    let mut all = vec![Reply::Bulk(kind.clone().into_bytes())];
                    all.extend(it);
                    vec![json!({"type": "push", "data": reply_to_json(Reply::Array(all))})]
                }
            }
        }
        Reply::Array(frames) => frames.into_iter().flat_map(events_of).collect(),
        other => vec![json!({"type": "push", "data": reply_to_json(other)})],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn frames_become_events() {
        let msg = Reply::Push(vec![bulk("message"), bulk("ch"), bulk("hi")]);
        assert_eq!(
            events_of(msg),
            vec![json!({"type": "message", "channel": "ch", "message": "hi"})]
        );
        let two = Reply::Array(vec![
            Reply::Push(vec![bulk("subscribe"), bulk("a"), Reply::Int(1)]),
            Reply::Push(vec![bulk("psubscribe"), bulk("p*"), Reply::Int(2)]),
        ]);
        assert_eq!(
            events_of(two),
            vec![
                json!({"type": "subscribe", "channel": "a", "count": 1}),
                json!({"type": "psubscribe", "pattern": "p*", "count": 2}),
            ]
        );
        let p = Reply::Push(vec![bulk("pmessage"), bulk("p*"), bulk("px"), bulk("m")]);
        assert_eq!(
            events_of(p),
            vec![json!({"type": "pmessage", "pattern": "p*", "channel": "px", "message": "m"})]
        );
    }
}
