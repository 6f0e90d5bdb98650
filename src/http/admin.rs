//! The admin API: offices and their tokens, and metrics. Admin tokens only; office tokens get 403. The delivery
//! log and retention are in `log`, the audit trail in `audit`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminCaller;
use super::bodies::ErrorBody;
use super::bodies::admin::{IssuedToken, OfficeList, RevokedToken, TokenEntry, TokenList};
use super::contract::params::{OfficeNumberPath, TokenIdPath};
use super::contract::responses::*;
use super::error::ApiError;
use crate::domain::{Office, OfficeKind, ServiceType, rfc3339};
use crate::message::Message;
use crate::relay::{self, RelayError};

type ApiResult<T> = Result<T, ApiError>;

/// An office to register. It starts enabled.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewOffice {
    /// The 10-digit office number (事業所番号); anything else is refused with 400.
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000001")]
    number: String,
    /// The office's name (事業所名), 1 to 100 characters without control characters.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    kind: OfficeKind,
    /// 1 to 32 distinct codes of the service-type table that fit the office's kind (care_manager: 43;
    /// prevention_center: 46 or AF; provider: a service other than care management).
    #[schema(value_type = Vec<ServiceType>, min_items = 1, max_items = 32)]
    service_types: Vec<String>,
}

/// Register an office (事業所登録)
///
/// Registers an office, enabled. Recorded as an `office.added` audit event. The same as `careplan-relay office add`.
#[utoipa::path(
    post,
    path = "/v1/admin/offices",
    operation_id = "addOffice",
    tag = "admin",
    security(("bearerAuth" = [])),
    request_body(content = NewOffice, content_type = "application/json", example = json!({"number": "1310000004", "name": "通所介護D", "kind": "provider", "service_types": ["15"]})),
    responses(
        (status = 201, description = "Registered.", body = Office, example = json!({"number": "1310000004", "name": "通所介護D", "kind": "provider", "service_types": ["15"], "enabled": true})),
        (status = 400, description = "The body is not JSON or lacks a field, or a value is refused: an office number that is not 10 digits, a name that is empty, over 100 characters or holds control characters, no service type or one outside the table, service types that do not fit the kind.", body = ErrorBody, example = json!(error_example("bad_request", "an office number is 10 digits"))),
        Unauthenticated, AdminForbidden, RequestTimeout,
        (status = 409, description = "An office with this number is already registered.", body = ErrorBody, example = json!(error_example("conflict", "office 1310000004 is already registered"))),
        TooLarge, UnsupportedMediaType, Throttled, Internal, Unavailable
    )
)]
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
    Ok((StatusCode::CREATED, Json(office)).into_response())
}

/// List registered offices (事業所一覧)
///
/// Every registered office, enabled or not, ordered by number.
#[utoipa::path(
    get,
    path = "/v1/admin/offices",
    operation_id = "listOffices",
    tag = "admin",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    responses(
        (status = 200, description = "The offices.", body = OfficeList, example = json!({"items": [{"number": "1310000004", "name": "通所介護D", "kind": "provider", "service_types": ["15"], "enabled": true}]})),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn offices(State(s): State<AppState>, _a: AdminCaller) -> ApiResult<Json<OfficeList>> {
    Ok(Json(OfficeList {
        items: s.relay.offices().await?,
    }))
}

/// Enables or disables an office (利用停止 / 再開), or changes its name, service types or login rule. At least one
/// field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub(super) struct OfficePatch {
    /// `false` disables the office: its tokens and certificates get 403 and nothing more is routed to it; its
    /// existing deliveries stay. `true` enables it again.
    enabled: Option<bool>,
    /// The office's name (事業所名), 1 to 100 characters without control characters.
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// Replaces the registered service types: codes of the service-type table that fit the office's kind.
    #[schema(value_type = Option<Vec<ServiceType>>, min_items = 1, max_items = 32)]
    service_types: Option<Vec<String>>,
    /// `true`: the office's portal users must also present the office's client certificate at login (403
    /// otherwise); `false`: the login ID and password suffice (the default). An `office.login_certificate` audit
    /// event.
    login_certificate: Option<bool>,
}

/// Enable, disable or edit an office
///
/// Any of `enabled`, `name`, `service_types` and `login_certificate`; what is given changes. Disabling an office (利用停止) makes its tokens and client certificates answer 403 and stops routing sets to it (`E_UNKNOWN_RECIPIENT`); what it already received stays (an `office.disabled` or `office.enabled` audit event). A new name or service types follow the rules of registering (an `office.edited` event). Answers the office as it now stands.
#[utoipa::path(
    patch,
    path = "/v1/admin/offices/{number}",
    operation_id = "patchOffice",
    tag = "admin",
    security(("bearerAuth" = [])),
    params(OfficeNumberPath),
    request_body(content = OfficePatch, content_type = "application/json", example = json!({"enabled": false})),
    responses(
        (status = 200, description = "The office as it now stands.", body = Office, example = json!({"number": "1310000004", "name": "通所介護D", "kind": "provider", "service_types": ["15"], "enabled": false})),
        (status = 400, description = "The body is not JSON, is empty, or has an unknown field, or a value is refused as when registering.", body = ErrorBody, example = json!(error_example("bad_request", "an office number is 10 digits"))),
        Unauthenticated, AdminForbidden,
        (status = 404, description = "No office has this number.", body = ErrorBody, example = json!(error_example("not_found", "no such object"))),
        RequestTimeout, TooLarge, UnsupportedMediaType, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn patch_office(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(number): Path<String>,
    Json(p): Json<OfficePatch>,
) -> ApiResult<Json<Office>> {
    let actor = format!("admin:{}", a.token_id);
    let rid = a.request_id.as_deref();
    if p.enabled.is_none() && p.name.is_none() && p.service_types.is_none() && p.login_certificate.is_none() {
        return Err(RelayError::BadRequest(Message::new(
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
    Ok(Json(office))
}

/// Issue a token for an office
///
/// Issues a bearer token for the office. The token is in this answer only (shown once); only its hash is stored. Recorded as a `token.issued` audit event. No request body. The same as `careplan-relay token issue --office NUMBER`.
#[utoipa::path(
    post,
    path = "/v1/admin/offices/{number}/tokens",
    operation_id = "issueOfficeToken",
    tag = "admin",
    security(("bearerAuth" = [])),
    params(OfficeNumberPath),
    responses(
        (status = 201, description = "Issued. Keep `token`: it cannot be shown again.", body = IssuedToken),
        Unauthenticated, AdminForbidden,
        (status = 404, description = "No office has this number.", body = ErrorBody, example = json!(error_example("not_found", "no such object"))),
        RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn issue_token(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    let t = s
        .relay
        .issue_token(Some(&number), &format!("admin:{}", a.token_id))
        .await?;
    let body = IssuedToken {
        id: t.id,
        office: number,
        token: t.token.expose_secret().to_string(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// List an office's tokens
///
/// The office's bearer tokens, oldest first, with when each was issued and revoked. The tokens themselves are never shown again.
#[utoipa::path(
    get,
    path = "/v1/admin/offices/{number}/tokens",
    operation_id = "listOfficeTokens",
    tag = "admin",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    params(OfficeNumberPath),
    responses(
        (status = 200, description = "The office's tokens.", body = TokenList, example = json!({"items": [{"id": "3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "created_at": "2025-03-28T09:00:00.000Z", "revoked_at": null}]})),
        Unauthenticated, AdminForbidden,
        (status = 404, description = "No office has this number.", body = ErrorBody, example = json!(error_example("not_found", "no such object"))),
        RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn tokens(
    State(s): State<AppState>,
    _a: AdminCaller,
    Path(number): Path<String>,
) -> ApiResult<Json<TokenList>> {
    let rows = s.relay.office_tokens(&number).await?;
    let items = rows
        .into_iter()
        .map(|t| TokenEntry {
            id: t.id,
            created_at: rfc3339(t.created_at),
            revoked_at: t.revoked_at.map(rfc3339),
        })
        .collect();
    Ok(Json(TokenList { items }))
}

/// Revoke a token
///
/// Revokes a token (an office's or an admin's): it answers 401 from then on. Repeating it changes nothing (the first revocation time stays) and answers 200 again. Recorded as a `token.revoked` audit event. The same as `careplan-relay token revoke ID`.
#[utoipa::path(
    delete,
    path = "/v1/admin/tokens/{id}",
    operation_id = "revokeToken",
    tag = "admin",
    security(("bearerAuth" = [])),
    params(TokenIdPath),
    responses(
        (status = 200, description = "Revoked.", body = RevokedToken, example = json!({"id": "3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "revoked": true})),
        Unauthenticated, AdminForbidden,
        (status = 404, description = "No token has this id.", body = ErrorBody, example = json!(error_example("not_found", "no such object"))),
        RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn revoke_token(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<RevokedToken>> {
    s.relay
        .revoke_token(&id, &format!("admin:{}", a.token_id))
        .await?;
    Ok(Json(RevokedToken { id, revoked: true }))
}

/// Prometheus metrics
///
/// Prometheus text exposition format 0.0.4. Counters and latency histograms are kept in memory per process (since it started): `careplan_submissions_total{outcome,kind}`, `careplan_rejections_total{code}`, `careplan_requests_total{route,status}`, `careplan_request_duration_seconds{route}` (histogram by matched route), `careplan_auth_failures_total`, `careplan_lockouts_total`. Gauges read on each scrape: `careplan_deliveries_pending`, `careplan_deliveries_pending_oldest_age_seconds`, `careplan_audit_sealed`, `careplan_audit_queued`, `careplan_db_pool_connections`, `careplan_db_pool_idle`, `careplan_tls_certificate_not_after_seconds`. deploy/prometheus/ has alert rules for them. Needs an admin token like every admin endpoint (configure the scraper with `authorization: {credentials: <admin token>}`); an office token gets 403, no credential 401. The same text is served without a token by the separate plain-HTTP metrics listener (`server.metrics_listen`, default `127.0.0.1:9464`; `GET /metrics` only), which is the one to give a scraper.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "getMetrics",
    tag = "metrics",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "text/plain; version=0.0.4", example = json!("# HELP careplan_submissions_total Submitted files by outcome and kind.\n# TYPE careplan_submissions_total counter\ncareplan_submissions_total{outcome=\"accepted\",kind=\"UPPLAN\"} 12\n# HELP careplan_rejections_total Rejected sets by error code.\n# TYPE careplan_rejections_total counter\ncareplan_rejections_total{code=\"E_CODE\"} 1\n# HELP careplan_request_duration_seconds Request latency by route.\n# TYPE careplan_request_duration_seconds histogram\ncareplan_request_duration_seconds_bucket{route=\"/v1/inbox\",le=\"0.005\"} 30\ncareplan_request_duration_seconds_bucket{route=\"/v1/inbox\",le=\"+Inf\"} 31\ncareplan_request_duration_seconds_sum{route=\"/v1/inbox\"} 0.094\ncareplan_request_duration_seconds_count{route=\"/v1/inbox\"} 31\n# HELP careplan_deliveries_pending Deliveries not yet acknowledged.\n# TYPE careplan_deliveries_pending gauge\ncareplan_deliveries_pending 3\n")),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn metrics(State(s): State<AppState>, _a: AdminCaller) -> ApiResult<Response> {
    let text = s.relay.metrics_text().await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, relay::METRICS_CONTENT_TYPE)],
        text,
    )
        .into_response())
}
