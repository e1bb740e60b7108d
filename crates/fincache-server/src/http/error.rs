//! The HTTP API's one error shape, `{"error": {"code": "...", "message": "..."}}`, and the map
//! from command errors to honest HTTP statuses.
//!
//! A command error keeps Redis's text as the message and its first word as the code
//! (`WRONGTYPE`, `ERR`, `NOAUTH` …), so clients can switch on it; errors of the HTTP layer use
//! codes of their own (`NOT_FOUND`, `RATE_LIMITED` …).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `WRONGTYPE`, `ERR`, `NOAUTH` … for command errors; `BAD_REQUEST`, `NOT_FOUND`,
    /// `UNAUTHORIZED`, `FORBIDDEN`, `PAYLOAD_TOO_LARGE`, `RATE_LIMITED`, `NOT_READY` … for the
    /// HTTP layer's own.
    pub code: String,
    pub message: String,
}

/// An error response: status, code, message, and for 429 the seconds to wait.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn not_ready(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "NOT_READY", message)
    }

    /// A command's error reply (`WRONGTYPE Operation against …`) with its status.
    pub fn from_command(text: &str) -> Self {
        let code = text
            .split(' ')
            .next()
            .filter(|w| !w.is_empty())
            .unwrap_or("ERR");
        ApiError::new(status_of_command_error(code), code, text)
    }
}

/// The HTTP status for a command error, by its code (the error's first word).
pub fn status_of_command_error(code: &str) -> StatusCode {
    match code {
        "WRONGTYPE" => StatusCode::CONFLICT,
        "NOAUTH" => StatusCode::UNAUTHORIZED,
        "WRONGPASS" | "NOPERM" => StatusCode::FORBIDDEN,
        "OOM" => StatusCode::INSUFFICIENT_STORAGE,
        "LOADING" | "BUSY" | "MISCONF" | "MASTERDOWN" | "TRYAGAIN" | "CLUSTERDOWN" => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        "READONLY" => StatusCode::FORBIDDEN,
        "EXECABORT" => StatusCode::CONFLICT,
        "UNBLOCKED" => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"fincache\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_errors_map_to_statuses() {
        let e = ApiError::from_command(
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        );
        assert_eq!(
            (e.status, e.code.as_str()),
            (StatusCode::CONFLICT, "WRONGTYPE")
        );
        let e = ApiError::from_command("ERR syntax error");
        assert_eq!(
            (e.status, e.code.as_str()),
            (StatusCode::BAD_REQUEST, "ERR")
        );
        assert_eq!(
            ApiError::from_command("NOAUTH Authentication required.").status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(ApiError::from_command("").code, "ERR");
    }
}
