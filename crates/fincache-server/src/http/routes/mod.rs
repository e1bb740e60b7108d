//! The route table: every route is registered through `utoipa_axum::routes!`, so the router
//! and the OpenAPI document are built from the same list and cannot disagree.

pub mod keys;
pub mod ops;
pub mod pubsub;
pub mod scripts;
pub mod zset;

use super::error::ApiError;
use super::{guard, openapi, AppState, HttpClient};
use axum::http::StatusCode;
use axum::middleware;
use fincache_resp::Reply;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `?db=N`: the database a route's commands run in (default 0).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DbQuery {
    /// Database number (default 0).
    pub db: Option<u32>,
}

/// Turns an error reply into an error response; passes other replies through.
pub fn check(reply: Reply) -> Result<Reply, ApiError> {
    match reply {
        Reply::Error(e) => Err(ApiError::from_command(&e)),
        r => Ok(r),
    }
}

/// Runs `SELECT db` when a database is named (its errors are the command's: 400).
pub async fn select_db(c: &mut HttpClient, db: Option<u32>) -> Result<(), ApiError> {
    if let Some(db) = db {
        check(
            c.call(&[b"SELECT".to_vec(), db.to_string().into_bytes()])
                .await,
        )?;
    }
    Ok(())
}

/// The router (without state) and the OpenAPI document of every route.
pub fn router(state: &AppState) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let authenticated = OpenApiRouter::new()
        .routes(routes!(keys::get_key, keys::set_key, keys::delete_key))
        .routes(routes!(keys::list_keys))
        .routes(routes!(keys::flush))
        .routes(routes!(keys::command))
        .routes(routes!(keys::pipeline))
        .routes(routes!(ops::stats))
        .routes(routes!(pubsub::publish))
        .routes(routes!(pubsub::channels))
        .routes(routes!(pubsub::subscribe_get, pubsub::subscribe_post))
        .routes(routes!(super::ws::websocket))
        .routes(routes!(zset::add))
        .routes(routes!(zset::range))
        .routes(routes!(zset::revrange))
        .routes(routes!(scripts::list, scripts::register))
        .routes(routes!(scripts::execute))
        .routes(routes!(scripts::delete))
        .routes(routes!(ops::cluster_info))
        .routes(routes!(ops::cluster_nodes))
        .routes(routes!(ops::cluster_health))
        .routes(routes!(ops::security_status))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::authenticate,
        ));
    let public = OpenApiRouter::new()
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi_json))
        .routes(routes!(ops::dashboard))
        .routes(routes!(ops::sandbox))
        .routes(routes!(ops::asset));
    let (router, api) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(authenticated)
        .merge(public)
        .split_for_parts();
    let mut api = api;
    add_common_responses(&mut api);
    let body_limit =
        usize::try_from(state.server.config.read().api_max_body_size).unwrap_or(usize::MAX);
    let router = router
        .fallback(not_found)
        // `api-max-body-size` (fixed at start): larger bodies get 413 from `JsonBody`.
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .method_not_allowed_fallback(method_not_allowed)
        // ORDER: the last layer is the outermost: metrics see every response, CORS headers
        // reach 429s, and the rate limit runs before authentication and the handlers.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::rate_limit,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), guard::cors))
        .layer(middleware::from_fn_with_state(state.clone(), guard::track));
    (router, api)
}

/// Documents on every operation the answers its layers may give: 429 (rate limit) on all but
/// the probes, 401 and 403 on the authenticated `/api/v1` routes.
fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in api.paths.paths.iter_mut() {
        let probe = matches!(path.as_str(), "/health" | "/ready" | "/metrics");
        let authenticated = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.delete,
            &mut item.put,
        ];
        for op in operations.into_iter().flatten() {
            let responses = &mut op.responses.responses;
            if !probe {
                responses.entry("429".into()).or_insert_with(|| {
                    error("Rate limited: Retry-After gives the seconds to wait")
                });
            }
            if authenticated {
                responses
                    .entry("401".into())
                    .or_insert_with(|| error("Credentials required (api-key or requirepass)"));
                responses
                    .entry("403".into())
                    .or_insert_with(|| error("Credentials refused"));
            }
        }
    }
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not allowed on {}", uri.path()),
    )
}
