//! The admin page's actions, the admin API's changes as forms: register, enable and disable offices; issue and
//! revoke tokens; purge a flagged set (office users: `user_actions`; client certificates: `certificates`). Every form carries the session's CSRF token (403 without it); every action goes through `relay`, which
//! records its audit event with the admin token's id as the actor. A new token or one-time password is shown
//! once, on the page that answers the form, and never again.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::html::esc;
use super::session::check_csrf;
use super::{Page, Refused, nav, page, redirect};
use crate::domain::{Office, OfficeKind};
use crate::http::AppState;
use crate::http::auth::AdminCaller;
use crate::http::contract::pages::PageAction;
use crate::http::error::ApiError;
use crate::message::Message;
use crate::relay::RelayError;

/// The fields of every action form (each form sends the ones it has).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(in crate::http) struct ActionForm {
    /// The session's CSRF token (the hidden field of every signed-in form).
    #[serde(default)]
    csrf: String,
    /// An office number (registering an office).
    #[serde(default)]
    number: String,
    /// An office's name.
    #[serde(default)]
    name: String,
    /// `care_manager`, `prevention_center` or `provider`.
    #[serde(default)]
    kind: String,
    /// Service types separated by commas or spaces.
    #[serde(default)]
    service_types: String,
    /// A login ID (adding a user).
    #[serde(default)]
    pub(super) login: String,
    /// `true` or `false` (enable or disable an office).
    #[serde(default)]
    enabled: String,
}

/// Service types as typed in a form: separated by commas, spaces or 、.
fn service_types(typed: &str) -> Vec<String> {
    typed
        .split([',', ' ', '、'])
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The signed-in admin and the form, once the form's CSRF token matched the session's.
pub(super) fn checked(
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<(AdminCaller, ActionForm, String), Refused> {
    let who = who?;
    let form = form.map(|f| f.0).unwrap_or_default();
    check_csrf(&who, &form.csrf)?;
    let actor = format!("admin:{}", who.token_id);
    Ok((who, form, actor))
}

pub(super) fn refused(e: RelayError) -> Refused {
    Refused::Error(ApiError(e))
}

pub(super) fn invalid(ja: &str, en: &str) -> Refused {
    refused(RelayError::BadRequest(Message::new(ja, en)))
}

/// A page that shows a secret once (a token, a one-time password), with what it is for.
pub(super) fn shown_once(who: &AdminCaller, title: &str, what: &str, secret: &str) -> Response {
    let body = format!(
        "<p>{}</p>\n<p><code class=\"wrap secret\" id=\"secret\">{}</code></p>\n\
         <p class=\"muted\">この値は二度と表示されません。今すぐ安全に渡してください。 \
         It is shown once and never again: hand it over safely now.</p>\n\
         <p><a href=\"/admin/\">ダッシュボードへ戻る Back to the dashboard</a></p>\n",
        esc(what),
        esc(secret)
    );
    page(StatusCode::OK, title, nav(who), &body)
}

/// Register an office from the dashboard
///
/// Like `POST /v1/admin/offices`. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/offices",
    operation_id = "adminPageAddOffice",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn add_office(
    State(s): State<AppState>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (_, f, actor) = checked(who, form)?;
    let kind = OfficeKind::parse(&f.kind)
        .ok_or_else(|| invalid("事業所の種別を選んでください。", "choose the office's kind"))?;
    let office = Office {
        number: f.number.trim().to_string(),
        name: f.name.trim().to_string(),
        kind,
        service_types: service_types(&f.service_types),
        enabled: true,
    };
    s.relay.add_office(&office, &actor).await.map_err(refused)?;
    Ok(redirect("/admin/#offices", None))
}

/// Enable or disable an office from the dashboard
///
/// Like `PATCH /v1/admin/offices/{number}`. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/offices/{number}/enabled",
    operation_id = "adminPageSetOfficeEnabled",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("number" = String, Path, description = "The office's 10-digit number (事業所番号).")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn set_enabled(
    State(s): State<AppState>,
    Path(number): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, f, actor) = checked(who, form)?;
    let enabled = f.enabled == "true";
    s.relay
        .set_office_enabled(&number, enabled, &actor, who.request_id.as_deref())
        .await
        .map_err(refused)?;
    Ok(redirect("/admin/#offices", None))
}

/// Change an office's name or service types from the dashboard
///
/// Like `PATCH /v1/admin/offices/{number}` with `name` and `service_types`: the fields filled in change. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/offices/{number}/edit",
    operation_id = "adminPageEditOffice",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("number" = String, Path, description = "The office's 10-digit number (事業所番号).")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn edit_office(
    State(s): State<AppState>,
    Path(number): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, f, actor) = checked(who, form)?;
    let name = Some(f.name.trim()).filter(|n| !n.is_empty());
    let types: Vec<String> = service_types(&f.service_types);
    let types = (!types.is_empty()).then_some(types);
    s.relay
        .edit_office(&number, name, types, &actor, who.request_id.as_deref())
        .await
        .map_err(refused)?;
    Ok(redirect("/admin/#offices", None))
}

/// Issue an office's token from the dashboard
///
/// Like `POST /v1/admin/offices/{number}/tokens`; the answer shows the token once. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/offices/{number}/tokens",
    operation_id = "adminPageIssueToken",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("number" = String, Path, description = "The office's 10-digit number (事業所番号).")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn issue_token(
    State(s): State<AppState>,
    Path(number): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, _, actor) = checked(who, form)?;
    let t = s
        .relay
        .issue_token(Some(&number), &actor)
        .await
        .map_err(refused)?;
    let what = format!(
        "事業所 {number} のトークン（ID {}）。 The token of office {number} (id {}).",
        t.id, t.id
    );
    Ok(shown_once(
        &who,
        "トークンを発行しました Token issued",
        &what,
        t.token.expose_secret(),
    ))
}

/// Revoke a token from the dashboard
///
/// Like `DELETE /v1/admin/tokens/{id}`. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/tokens/{id}/revoke",
    operation_id = "adminPageRevokeToken",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("id" = String, Path, description = "The id (a delivery id, or a token id).")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn revoke_token(
    State(s): State<AppState>,
    Path(id): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (_, _, actor) = checked(who, form)?;
    s.relay.revoke_token(&id, &actor).await.map_err(refused)?;
    Ok(redirect("/admin/#offices", None))
}

/// Purge a set from the dashboard
///
/// Like `POST /v1/admin/deliveries/{id}/purge`. The form must carry the session's CSRF token (403 otherwise); the change is an audit event with the admin token's id as its actor.
#[utoipa::path(
    post,
    path = "/admin/deliveries/{id}/purge",
    operation_id = "adminPagePurge",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("id" = String, Path, description = "The id (a delivery id, or a token id).")),
    request_body(content = ActionForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn purge(
    State(s): State<AppState>,
    Path(id): Path<String>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let (who, _, actor) = checked(who, form)?;
    s.relay
        .purge_delivery(&id, &actor, who.request_id.as_deref())
        .await
        .map_err(refused)?;
    Ok(redirect(
        &format!("/admin/deliveries/{}", super::html::url_component(&id)),
        None,
    ))
}
