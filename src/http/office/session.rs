//! Login, logout and the password change, with CSRF protection.
//!
//! The login form carries a double-submit token: a random value in the `careplan_office_login` cookie
//! (Path=/office/login) and the same value in the form; a POST whose field does not match its cookie is refused
//! (403). Signed-in forms carry the session's CSRF token (`relay::sessions::csrf_token`); a POST without it is
//! refused (403).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::html::csrf_field;
use super::{OFFICE_COOKIE, Page, Refused, SessionUser, page, redirect};
use crate::http::AppState;
use crate::http::auth::{ClientCertOffice, PeerAddr, cookie};
use crate::http::error::ApiError;
use crate::message::Message;
use crate::relay::sessions::{csrf_matches, random_token};
use crate::relay::users::MIN_PASSWORD_CHARS;
use crate::relay::{OfficeSession, RelayError};

/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "careplan_office_login";

fn forbidden() -> Message {
    Message::new(
        "フォームの確認用トークン（CSRF）がないか一致しません。ページを開き直してからもう一度送信してください。",
        "the form's CSRF token is missing or does not match; reload the page and submit it again",
    )
}

/// 403 unless `presented` is the session's CSRF token.
pub(super) fn check_csrf(session: &OfficeSession, presented: &str) -> Result<(), Refused> {
    if csrf_matches(&session.csrf, presented) {
        Ok(())
    } else {
        tracing::warn!("office portal form without its CSRF token");
        Err(Refused::Error(ApiError(RelayError::Forbidden(forbidden()))))
    }
}

fn message(m: &Message) -> Markup {
    html! { p.error #form-error role="alert" { (m.ja) br; span.muted { (m.en) } } }
}

/// The login form with a fresh double-submit token (cookie and hidden field).
pub(super) fn login_form(status: StatusCode, error: Option<&Message>) -> Response {
    let csrf = random_token(16);
    let body = html! {
        @if let Some(m) = error { (message(m)) }
        form.box #login method="post" action="/office/login" {
            (csrf_field(&csrf))
            label for="login" { "ログインID Login ID"
                input #login type="text" name="login" autocomplete="username" required autofocus; }
            label for="password" { "パスワード Password"
                input #password type="password" name="password" autocomplete="current-password" required; }
            button type="submit" { "ログイン Log in" }
        }
        p.muted { "ログインIDと初期パスワードは中継サーバーの管理者が発行します。初回ログイン時にパスワードを変更していただきます。"
            br; "Your relay's administrator issues your login ID and initial password; you change it at the first login." }
    };
    let mut r = page(status, "ログイン Log in", None, &body);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={csrf}; HttpOnly; Secure; SameSite=Strict; Path=/office/login"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Debug, Default, Deserialize)]
pub(in crate::http) struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `POST /office/login`: login ID and password start a session (303 to `/office/`, or to the password form when
/// the password must be changed); a wrong one re-shows the form (401); a locked source or user gets 429; a form
/// without its double-submit token is refused (403).
pub(in crate::http) async fn login(
    State(s): State<AppState>,
    peer: Option<axum::Extension<PeerAddr>>,
    cert: Option<axum::Extension<ClientCertOffice>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Page {
    let form = form.map(|f| f.0).unwrap_or_default();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !csrf_matches(&expected, &form.csrf) {
        tracing::warn!("office portal login without its CSRF token");
        return Ok(login_form(StatusCode::FORBIDDEN, Some(&forbidden())));
    }
    let rid = request_id(&headers);
    let source = peer.map(|p| p.0.0.ip());
    let certificate = cert.and_then(|c| c.0.0).map(|c| c.office);
    match s
        .relay
        .office_login(
            source,
            form.login.trim(),
            &form.password,
            certificate.as_deref(),
            rid.as_deref(),
        )
        .await
    {
        Ok(session) => {
            tracing::info!("office portal session started");
            let mut r = redirect(
                "/office/",
                Some(&format!(
                    "{OFFICE_COOKIE}={}; HttpOnly; Secure; SameSite=Strict; Path=/office",
                    session.id.expose_secret()
                )),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{LOGIN_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/office/login; Max-Age=0"
            )) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(RelayError::Unauthenticated) => {
            tracing::warn!("office portal login refused");
            Ok(login_form(
                StatusCode::UNAUTHORIZED,
                Some(&Message::new(
                    "ログインIDまたはパスワードが正しくありません。",
                    "wrong login ID or password",
                )),
            ))
        }
        Err(RelayError::Forbidden(message)) => Ok(login_form(StatusCode::FORBIDDEN, Some(&message))),
        Err(RelayError::Throttled { retry_after, message }) => {
            let mut r = login_form(StatusCode::TOO_MANY_REQUESTS, Some(&message));
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(in crate::http) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /office/logout`: ends the session on the server and clears the cookie; 403 without the session's CSRF
/// token. Without a live session it only clears the cookie.
pub(in crate::http) async fn logout(
    State(s): State<AppState>,
    who: Result<SessionUser, Refused>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Page {
    if let Ok(who) = who {
        check_csrf(&who.session, &form.map(|f| f.0).unwrap_or_default().csrf)?;
        s.relay
            .end_office_session(&who.session, who.request_id.as_deref())
            .await?;
        tracing::info!("office portal session ended");
    }
    Ok(redirect(
        "/office/",
        Some(&format!(
            "{OFFICE_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/office; Max-Age=0"
        )),
    ))
}

fn password_page(status: StatusCode, who: &SessionUser, error: Option<&Message>, done: bool) -> Response {
    let body = html! {
        @if who.session.must_change {
            p.notice #must-change { "管理者が設定したパスワードです。続ける前に、ご自身のパスワードに変更してください。"
                br; span.muted { "This password was set by an administrator: change it to your own before you go on." } }
        }
        @if done { p.ok #password-changed role="status" { "パスワードを変更しました。 Your password was changed." } }
        @if let Some(m) = error { (message(m)) }
        form.box #password-form method="post" action="/office/password" {
            (csrf_field(&who.session.csrf))
            label for="current" { "現在のパスワード Current password"
                input #current type="password" name="current" autocomplete="current-password" required; }
            label for="new" { "新しいパスワード（" (MIN_PASSWORD_CHARS) "文字以上） New password (at least " (MIN_PASSWORD_CHARS) " characters)"
                input #new type="password" name="new" autocomplete="new-password" required minlength=(MIN_PASSWORD_CHARS); }
            label for="confirm" { "新しいパスワード（確認） Repeat the new password"
                input #confirm type="password" name="confirm" autocomplete="new-password" required; }
            button type="submit" { "変更する Change" }
        }
    };
    page(
        status,
        "パスワード変更 Change password",
        Some(who.header()),
        &body,
    )
}

/// `GET /office/password`: the password form.
pub(in crate::http) async fn password_form(who: SessionUser) -> Response {
    password_page(StatusCode::OK, &who, None, false)
}

#[derive(Debug, Default, Deserialize)]
pub(in crate::http) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /office/password`: changes the password (the user's other sessions end); a wrong current password, a
/// new one that breaks the rules or does not match its repetition re-shows the form (400).
pub(in crate::http) async fn change_password(
    State(s): State<AppState>,
    who: SessionUser,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Page {
    let form = form.map(|f| f.0).unwrap_or_default();
    check_csrf(&who.session, &form.csrf)?;
    if form.new != form.confirm {
        let m = Message::new(
            "新しいパスワードと確認用の入力が一致しません。",
            "the new password and its repetition differ",
        );
        return Ok(password_page(StatusCode::BAD_REQUEST, &who, Some(&m), false));
    }
    match s
        .relay
        .change_password(&who.session, &form.current, &form.new, who.request_id.as_deref())
        .await
    {
        Ok(()) => {
            tracing::info!("office user changed the password");
            if who.session.must_change {
                Ok(redirect("/office/", None))
            } else {
                Ok(password_page(StatusCode::OK, &who, None, true))
            }
        }
        Err(RelayError::BadRequest(m)) => Ok(password_page(StatusCode::BAD_REQUEST, &who, Some(&m), false)),
        Err(e) => Err(e.into()),
    }
}
