//! The office portal (`/office/`): server-rendered pages (maud), no JavaScript. An office user logs in with
//! login ID and password (`session`), changes an admin-set password first, then reads the inbox (`inbox`:
//! pending and all deliveries, one file or the whole set as a ZIP, acknowledge), sends sets (`send`: the
//! validation report first, then each valid set through `Relay::submit`) and follows what it sent (`outbox`:
//! statuses, receipts as JSON and as a printable page).
//!
//! The `careplan_office` cookie (HttpOnly, Secure, SameSite=Strict, Path=/office) holds an opaque random session
//! id; every form carries the session's CSRF token. Every query names the session's office, so a user never sees
//! another office's sets (404, the same as an unknown id).

mod html;
mod inbox;
mod outbox;
mod send;
mod session;
mod view;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::AppState;
use super::auth::{cookie, request_id, source};
use super::error::ApiError;
use crate::relay::{OfficeSession, RelayError};
use crate::store::StoreError;
use html::Header;

/// The portal's session cookie.
const OFFICE_COOKIE: &str = "careplan_office";

/// The portal's routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/office", get(to_home))
        .route("/office/", get(inbox::home))
        .route("/office/login", post(session::login))
        .route("/office/logout", post(session::logout))
        .route("/office/password", get(session::password_form))
        .route("/office/password", post(session::change_password))
        .route("/office/inbox/{delivery_id}", get(inbox::one))
        .route("/office/inbox/{delivery_id}/files/{name}", get(inbox::file))
        .route("/office/inbox/{delivery_id}/zip", get(inbox::zip))
        .route("/office/inbox/{delivery_id}/ack", post(inbox::ack))
        .route("/office/inbox/{delivery_id}/view", get(view::received))
        .route("/office/outbox/{submission_id}/view", get(view::sent))
        .route("/office/send", get(send::form))
        .route("/office/send", post(send::send))
        .route("/office/outbox", get(outbox::list))
        .route("/office/receipts/{submission_id}", get(outbox::receipt_page))
        .route("/office/receipts/{submission_id}/json", get(outbox::receipt_json))
}

/// What a page handler answers: the page, or why it is not shown.
type Page = Result<Response, Refused>;

/// Why a page is not shown: no session (303 to the login form), a password to change first (303 to the
/// password form), or an error (an error page).
#[derive(Debug)]
pub(super) enum Refused {
    SignIn,
    ChangePassword,
    Error(ApiError),
}

impl From<RelayError> for Refused {
    fn from(e: RelayError) -> Self {
        match e {
            RelayError::Unauthenticated => Refused::SignIn,
            e => Refused::Error(ApiError(e)),
        }
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
            Refused::SignIn => redirect("/office/", None),
            Refused::ChangePassword => redirect("/office/password", None),
            Refused::Error(e) => failure(e),
        }
    }
}

/// The security headers of every portal answer: no caching, a script-free CSP, no framing, no sniffing.
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

/// An HTML page with the portal's headers.
fn page(status: StatusCode, title: &str, header: Option<Header<'_>>, body: &Markup) -> Response {
    page_refreshing(status, title, header, None, body)
}

/// [`page`] that reloads itself every `refresh` seconds.
fn page_refreshing(
    status: StatusCode,
    title: &str,
    header: Option<Header<'_>>,
    refresh: Option<u32>,
    body: &Markup,
) -> Response {
    let mut r = (status, html::document(title, header, refresh, body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers(r.headers_mut());
    r
}

/// A 303 to `to`, optionally setting a cookie.
fn redirect(to: &str, cookie: Option<&str>) -> Response {
    let mut r = Redirect::to(to).into_response();
    headers(r.headers_mut());
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(c).ok()) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// An error as a page: `http::error` picks the status (and logs 5xx details; a 429 keeps its `Retry-After`);
/// 5xx messages stay generic.
fn failure(e: ApiError) -> Response {
    let (ja, en) = match &e.0 {
        RelayError::Store(_) => (
            "データベースを利用できません。しばらくしてから再試行してください。".to_string(),
            "The database is unavailable; retry later.".to_string(),
        ),
        RelayError::Internal(_) => ("内部エラーです。".to_string(), "Internal error.".to_string()),
        RelayError::NotFound => ("見つかりません。".to_string(), "No such object.".to_string()),
        RelayError::Gone => (
            "このセットのファイルは保存期間を過ぎて削除されました。記録と受領証は残っています。".to_string(),
            "The files of this set were purged; its record and receipt remain.".to_string(),
        ),
        RelayError::Forbidden(m)
        | RelayError::BadRequest(m)
        | RelayError::Conflict(m)
        | RelayError::TooLarge(m)
        | RelayError::Throttled { message: m, .. } => (m.ja.clone(), m.en.clone()),
        other => (other.to_string(), other.to_string()),
    };
    let api = e.into_response();
    let body = html! {
        p.error #error role="alert" { (ja) br; span.muted { (en) } }
        p { a href="/office/" { "受信箱へ戻る Back to the inbox" } }
    };
    let mut r = page(api.status(), "エラー Error", None, &body);
    if let Some(v) = api.headers().get(header::RETRY_AFTER) {
        r.headers_mut().insert(header::RETRY_AFTER, v.clone());
    }
    r
}

/// `GET /office` (no slash): to `/office/`.
async fn to_home() -> Response {
    redirect("/office/", None)
}

/// A request with a live office session, whatever the state of its password (the password form and logout).
#[derive(Debug, Clone)]
pub(super) struct SessionUser {
    pub session: OfficeSession,
    pub office_name: String,
    pub request_id: Option<String>,
}

impl SessionUser {
    /// The page header of this user.
    fn header(&self) -> Header<'_> {
        Header {
            login: &self.session.login,
            office: &self.session.office,
            office_name: &self.office_name,
            csrf: &self.session.csrf,
            password_only: self.session.must_change,
        }
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let id = cookie(&parts.headers, OFFICE_COOKIE).ok_or(Refused::SignIn)?;
        let session = state.relay.office_session(source(parts), &id).await?;
        let office_name = state.relay.office(&session.office).await?.name;
        Ok(SessionUser {
            session,
            office_name,
            request_id: request_id(parts),
        })
    }
}

/// A signed-in office user whose password is their own: every page but the password form. A user who must
/// change the password is sent to that form.
#[derive(Debug, Clone)]
pub(super) struct OfficeUser(pub SessionUser);

impl FromRequestParts<AppState> for OfficeUser {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = SessionUser::from_request_parts(parts, state).await?;
        if user.session.must_change {
            return Err(Refused::ChangePassword);
        }
        Ok(OfficeUser(user))
    }
}

impl OfficeUser {
    fn office(&self) -> &str {
        &self.0.session.office
    }

    fn header(&self) -> Header<'_> {
        self.0.header()
    }

    fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// 403 unless `presented` is the session's CSRF token.
    fn check_csrf(&self, presented: &str) -> Result<(), Refused> {
        session::check_csrf(&self.0.session, presented)
    }
}
