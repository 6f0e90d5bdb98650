//! The HTTP API: the router, its layers, and one module per resource. Every route of the API and of the admin
//! page is registered with its handler's `#[utoipa::path]` (`api`), so the OpenAPI document
//! ([`openapi_document`](crate::http::openapi_document), served at `GET /v1/openapi.json`, kept as docs/openapi.json) cannot miss one.

mod admin;
mod audit;
mod auth;
pub mod bodies;
mod certificates;
pub mod contract;
mod error;
mod inbox;
mod lockouts;
mod log;
mod meta;
mod office;
mod records;
mod submissions;
mod unread;
mod upload;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Every route of the API and the admin page, each with its handler's `#[utoipa::path]`.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::openapi))
        .routes(routes!(inbox::keys))
        .routes(routes!(submissions::submit))
        .routes(routes!(submissions::validate))
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::one))
        .routes(routes!(inbox::download))
        .routes(routes!(inbox::ack))
        .routes(routes!(records::inbox))
        .routes(routes!(inbox::outbox))
        .routes(routes!(records::outbox))
        .routes(routes!(inbox::receipt))
        .routes(routes!(admin::offices, admin::add_office))
        .routes(routes!(admin::patch_office))
        .routes(routes!(admin::tokens, admin::issue_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(log::deliveries))
        .routes(routes!(log::purge))
        .routes(routes!(audit::audit_events))
        .routes(routes!(audit::audit_verify))
        .routes(routes!(audit::audit_export))
        .routes(routes!(log::retention))
        .routes(routes!(lockouts::list))
        .routes(routes!(lockouts::clear))
        .routes(routes!(certificates::list))
        .routes(routes!(certificates::revoke))
        .routes(routes!(admin::metrics))
        .merge(web::api())
}

/// The OpenAPI document of the API and the admin page, from the routes of `api` and the types of their bodies.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    contract::complete(api().split_for_parts().1)
}

/// [`openapi_document`] as pretty JSON with a final newline: what `GET /v1/openapi.json` serves, what
/// `careplan-relay openapi` prints and what docs/openapi.json holds.
pub fn openapi_json() -> String {
    contract::to_json(&openapi_document())
}

/// The router with its layers: request ids, tracing (no bodies), body limit, request timeout.
pub fn router(state: AppState, max_body_bytes: usize, request_timeout: Duration) -> Router {
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let (api, _) = api().split_for_parts();
    api.merge(office::routes())
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
        .layer(axum::middleware::from_fn(unread::close_if_unread))
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
