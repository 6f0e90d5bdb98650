//! The audit trail of the admin API: reading it in chain order, verifying it, exporting it. Admin tokens only.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::AppState;
use super::auth::AdminCaller;
use super::bodies::ErrorBody;
use super::bodies::admin::{AuditEvent, AuditPage, ExportResult};
use super::contract::responses::*;
use super::error::ApiError;
use crate::domain::rfc3339;
use crate::relay::audit::Verification;

type ApiResult<T> = Result<T, ApiError>;

/// A page of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditParams {
    /// Events after this chain position (the previous page's `next`); 0 or absent: from the start.
    #[param(minimum = 0, default = 0)]
    after: Option<i64>,
    /// Events per page; values outside 1..1000 are clamped.
    #[param(default = 100)]
    limit: Option<i64>,
}

/// Audit events in chain order
///
/// The sealed audit events (監査ログ) after a chain position, in order. Events are sealed onto the chain shortly after they are written; `GET /v1/admin/audit/verify` tells how many are still queued.
#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    operation_id = "listAuditEvents",
    tag = "audit",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of events.", body = AuditPage),
        (status = 400, description = "A negative or non-numeric `after`, or a non-numeric `limit`.", body = ErrorBody),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn audit_events(
    State(s): State<AppState>,
    _a: AdminCaller,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let after = p.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError(crate::relay::RelayError::BadRequest(
            crate::message::Message::new(
                format!("after は 0 以上の監査ログ位置です: {after}"),
                format!("after is a chain position, 0 or more: {after}"),
            ),
        )));
    }
    let rows = s.relay.audit_events(after, limit).await?;
    let items = rows
        .iter()
        .filter_map(|r| {
            let e = r.event.as_ref()?;
            Some(AuditEvent {
                position: r.position,
                seq: e.seq,
                at: rfc3339(e.at),
                kind: e.kind.clone(),
                office: e.office.clone(),
                submission_id: e.submission_id.clone(),
                request_id: e.request_id.clone(),
                detail: serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
                prev_hash: r.prev_hash.clone(),
                hash: r.hash.clone(),
            })
        })
        .collect();
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.position))
        .flatten();
    Ok(Json(AuditPage { items, next }))
}

/// Verify the audit trail
///
/// Re-computes the whole chain and reports the first position whose link, hash or event does not hold, or an event inserted outside the relay. Answers 200 either way: `intact` tells. The same check as `careplan-relay audit verify`.
#[utoipa::path(
    get,
    path = "/v1/admin/audit/verify",
    operation_id = "verifyAudit",
    tag = "audit",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    responses(
        (status = 200, description = "The outcome.", body = Verification, example = json!({"intact": true, "positions": 42, "queued": 0, "head": "9c1185a5c5e9fc54612808977ee8f548b2258d31f0e7a2a0c5e1b3f8d7c6a9e1", "broken_at": null, "reason": null})),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn audit_verify(
    State(s): State<AppState>,
    _a: AdminCaller,
) -> ApiResult<Json<Verification>> {
    Ok(Json(s.relay.verify_audit().await?))
}

/// Export new audit events for the care information platform
///
/// Seals what is queued, then writes the sealed events not exported yet as `audit-<first>-<last>.ndjson` (one event a line, UTF-8) and a signed `audit-<first>-<last>.manifest.json` under `audit.export_dir` on the relay's host, and records the watermark. Exports never overlap and never skip an event; of two concurrent runs one writes the batch and the other answers `batch: null`. The same as `careplan-relay audit export`. No request body.
#[utoipa::path(
    post,
    path = "/v1/admin/audit/export",
    operation_id = "exportAudit",
    tag = "audit",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "What was written.", body = ExportResult),
        Unauthenticated, AdminForbidden, RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn audit_export(State(s): State<AppState>, a: AdminCaller) -> ApiResult<Json<ExportResult>> {
    let done = s
        .relay
        .export_audit(&s.relay.export_dir, &format!("admin:{}", a.token_id))
        .await?;
    let files = done.files.iter().map(|p| p.display().to_string()).collect();
    Ok(Json(ExportResult {
        batch: done.batch,
        files,
    }))
}
