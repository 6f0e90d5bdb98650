//! Liveness and the OpenAPI document, without authentication.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::AppState;
use super::bodies::{Health, HealthStatus};
use super::contract::responses::RequestTimeout;

/// Liveness and database reachability
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "The relay runs and its database answers.", body = Health, example = json!({"status": "ok", "database": "sqlite"})),
        RequestTimeout,
        (status = 503, description = "The database does not answer, or the SQLite writer has stopped.", body = Health, example = json!({"status": "unavailable", "database": "unreachable"}))
    )
)]
pub(super) async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    match s.relay.health().await {
        Ok(backend) => (
            StatusCode::OK,
            Json(Health {
                status: HealthStatus::Ok,
                database: backend.to_string(),
            }),
        ),
        Err(e) => {
            let why = match e {
                crate::store::StoreError::WriterStopped => "writer stopped",
                _ => "unreachable",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: HealthStatus::Unavailable,
                    database: why.to_string(),
                }),
            )
        }
    }
}

/// The document, generated once from the routes and the types.
static DOCUMENT: LazyLock<String> = LazyLock::new(super::openapi_json);

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    operation_id = "getOpenApi",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the whole surface (docs/openapi.json).", body = Object),
        RequestTimeout
    )
)]
pub(super) async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}
