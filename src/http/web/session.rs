//! Login, logout and the page's one other change (clearing a lockout), with CSRF protection.
//!
//! The login form carries a double-submit token: a random value in the `careplan_login` cookie (Path=/admin/login)
//! and the same value in the form; a POST whose field does not match its cookie is refused (403). Signed-in
//! forms carry the session's CSRF token (`relay::sessions::csrf_token`); a POST without it is refused (403).

use crate::http::contract::pages::{PageAction, PageLogin};
use std::fmt::Write;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::html::{Nav, csrf_field, esc, table, time};
use super::{Page, Refused, page, redirect, views};
use crate::domain::Principal;
use crate::http::AppState;
use crate::http::auth::{ADMIN_COOKIE, AdminCaller, PeerAddr, cookie};
use crate::http::error::ApiError;
use crate::message::Message;
use crate::relay::RelayError;
use crate::relay::sessions::{csrf_matches, random_token};
use crate::relay::throttle::Lockout;

/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "careplan_login";

fn set_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The login form with a fresh double-submit token (cookie and hidden field).
pub(super) fn login_form(status: StatusCode, error: Option<&str>) -> Response {
    let csrf = random_token(16);
    let mut r = page(status, "ログイン Log in", Nav::None, &views::login(error, &csrf));
    set_cookie(
        &mut r,
        &format!("{LOGIN_COOKIE}={csrf}; HttpOnly; Secure; SameSite=Strict; Path=/admin/login"),
    );
    r
}

fn forbidden() -> Message {
    Message::new(
        "フォームの確認用トークン（CSRF）がないか一致しません。ページを開き直してからもう一度送信してください。",
        "the form's CSRF token is missing or does not match; reload the page and submit it again",
    )
}

/// 403 unless `presented` is the session's CSRF token. Requests authenticated by a bearer token (no cookie) are
/// not forgeable by another site and need none.
pub(super) fn check_csrf(who: &AdminCaller, presented: &str) -> Result<(), Refused> {
    match &who.session {
        Some(s) if !csrf_matches(&s.csrf, presented) => {
            Err(Refused::Error(ApiError(RelayError::Forbidden(forbidden()))))
        }
        _ => Ok(()),
    }
}

fn source(peer: Option<axum::Extension<PeerAddr>>) -> Option<std::net::IpAddr> {
    peer.map(|p| p.0.0.ip())
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The login form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(in crate::http) struct LoginForm {
    /// An admin token (`careplan-relay token issue --admin`).
    #[serde(default)]
    token: String,
    /// The value of the `careplan_login` cookie, as the login form's hidden field carries it.
    #[serde(default)]
    csrf: String,
}

/// Sign in to the admin web page
///
/// Checks that `token` is a valid admin token and starts a session: the `careplan_admin` cookie (`HttpOnly; Secure; SameSite=Strict; Path=/admin`) holds an opaque random id (32 bytes, base64url) whose SHA-256 the relay stores; it lasts `admin_page.session_secs` (default 8 h), and is recorded as an `admin.session_started` event. The form carries a double-submit token: `csrf` must equal the `careplan_login` cookie set with the login form (403 otherwise). Office tokens, revoked and unknown tokens are refused; failed logins count towards the lockout of the source address (429).
#[utoipa::path(
    post,
    path = "/admin/login",
    operation_id = "adminPageLogin",
    tag = "admin page",
    security(()),
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageLogin)
)]
pub(in crate::http) async fn login(
    State(s): State<AppState>,
    peer: Option<axum::Extension<PeerAddr>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Page {
    let form = form.map(|f| f.0).unwrap_or(LoginForm {
        token: String::new(),
        csrf: String::new(),
    });
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !csrf_matches(&expected, &form.csrf) {
        tracing::warn!("admin page login without its CSRF token");
        let m = forbidden();
        return Ok(login_form(
            StatusCode::FORBIDDEN,
            Some(&format!("{} {}", m.ja, m.en)),
        ));
    }
    let rid = request_id(&headers);
    let token = form.token.trim();
    let refused = "管理者トークンではありません。 That is not a valid admin token.";
    match s
        .relay
        .authenticate_from(source(peer), Some(token), None, rid.as_deref())
        .await
    {
        Ok(Principal::Admin { token_id }) => {
            let session = s.relay.start_admin_session(&token_id, rid.as_deref()).await?;
            tracing::info!(token_id, "admin page session started");
            let mut r = redirect("/admin/", None);
            set_cookie(
                &mut r,
                &format!(
                    "{ADMIN_COOKIE}={}; HttpOnly; Secure; SameSite=Strict; Path=/admin",
                    session.id.expose_secret()
                ),
            );
            set_cookie(
                &mut r,
                &format!("{LOGIN_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/admin/login; Max-Age=0"),
            );
            Ok(r)
        }
        Ok(Principal::Office(_)) | Err(RelayError::Unauthenticated | RelayError::Forbidden(_)) => {
            tracing::warn!("admin page login refused");
            Ok(login_form(StatusCode::UNAUTHORIZED, Some(refused)))
        }
        Err(e) => Err(e.into()),
    }
}

/// A form with only the session's CSRF token (and, to clear a lockout, its key).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(in crate::http) struct CsrfForm {
    /// The session's CSRF token (the hidden field of every signed-in form).
    #[serde(default)]
    csrf: String,
    /// The lockout to clear, as listed (`address:…` or `token:…`).
    #[serde(default)]
    key: String,
}

fn csrf_form(form: Result<Form<CsrfForm>, FormRejection>) -> CsrfForm {
    form.map(|f| f.0).unwrap_or(CsrfForm {
        csrf: String::new(),
        key: String::new(),
    })
}

/// Sign out of the admin web page
///
/// Ends the session on the server (recorded as `admin.session_ended`; the old cookie is refused from then on) and clears the `careplan_admin` cookie. The form must carry the session's CSRF token (403 otherwise). Without a live session it only clears the cookie.
#[utoipa::path(
    post,
    path = "/admin/logout",
    operation_id = "adminPageLogout",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageLogin)
)]
pub(in crate::http) async fn logout(
    State(s): State<AppState>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Page {
    if let Ok(who) = who {
        check_csrf(&who, &csrf_form(form).csrf)?;
        if let Some(session) = &who.session {
            s.relay
                .end_admin_session(session, who.request_id.as_deref())
                .await?;
            tracing::info!(token_id = who.token_id, "admin page session ended");
        }
    }
    let cookie = format!("{ADMIN_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/admin; Max-Age=0");
    Ok(redirect("/admin/", HeaderValue::from_str(&cookie).ok()))
}

/// End a lockout from the dashboard
///
/// The dashboard's clear button: like `DELETE /v1/admin/lockouts/{key}` (an `auth.lockout_cleared` event), then back to the dashboard. The form must carry the session's CSRF token (403 otherwise).
#[utoipa::path(
    post,
    path = "/admin/lockouts/clear",
    operation_id = "adminPageClearLockout",
    tag = "admin page",
    security(("adminCookie" = []), ()),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(PageAction)
)]
pub(in crate::http) async fn clear_lockout(
    State(s): State<AppState>,
    who: Result<AdminCaller, ApiError>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Page {
    let who = who?;
    let form = csrf_form(form);
    check_csrf(&who, &form.csrf)?;
    match s
        .relay
        .clear_lockout(
            &form.key,
            &format!("admin:{}", who.token_id),
            who.request_id.as_deref(),
        )
        .await
    {
        Ok(()) | Err(RelayError::NotFound) => Ok(redirect("/admin/", None)),
        Err(e) => Err(Refused::Error(ApiError(e))),
    }
}

/// The dashboard's lockout table, a clear button (with the CSRF token) on each row.
pub(super) fn lockouts(items: &[Lockout], csrf: &str) -> String {
    let mut out = String::from(
        "<p class=\"muted\">このプロセスで数えた認証失敗によるロック（クラスタでは各ノードが個別に数えます）。 \
         Lockouts counted by this process (each node of a cluster counts its own).</p>\n",
    );
    if items.is_empty() {
        out.push_str("<p class=\"muted\" id=\"lockouts\">なし None.</p>\n");
        return out;
    }
    let rows: Vec<String> = items
        .iter()
        .map(|l| {
            let key = l.key.to_string();
            let mut row = format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>",
                esc(&key),
                l.failures,
                time(Some(l.locked_at)),
                l.remaining.as_secs().max(1)
            );
            let _ = write!(
                row,
                "<form method=\"post\" action=\"/admin/lockouts/clear\">{}\
                 <input type=\"hidden\" name=\"key\" value=\"{}\">\
                 <button type=\"submit\">解除 Clear</button></form></td></tr>",
                csrf_field(csrf),
                esc(&key)
            );
            row
        })
        .collect();
    out.push_str(&table(
        "lockouts",
        &[
            "キー Key",
            "失敗回数 Failures",
            "ロック開始 Locked at",
            "残り秒 Seconds left",
            "",
        ],
        &rows,
    ));
    out
}
