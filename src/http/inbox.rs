//! The inbox (list, long-poll, download, acknowledge), the outbox, receipts and the public keys.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::auth::OfficeCaller;
use super::bodies::{InboxPage, Keys, OutboxPage, PublicKey};
use super::contract::params::DeliveryIdPath;
use super::contract::responses::*;
use super::error::ApiError;
use crate::message::{Message, clip};
use crate::relay::{Acknowledgement, DeliveryView, InboxRequest, Receipt, RelayError};
use crate::store::FileBody;

/// What to list and from where.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InboxParams {
    /// `pending`: deliveries not yet acknowledged (queued or downloaded); `all`: every delivery.
    #[param(pattern = "^(pending|all)$", default = "pending")]
    status: Option<String>,
    /// The cursor `next` of a previous answer: only what the relay accepted after it is listed; empty or absent:
    /// from the start. A cursor of the earlier form `SEQUENCE-N` is still taken: it resumes at the first set that
    /// the earlier (sequence) order had not reached, so nothing is skipped (some sets may be listed again).
    #[param(pattern = r"^([0-9]{1,18}|[0-9]{14}-[0-9]{1,18})?$")]
    after: Option<String>,
    /// Items per page; values outside 1..500 are clamped.
    #[param(default = 100)]
    limit: Option<i64>,
    /// Seconds to wait for a delivery when there is none (long polling); capped at `server.max_wait_secs`
    /// (default 60). More than 3600 is refused (400).
    #[param(minimum = 0, maximum = 3600, default = 0)]
    wait: Option<u64>,
}

/// The longest `wait` a request may ask for, in seconds (the relay waits at most `server.max_wait_secs`).
const MAX_WAIT_ASKED: u64 = 3600;

/// List deliveries for the authenticated office
///
/// Items come in the order the relay accepted them; for one sender that is sequence order, except a set that arrived after a newer one of the same stream (sender, recipient, kind of set), which is flagged with `older_than`. `next` is on every answer: passed as `after` it returns exactly what was accepted since. With `wait`, the request is held until something arrives after the cursor or the time is up (long polling); an empty `items` means nothing arrived, and its `next` continues from there.
#[utoipa::path(
    get,
    path = "/v1/inbox",
    operation_id = "listInbox",
    tag = "inbox",
    params(InboxParams),
    responses(
        (status = 200, description = "A page of deliveries.", body = InboxPage),
        BadRequest, Unauthenticated, Forbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn list(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Query(p): Query<InboxParams>,
) -> Result<Json<InboxPage>, ApiError> {
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
    if let Some(wait) = p.wait.filter(|w| *w > MAX_WAIT_ASKED) {
        return Err(RelayError::BadRequest(Message::new(
            format!("wait は 0〜{MAX_WAIT_ASKED} 秒です（{wait} は使えません）。"),
            format!("wait is 0 to {MAX_WAIT_ASKED} seconds, not {wait}"),
        ))
        .into());
    }
    let req = InboxRequest {
        recipient: caller.office,
        pending_only,
        after: p.after.filter(|a| !a.is_empty()),
        limit: p.limit.unwrap_or(100),
        wait: Duration::from_secs(p.wait.unwrap_or(0)),
    };
    let (items, next) = s.relay.inbox(&req).await?;
    Ok(Json(InboxPage { items, next }))
}

/// One delivery
#[utoipa::path(
    get,
    path = "/v1/inbox/{delivery_id}",
    operation_id = "getDelivery",
    tag = "inbox",
    params(DeliveryIdPath),
    responses(
        (status = 200, description = "The delivery.", body = DeliveryView),
        Unauthenticated, Forbidden, NotFound, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn one(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(delivery_id): Path<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    Ok(Json(s.relay.delivery(&caller.office, &delivery_id).await?))
}

/// Download one file of a delivery
///
/// Answers the original bytes exactly as the sender sent them. The first download marks the delivery `downloaded`. Once the set's bytes are purged (by retention, `retention.acknowledged_days` after acknowledgement, or by an admin), the download answers 410; the delivery, its digests and its receipt remain.
#[utoipa::path(
    get,
    path = "/v1/inbox/{delivery_id}/files/{name}",
    operation_id = "downloadFile",
    tag = "inbox",
    params(DeliveryIdPath, ("name" = String, Path, description = "The spec file name, as listed in the delivery's `files`.", example = "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV")),
    responses(
        (status = 200, description = "The file's original bytes.", headers(("Repr-Digest" = String, description = "The SHA-256 of the bytes (RFC 9530), e.g. `sha-256=:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=:`."), ("Content-Disposition" = String, description = "`attachment; filename=\"<name>\"`.")), content((String = "text/csv; charset=Shift_JIS"), (String = "image/jpeg"))),
        Unauthenticated, Forbidden, NotFound, RequestTimeout, Gone, Throttled, Internal, Unavailable
    )
)]
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

/// Acknowledge a delivery (受領確認)
///
/// Marks the delivery `acknowledged` and answers a signed receipt. Repeating it changes nothing and answers the first acknowledgement time. No request body.
#[utoipa::path(
    post,
    path = "/v1/inbox/{delivery_id}/ack",
    operation_id = "acknowledgeDelivery",
    tag = "inbox",
    params(DeliveryIdPath),
    responses(
        (status = 200, description = "Acknowledged.", body = Acknowledgement),
        Unauthenticated, Forbidden, NotFound, RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn ack(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(delivery_id): Path<String>,
) -> Result<Json<Acknowledgement>, ApiError> {
    Ok(Json(
        s.relay
            .acknowledge(&caller.office, &delivery_id, caller.request_id.as_deref())
            .await?,
    ))
}

/// A page of the outbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Page {
    /// The opaque cursor `next` of the previous page; empty or absent: from the start.
    #[param(pattern = "^[0-9]{0,18}$")]
    after: Option<String>,
    /// Items per page; values outside 1..500 are clamped.
    #[param(default = 100)]
    limit: Option<i64>,
}

/// The authenticated office's submissions
///
/// The sets this office sent, in the order the relay accepted them, each with its `status` (`queued`, `downloaded`, `acknowledged`) and times.
#[utoipa::path(
    get,
    path = "/v1/outbox",
    operation_id = "listOutbox",
    tag = "outbox",
    params(Page),
    responses(
        (status = 200, description = "A page of the office's submissions.", body = OutboxPage),
        BadRequest, Unauthenticated, Forbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn outbox(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Query(p): Query<Page>,
) -> Result<Json<OutboxPage>, ApiError> {
    let (items, next) = s
        .relay
        .outbox(
            &caller.office,
            p.after.as_deref().filter(|a| !a.is_empty()),
            p.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(OutboxPage { items, next }))
}

/// A signed receipt for a submission
///
/// A receipt, as things stand now, that the sender or the recipient can keep as proof (e.g. for an inspection 運営指導). Verify it with `GET /v1/keys` or `careplan-relay receipt verify FILE`.
#[utoipa::path(
    get,
    path = "/v1/receipts/{submission_id}",
    operation_id = "getReceipt",
    tag = "receipts",
    params(("submission_id" = String, Path, format = Uuid, description = "The `submission_id` of a set this office sent or received.")),
    responses(
        (status = 200, description = "The receipt.", body = Receipt),
        Unauthenticated, Forbidden, NotFound, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn receipt(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(id): Path<String>,
) -> Result<Json<Receipt>, ApiError> {
    Ok(Json(s.relay.receipt(&caller.office, &id).await?))
}

/// Public keys that verify receipts
///
/// Every Ed25519 public key that any relay node sharing this database has signed receipts or export manifests with, oldest first (each node signs with its own current key; older keys stay listed after a rotation), so that anyone can verify a receipt offline, whichever node signed it.
#[utoipa::path(
    get,
    path = "/v1/keys",
    operation_id = "listKeys",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "The public keys.", body = Keys),
        RequestTimeout, Internal, Unavailable
    )
)]
pub(super) async fn keys(State(s): State<AppState>) -> Result<Json<Keys>, ApiError> {
    let keys = s
        .relay
        .published_keys()
        .await?
        .into_iter()
        .map(|k| PublicKey {
            key_id: k.key_id,
            ed25519_public_key_base64: k.public_base64,
            created_at: crate::domain::rfc3339(k.created_at),
        })
        .collect();
    Ok(Json(Keys { keys }))
}
