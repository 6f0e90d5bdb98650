//! The admin page's client-certificate actions: issue one for an office (certificate and private key shown once)
//! and revoke one. CSRF-checked forms through `relay`, like the other actions.

use crate::http::contract::pages::PageAction;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use secrecy::ExposeSecret;

use super::actions::{ActionForm, checked, invalid, refused};
use super::{Page, nav, page, redirect};
use crate::http::AppState;
use crate::http::auth::AdminCaller;
use crate::http::error::ApiError;

/// Issue an office's client certificate from the dashboard
///
/// Like `careplan-relay cert issue`: signed by the client CA (`tls.client_ca` and `tls.client_ca_key`, or the development CA), valid `tls.client_cert_days`, recorded (`certificate.issued`); the answer shows the certificate and its private key (PEM) once. 400 when no client CA is configured. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/offices/{number}/certificates",
    operation_id = "adminPageIssueCertificate",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("number" = String, Path, description = "The office's 10-digit number (事業所番号).")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn issue_certificate(
    State(s): State<AppState>,
    Path(number): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, _, actor) = checked(who, form)?;
    let Some((ca, key, days)) = &s.relay.policies.client_ca else {
        return Err(invalid(
            "クライアント CA（tls.client_ca と tls.client_ca_key）が設定されていないため、証明書を発行できません。",
            "no client CA is configured (tls.client_ca and tls.client_ca_key), so no certificate can be issued",
        ));
    };
    s.relay.office(&number).await.map_err(refused)?;
    let cert = s
        .relay
        .issue_certificate(ca, key, &number, *days, &actor)
        .await
        .map_err(refused)?;
    let body = maud::html! {
        p { "事業所 " (number) " のクライアント証明書（シリアル " code { (cert.serial) } "、" (days) " 日間有効）。 "
            "The client certificate of office " (number) " (serial " code { (cert.serial) } ", valid " (days) " days)." }
        h2 { "証明書 Certificate (client.pem)" }
        pre #certificate { (cert.cert_pem) }
        h2 { "秘密鍵 Private key (client.key)" }
        pre #private-key { (cert.key_pem().expose_secret()) }
        p.muted { "秘密鍵は二度と表示されません。今すぐ安全に渡してください。 "
            "The private key is shown once and never again: hand it over safely now." }
        p { a href="/admin/#certificates" { "ダッシュボードへ戻る Back to the dashboard" } }
    };
    Ok(page(
        StatusCode::OK,
        "証明書を発行しました Certificate issued",
        nav(&who),
        &body.into_string(),
    ))
}

/// Revoke a client certificate from the dashboard
///
/// Like `POST /v1/admin/certificates/{serial}/revoke`. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/certificates/{serial}/revoke",
    operation_id = "adminPageRevokeCertificate",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("serial" = String, Path, description = "The certificate's serial number in hexadecimal.")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn revoke_certificate(
    State(s): State<AppState>,
    Path(serial): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, _, actor) = checked(who, form)?;
    s.relay
        .revoke_certificate(&serial, &actor, who.request_id.as_deref())
        .await
        .map_err(refused)?;
    Ok(redirect("/admin/#certificates", None))
}
