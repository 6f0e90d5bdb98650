//! The one place where errors become HTTP status codes. 5xx details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::relay::RelayError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub RelayError);

impl From<RelayError> for ApiError {
    fn from(e: RelayError) -> Self {
        ApiError(e)
    }
}

fn body(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({ "error": error, "message": message }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            RelayError::Unauthenticated => {
                let mut r = body(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "a valid bearer token or client certificate is required",
                );
                r.headers_mut()
                    .insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
                r
            }
            RelayError::Forbidden(m) => body(StatusCode::FORBIDDEN, "forbidden", &m),
            RelayError::NotFound => body(StatusCode::NOT_FOUND, "not_found", "no such object"),
            RelayError::Gone => body(
                StatusCode::GONE,
                "purged",
                "the bytes of this set were purged (retention after acknowledgement, or by an admin); its metadata and receipt remain",
            ),
            RelayError::Invalid(report) => (StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response(),
            RelayError::Conflict(m) => body(StatusCode::CONFLICT, "conflict", &m),
            RelayError::BadRequest(m) => body(StatusCode::BAD_REQUEST, "bad_request", &m),
            RelayError::Store(e) => {
                tracing::error!(error = %e, "store error");
                body(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry later",
                )
            }
            RelayError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                body(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }
}

/// A request whose body is larger than the configured limit.
pub(super) fn too_large() -> Response {
    body(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "the request body is larger than the relay accepts",
    )
}
