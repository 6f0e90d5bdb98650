//! Who is calling: a bearer token, or the office in the TLS client certificate (set by `server`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::domain::Principal;
use crate::message::Message;
use crate::relay::RelayError;

/// The office number from a verified client certificate of this connection, if any.
#[derive(Debug, Clone, Default)]
pub struct ClientCertOffice(pub Option<String>);

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
        .and_then(|c| c.0.as_deref());
    Ok(state.relay.authenticate(bearer, cert).await?)
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

/// An authenticated admin (bearer admin token, or the admin page's session cookie).
#[derive(Debug, Clone)]
pub(super) struct AdminCaller {
    pub token_id: String,
    pub request_id: Option<String>,
}

/// The admin page keeps the admin token in this HttpOnly, Secure, SameSite=Strict cookie.
pub(super) const ADMIN_COOKIE: &str = "careplan_admin";

fn cookie_token(parts: &Parts) -> Option<String> {
    let header = parts.headers.get(axum::http::header::COOKIE)?.to_str().ok()?;
    header.split(';').find_map(|c| {
        c.trim()
            .strip_prefix(ADMIN_COOKIE)?
            .strip_prefix('=')
            .map(str::to_string)
    })
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = match cookie_token(parts) {
            Some(t) if !parts.headers.contains_key(axum::http::header::AUTHORIZATION) => {
                state.relay.authenticate(Some(&t), None).await?
            }
            _ => principal(parts, state).await?,
        };
        match principal {
            Principal::Admin { token_id } => Ok(AdminCaller {
                token_id,
                request_id: request_id(parts),
            }),
            Principal::Office(_) => Err(RelayError::Forbidden(Message::new(
                "管理者トークンが必要です。",
                "an admin token is required",
            ))
            .into()),
        }
    }
}
