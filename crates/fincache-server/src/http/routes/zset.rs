//! Sorted-set routes: ZADD and ZRANGE (forward and REV), for order books and leaderboards.

use super::keys::scored_members;
use super::{check, select_db, DbQuery};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Path, Query};
use crate::http::guard::Client;
use crate::http::json::{json_to_arg, reply_to_json, JsonBody};
use axum::Json;
use fincache_resp::Reply;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoredMember {
    /// A string, number or `{"base64": ...}`.
    pub member: Value,
    /// A number, or `"+inf"` / `"-inf"`.
    pub score: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMembers {
    pub members: Vec<ScoredMember>,
    /// Only add new members (ZADD NX).
    #[serde(default)]
    pub nx: bool,
    /// Only update existing members (XX).
    #[serde(default)]
    pub xx: bool,
    /// Only update when the new score is greater (GT) / less (LT).
    #[serde(default)]
    pub gt: bool,
    #[serde(default)]
    pub lt: bool,
    /// Count changed members, not only added ones (CH).
    #[serde(default)]
    pub ch: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Added {
    /// Members added (or changed, with `ch`).
    pub added: i64,
}

/// ZADD members with their scores.
#[utoipa::path(post, path = "/api/v1/sorted-sets/{key}/add", tag = "sorted-sets",
    params(("key" = String, Path, description = "The sorted set"), DbQuery),
    request_body = AddMembers,
    responses(
        (status = 200, description = "Added", body = Added),
        (status = 400, description = "Bad score or option combination", body = ErrorBody),
        (status = 409, description = "The key holds another type", body = ErrorBody),
    ))]
pub async fn add(
    Path(key): Path<String>,
    Query(q): Query<DbQuery>,
    Client(mut c): Client,
    JsonBody(body): JsonBody<AddMembers>,
) -> Result<Json<Added>, ApiError> {
    if body.members.is_empty() {
        return Err(ApiError::bad_request("members must not be empty"));
    }
    let mut argv: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), key.into_bytes()];
    for (on, word) in [
        (body.nx, "NX"),
        (body.xx, "XX"),
        (body.gt, "GT"),
        (body.lt, "LT"),
        (body.ch, "CH"),
    ] {
        if on {
            argv.push(word.as_bytes().to_vec());
        }
    }
    for (i, m) in body.members.iter().enumerate() {
        argv.push(json_to_arg(&m.score, &format!("members[{i}].score"))?);
        argv.push(json_to_arg(&m.member, &format!("members[{i}].member"))?);
    }
    select_db(&mut c, q.db).await?;
    // ZADD's own checks (scores, NX with GT …) answer 400; WRONGTYPE 409.
    match check(c.call(&argv).await)? {
        Reply::Int(added) => Ok(Json(Added { added })),
        other => Err(ApiError::bad_request(format!("ZADD replied {other:?}"))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First rank (default 0; negative counts from the end).
    pub start: Option<String>,
    /// Last rank, inclusive (default -1).
    pub stop: Option<String>,
    /// Include scores: members become `{"member", "score"}`.
    #[serde(default)]
    pub withscores: Option<bool>,
    /// Database number (default 0).
    pub db: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Members {
    /// Members (strings), or `{"member", "score"}` objects with `withscores=true`.
    pub members: Value,
}

async fn zrange(
    key: String,
    q: RangeQuery,
    mut c: crate::http::HttpClient,
    rev: bool,
) -> Result<Json<Members>, ApiError> {
    let start = q.start.unwrap_or_else(|| "0".into());
    let stop = q.stop.unwrap_or_else(|| "-1".into());
    let withscores = q.withscores.unwrap_or(false);
    let mut argv: Vec<&[u8]> = vec![b"ZRANGE", key.as_bytes(), start.as_bytes(), stop.as_bytes()];
    if rev {
        argv.push(b"REV");
    }
    if withscores {
        argv.push(b"WITHSCORES");
    }
    select_db(&mut c, q.db).await?;
    let reply = check(c.call(&argv).await)?;
    let members = if withscores {
        scored_members(reply)
    } else {
        reply_to_json(reply)
    };
    Ok(Json(Members { members }))
}

/// Members by rank, lowest score first (ZRANGE start stop [WITHSCORES]).
#[utoipa::path(get, path = "/api/v1/sorted-sets/{key}/range", tag = "sorted-sets",
    params(("key" = String, Path, description = "The sorted set"), RangeQuery),
    responses(
        (status = 200, description = "Members (empty for a missing key)", body = Members),
        (status = 400, description = "start or stop is not an integer", body = ErrorBody),
        (status = 409, description = "The key holds another type", body = ErrorBody),
    ))]
pub async fn range(
    Path(key): Path<String>,
    Query(q): Query<RangeQuery>,
    Client(c): Client,
) -> Result<Json<Members>, ApiError> {
    zrange(key, q, c, false).await
}

/// Members by rank, highest score first (ZRANGE start stop REV [WITHSCORES]).
#[utoipa::path(get, path = "/api/v1/sorted-sets/{key}/revrange", tag = "sorted-sets",
    params(("key" = String, Path, description = "The sorted set"), RangeQuery),
    responses(
        (status = 200, description = "Members (empty for a missing key)", body = Members),
        (status = 400, description = "start or stop is not an integer", body = ErrorBody),
        (status = 409, description = "The key holds another type", body = ErrorBody),
    ))]
pub async fn revrange(
    Path(key): Path<String>,
    Query(q): Query<RangeQuery>,
    Client(c): Client,
) -> Result<Json<Members>, ApiError> {
    zrange(key, q, c, true).await
}
