//! Office client certificates on the admin API: list the issued ones and revoke one. Admin tokens only.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::AdminCaller;
use super::error::ApiError;
use crate::domain::{Office, now_ms, rfc3339};
use crate::message::{Message, clip};
use crate::relay::RelayError;
use crate::store::CertificateRow;

/// Filters of `GET /v1/admin/certificates`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CertificateParams {
    /// Only this office's certificates (10 digits).
    office: Option<String>,
    /// At most this many (1 to 1000, default 100), newest first.
    limit: Option<i64>,
}

/// One certificate as JSON: times in RFC 3339, `revoked` and `state` (`valid`, `expired`, `revoked`).
fn certificate_json(c: &CertificateRow, now: i64) -> Value {
    let state = match c.revoked_at {
        Some(_) => "revoked",
        None if c.not_after <= now => "expired",
        None => "valid",
    };
    json!({
        "serial": c.serial, "office": c.office, "not_before": rfc3339(c.not_before),
        "not_after": rfc3339(c.not_after), "issued_at": rfc3339(c.issued_at),
        "revoked": c.revoked_at.is_some(), "revoked_at": c.revoked_at.map(rfc3339), "state": state,
    })
}

/// `GET /v1/admin/certificates?office=&limit=`: `{items:[{serial, office, not_before, not_after, issued_at,
/// revoked, revoked_at, state}]}`, newest first.
pub(super) async fn list(
    State(s): State<AppState>,
    _a: AdminCaller,
    Query(p): Query<CertificateParams>,
) -> Result<Json<Value>, ApiError> {
    let office = p.office.filter(|o| !o.is_empty());
    if let Some(o) = &office {
        if !Office::valid_number(o) {
            return Err(RelayError::BadRequest(Message::new(
                format!("事業所番号は10桁の数字です: {}", clip(o)),
                format!("an office number is 10 digits: {}", clip(o)),
            ))
            .into());
        }
    }
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let now = now_ms();
    let items: Vec<Value> = s
        .relay
        .certificates(office.as_deref(), limit)
        .await?
        .iter()
        .map(|c| certificate_json(c, now))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `POST /v1/admin/certificates/{serial}/revoke`: the certificate as revoked (repeating it changes nothing);
/// 404 for a serial not issued here, 400 for one that is not hexadecimal.
pub(super) async fn revoke(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(serial): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = s
        .relay
        .revoke_certificate(&serial, &format!("admin:{}", a.token_id), a.request_id.as_deref())
        .await?;
    Ok(Json(certificate_json(&c, now_ms())))
}
