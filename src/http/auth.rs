//! Who is calling: a bearer token, or the office in the TLS client certificate (set by `server`), or the admin
//! page's session. Every check goes through the relay's throttle (`relay::throttle`) under the peer address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::domain::{ClientCert, Principal};
use crate::message::Message;
use crate::relay::{AdminSession, RelayError};

/// The office number and serial number of a verified client certificate of this connection, if any.
#[derive(Debug, Clone, Default)]
pub struct ClientCertOffice(pub Option<ClientCert>);

/// The address of the connection's peer (set by `server` on each request): what failed authentication is
/// counted under.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// The peer's IP address, when the request came through `server`.
pub(super) fn source(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<PeerAddr>().map(|p| p.0.ip())
}

/// The request id (`x-request-id`), for events.
pub(super) fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    // Authorization is a singleton field: two credentials in one request are ambiguous, so neither counts.
    if parts
        .headers
        .get_all(axum::http::header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(RelayError::Unauthenticated.into());
    }
    let bearer = match parts.headers.get(axum::http::header::AUTHORIZATION) {
        Some(v) => {
            let v = v.to_str().map_err(|_| RelayError::Unauthenticated)?;
            // The scheme is case-insensitive (RFC 9110 11.1): `bearer` and `BEARER` name it too.
            let (scheme, token) = v.split_once(' ').ok_or(RelayError::Unauthenticated)?;
            if !scheme.eq_ignore_ascii_case("Bearer") {
                return Err(RelayError::Unauthenticated.into());
            }
            Some(token.trim())
        }
        None => None,
    };
    let cert = parts
        .extensions
        .get::<ClientCertOffice>()
        .and_then(|c| c.0.as_ref());
    let id = request_id(parts);
    Ok(state
        .relay
        .authenticate_from(source(parts), bearer, cert, id.as_deref())
        .await?)
}

/// An authenticated office. Admin tokens are refused: they cannot send or read office files.
#[derive(Debug, Clone)]
pub(super) struct OfficeCaller {
    pub office: String,
    pub request_id: Option<String>,
}

impl FromRequestParts<AppState> for OfficeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match principal(parts, state).await? {
            Principal::Office(office) => Ok(OfficeCaller {
                office,
                request_id: request_id(parts),
            }),
            Principal::Admin { .. } => Err(RelayError::Forbidden(Message::new(
                "管理者トークンでは事業所のファイルを送受信できません。",
                "admin tokens cannot send or read office files",
            ))
            .into()),
        }
    }
}

/// An authenticated admin: a bearer admin token, or the admin page's session cookie. A session may read the
/// admin API but not change anything there (state changes on `/v1/admin/…` need a bearer token: 403); the
/// page's own forms under `/admin/` check the session's CSRF token instead.
#[derive(Debug, Clone)]
pub(super) struct AdminCaller {
    pub token_id: String,
    pub request_id: Option<String>,
    /// The session, when the cookie authenticated the request.
    pub session: Option<AdminSession>,
}

/// The admin page's session id: an opaque random value in this HttpOnly, Secure, SameSite=Strict cookie.
pub(super) const ADMIN_COOKIE: &str = "careplan_admin";

/// Longest cookie value read.
const COOKIE_MAX: usize = 256;

/// The value of cookie `name`, if present and at most 256 bytes.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(name)?
                .strip_prefix('=')
                .filter(|v| v.len() <= COOKIE_MAX)
                .map(str::to_string)
        })
}

fn admin_only() -> RelayError {
    RelayError::Forbidden(Message::new(
        "管理者トークンが必要です。",
        "an admin token is required",
    ))
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let request_id = request_id(parts);
        match cookie(&parts.headers, ADMIN_COOKIE) {
            Some(id) if !parts.headers.contains_key(axum::http::header::AUTHORIZATION) => {
                let session = state.relay.admin_session(source(parts), &id).await?;
                if !parts.method.is_safe() && !parts.uri.path().starts_with("/admin/") {
                    return Err(RelayError::Forbidden(Message::new(
                        "管理APIで変更を行うには管理者トークン（Bearer）が必要です。管理画面のセッションでは変更できません。",
                        "changes through the admin API need a bearer admin token; the admin page session cannot make them",
                    ))
                    .into());
                }
                Ok(AdminCaller {
                    token_id: session.token_id.clone(),
                    request_id,
                    session: Some(session),
                })
            }
            _ => match principal(parts, state).await? {
                Principal::Admin { token_id } => Ok(AdminCaller {
                    token_id,
                    request_id,
                    session: None,
                }),
                Principal::Office(_) => Err(admin_only().into()),
            },
        }
    }
}
