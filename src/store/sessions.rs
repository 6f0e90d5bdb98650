//! Sessions of the admin page and of the office portal, stored by the SHA-256 of the session id (never the id
//! itself) in one `sessions` table: an admin session names its admin token, an office session its office user
//! (`store::users`).

use super::backend::Backend;
use super::{NewEvent, Result, Store, dispatch, write_tx};
use crate::domain::now_ms;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The admin token it was started with.
    pub token_id: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; the session is refused from then on.
    pub expires_at: i64,
    /// When it was ended by logout, Unix ms.
    pub revoked_at: Option<i64>,
    /// Whether its admin token has been revoked (which ends the session too).
    pub token_revoked: bool,
}

/// How long an ended session's row is kept (its start and end stay in the audit trail), in ms.
pub(super) const ENDED_KEPT_MS: i64 = 86_400_000;

/// An admin session as stored, with its token's revocation time.
#[derive(sqlx::FromRow)]
struct SessionSql {
    token_id: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    token_revoked_at: Option<i64>,
}

impl Store {
    /// Stores a new session (`id_hash`: SHA-256 hex of the session id) with its event, and deletes the sessions
    /// that ended (expired or logged out) more than a day ago, so that the table does not grow with logins.
    pub async fn insert_admin_session(
        &self,
        id_hash: &str,
        token_id: &str,
        expires_at: i64,
        event: NewEvent,
    ) -> Result<()> {
        let now = now_ms();
        let (id_hash, token_id) = (id_hash.to_string(), token_id.to_string());
        write_tx!(self, |conn| {
            // The insert comes first: a session id that exists already is a `Conflict` before anything is written.
            sqlx::query(
                "insert into sessions (id_hash, token_id, created_at, expires_at) values ($1, $2, $3, $4)",
            )
            .bind(&id_hash)
            .bind(&token_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *conn)
            .await?;
            sqlx::query("delete from sessions where coalesce(revoked_at, expires_at) < $1")
                .bind(now - ENDED_KEPT_MS)
                .execute(&mut *conn)
                .await?;
            conn.append_events(&[(now, &event)]).await
        })
    }

    /// The session with this id hash, with its token's revocation, if any.
    pub async fn admin_session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let row: Option<SessionSql> = dispatch!(self, |p| {
            sqlx::query_as(
                "select s.token_id, s.created_at, s.expires_at, s.revoked_at, t.revoked_at as token_revoked_at \
                 from sessions s join tokens t on t.id = s.token_id where s.id_hash = $1",
            )
            .bind(id_hash)
            .fetch_optional(p)
            .await?
        });
        Ok(row.map(|r| SessionRow {
            token_id: r.token_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            token_revoked: r.token_revoked_at.is_some(),
        }))
    }

    /// Ends an admin session (logout): [`Store::revoke_session`].
    pub async fn revoke_admin_session(&self, id_hash: &str, event: NewEvent) -> Result<bool> {
        self.revoke_session(id_hash, event).await
    }

    /// Ends a session of either kind (logout): sets `revoked_at` and records `event`, only if it was not ended
    /// already. Whether it was ended now.
    pub async fn revoke_session(&self, id_hash: &str, event: NewEvent) -> Result<bool> {
        let now = now_ms();
        let id_hash = id_hash.to_string();
        write_tx!(self, |conn| {
            let ended =
                sqlx::query("update sessions set revoked_at = $1 where id_hash = $2 and revoked_at is null")
                    .bind(now)
                    .bind(&id_hash)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                    > 0;
            if ended {
                conn.append_events(&[(now, &event)]).await?;
            }
            Ok(ended)
        })
    }
}
