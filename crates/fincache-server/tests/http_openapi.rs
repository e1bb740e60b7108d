//! The OpenAPI document at `/api/v1/openapi.json` against the server and the docs:
//! - its routes are exactly the routes `docs/API.md` lists (method and path);
//! - every route is called over real HTTP, in success and error cases, and each answer's status
//!   is one the document declares for it, with the declared content type, and a JSON body that
//!   validates against the declared schema (a small validator for the subset utoipa emits:
//!   `$ref`, `type`, `properties`, `required`, `items`, `oneOf`/`anyOf`/`allOf`, `enum`).

mod http_support;
mod support;

use http_support::HttpServer;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 4] = ["get", "post", "delete", "put"];

/// (METHOD, path) of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// (METHOD, path) of every row of the routes table in docs/API.md.
fn documented_routes() -> BTreeSet<(String, String)> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/API.md"))
            .unwrap();
    let mut routes = BTreeSet::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 {
            continue;
        }
        let method = cells[1].trim_matches('`');
        let path = cells[2].trim_matches('`');
        if METHODS.contains(&method.to_ascii_lowercase().as_str()) && path.starts_with('/') {
            routes.insert((method.to_string(), path.to_string()));
        }
    }
    routes
}

/// Resolves `#/components/schemas/X`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").expect("local ref");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("schema type {other}"),
    }
}

/// Validates `v` against `schema`; the error says where it failed.
fn validate(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(doc, s, v, at)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            if !alts.iter().any(|s| validate(doc, s, v, at).is_ok()) {
                return Err(format!("{at}: {v} matches no alternative of {key}"));
            }
        }
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => {
            return Err(format!("{at}: {v} is not {t}"));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)) => {
            return Err(format!("{at}: {v} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        if !values.contains(v) {
            return Err(format!("{at}: {v} not in {values:?}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                return Err(format!("{at}: missing required {r}"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                if let Some(val) = obj.get(k) {
                    validate(doc, s, val, &format!("{at}.{k}"))?;
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, val) in arr.iter().enumerate() {
            validate(doc, items, val, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Checks one answer against the operation's responses.
fn conforms(doc: &Value, method: &str, path: &str, status: u16, content_type: &str, body: &str) {
    let op = &doc["paths"][path][method.to_ascii_lowercase()];
    let response = op["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {path}: status {status} is not documented: {body}"));
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(
            body.is_empty(),
            "{method} {path} {status}: undocumented body {body}"
        );
        return;
    };
    let media = content_type.split(';').next().unwrap().trim();
    let declared = content.get(media).unwrap_or_else(|| {
        panic!("{method} {path} {status}: content type {media} not in {content:?}")
    });
    if media == "application/json" {
        let v: Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{method} {path} {status}: not JSON ({e}): {body}"));
        if let Err(e) = validate(doc, &declared["schema"], &v, "body") {
            panic!("{method} {path} {status}: {e}");
        }
    }
}

/// One request of the tour: method, route template, concrete URL, body, expected status.
struct Call {
    method: &'static str,
    route: &'static str,
    url: String,
    body: Option<Value>,
    status: u16,
}

fn call(
    method: &'static str,
    route: &'static str,
    url: &str,
    body: Option<Value>,
    status: u16,
) -> Call {
    Call {
        method,
        route,
        url: url.to_string(),
        body,
        status,
    }
}

#[tokio::test]
async fn every_route_is_documented_and_answers_per_its_schema() {
    let s = HttpServer::start(&[]);
    let r = s.get("/api/v1/openapi.json").await;
    assert_eq!(r.status().as_u16(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let ops = operations(&doc);
    assert_eq!(
        ops,
        documented_routes(),
        "the OpenAPI document and docs/API.md list different routes"
    );

    // Data for the calls.
    let mut c = s.resp();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let _: () = redis::cmd("ZADD")
        .arg("z")
        .arg(1)
        .arg("a")
        .query(&mut c)
        .unwrap();
    s.post(
        "/api/v1/scripts",
        json!({"name": "s1", "script": "return KEYS[1]"}),
    )
    .await;

    let calls = vec![
        call("GET", "/health", "/health", None, 200),
        call("GET", "/ready", "/ready", None, 200),
        call("GET", "/metrics", "/metrics", None, 200),
        call(
            "GET",
            "/api/v1/openapi.json",
            "/api/v1/openapi.json",
            None,
            200,
        ),
        call("GET", "/api/v1/keys/{key}", "/api/v1/keys/k", None, 200),
        call("GET", "/api/v1/keys/{key}", "/api/v1/keys/z", None, 200),
        call("GET", "/api/v1/keys/{key}", "/api/v1/keys/none", None, 404),
        call(
            "GET",
            "/api/v1/keys/{key}",
            "/api/v1/keys/k?db=x",
            None,
            400,
        ),
        call(
            "POST",
            "/api/v1/keys/{key}",
            "/api/v1/keys/k2",
            Some(json!({"value": "x", "ttl": 5})),
            200,
        ),
        call(
            "POST",
            "/api/v1/keys/{key}",
            "/api/v1/keys/k",
            Some(json!({"value": "x", "nx": true})),
            409,
        ),
        call(
            "POST",
            "/api/v1/keys/{key}",
            "/api/v1/keys/k9",
            Some(json!({"value": "x", "xx": true})),
            404,
        ),
        call(
            "POST",
            "/api/v1/keys/{key}",
            "/api/v1/keys/k",
            Some(json!({"value": "x", "ttl": -1})),
            400,
        ),
        call("DELETE", "/api/v1/keys/{key}", "/api/v1/keys/k2", None, 200),
        call("DELETE", "/api/v1/keys/{key}", "/api/v1/keys/k2", None, 404),
        call("GET", "/api/v1/keys", "/api/v1/keys?pattern=*", None, 200),
        call("GET", "/api/v1/keys", "/api/v1/keys?cursor=x", None, 400),
        call("POST", "/api/v1/flush", "/api/v1/flush?db=5", None, 200),
        call("POST", "/api/v1/flush", "/api/v1/flush?db=500", None, 400),
        call("GET", "/api/v1/stats", "/api/v1/stats", None, 200),
        call(
            "POST",
            "/api/v1/command",
            "/api/v1/command",
            Some(json!({"args": ["HGETALL", "nohash"]})),
            200,
        ),
        call(
            "POST",
            "/api/v1/command",
            "/api/v1/command",
            Some(json!({"args": ["INCR", "z"]})),
            409,
        ),
        call(
            "POST",
            "/api/v1/command",
            "/api/v1/command",
            Some(json!({"args": ["BOGUS"]})),
            400,
        ),
        call(
            "POST",
            "/api/v1/pipeline",
            "/api/v1/pipeline",
            Some(json!({"commands": [["PING"], ["INCR", "z"]]})),
            200,
        ),
        call(
            "POST",
            "/api/v1/pipeline",
            "/api/v1/pipeline",
            Some(json!({"commands": [[]]})),
            400,
        ),
        call(
            "POST",
            "/api/v1/pubsub/publish",
            "/api/v1/pubsub/publish",
            Some(json!({"channel": "c", "message": "m"})),
            200,
        ),
        call(
            "POST",
            "/api/v1/pubsub/publish",
            "/api/v1/pubsub/publish",
            Some(json!({"channel": ["c"], "message": "m"})),
            400,
        ),
        call(
            "GET",
            "/api/v1/pubsub/channels",
            "/api/v1/pubsub/channels",
            None,
            200,
        ),
        call(
            "GET",
            "/api/v1/pubsub/subscribe",
            "/api/v1/pubsub/subscribe?channels=c",
            None,
            200,
        ),
        call(
            "GET",
            "/api/v1/pubsub/subscribe",
            "/api/v1/pubsub/subscribe",
            None,
            400,
        ),
        call(
            "POST",
            "/api/v1/pubsub/subscribe",
            "/api/v1/pubsub/subscribe",
            Some(json!({"patterns": ["p*"]})),
            200,
        ),
        call(
            "POST",
            "/api/v1/pubsub/subscribe",
            "/api/v1/pubsub/subscribe",
            Some(json!({})),
            400,
        ),
        call("GET", "/api/v1/ws", "/api/v1/ws", None, 400),
        call(
            "POST",
            "/api/v1/sorted-sets/{key}/add",
            "/api/v1/sorted-sets/z/add",
            Some(json!({"members": [{"member": "b", "score": 2}]})),
            200,
        ),
        call(
            "POST",
            "/api/v1/sorted-sets/{key}/add",
            "/api/v1/sorted-sets/k/add",
            Some(json!({"members": [{"member": "b", "score": 2}]})),
            409,
        ),
        call(
            "POST",
            "/api/v1/sorted-sets/{key}/add",
            "/api/v1/sorted-sets/z/add",
            Some(json!({"members": []})),
            400,
        ),
        call(
            "GET",
            "/api/v1/sorted-sets/{key}/range",
            "/api/v1/sorted-sets/z/range?withscores=true",
            None,
            200,
        ),
        call(
            "GET",
            "/api/v1/sorted-sets/{key}/range",
            "/api/v1/sorted-sets/z/range?start=x",
            None,
            400,
        ),
        call(
            "GET",
            "/api/v1/sorted-sets/{key}/range",
            "/api/v1/sorted-sets/k/range",
            None,
            409,
        ),
        call(
            "GET",
            "/api/v1/sorted-sets/{key}/revrange",
            "/api/v1/sorted-sets/z/revrange",
            None,
            200,
        ),
        call(
            "GET",
            "/api/v1/sorted-sets/{key}/revrange",
            "/api/v1/sorted-sets/k/revrange",
            None,
            409,
        ),
        call("GET", "/api/v1/scripts", "/api/v1/scripts", None, 200),
        call(
            "POST",
            "/api/v1/scripts",
            "/api/v1/scripts",
            Some(json!({"name": "s2", "script": "return 1"})),
            200,
        ),
        call(
            "POST",
            "/api/v1/scripts",
            "/api/v1/scripts",
            Some(json!({"name": "s2", "script": "return 1"})),
            409,
        ),
        call(
            "POST",
            "/api/v1/scripts",
            "/api/v1/scripts",
            Some(json!({"name": "-", "script": "return 1"})),
            400,
        ),
        call(
            "POST",
            "/api/v1/scripts/{name}/execute",
            "/api/v1/scripts/s1/execute",
            Some(json!({"keys": ["x"]})),
            200,
        ),
        call(
            "POST",
            "/api/v1/scripts/{name}/execute",
            "/api/v1/scripts/zz/execute",
            Some(json!({})),
            404,
        ),
        call(
            "POST",
            "/api/v1/scripts/{name}/execute",
            "/api/v1/scripts/s1/execute",
            Some(json!({"keys": [[1]]})),
            400,
        ),
        call(
            "DELETE",
            "/api/v1/scripts/{name}",
            "/api/v1/scripts/s2",
            None,
            200,
        ),
        call(
            "DELETE",
            "/api/v1/scripts/{name}",
            "/api/v1/scripts/s2",
            None,
            404,
        ),
        call(
            "GET",
            "/api/v1/cluster/info",
            "/api/v1/cluster/info",
            None,
            200,
        ),
        call(
            "GET",
            "/api/v1/cluster/nodes",
            "/api/v1/cluster/nodes",
            None,
            200,
        ),
        call(
            "GET",
            "/api/v1/cluster/health",
            "/api/v1/cluster/health",
            None,
            200,
        ),
        call(
            "GET",
            "/api/v1/security/status",
            "/api/v1/security/status",
            None,
            200,
        ),
        call("GET", "/dashboard", "/dashboard", None, 200),
        call("GET", "/sandbox", "/sandbox", None, 200),
        call(
            "GET",
            "/dashboard/assets/{file}",
            "/dashboard/assets/dashboard.js",
            None,
            200,
        ),
        call(
            "GET",
            "/dashboard/assets/{file}",
            "/dashboard/assets/dashboard.css",
            None,
            200,
        ),
        call(
            "GET",
            "/dashboard/assets/{file}",
            "/dashboard/assets/favicon.svg",
            None,
            200,
        ),
        call(
            "GET",
            "/dashboard/assets/{file}",
            "/dashboard/assets/nope.js",
            None,
            404,
        ),
    ];

    let mut covered = BTreeSet::new();
    for c in &calls {
        let mut req = s.http.request(c.method.parse().unwrap(), s.url(&c.url));
        if let Some(b) = &c.body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        // An event stream stays open: check its head only.
        let body = if content_type.starts_with("text/event-stream") {
            String::new()
        } else {
            r.text().await.unwrap()
        };
        assert_eq!(status, c.status, "{} {}: {body}", c.method, c.url);
        if content_type.starts_with("text/event-stream") {
            let op = &doc["paths"][c.route][c.method.to_ascii_lowercase()];
            assert!(
                op["responses"][status.to_string()]["content"]["text/event-stream"].is_object()
            );
        } else {
            conforms(&doc, c.method, c.route, status, &content_type, &body);
        }
        covered.insert((c.method.to_string(), c.route.to_string()));
    }

    // The WebSocket upgrade answers 101, as documented.
    let (ws, response) = tokio_tungstenite::connect_async(s.ws_url("/api/v1/ws"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 101);
    assert!(doc["paths"]["/api/v1/ws"]["get"]["responses"]["101"].is_object());
    drop(ws);

    let uncovered: Vec<_> = ops.difference(&covered).collect();
    assert!(
        uncovered.is_empty(),
        "routes this test never called: {uncovered:?}"
    );

    // Credentials and rate-limit answers are documented on the routes that give them.
    let limited = HttpServer::start(&[
        "--api-key",
        "k",
        "--api-rate-limit",
        "1",
        "--api-rate-burst",
        "1",
    ]);
    let r = limited.get("/api/v1/stats").await;
    let (st, ct) = (
        r.status().as_u16(),
        r.headers()["content-type"].to_str().unwrap().to_string(),
    );
    conforms(
        &doc,
        "GET",
        "/api/v1/stats",
        st,
        &ct,
        &r.text().await.unwrap(),
    );
    assert_eq!(st, 401);
    let r = limited.get("/api/v1/stats").await;
    let (st, ct) = (
        r.status().as_u16(),
        r.headers()["content-type"].to_str().unwrap().to_string(),
    );
    assert_eq!(st, 429);
    conforms(
        &doc,
        "GET",
        "/api/v1/stats",
        st,
        &ct,
        &r.text().await.unwrap(),
    );
}

#[test]
fn the_validator_rejects_what_it_should() {
    let doc = json!({"components": {"schemas": {"E": {
        "type": "object", "required": ["a"],
        "properties": {"a": {"type": "integer"}, "b": {"type": ["string", "null"]}}
    }}}});
    let r = json!({"$ref": "#/components/schemas/E"});
    assert!(validate(&doc, &r, &json!({"a": 1, "b": null}), "x").is_ok());
    assert!(validate(&doc, &r, &json!({"b": "s"}), "x").is_err());
    assert!(validate(&doc, &r, &json!({"a": "1"}), "x").is_err());
    assert!(validate(&doc, &r, &json!({"a": 1, "b": 2}), "x").is_err());
    let arr = json!({"type": "array", "items": {"type": "boolean"}});
    assert!(validate(&doc, &arr, &json!([true, 1]), "x").is_err());
}
