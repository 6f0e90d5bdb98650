//! Office users of the portal: created by an admin for an office with a one-time initial password, logged in
//! with login ID and password (Argon2id), forced to change a password an admin set, locked after repeated wrong
//! passwords, reset, unlocked and disabled by an admin.
//!
//! Wrong passwords count twice: under the source address in the process's throttle (`access`, as every other
//! credential), and against the user in the database, so that a user's lockout holds on every node and an admin
//! can lift it from the command line (`user unlock`).

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::SecretString;
use serde_json::json;

use super::sessions::{NewSession, new_session};
use super::sha256_hex;
use super::{Relay, RelayError, Result};
use crate::domain::{now_ms, rfc3339};
use crate::message::{Message, clip};
use crate::store::{NewEvent, UserChange};

mod manage;
#[cfg(test)]
mod tests;

/// Fewest characters of a password an office user chooses.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters of a password (Argon2 takes any length; this bounds the work a request can ask for).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Characters of a generated initial password.
const INITIAL_PASSWORD_CHARS: usize = 16;
/// The alphabet of initial passwords: letters and digits that cannot be misread for one another (no 0/O, 1/l/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

/// A live office session, as a request presents it.
#[derive(Debug, Clone)]
pub struct OfficeSession {
    pub user_id: String,
    pub login: String,
    /// The office number the user acts for.
    pub office: String,
    /// The password must be changed before anything else is shown.
    pub must_change: bool,
    /// SHA-256 hex of the session id (the stored key).
    pub id_hash: String,
    /// The CSRF token its forms must carry.
    pub csrf: String,
    /// Unix ms.
    pub expires_at: i64,
}

/// A login ID: 3 to 64 ASCII letters, digits and `.`, `_`, `-`, `@`.
pub fn valid_login(login: &str) -> bool {
    (3..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

fn bad_login(login: &str) -> RelayError {
    RelayError::BadRequest(Message::new(
        format!(
            "ログインID「{}」は使えません。3〜64文字の英数字と . _ - @ で指定してください。",
            clip(login)
        ),
        format!(
            "login ID `{}` is not usable: 3 to 64 ASCII letters, digits, `.`, `_`, `-`, `@`",
            clip(login)
        ),
    ))
}

/// A fresh initial password: 16 characters of an unambiguous alphabet (about 93 bits).
pub fn initial_password() -> SecretString {
    let mut bytes = [0u8; INITIAL_PASSWORD_CHARS];
    let mut out = String::with_capacity(INITIAL_PASSWORD_CHARS);
    loop {
        rand::fill(&mut bytes[..]);
        // Rejection sampling keeps every character equally likely.
        for b in bytes {
            let limit = 256 - 256 % ALPHABET.len();
            if usize::from(b) < limit && out.len() < INITIAL_PASSWORD_CHARS {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
        if out.len() == INITIAL_PASSWORD_CHARS {
            return out.into();
        }
    }
}

/// Hashes a password with Argon2id (the crate's default parameters, a random salt) into a PHC string, on a
/// blocking thread (tens of milliseconds of work).
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!("hashing task failed: {e}"))?
    .map_err(RelayError::Internal)
}

/// Whether `password` matches the PHC string `hash` (on a blocking thread). A malformed hash matches nothing.
async fn password_matches(hash: String, password: &str) -> Result<bool> {
    let password = password.to_string();
    Ok(tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .map_err(|e| anyhow::anyhow!("verifying task failed: {e}"))?)
}

/// Checks a password an office user chose: [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters, not
/// the login ID. `BadRequest` saying what is wrong.
pub fn check_new_password(login: &str, password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(RelayError::BadRequest(Message::new(
            format!("パスワードは {MIN_PASSWORD_CHARS}〜{MAX_PASSWORD_CHARS} 文字にしてください。"),
            format!("a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        )));
    }
    if password.eq_ignore_ascii_case(login) {
        return Err(RelayError::BadRequest(Message::new(
            "ログインIDと同じパスワードは使えません。",
            "the password cannot be the login ID",
        )));
    }
    Ok(())
}

/// The refusal of a locked user: 429 until `until` (Unix ms).
fn user_locked(until: i64) -> RelayError {
    let left = std::time::Duration::from_millis(u64::try_from(until - now_ms()).unwrap_or(0).max(1000));
    let secs = left.as_secs();
    RelayError::Throttled {
        retry_after: left,
        message: Message::new(
            format!(
                "パスワードの誤りが続いたため、このユーザーはロックされています。{secs} 秒後に再試行するか、管理者に解除を依頼してください。"
            ),
            format!(
                "this user is locked after repeated wrong passwords; retry in {secs} s or ask an admin to unlock it"
            ),
        ),
    }
}

impl Relay {
    /// Logs an office user in from `source`: a new session, or 429 while the source or the user is locked,
    /// `Unauthenticated` for an unknown login ID, a wrong password, a disabled user or office. A wrong password
    /// counts under the source address and against the user; at `auth_throttle.max_failures` the user is
    /// locked for `auth_throttle.lockout_secs` (`user.locked_out` event). An office that requires its client
    /// certificate at login (`office edit --login-certificate required`) is refused (403) unless the connection
    /// presented a certificate of that office (`certificate`, the office number it names).
    pub async fn office_login(
        &self,
        source: Option<IpAddr>,
        login: &str,
        password: &str,
        certificate: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<NewSession> {
        let keys = super::access::keys(source, None);
        self.refuse_if_locked(&keys)?;
        let found = if valid_login(login) && password.chars().count() <= MAX_PASSWORD_CHARS {
            self.store.user_by_login(login).await?
        } else {
            None
        };
        let Some(u) = found else {
            // As much work as checking a password, so that the answer does not tell which login IDs exist.
            let _ = hash_password(password).await?;
            self.auth_failed(&keys, request_id).await;
            return Err(RelayError::Unauthenticated);
        };
        let limits = &self.throttle.limits;
        if let Some(until) = u.locked_until.filter(|t| *t > now_ms() && limits.enabled) {
            return Err(user_locked(until));
        }
        if !password_matches(u.password_hash.clone(), password).await? {
            if limits.enabled {
                let until = now_ms() + i64::try_from(limits.lockout.as_millis()).unwrap_or(i64::MAX / 2);
                let event = NewEvent::new(
                    "user.locked_out",
                    Some(&u.office),
                    json!({ "user_id": u.id, "login": u.login, "until": rfc3339(until) }),
                )
                .request(request_id);
                let failures = self
                    .store
                    .user_login_failed(&u.id, i64::from(limits.max_failures), until, event)
                    .await?;
                if failures >= i64::from(limits.max_failures) {
                    tracing::warn!(user_id = u.id, "office user locked out");
                }
            }
            self.auth_failed(&keys, request_id).await;
            return Err(RelayError::Unauthenticated);
        }
        if u.disabled_at.is_some() || !u.office_enabled {
            return Err(RelayError::Unauthenticated);
        }
        if u.office_login_certificate && certificate != Some(u.office.as_str()) {
            tracing::warn!(
                user_id = u.id,
                "office portal login without the office's client certificate"
            );
            return Err(RelayError::Forbidden(crate::message::Message::new(
                "この事業所のログインには、事業所のクライアント証明書が必要です。証明書をブラウザに設定してから接続し直してください。",
                "this office logs in with its client certificate as well: install the office's certificate in the browser and connect again",
            )));
        }
        let (session, id_hash) = new_session(self.policies.office_session_ttl);
        let event = NewEvent::new(
            "user.session_started",
            Some(&u.office),
            json!({ "user_id": u.id, "login": u.login, "expires_at": rfc3339(session.expires_at) }),
        )
        .request(request_id);
        self.store
            .insert_user_session(&id_hash, &u.id, session.expires_at, event)
            .await?;
        Ok(session)
    }

    /// The live office session with this id, from `source`: 429 while the source is locked out;
    /// `Unauthenticated` for an unknown, expired or ended session, a disabled user or office.
    pub async fn office_session(&self, source: Option<IpAddr>, id: &str) -> Result<OfficeSession> {
        self.refuse_if_locked(&super::access::keys(source, None))?;
        if id.len() != super::sessions::SESSION_ID_CHARS {
            return Err(RelayError::Unauthenticated);
        }
        let id_hash = sha256_hex(id.as_bytes());
        let row = self
            .store
            .user_session(&id_hash)
            .await?
            .ok_or(RelayError::Unauthenticated)?;
        let u = row.user;
        if row.revoked_at.is_some()
            || row.expires_at <= now_ms()
            || u.disabled_at.is_some()
            || !u.office_enabled
        {
            return Err(RelayError::Unauthenticated);
        }
        Ok(OfficeSession {
            user_id: u.id,
            login: u.login,
            office: u.office,
            must_change: u.must_change,
            id_hash,
            csrf: super::sessions::csrf_token(id),
            expires_at: row.expires_at,
        })
    }

    /// Changes the session user's password: `BadRequest` when `current` is wrong or `new` breaks the rules of
    /// [`check_new_password`]. The user's other sessions end; this one stays.
    pub async fn change_password(
        &self,
        session: &OfficeSession,
        current: &str,
        new: &str,
        request_id: Option<&str>,
    ) -> Result<()> {
        let u = self.user(&session.login, Some(&session.office)).await?;
        if current.chars().count() > MAX_PASSWORD_CHARS
            || !password_matches(u.password_hash.clone(), current).await?
        {
            return Err(RelayError::BadRequest(Message::new(
                "現在のパスワードが正しくありません。",
                "the current password is wrong",
            )));
        }
        check_new_password(&u.login, new)?;
        if new == current {
            return Err(RelayError::BadRequest(Message::new(
                "新しいパスワードは現在のものと違うものにしてください。",
                "the new password must differ from the current one",
            )));
        }
        let hash = hash_password(new).await?;
        let change = UserChange {
            password: Some((&hash, false)),
            keep_session: Some(&session.id_hash),
            ..UserChange::default()
        };
        let event = NewEvent::new(
            "user.password_changed",
            Some(&u.office),
            json!({ "user_id": u.id, "login": u.login }),
        )
        .request(request_id);
        Ok(self.store.update_user(&u.id, &change, event).await?)
    }

    /// Ends an office session (logout) with a `user.session_ended` event; its cookie is refused from then on.
    pub async fn end_office_session(&self, session: &OfficeSession, request_id: Option<&str>) -> Result<()> {
        let event = NewEvent::new(
            "user.session_ended",
            Some(&session.office),
            json!({ "user_id": session.user_id, "login": session.login, "reason": "logout" }),
        )
        .request(request_id);
        self.store.revoke_session(&session.id_hash, event).await?;
        Ok(())
    }
}
