//! Office client certificates in the admin API: the list and revocation. Admin tokens only; issuing one is a
//! command (`careplan-relay cert issue`) or the admin page.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::auth::AdminCaller;
use super::bodies::ErrorBody;
use super::bodies::admin::{Certificate, CertificateList};
use super::contract::params::SerialPath;
use super::contract::responses::*;
use super::error::ApiError;
use crate::domain::{Office, now_ms};
use crate::message::{Message, clip};
use crate::relay::RelayError;

/// Which certificates to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CertificateParams {
    /// Only this office's certificates (10-digit office number); empty: every office.
    #[param(pattern = r"^([0-9]{10})?$")]
    office: Option<String>,
    /// At most this many; values outside 1..1000 are clamped.
    #[param(default = 100)]
    limit: Option<i64>,
}

/// List issued client certificates
///
/// The office client certificates issued by `careplan-relay cert issue`, newest first: serial number (lower-case hex), office, validity, issue time and revocation. The same as `careplan-relay cert list [--office NUMBER]`. Certificates from an operator's own CA that were not issued by the relay are not recorded and not listed; they are accepted while that CA trusts them.
#[utoipa::path(
    get,
    path = "/v1/admin/certificates",
    operation_id = "listCertificates",
    tag = "admin",
    security(("bearerAuth" = []), ("adminCookie" = [])),
    params(CertificateParams),
    responses(
        (status = 200, description = "The certificates.", body = CertificateList, example = json!({"items": [{"serial": "5f0c2b9a71d84e3fa0c6b2d19e7f4a11", "office": "1310000001", "not_before": "2026-11-29T15:55:00.000Z", "not_after": "2028-11-28T15:55:00.000Z", "issued_at": "2026-11-29T16:00:00.123Z", "revoked": false, "revoked_at": null, "state": "valid"}]})),
        (status = 400, description = "An `office` that is not 10 digits, or a non-numeric `limit`.", body = ErrorBody),
        Unauthenticated, AdminForbidden, RequestTimeout, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn list(
    State(s): State<AppState>,
    _a: AdminCaller,
    Query(p): Query<CertificateParams>,
) -> Result<Json<CertificateList>, ApiError> {
    let office = p.office.filter(|o| !o.is_empty());
    if let Some(o) = &office
        && !Office::valid_number(o)
    {
        return Err(RelayError::BadRequest(Message::new(
            format!("事業所番号は10桁の数字です: {}", clip(o)),
            format!("an office number is 10 digits: {}", clip(o)),
        ))
        .into());
    }
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let now = now_ms();
    let items = s
        .relay
        .certificates(office.as_deref(), limit)
        .await?
        .iter()
        .map(|c| Certificate::of(c, now))
        .collect();
    Ok(Json(CertificateList { items }))
}

/// Revoke a client certificate
///
/// Revokes a client certificate issued by the relay: a connection presenting it gets 401 from then on (the TLS handshake still succeeds; the request is refused at authentication). Repeating it changes nothing and answers 200 again. Recorded as a `certificate.revoked` audit event. The same as `careplan-relay cert revoke SERIAL`.
#[utoipa::path(
    post,
    path = "/v1/admin/certificates/{serial}/revoke",
    operation_id = "revokeCertificate",
    tag = "admin",
    security(("bearerAuth" = [])),
    params(SerialPath),
    responses(
        (status = 200, description = "Revoked.", body = Certificate, example = json!({"serial": "5f0c2b9a71d84e3fa0c6b2d19e7f4a11", "office": "1310000001", "not_before": "2026-11-29T15:55:00.000Z", "not_after": "2028-11-28T15:55:00.000Z", "issued_at": "2026-11-29T16:00:00.123Z", "revoked": true, "revoked_at": "2026-12-01T09:30:00.000Z", "state": "revoked"})),
        (status = 400, description = "The serial is not hexadecimal or has more than 40 digits.", body = ErrorBody),
        Unauthenticated, AdminForbidden,
        (status = 404, description = "The relay issued no certificate with this serial.", body = ErrorBody, example = json!(error_example("not_found", "no such object"))),
        RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn revoke(
    State(s): State<AppState>,
    a: AdminCaller,
    Path(serial): Path<String>,
) -> Result<Json<Certificate>, ApiError> {
    let c = s
        .relay
        .revoke_certificate(&serial, &format!("admin:{}", a.token_id), a.request_id.as_deref())
        .await?;
    Ok(Json(Certificate::of(&c, now_ms())))
}
