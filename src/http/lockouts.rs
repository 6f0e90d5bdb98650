//! Authentication lockouts in the admin API: the list of this process and clearing one. Admin tokens only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::AdminCaller;
use super::bodies::ErrorBody;
use super::bodies::admin::{Lockout, LockoutList};
use super::contract::responses::*;
use super::error::ApiError;
use crate::domain::rfc3339;

/// A lockout as the admin API shows it.
pub(super) fn lockout(l: &crate::relay::throttle::Lockout) -> Lockout {
    Lockout {
        key: l.key.to_string(),
        kind: l.key.kind().to_string(),
        failures: l.failures,
        locked_at: rfc3339(l.locked_at),
        retry_after_secs: l.remaining.as_secs().max(1),
    }
}

/// Authentication lockouts in force
///
/// The source addresses (`address:192.0.2.7`, IPv6 by its /64: `address:2001:db8:1:2::/64`) and tokens (`token:<16 hex digits of a SHA-256 of the token>`, never the token) locked out by failed authentication in this relay process; each node of a cluster counts its own. Longest remaining first. Each lockout was recorded as one `auth.locked_out` audit event.
#[utoipa::path(
    get,
    path = "/v1/admin/lockouts",
    operation_id = "listLockouts",
    tag = "admin",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    responses(
        (status = 200, description = "The lockouts.", body = LockoutList, example = json!({"items": [{"key": "address:192.0.2.7", "kind": "address", "failures": 10, "locked_at": "2026-11-29T09:00:00Z", "retry_after_secs": 840}]})),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn list(State(s): State<AppState>, _a: AdminCaller) -> Json<LockoutList> {
    Json(LockoutList {
        items: s.relay.lockouts().iter().map(lockout).collect(),
    })
}

/// End a lockout
///
/// Ends the lockout of a source address or token in this relay process at once (and forgets its failures). Recorded as an `auth.lockout_cleared` audit event. Needs a bearer admin token.
#[utoipa::path(
    delete,
    path = "/v1/admin/lockouts/{key}",
    operation_id = "clearLockout",
    tag = "admin",
    security(("bearerAuth" = [])),
    params(("key" = String, Path, description = "`address:<IP address>` (an IPv6 address stands for its /64: give the address without the `/64` suffix, e.g. `address:2001:db8:1:2::`) or `token:<16 hex digits>`, as listed.")),
    responses(
        (status = 204, description = "Cleared."),
        Unauthenticated, AdminForbidden,
        (status = 404, description = "No lockout has this key.", body = ErrorBody),
        RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
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
