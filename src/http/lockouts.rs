//! `GET /v1/admin/lockouts` and `DELETE /v1/admin/lockouts/{key}`: the authentication lockouts in force in this
//! process (each node of a cluster counts its own), and ending one early.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::auth::AdminCaller;
use super::error::ApiError;
use crate::domain::rfc3339;
use crate::relay::throttle::Lockout;

/// One lockout as JSON: `{key, kind, failures, locked_at, retry_after_secs}`.
pub(super) fn lockout_json(l: &Lockout) -> Value {
    json!({
        "key": l.key.to_string(),
        "kind": l.key.kind(),
        "failures": l.failures,
        "locked_at": rfc3339(l.locked_at),
        "retry_after_secs": l.remaining.as_secs().max(1),
    })
}

/// `GET /v1/admin/lockouts`: `{items: [...]}`, longest remaining first.
pub(super) async fn list(State(s): State<AppState>, _a: AdminCaller) -> Json<Value> {
    let items: Vec<Value> = s.relay.lockouts().iter().map(lockout_json).collect();
    Json(json!({ "items": items }))
}

/// `DELETE /v1/admin/lockouts/{key}` (`address:192.0.2.7`, `address:2001:db8::/64`, `token:…`): 204, 404 when
/// the key is not locked, 400 for a malformed key. Records `auth.lockout_cleared`.
pub(super) async fn clear(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    s.relay
        .clear_lockout(&key, &format!("admin:{}", a.token_id), a.request_id.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
