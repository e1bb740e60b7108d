//! Named Lua scripts, stored as Redis functions so they persist and replicate as functions do.
//!
//! `POST /api/v1/scripts {"name": "transfer", "script": "<Lua body using KEYS and ARGV>"}` loads
//! the library `transfer` with one function `transfer` whose body is the script, written as for
//! EVAL (`KEYS`, `ARGV`, `redis.call` …):
//!
//! ```lua
//! #!lua name=transfer
//! redis.register_function{function_name='transfer', callback=function(KEYS, ARGV)
//! <script>
//! end, flags={…}}
//! ```
//!
//! Listing is FUNCTION LIST, running FCALL (or FCALL_RO), deleting FUNCTION DELETE, all through
//! the command layer.

use super::check;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Path;
use crate::http::guard::Client;
use crate::http::json::{json_to_arg, reply_to_json, JsonBody};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Function flags a script may declare (Redis's `register_function` flags).
const FLAGS: &[&str] = &[
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterScript {
    /// Letters, digits and `_` (the library and function name).
    pub name: String,
    /// The Lua body, written as for EVAL.
    pub script: String,
    /// `no-writes`, `allow-oom`, `allow-stale`, `no-cluster`, `allow-cross-slot-keys`.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Replace a script of the same name (else 409).
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptInfo {
    pub name: String,
    pub library: String,
    pub flags: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Scripts {
    pub scripts: Vec<ScriptInfo>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteScript {
    /// Key names (strings, numbers or `{"base64": ...}`).
    #[serde(default)]
    pub keys: Vec<Value>,
    #[serde(default)]
    pub args: Vec<Value>,
    /// Run with FCALL_RO (the script must declare `no-writes`).
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptResult {
    /// The script's reply as typed JSON.
    pub result: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptDeleted {
    pub name: String,
    pub deleted: bool,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Error text of the function library that means "not found" or "exists".
fn script_error(e: ApiError) -> ApiError {
    let m = e.message.to_ascii_lowercase();
    if m.contains("not found") || m.contains("no such") {
        ApiError {
            status: StatusCode::NOT_FOUND,
            ..e
        }
    } else if m.contains("already exists") {
        ApiError {
            status: StatusCode::CONFLICT,
            ..e
        }
    } else {
        e
    }
}

/// Registers (loads) a named script.
#[utoipa::path(post, path = "/api/v1/scripts", tag = "scripts",
    request_body = RegisterScript,
    responses(
        (status = 200, description = "Registered", body = Registered),
        (status = 400, description = "Bad name, flag or Lua code", body = ErrorBody),
        (status = 409, description = "A script of that name exists (and replace is false)", body = ErrorBody),
    ))]
pub async fn register(
    Client(mut c): Client,
    JsonBody(body): JsonBody<RegisterScript>,
) -> Result<Json<Registered>, ApiError> {
    if !valid_name(&body.name) {
        return Err(ApiError::bad_request(
            "name must be 1 to 128 letters, digits or _",
        ));
    }
    for f in &body.flags {
        if !FLAGS.contains(&f.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown flag {f:?} (one of {})",
                FLAGS.join(", ")
            )));
        }
    }
    let flags: Vec<String> = body.flags.iter().map(|f| format!("'{f}'")).collect();
    let code = format!(
        "#!lua name={name}\nredis.register_function{{function_name='{name}', \
         callback=function(KEYS, ARGV)\n{script}\nend, flags={{{flags}}}}}\n",
        name = body.name,
        script = body.script,
        flags = flags.join(", ")
    );
    let mut argv: Vec<Vec<u8>> = vec![b"FUNCTION".to_vec(), b"LOAD".to_vec()];
    if body.replace {
        argv.push(b"REPLACE".to_vec());
    }
    argv.push(code.into_bytes());
    check(c.call(&argv).await).map_err(script_error)?;
    Ok(Json(Registered { name: body.name }))
}

/// Lists the registered scripts (every function of every library).
#[utoipa::path(get, path = "/api/v1/scripts", tag = "scripts",
    responses((status = 200, description = "Scripts", body = Scripts)))]
pub async fn list(Client(mut c): Client) -> Result<Json<Scripts>, ApiError> {
    let reply = check(c.call(&["FUNCTION", "LIST"]).await)?;
    let mut scripts = Vec::new();
    if let Value::Array(libraries) = reply_to_json(reply) {
        for lib in libraries {
            let library = lib["library_name"].as_str().unwrap_or_default().to_string();
            for f in lib["functions"].as_array().into_iter().flatten() {
                scripts.push(ScriptInfo {
                    name: f["name"].as_str().unwrap_or_default().to_string(),
                    library: library.clone(),
                    flags: f["flags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                });
            }
        }
    }
    Ok(Json(Scripts { scripts }))
}

/// Runs a named script with keys and arguments (FCALL / FCALL_RO).
#[utoipa::path(post, path = "/api/v1/scripts/{name}/execute", tag = "scripts",
    params(("name" = String, Path, description = "The script's name")),
    request_body = ExecuteScript,
    responses(
        (status = 200, description = "The script's reply", body = ScriptResult),
        (status = 400, description = "Bad arguments or a script error", body = ErrorBody),
        (status = 404, description = "No such script", body = ErrorBody),
    ))]
pub async fn execute(
    Path(name): Path<String>,
    Client(mut c): Client,
    JsonBody(body): JsonBody<ExecuteScript>,
) -> Result<Json<ScriptResult>, ApiError> {
    let verb: &[u8] = if body.readonly { b"FCALL_RO" } else { b"FCALL" };
    let mut argv: Vec<Vec<u8>> = vec![
        verb.to_vec(),
        name.into_bytes(),
        body.keys.len().to_string().into_bytes(),
    ];
    for (i, k) in body.keys.iter().enumerate() {
        argv.push(json_to_arg(k, &format!("keys[{i}]"))?);
    }
    for (i, a) in body.args.iter().enumerate() {
        argv.push(json_to_arg(a, &format!("args[{i}]"))?);
    }
    let reply = check(c.call(&argv).await).map_err(script_error)?;
    Ok(Json(ScriptResult {
        result: reply_to_json(reply),
    }))
}

/// Deletes a named script (FUNCTION DELETE).
#[utoipa::path(delete, path = "/api/v1/scripts/{name}", tag = "scripts",
    params(("name" = String, Path, description = "The script's name")),
    responses(
        (status = 200, description = "Deleted", body = ScriptDeleted),
        (status = 404, description = "No such script", body = ErrorBody),
    ))]
pub async fn delete(
    Path(name): Path<String>,
    Client(mut c): Client,
) -> Result<Json<ScriptDeleted>, ApiError> {
    check(
        c.call(&[b"FUNCTION".as_slice(), b"DELETE", name.as_bytes()])
            .await,
    )
    .map_err(script_error)?;
    Ok(Json(ScriptDeleted {
        name,
        deleted: true,
    }))
}
