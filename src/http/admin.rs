//! The admin API: offices, credentials, the delivery log, the audit trail, retention, metrics.
//! Admin tokens only; office tokens get 403.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::AdminCaller;
use super::error::ApiError;
use crate::domain::{Office, OfficeKind, parse_time, rfc3339};
use crate::message::{Message, clip};
use crate::relay::{self, RelayError};
use crate::store::{LogEntry, LogQuery};

type ApiResult<T> = Result<T, ApiError>;

fn bad(ja: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError(RelayError::BadRequest(Message::new(ja, en)))
}

#[derive(Debug, Deserialize)]
pub(super) struct NewOffice {
    number: String,
    name: String,
    kind: OfficeKind,
    service_types: Vec<String>,
}

pub(super) async fn add_office(
    State(s): State<AppState>,
    a: AdminCaller,
    Json(o): Json<NewOffice>,
) -> ApiResult<Response> {
    let office = Office {
        number: o.number,
        name: o.name,
        kind: o.kind,
        service_types: o.service_types,
        enabled: true,
    };
    s.relay
        .add_office(&office, &format!("admin:{}", a.token_id))
        .await?;
    Ok((StatusCode::CREATED, Json(json!(office))).into_response())
}

pub(super) async fn offices(State(s): State<AppState>, _a: AdminCaller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": s.relay.offices().await? })))
}

/// `PATCH /v1/admin/offices/{number}`: any of the three; what is given changes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OfficePatch {
    enabled: Option<bool>,
    name: Option<String>,
    service_types: Option<Vec<String>>,
    login_certificate: Option<bool>,
}

pub(super) async fn patch_office(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(number): Path<String>,
    Json(p): Json<OfficePatch>,
) -> ApiResult<Json<Value>> {
    let actor = format!("admin:{}", a.token_id);
    let rid = a.request_id.as_deref();
    if p.enabled.is_none() && p.name.is_none() && p.service_types.is_none() && p.login_certificate.is_none() {
        return Err(RelayError::BadRequest(crate::message::Message::new(
            "enabled、name、service_types、login_certificate のいずれかを指定してください。",
            "give enabled, name, service_types or login_certificate",
        ))
        .into());
    }
    if let Some(required) = p.login_certificate {
        s.relay
            .set_login_certificate(&number, required, &actor, rid)
            .await?;
    }
    let mut office = s.relay.office(&number).await?;
    if p.name.is_some() || p.service_types.is_some() {
        office = s
            .relay
            .edit_office(&number, p.name.as_deref(), p.service_types, &actor, rid)
            .await?;
    }
    if let Some(enabled) = p.enabled {
        office = s.relay.set_office_enabled(&number, enabled, &actor, rid).await?;
    }
    Ok(Json(json!(office)))
}

pub(super) async fn issue_token(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    let t = s
        .relay
        .issue_token(Some(&number), &format!("admin:{}", a.token_id))
        .await?;
    let body = json!({ "id": t.id, "office": number, "token": t.token.expose_secret() });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub(super) async fn tokens(
    State(s): State<AppState>,
    _a: AdminCaller,
    Path(number): Path<String>,
) -> ApiResult<Json<Value>> {
    let rows = s.relay.office_tokens(&number).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, created, revoked)| json!({ "id": id, "created_at": rfc3339(created), "revoked_at": revoked.map(rfc3339) }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

pub(super) async fn revoke_token(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    s.relay
        .revoke_token(&id, &format!("admin:{}", a.token_id))
        .await?;
    Ok(Json(json!({ "id": id, "revoked": true })))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LogParams {
    pub office: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

fn time(s: Option<&str>, what: &str) -> ApiResult<Option<i64>> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_time(s).map(Some).ok_or_else(|| {
            bad(
                format!("{what}: 日付または RFC 3339 の日時ではありません: {}", clip(s)),
                format!("{what}: not a date or RFC 3339 time: {}", clip(s)),
            )
        }),
    }
}

/// Runs the log query of `p`: (entries, next cursor).
pub(super) async fn log(s: &AppState, p: &LogParams) -> ApiResult<(Vec<LogEntry>, Option<String>)> {
    let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    if let Some(st) = some(&p.status)
        && !matches!(st.as_str(), "queued" | "downloaded" | "acknowledged" | "rejected")
    {
        return Err(bad(
            "status は queued, downloaded, acknowledged, rejected のいずれかです。",
            "status is queued, downloaded, acknowledged or rejected",
        ));
    }
    let before = match some(&p.after) {
        Some(c) => {
            let (at, id) = c
                .split_once('_')
                .ok_or_else(|| bad("カーソルの形式が正しくありません。", "malformed cursor"))?;
            Some((
                at.parse()
                    .map_err(|_| bad("カーソルの形式が正しくありません。", "malformed cursor"))?,
                id.to_string(),
            ))
        }
        None => None,
    };
    let q = LogQuery {
        office: some(&p.office),
        status: some(&p.status),
        from: time(p.from.as_deref(), "from")?,
        // A bare date as `to` includes that whole day.
        to: time(p.to.as_deref(), "to")?.map(|t| {
            if p.to.as_deref().is_some_and(|s| s.len() == 10) {
                t + 86_400_000
            } else {
                t
            }
        }),
        sender: some(&p.sender),
        recipient: some(&p.recipient),
        before,
        limit: p.limit.unwrap_or(50).clamp(1, 500),
    };
    let items = s.relay.delivery_log(&q).await?;
    let next = (items.len() as i64 == q.limit)
        .then(|| items.last().map(|e| format!("{}_{}", e.at, e.id)))
        .flatten();
    Ok((items, next))
}

pub(super) fn entry_json(e: &LogEntry) -> Value {
    json!({
        "entry": e.entry, "id": e.id, "at": rfc3339(e.at), "sender": e.sender, "recipient": e.recipient,
        "sequence": e.sequence, "status": e.status, "codes": e.codes, "submission_id": e.submission_id,
        "downloaded_at": e.downloaded_at.map(rfc3339), "acknowledged_at": e.acknowledged_at.map(rfc3339),
        "purged_at": e.purged_at.map(rfc3339), "files": e.files,
    })
}

pub(super) async fn deliveries(
    State(s): State<AppState>,
    _a: AdminCaller,
    Query(p): Query<LogParams>,
) -> ApiResult<Json<Value>> {
    let (items, next) = log(&s, &p).await?;
    Ok(Json(
        json!({ "items": items.iter().map(entry_json).collect::<Vec<_>>(), "next": next }),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct AuditParams {
    after: Option<i64>,
    limit: Option<i64>,
}

pub(super) async fn audit_events(
    State(s): State<AppState>,
    _a: AdminCaller,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<Value>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let rows = s.relay.audit_events(p.after.unwrap_or(0), limit).await?;
    let items: Vec<Value> = rows
        .iter()
        .filter_map(|r| {
            let e = r.event.as_ref()?;
            Some(json!({
                "position": r.position, "seq": e.seq, "at": rfc3339(e.at), "kind": e.kind, "office": e.office,
                "submission_id": e.submission_id, "request_id": e.request_id,
                "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
                "prev_hash": r.prev_hash, "hash": r.hash,
            }))
        })
        .collect();
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.position))
        .flatten();
    Ok(Json(json!({ "items": items, "next": next })))
}

pub(super) async fn audit_verify(State(s): State<AppState>, _a: AdminCaller) -> ApiResult<Json<Value>> {
    Ok(Json(json!(s.relay.verify_audit().await?)))
}

pub(super) async fn audit_export(State(s): State<AppState>, a: AdminCaller) -> ApiResult<Json<Value>> {
    let done = s
        .relay
        .export_audit(&s.relay.export_dir, &format!("admin:{}", a.token_id))
        .await?;
    let files: Vec<String> = done.files.iter().map(|p| p.display().to_string()).collect();
    Ok(Json(json!({ "batch": done.batch, "files": files })))
}

pub(super) async fn retention(State(s): State<AppState>, _a: AdminCaller) -> ApiResult<Json<Value>> {
    let flagged = s.relay.flagged(s.relay.policies.retention, 500).await?;
    Ok(Json(
        json!({ "policy": s.relay.policies.retention, "flagged": flagged }),
    ))
}

pub(super) async fn purge(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    s.relay
        .purge_delivery(&id, &format!("admin:{}", a.token_id), a.request_id.as_deref())
        .await?;
    Ok(Json(json!({ "delivery_id": id, "purged": true })))
}

pub(super) async fn metrics(State(s): State<AppState>, _a: AdminCaller) -> ApiResult<Response> {
    let text = s.relay.metrics_text().await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, relay::METRICS_CONTENT_TYPE)],
        text,
    )
        .into_response())
}
