//! The inbox (list, long-poll, download, acknowledge), the outbox, receipts and the public keys.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::OfficeCaller;
use super::error::ApiError;
use crate::message::{Message, clip};
use crate::relay::{InboxRequest, RelayError};
use crate::store::FileBody;

#[derive(Debug, Deserialize)]
pub(super) struct InboxParams {
    status: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
    wait: Option<u64>,
}

pub(super) async fn list(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Query(p): Query<InboxParams>,
) -> Result<Json<Value>, ApiError> {
    let pending_only = match p.status.as_deref() {
        None | Some("pending") => true,
        Some("all") => false,
        Some(other) => {
            return Err(RelayError::BadRequest(Message::new(
                format!(
                    "status は pending か all です（「{}」は使えません）。",
                    clip(other)
                ),
                format!("status must be pending or all, not `{}`", clip(other)),
            ))
            .into());
        }
    };
    let req = InboxRequest {
        recipient: caller.office,
        pending_only,
        after: p.after,
        limit: p.limit.unwrap_or(100),
        wait: Duration::from_secs(p.wait.unwrap_or(0)),
    };
    let (items, next) = s.relay.inbox(&req).await?;
    Ok(Json(json!({ "items": items, "next": next })))
}

pub(super) async fn one(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(delivery_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(s.relay.delivery(&caller.office, &delivery_id).await?)))
}

pub(super) async fn download(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path((delivery_id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let FileBody {
        body: bytes,
        sha256,
        kind,
    } = s
        .relay
        .download(&caller.office, &delivery_id, &name, caller.request_id.as_deref())
        .await?;
    tracing::info!(office = %caller.office, delivery = %delivery_id, bytes = bytes.len(), "file downloaded");
    let raw: Vec<u8> = (0..sha256.len() / 2)
        .filter_map(|i| u8::from_str_radix(&sha256[2 * i..2 * i + 2], 16).ok())
        .collect();
    let digest = format!(
        "sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    let content_type = if kind == "UPKIHON_IMAGE" {
        "image/jpeg"
    } else {
        "text/csv; charset=Shift_JIS"
    };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&digest) {
        h.insert("repr-digest", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", name.replace('"', ""))) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

pub(super) async fn ack(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(delivery_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        s.relay
            .acknowledge(&caller.office, &delivery_id, caller.request_id.as_deref())
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct Page {
    after: Option<String>,
    limit: Option<i64>,
}

pub(super) async fn outbox(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Query(p): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    let (items, next) = s
        .relay
        .outbox(&caller.office, p.after.as_deref(), p.limit.unwrap_or(100))
        .await?;
    Ok(Json(json!({ "items": items, "next": next })))
}

pub(super) async fn receipt(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(s.relay.receipt(&caller.office, &id).await?)))
}

pub(super) async fn keys(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let keys: Vec<Value> = s
        .relay
        .published_keys()
        .await?
        .into_iter()
        .map(|k| {
            json!({
                "key_id": k.key_id,
                "ed25519_public_key_base64": k.public_base64,
                "created_at": crate::domain::rfc3339(k.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "keys": keys })))
}
