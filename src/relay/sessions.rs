//! Sessions of the admin page and of the office portal (`users`): an opaque random id in the cookie (only its
//! SHA-256 is stored), an expiry, logout that ends the session on the server, and a CSRF token derived from the
//! session for the page's forms.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a page session (admin page, office portal) lasts unless configured: 8 hours, in seconds.
pub const DEFAULT_SESSION_SECS: u64 = 8 * 3600;

use super::sha256_hex;
use super::{Relay, RelayError, Result};
use crate::domain::now_ms;
use crate::store::NewEvent;

/// Length of a session id: 32 random bytes in base64url without padding.
pub const SESSION_ID_CHARS: usize = 43;

/// A session just started (admin or office): the id goes into the cookie once and is never stored.
#[derive(Debug)]
pub struct NewSession {
    pub id: SecretString,
    /// The CSRF token of the session's forms.
    pub csrf: String,
    /// Unix ms.
    pub expires_at: i64,
}

/// A live session, as a request presents it.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// The admin token the session was started with.
    pub token_id: String,
    /// SHA-256 hex of the session id (the stored key).
    pub id_hash: String,
    /// The CSRF token its forms must carry.
    pub csrf: String,
    /// Unix ms.
    pub expires_at: i64,
}

/// The CSRF token of a session: base64url of SHA-256 over a label and the session id. Only the holder of the
/// session id (the cookie, which other sites cannot read) can know it.
pub fn csrf_token(session_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("careplan-relay csrf\n{session_id}").as_bytes(),
    ))
}

/// Compares a presented CSRF token with the expected one in constant time.
pub fn csrf_matches(expected: &str, presented: &str) -> bool {
    expected.as_bytes().ct_eq(presented.as_bytes()).into()
}

/// The admin page's name for a new session.
pub type NewAdminSession = NewSession;

/// A new session lasting `ttl`, and the SHA-256 hex of its id (what the store keeps).
pub(super) fn new_session(ttl: std::time::Duration) -> (NewSession, String) {
    let id = random_token(32);
    let expires_at = now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    let id_hash = sha256_hex(id.as_bytes());
    let session = NewSession {
        csrf: csrf_token(&id),
        id: id.into(),
        expires_at,
    };
    (session, id_hash)
}

/// A fresh random value for a cookie: `bytes` random bytes in base64url.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

impl Relay {
    /// Starts a session for an authenticated admin token, with an `admin.session_started` event; it lasts
    /// `admin_session_ttl`.
    pub async fn start_admin_session(
        &self,
        token_id: &str,
        request_id: Option<&str>,
    ) -> Result<NewAdminSession> {
        let (session, id_hash) = new_session(self.policies.admin_session_ttl);
        let event = NewEvent::new(
            "admin.session_started",
            None,
            json!({ "token_id": token_id, "expires_at": crate::domain::rfc3339(session.expires_at) }),
        )
        .request(request_id);
        self.store
            .insert_admin_session(&id_hash, token_id, session.expires_at, event)
            .await?;
        Ok(session)
    }

    /// The live session with this id, from `source`: 429 while the source is locked out; `Unauthenticated` for
    /// an unknown, expired or ended session, or one whose admin token was revoked. (Unknown ids are not
    /// counted as failures: 256 random bits are not guessed, and a stale cookie is no attack.)
    pub async fn admin_session(&self, source: Option<IpAddr>, id: &str) -> Result<AdminSession> {
        self.refuse_if_locked(&super::access::keys(source, None))?;
        if id.len() != SESSION_ID_CHARS {
            return Err(RelayError::Unauthenticated);
        }
        let id_hash = sha256_hex(id.as_bytes());
        let row = self
            .store
            .admin_session(&id_hash)
            .await?
            .ok_or(RelayError::Unauthenticated)?;
        if row.revoked_at.is_some() || row.token_revoked || row.expires_at <= now_ms() {
            return Err(RelayError::Unauthenticated);
        }
        Ok(AdminSession {
            token_id: row.token_id,
            id_hash,
            csrf: csrf_token(id),
            expires_at: row.expires_at,
        })
    }

    /// Ends a session (logout) with an `admin.session_ended` event; its cookie is refused from then on.
    pub async fn end_admin_session(&self, session: &AdminSession, request_id: Option<&str>) -> Result<()> {
        let event = NewEvent::new(
            "admin.session_ended",
            None,
            json!({ "token_id": session.token_id, "reason": "logout" }),
        )
        .request(request_id);
        self.store.revoke_admin_session(&session.id_hash, event).await?;
        Ok(())
    }
}
