//! The admin web page (`/admin/`): server-rendered HTML, no JavaScript. Login starts a server-side session
//! (`session`): the `careplan_admin` cookie (HttpOnly, Secure, SameSite=Strict, Path=/admin) holds an opaque
//! random id that [`AdminCaller`] looks up; every form carries the session's CSRF token. The pages show names,
//! digests, offices and times, never record contents. The changes the admin API makes are forms here too
//! (`actions`: offices, tokens, purges; `user_actions`: office users; `certificates`) besides logout and clearing a lockout.

mod actions;
mod certificates;
mod forms;
mod html;
mod log;
mod session;
mod user_actions;
mod views;

/// The routes of the admin page, each with its handler's `#[utoipa::path]`.
pub(super) fn api() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(to_dashboard))
        .routes(routes!(dashboard))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(deliveries))
        .routes(routes!(delivery))
        .routes(routes!(verify))
        .routes(routes!(session::clear_lockout))
        .routes(routes!(actions::add_office))
        .routes(routes!(actions::set_enabled))
        .routes(routes!(actions::edit_office))
        .routes(routes!(actions::issue_token))
        .routes(routes!(user_actions::add_user))
        .routes(routes!(certificates::issue_certificate))
        .routes(routes!(actions::revoke_token))
        .routes(routes!(user_actions::user_action))
        .routes(routes!(certificates::revoke_certificate))
        .routes(routes!(actions::purge))
}

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::auth::AdminCaller;
use super::contract::pages::PageView;
use super::error::ApiError;
use super::log::{LogParams, log as run_log};
use crate::relay::RelayError;
use crate::store::{DeliveryRow, LogQuery, StoreError};
use html::Nav;

/// What a page handler answers: the page, or why it is not shown.
type Page = Result<Response, Refused>;

/// Why a page is not shown: no admin session (303 to the login form), or an error (an error page).
#[derive(Debug)]
pub(super) enum Refused {
    SignIn,
    Error(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        match e.0 {
            RelayError::Unauthenticated | RelayError::Forbidden(_) => Refused::SignIn,
            _ => Refused::Error(e),
        }
    }
}

impl From<RelayError> for Refused {
    fn from(e: RelayError) -> Self {
        ApiError(e).into()
    }
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        RelayError::from(e).into()
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::SignIn => redirect("/admin/", None),
            Refused::Error(e) => failure(e),
        }
    }
}

/// How many retention-flagged sets the dashboard lists.
const FLAGGED_SHOWN: usize = 50;

fn headers(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// An HTML page with the admin page's headers (`Cache-Control: no-store` and a script-free CSP).
fn page(status: StatusCode, title: &str, nav: Nav<'_>, body: &str) -> Response {
    let mut r = (status, html::document(title, nav, body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers(r.headers_mut());
    r
}

/// A 303 to `to`, optionally setting a cookie.
fn redirect(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut r = Redirect::to(to).into_response();
    headers(r.headers_mut());
    if let Some(c) = cookie {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

/// The header of a signed-in admin's page: with the logout form when a session authenticated the request.
fn nav(who: &AdminCaller) -> Nav<'_> {
    who.session.as_ref().map_or(Nav::Links, |s| Nav::Session(&s.csrf))
}

/// An error as a page: `http::error` picks the status (and logs 5xx details; a 429 keeps its `Retry-After`);
/// 5xx messages stay generic.
fn failure(e: ApiError) -> Response {
    let message = match &e.0 {
        RelayError::Store(_) => {
            "データベースを利用できません。 The database is unavailable; retry later.".to_string()
        }
        RelayError::Internal(_) => "内部エラー Internal error.".to_string(),
        RelayError::NotFound => "見つかりません。 No such object.".to_string(),
        RelayError::Forbidden(m)
        | RelayError::BadRequest(m)
        | RelayError::Conflict(m)
        | RelayError::TooLarge(m)
        | RelayError::Throttled { message: m, .. } => format!("{} {}", m.ja, m.en),
        other => other.to_string(),
    };
    let api = e.into_response();
    let mut r = page(api.status(), "エラー Error", Nav::Links, &views::error(&message));
    if let Some(v) = api.headers().get(header::RETRY_AFTER) {
        r.headers_mut().insert(header::RETRY_AFTER, v.clone());
    }
    r
}

/// The newest client certificates the dashboard lists.
const CERTIFICATES_SHOWN: i64 = 50;

/// The admin web page: dashboard, or the login form
///
/// With a valid admin session (the `careplan_admin` cookie set by `POST /admin/login`): the dashboard — offices (事業所: number, name, kind, service types, enabled) with their credentials (token ids, created, revoked), the admin tokens, the audit trail's state (last sealed position and time, queued events, last export and its time, a link to `/admin/audit/verify`), the authentication lockouts in force in this process (each with a clear button), the sets flagged by the retention policy (unacknowledged too long, linking to their history) and a link to the delivery log. Without one: the login form (an admin token in a password field and a CSRF token, posted to `/admin/login`; it sets the `careplan_login` double-submit cookie). Server-rendered HTML with no JavaScript; every page answers `Cache-Control: no-store` and a Content-Security-Policy without scripts, and shows names, digests, offices and times, never record contents.
#[utoipa::path(
    get,
    path = "/admin/",
    operation_id = "adminPage",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    responses(PageView)
)]
pub(super) async fn dashboard(State(s): State<AppState>, who: Result<AdminCaller, ApiError>) -> Page {
    let who = match who.map_err(Refused::from) {
        Ok(who) => who,
        Err(Refused::SignIn) => return Ok(session::login_form(StatusCode::OK, None)),
        Err(e) => return Err(e),
    };
    let d = views::Dashboard {
        overview: s.relay.overview(FLAGGED_SHOWN, CERTIFICATES_SHOWN).await?,
        policy: s.relay.policies.retention,
        lockouts: s.relay.lockouts(),
        csrf: who.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default(),
    };
    Ok(page(
        StatusCode::OK,
        "ダッシュボード Dashboard",
        nav(&who),
        &views::dashboard(&d),
    ))
}

/// To the admin web page
///
/// Redirects to `/admin/`.
#[utoipa::path(
    get,
    path = "/admin",
    operation_id = "adminPageRedirect",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    responses((status = 303, description = "To `/admin/`.", headers(("Location" = String, description = "`/admin/`."))))
)]
pub(super) async fn to_dashboard() -> Response {
    redirect("/admin/", None)
}

/// The delivery log page
///
/// The filter form (office, status, from, to, sender, recipient) and the entries of `GET /v1/admin/deliveries` as a table (time, entry kind, sender, recipient, sequence, status, codes of rejections, file names), newest first, with a next-page link carrying the `next` cursor. Each delivery links to its history page. Server-rendered HTML with no JavaScript; every page answers `Cache-Control: no-store` and a Content-Security-Policy without scripts, and shows names, digests, offices and times, never record contents.
#[utoipa::path(
    get,
    path = "/admin/deliveries",
    operation_id = "adminPageDeliveries",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    responses(PageView)
)]
pub(super) async fn deliveries(
    State(s): State<AppState>,
    who: Result<AdminCaller, ApiError>,
    params: Result<Query<LogParams>, QueryRejection>,
) -> Page {
    let who = who?;
    let title = "配信ログ Delivery log";
    let p = match params {
        Ok(Query(p)) => p,
        Err(e) => {
            let body = log::deliveries(&LogParams::default(), &[], None, Some(&e.body_text()));
            return Ok(page(StatusCode::BAD_REQUEST, title, nav(&who), &body));
        }
    };
    match run_log(&s, &p).await {
        Ok((items, next)) => Ok(page(
            StatusCode::OK,
            title,
            nav(&who),
            &log::deliveries(&p, &items, next.as_deref(), None),
        )),
        Err(ApiError(RelayError::BadRequest(m))) => Ok(page(
            StatusCode::BAD_REQUEST,
            title,
            nav(&who),
            &log::deliveries(&p, &[], None, Some(&format!("{} {}", m.ja, m.en))),
        )),
        Err(e) => Err(Refused::Error(e)),
    }
}

/// When the set's bytes were purged: the log entry of this delivery carries it.
async fn purged_at(s: &AppState, d: &DeliveryRow) -> Result<Option<i64>, RelayError> {
    let q = LogQuery {
        sender: Some(d.sender.clone()),
        recipient: Some(d.recipient.clone()),
        from: Some(d.received_at),
        to: Some(d.received_at + 1),
        limit: 500,
        ..LogQuery::default()
    };
    let entries = s.relay.delivery_log(&q).await?;
    Ok(entries
        .into_iter()
        .find(|e| e.entry == "delivery" && e.id == d.id)
        .and_then(|e| e.purged_at))
}

/// One set's history
///
/// Sender, recipient, sequence, month and status; the files with their sizes and SHA-256; when the set was accepted, downloaded, acknowledged and purged; the audit events of its submission in order (kind, time, office); and its signed receipt (the payload pretty-printed, the key id and the signature). Server-rendered HTML with no JavaScript; every page answers `Cache-Control: no-store` and a Content-Security-Policy without scripts, and shows names, digests, offices and times, never record contents.
#[utoipa::path(
    get,
    path = "/admin/deliveries/{id}",
    operation_id = "adminPageDelivery",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    params(("id" = String, Path, description = "The id (a delivery id, or a token id).")),
    responses(PageView)
)]
pub(super) async fn delivery(
    State(s): State<AppState>,
    who: Result<AdminCaller, ApiError>,
    Path(id): Path<String>,
) -> Page {
    let who = who?;
    let (d, events) = s.relay.delivery_events(&id).await?;
    let receipt = s.relay.receipt_for_admin(&id).await?;
    let purged = purged_at(&s, &d).await?;
    let title = format!("セットの履歴 Set history {}", d.sequence);
    Ok(page(
        StatusCode::OK,
        &title,
        nav(&who),
        &log::delivery(&d, purged, &events, &receipt),
    ))
}

/// The audit verification page
///
/// Re-computes the audit chain (as `GET /v1/admin/audit/verify` and `careplan-relay audit verify`) and shows whether it is intact, or the first broken position and why, with the positions checked, the queued events and the chain head. Server-rendered HTML with no JavaScript; every page answers `Cache-Control: no-store` and a Content-Security-Policy without scripts, and shows names, digests, offices and times, never record contents.
#[utoipa::path(
    get,
    path = "/admin/audit/verify",
    operation_id = "adminPageVerifyAudit",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    responses(PageView)
)]
pub(super) async fn verify(State(s): State<AppState>, who: Result<AdminCaller, ApiError>) -> Page {
    let who = who?;
    let v = s.relay.verify_audit().await?;
    Ok(page(
        StatusCode::OK,
        "監査証跡の検証 Audit trail verification",
        nav(&who),
        &views::verify(&v),
    ))
}
