//! Who is calling: a bearer token, or the office in the TLS client certificate (set by `server`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::domain::Principal;
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
    let bearer = match parts.headers.get(axum::http::header::AUTHORIZATION) {
        Some(v) => {
            let v = v.to_str().map_err(|_| RelayError::Unauthenticated)?;
            Some(
                v.strip_prefix("Bearer ")
                    .ok_or(RelayError::Unauthenticated)?
                    .trim(),
            )
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
            Principal::Admin { .. } => {
                Err(RelayError::Forbidden("admin tokens cannot send or read office files".into()).into())
            }
        }
    }
}
