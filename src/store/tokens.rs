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

/// A token as authentication reads it, with its office's enabled flag.
#[derive(sqlx::FromRow)]
struct TokenSql {
    id: String,
    office: Option<String>,
    admin: bool,
    revoked_at: Option<i64>,
    office_enabled: Option<bool>,
}

/// A token as an admin lists it: never the token itself. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: String,
    /// The office it authenticates; `None` for an admin token.
    pub office: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

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
            "select t.id, t.office, t.admin, t.revoked_at, o.enabled as office_enabled from tokens t \
             left join offices o on o.number = t.office where t.hash = $1"
        )
        .bind(hash)
        .fetch_optional(p)
        .await?);
        Ok(row.map(|r| TokenRow {
            id: r.id,
            office: r.office,
            admin: r.admin,
            revoked: r.revoked_at.is_some(),
            office_enabled: r.office_enabled,
        }))
    }

    /// Tokens of an office (or admin tokens with `None`), oldest first.
    pub async fn tokens(&self, office: Option<&str>) -> Result<Vec<TokenInfo>> {
        let rows = dispatch!(self, |p| sqlx::query_as(
            "select id, office, created_at, revoked_at from tokens where office is not distinct from $1 \
             order by created_at"
        )
        .bind(office)
        .fetch_all(p)
        .await?);
        Ok(rows)
    }

    /// The tokens of every office (not the admin tokens), by office, each office's oldest first: one query.
    pub async fn office_tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows = dispatch!(self, |p| sqlx::query_as(
            "select id, office, created_at, revoked_at from tokens where office is not null \
             order by office, created_at"
        )
        .fetch_all(p)
        .await?);
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
