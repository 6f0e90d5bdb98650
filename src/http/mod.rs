//! The HTTP API (docs/openapi.json, served at `GET /v1/openapi.json`): the router, its layers, and one module per resource.

mod admin;
mod auth;
mod certificates;
mod error;
mod inbox;
mod lockouts;
mod office;
mod records;
mod submissions;
mod upload;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use serde_json::json;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::ClientCertOffice;
pub use auth::PeerAddr;
pub use error::ApiError;
pub use upload::{MAX_FILE_NAME_BYTES, MAX_PART_HEADER_BYTES, UploadLimits, read_upload};

use crate::relay::Relay;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub relay: Arc<Relay>,
    /// The request body limit (`server.max_body_bytes`), also the most an upload buffer is sized for up front.
    pub max_body_bytes: usize,
    /// Most parts of one upload (`server.max_files_per_upload`).
    pub max_files_per_upload: usize,
}

/// The OpenAPI document of the whole surface.
const OPENAPI: &str = include_str!("../../docs/openapi.json");

async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    match s.relay.health().await {
        Ok(backend) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": backend })),
        ),
        Err(e) => {
            let why = match e {
                crate::store::StoreError::WriterStopped => "writer stopped",
                _ => "unreachable",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": why })),
            )
        }
    }
}

async fn openapi() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// Observes each request's status and latency by matched route for `/metrics`.
async fn record_latency(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    s.relay
        .metrics
        .request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The router with its layers: request ids, tracing (no bodies), body limit, request timeout.
pub fn router(state: AppState, max_body_bytes: usize, request_timeout: Duration) -> Router {
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/keys", get(inbox::keys))
        .route("/v1/submissions", post(submissions::submit))
        .route("/v1/validate", post(submissions::validate))
        .route("/v1/inbox", get(inbox::list))
        .route("/v1/inbox/{delivery_id}", get(inbox::one))
        .route("/v1/inbox/{delivery_id}/files/{name}", get(inbox::download))
        .route("/v1/inbox/{delivery_id}/ack", post(inbox::ack))
        .route("/v1/inbox/{delivery_id}/records", get(records::inbox))
        .route("/v1/outbox/{submission_id}/records", get(records::outbox))
        .route("/v1/outbox", get(inbox::outbox))
        .route("/v1/receipts/{submission_id}", get(inbox::receipt))
        .route("/v1/admin/offices", post(admin::add_office))
        .route("/v1/admin/offices", get(admin::offices))
        .route("/v1/admin/offices/{number}", patch(admin::patch_office))
        .route("/v1/admin/offices/{number}/tokens", post(admin::issue_token))
        .route("/v1/admin/offices/{number}/tokens", get(admin::tokens))
        .route("/v1/admin/tokens/{id}", delete(admin::revoke_token))
        .route("/v1/admin/deliveries", get(admin::deliveries))
        .route("/v1/admin/deliveries/{id}/purge", post(admin::purge))
        .route("/v1/admin/audit", get(admin::audit_events))
        .route("/v1/admin/audit/verify", get(admin::audit_verify))
        .route("/v1/admin/audit/export", post(admin::audit_export))
        .route("/v1/admin/retention", get(admin::retention))
        .route("/v1/admin/lockouts", get(lockouts::list))
        .route("/v1/admin/lockouts/{key}", delete(lockouts::clear))
        .route("/v1/admin/certificates", get(certificates::list))
        .route(
            "/v1/admin/certificates/{serial}/revoke",
            post(certificates::revoke),
        )
        .route("/metrics", get(admin::metrics))
        .route("/admin", get(web::to_dashboard))
        .route("/admin/", get(web::dashboard))
        .route("/admin/login", post(web::login))
        .route("/admin/logout", post(web::logout))
        .route("/admin/deliveries", get(web::deliveries))
        .route("/admin/deliveries/{id}", get(web::delivery))
        .route("/admin/audit/verify", get(web::verify))
        .route("/admin/lockouts/clear", post(web::clear_lockout))
        .route("/admin/offices", post(web::add_office))
        .route("/admin/offices/{number}/enabled", post(web::set_enabled))
        .route("/admin/offices/{number}/edit", post(web::edit_office))
        .route("/admin/offices/{number}/tokens", post(web::issue_token))
        .route("/admin/offices/{number}/users", post(web::add_user))
        .route(
            "/admin/offices/{number}/certificates",
            post(web::issue_certificate),
        )
        .route("/admin/tokens/{id}/revoke", post(web::revoke_token))
        .route("/admin/users/{login}/{action}", post(web::user_action))
        .route(
            "/admin/certificates/{serial}/revoke",
            post(web::revoke_certificate),
        )
        .route("/admin/deliveries/{id}/purge", post(web::purge))
        .merge(office::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            record_latency,
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            max_body_bytes,
            upload::refuse_oversized,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                let path = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", axum::extract::MatchedPath::as_str);
                tracing::info_span!("request", method = %req.method(), path, request_id = id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unusable_request_id))
        .with_state(state)
}

/// Longest client-chosen `x-request-id` kept, in bytes.
const MAX_REQUEST_ID: usize = 64;

/// Removes a client's `x-request-id` that is longer than [`MAX_REQUEST_ID`] or has characters other than
/// ASCII letters, digits, `-`, `_`, `.` and `:`, so that a generated one replaces it: the id reaches logs,
/// events and the response, and a client cannot choose what it writes there.
async fn drop_unusable_request_id(mut req: axum::extract::Request) -> axum::extract::Request {
    let usable = |v: &axum::http::HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= MAX_REQUEST_ID
            && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    };
    let all_usable = {
        let mut values = req.headers().get_all("x-request-id").iter();
        match (values.next(), values.next()) {
            (Some(v), None) => usable(v),
            (None, _) => true,
            _ => false,
        }
    };
    if !all_usable {
        req.headers_mut().remove("x-request-id");
    }
    req
}
