//! The OpenAPI 3.1 document's frame (title, tags); the paths and schemas come from the
//! `#[utoipa::path]` annotations on the handlers, collected by the route table.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "FinCache HTTP API",
        description = "REST, WebSocket and Server-Sent-Events access to FinCache. Every call \
                       runs through the same command layer as RESP clients. Errors are \
                       `{\"error\": {\"code\", \"message\"}}`. See docs/API.md."
    ),
    tags(
        (name = "keys", description = "String keys, key listing (SCAN) and FLUSH"),
        (name = "commands", description = "Any command, one or several at a time"),
        (name = "pubsub", description = "Publish, list channels, subscribe over SSE or WebSocket"),
        (name = "sorted-sets", description = "Sorted-set members and ranges"),
        (name = "scripts", description = "Named Lua scripts (stored as functions)"),
        (name = "ops", description = "Health, readiness, metrics, stats, cluster, security"),
        (name = "dashboard", description = "The embedded web dashboard"),
    )
)]
pub struct ApiDoc;
