//! Bearer tokens, stored as SHA-256 hashes.

use super::change::Change;
use super::{NewEvent, Result, Store, dispatch};
use crate::domain::now_ms;

/// A token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub office: Option<String>,
    pub admin: bool,
    pub revoked: bool,
    /// Whether the token's office is enabled (read with the token, so authentication is one query).
    pub office_enabled: Option<bool>,
}

/// id, office, admin, revoked_at, the office's enabled flag.
type TokenSql = (String, Option<String>, bool, Option<i64>, Option<bool>);

impl Store {
    pub async fn insert_token(
        &self,
        id: &str,
        office: Option<&str>,
        hash: &str,
        event: NewEvent,
    ) -> Result<()> {
        let now = now_ms();
        let change = Change::new(
            "insert into tokens (id, office, admin, hash, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(office)
        .bind(office.is_none())
        .bind(hash)
        .bind(now);
        self.apply_change(change, now, event).await
    }

    /// The token with this hash, if any (revoked ones included, so the caller can tell).
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>> {
        let row: Option<TokenSql> = dispatch!(self, |p| sqlx::query_as(
            "select t.id, t.office, t.admin, t.revoked_at, o.enabled from tokens t \
             left join offices o on o.number = t.office where t.hash = $1"
        )
        .bind(hash)
        .fetch_optional(p)
        .await?);
        Ok(row.map(|(id, office, admin, revoked, office_enabled)| TokenRow {
            id,
            office,
            admin,
            revoked: revoked.is_some(),
            office_enabled,
        }))
    }

    /// Tokens of an office (or admin tokens with `None`): id, created_at, revoked_at.
    pub async fn tokens(&self, office: Option<&str>) -> Result<Vec<(String, i64, Option<i64>)>> {
        let rows = dispatch!(self, |p| {
            sqlx::query_as(
            "select id, created_at, revoked_at from tokens where office is not distinct from $1 order by created_at"
        )
        .bind(office)
        .fetch_all(p)
        .await?
        });
        Ok(rows)
    }

    /// Revokes a token (idempotent); `NotFound` if no such id.
    pub async fn revoke_token(&self, id: &str, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let change = Change::new("update tokens set revoked_at = coalesce(revoked_at, $1) where id = $2")
            .bind(now)
            .bind(id)
            .or_not_found();
        self.apply_change(change, now, event).await
    }
}
