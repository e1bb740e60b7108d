//! The Pub/Sub bridge through real HTTP: messages published over RESP (and over HTTP) reach
//! Server-Sent-Events and WebSocket subscribers; PUBLISH and the channel list over REST; and a
//! subscriber that goes away leaves its channels.

mod http_support;
mod support;

use futures_util::{SinkExt, StreamExt};
use http_support::{assert_error, status_json, HttpServer};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Reads Server-Sent Events from a response body.
struct Events {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Events {
    fn new(r: reqwest::Response) -> Events {
        Events {
            body: Box::pin(r.bytes_stream()),
            buf: String::new(),
        }
    }

    /// The next event as (name, JSON data); keep-alive comments are skipped.
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return (
                    name,
                    serde_json::from_str(&data).expect("event data is JSON"),
                );
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("an event in time")
                .expect("stream open")
                .expect("chunk");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn numsub(c: &mut redis::Connection, channel: &str) -> i64 {
    let v: Vec<redis::Value> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query(c)
        .unwrap();
    match &v[1] {
        redis::Value::Int(n) => *n,
        other => panic!("{other:?}"),
    }
}

/// Polls until `channel` has `want` subscribers (deliveries and releases are asynchronous).
async fn wait_numsub(c: &mut redis::Connection, channel: &str, want: i64) {
    for _ in 0..200 {
        if numsub(c, channel) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{channel} never had {want} subscribers");
}

#[tokio::test]
async fn sse_receives_messages_published_over_resp_and_http() {
    let s = HttpServer::start(&[]);
    let r = s
        .get("/api/v1/pubsub/subscribe?channels=md.AAPL,orders&patterns=md.*")
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut events = Events::new(r);
    assert_eq!(
        events.next().await,
        (
            "subscribe".into(),
            json!({"type": "subscribe", "channel": "md.AAPL", "count": 1})
        )
    );
    assert_eq!(events.next().await.1["count"], 2);
    assert_eq!(
        events.next().await,
        (
            "psubscribe".into(),
            json!({"type": "psubscribe", "pattern": "md.*", "count": 3})
        )
    );

    let mut c = s.resp();
    let n: i64 = redis::cmd("PUBLISH")
        .arg("md.AAPL")
        .arg(r#"{"bid":150.2}"#)
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 2, "channel and pattern subscriptions");
    assert_eq!(
        events.next().await,
        (
            "message".into(),
            json!({"type": "message", "channel": "md.AAPL", "message": "{\"bid\":150.2}"})
        )
    );
    assert_eq!(
        events.next().await,
        (
            "pmessage".into(),
            json!({"type": "pmessage", "pattern": "md.*", "channel": "md.AAPL", "message": "{\"bid\":150.2}"})
        )
    );
    let (st, body) = status_json(
        s.post(
            "/api/v1/pubsub/publish",
            json!({"channel": "orders", "message": "filled:42"}),
        )
        .await,
    )
    .await;
    assert_eq!((st, body), (200, json!({"receivers": 1})));
    assert_eq!(events.next().await.1["message"], "filled:42");

    // The active channels, with counts.
    let (_, body) = status_json(s.get("/api/v1/pubsub/channels").await).await;
    let mut channels = body["channels"].as_array().unwrap().clone();
    channels.sort_by_key(|c| c["channel"].as_str().unwrap().to_string());
    assert_eq!(
        channels,
        vec![
            json!({"channel": "md.AAPL", "subscribers": 1}),
            json!({"channel": "orders", "subscribers": 1})
        ]
    );
    assert_eq!(body["patterns"], 1);
    let (_, body) = status_json(s.get("/api/v1/pubsub/channels?pattern=ord*").await).await;
    assert_eq!(body["channels"].as_array().unwrap().len(), 1);

    // The subscriber leaves when the HTTP client goes away.
    drop(events);
    wait_numsub(&mut c, "md.AAPL", 0).await;
}

#[tokio::test]
async fn an_event_stream_nobody_reads_is_closed_by_the_write_timeout() {
    // No output limit (FinCache still caps it at 64 MiB): only api-write-timeout can end it.
    let s = HttpServer::start(&[
        "--api-write-timeout",
        "1",
        "--client-output-buffer-limit",
        "pubsub 0 0 0",
    ]);
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.http_port)).unwrap();
    use std::io::Write;
    raw.write_all(b"GET /api/v1/pubsub/subscribe?channels=firehose HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut c = s.resp();
    wait_numsub(&mut c, "firehose", 1).await;
    // Far more than the socket buffers hold, never read by the client.
    let payload = "y".repeat(1024 * 1024);
    for _ in 0..24 {
        let _: i64 = redis::cmd("PUBLISH")
            .arg("firehose")
            .arg(&payload)
            .query(&mut c)
            .unwrap();
    }
    let started = std::time::Instant::now();
    wait_numsub(&mut c, "firehose", 0).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    drop(raw);
}

#[tokio::test]
async fn sse_post_takes_the_names_in_json() {
    let s = HttpServer::start(&[]);
    let r = s
        .post(
            "/api/v1/pubsub/subscribe",
            json!({"patterns": ["trades.*"]}),
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let mut events = Events::new(r);
    assert_eq!(events.next().await.0, "psubscribe");
    let mut c = s.resp();
    let _: i64 = redis::cmd("PUBLISH")
        .arg("trades.MSFT")
        .arg("100@410.5")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        events.next().await.1,
        json!({"type": "pmessage", "pattern": "trades.*", "channel": "trades.MSFT", "message": "100@410.5"})
    );
    // Nothing to subscribe to: 400.
    let (st, body) = status_json(s.get("/api/v1/pubsub/subscribe").await).await;
    assert_eq!(st, 400);
    assert_error(&body, "BAD_REQUEST");
    let (st, _) = status_json(
        s.post("/api/v1/pubsub/subscribe", json!({"channels": 5}))
            .await,
    )
    .await;
    assert_eq!(st, 400);
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

async fn ws_next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn websocket_bridge_subscribes_publishes_and_unsubscribes() {
    let s = HttpServer::start(&[]);
    let (mut ws, _) = tokio_tungstenite::connect_async(s.ws_url("/api/v1/ws"))
        .await
        .unwrap();
    ws_send(
        &mut ws,
        json!({"type": "subscribe", "channels": ["md.AAPL", "md.MSFT"], "id": 7}),
    )
    .await;
    assert_eq!(
        ws_next(&mut ws).await,
        json!({"type": "subscribe", "channel": "md.AAPL", "count": 1, "id": 7})
    );
    assert_eq!(ws_next(&mut ws).await["count"], 2);
    ws_send(
        &mut ws,
        json!({"type": "psubscribe", "patterns": ["orders.*"]}),
    )
    .await;
    assert_eq!(
        ws_next(&mut ws).await,
        json!({"type": "psubscribe", "pattern": "orders.*", "count": 3})
    );

    // Published over RESP.
    let mut c = s.resp();
    let n: i64 = redis::cmd("PUBLISH")
        .arg("md.AAPL")
        .arg("150.25")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        ws_next(&mut ws).await,
        json!({"type": "message", "channel": "md.AAPL", "message": "150.25"})
    );
    let _: i64 = redis::cmd("PUBLISH")
        .arg("orders.new")
        .arg("id=9")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        ws_next(&mut ws).await,
        json!({"type": "pmessage", "pattern": "orders.*", "channel": "orders.new", "message": "id=9"})
    );

    // Published from the socket itself (allowed while subscribed: RESP3 client): it receives
    // its own message after the confirmation.
    ws_send(
        &mut ws,
        json!({"type": "publish", "channel": "md.MSFT", "message": 410.5}),
    )
    .await;
    let mut got = vec![ws_next(&mut ws).await, ws_next(&mut ws).await];
    got.sort_by_key(|v| v["type"].as_str().unwrap().to_string());
    assert_eq!(
        got,
        vec![
            json!({"type": "message", "channel": "md.MSFT", "message": "410.5"}),
            json!({"type": "published", "channel": "md.MSFT", "receivers": 1}),
        ]
    );

    ws_send(
        &mut ws,
        json!({"type": "unsubscribe", "channels": ["md.AAPL"]}),
    )
    .await;
    assert_eq!(
        ws_next(&mut ws).await,
        json!({"type": "unsubscribe", "channel": "md.AAPL", "count": 2})
    );
    wait_numsub(&mut c, "md.AAPL", 0).await;
    assert_eq!(numsub(&mut c, "md.MSFT"), 1);
    ws_send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "pong"}));

    // Bad requests get an error message, and the socket stays usable.
    ws_send(&mut ws, json!({"type": "dance"})).await;
    assert_eq!(ws_next(&mut ws).await["error"]["code"], "BAD_REQUEST");
    ws.send(Message::Text("{oops".into())).await.unwrap();
    assert_eq!(ws_next(&mut ws).await["type"], "error");
    ws_send(&mut ws, json!({"type": "subscribe", "channels": []})).await;
    assert_eq!(ws_next(&mut ws).await["type"], "error");

    // Closing the socket releases its subscriptions.
    ws.close(None).await.unwrap();
    drop(ws);
    wait_numsub(&mut c, "md.MSFT", 0).await;
    let numpat: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).unwrap();
    assert_eq!(numpat, 0);
}

#[tokio::test]
async fn websocket_needs_credentials_when_a_key_is_set() {
    let s = HttpServer::start(&["--api-key", "ws-key"]);
    let err = tokio_tungstenite::connect_async(s.ws_url("/api/v1/ws"))
        .await
        .unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(r) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("{other:?}"),
    }
    // Browsers cannot set headers on a WebSocket: the key may come as ?token=.
    let (mut ws, _) = tokio_tungstenite::connect_async(s.ws_url("/api/v1/ws?token=ws-key"))
        .await
        .unwrap();
    ws_send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "pong"}));
    // A plain GET (no upgrade) is a bad request.
    let r = s
        .http
        .get(s.url("/api/v1/ws"))
        .bearer_auth("ws-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn a_slow_subscriber_is_cut_off_at_the_output_limit() {
    // pubsub class: 64 KiB hard limit.
    let s = HttpServer::start(&["--client-output-buffer-limit", "pubsub 65536 0 0"]);
    let (mut ws, _) = tokio_tungstenite::connect_async(s.ws_url("/api/v1/ws"))
        .await
        .unwrap();
    ws_send(&mut ws, json!({"type": "subscribe", "channels": ["flood"]})).await;
    assert_eq!(ws_next(&mut ws).await["type"], "subscribe");
    // Publish far more than the limit in one burst while the socket is not read.
    let mut c = s.resp();
    // More than the kernel's socket buffers can hold, so the push buffer must grow.
    let payload = "x".repeat(256 * 1024);
    let mut pipe = redis::pipe();
    for _ in 0..128 {
        pipe.cmd("PUBLISH").arg("flood").arg(&payload).ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    // The socket is closed by the server at some point (policy violation), and the
    // subscription is gone.
    let mut closed = false;
    for _ in 0..200 {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(1008));
                closed = true;
                break;
            }
            Ok(Some(Ok(_))) => continue,
            Ok(None) | Ok(Some(Err(_))) => {
                closed = true;
                break;
            }
            Err(_) => break,
        }
    }
    assert!(closed, "the slow subscriber was not disconnected");
    wait_numsub(&mut c, "flood", 0).await;
}
