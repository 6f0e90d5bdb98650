//! The public receipt keys of every node sharing the database (`receipt_keys`): recorded before a key signs,
//! never changed or removed.

use serde_json::json;

use super::backend::Backend;
use super::{NewEvent, Result, Store, dispatch, write_tx};
use crate::domain::now_ms;

/// One published key: `key_id` (16 hex digits), `public_key` (base64 of the 32-byte Ed25519 key) and when it
/// was made and recorded (Unix milliseconds, UTC).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReceiptKeyRow {
    pub key_id: String,
    pub public_key: String,
    pub created_at: i64,
    pub registered_at: i64,
}

impl Store {
    /// Records a public key unless it is recorded already; a new key writes a `receipt_key.registered` event in
    /// the same transaction. Returns whether it was new. A key id recorded with another public key is a
    /// `Conflict` (it cannot happen by chance: the id is a digest of the key).
    pub async fn register_receipt_key(
        &self,
        key_id: &str,
        public_key: &str,
        created_at: i64,
    ) -> Result<bool> {
        let now = now_ms();
        let event = NewEvent::new("receipt_key.registered", None, json!({ "key_id": key_id }));
        let (key_id, public_key) = (key_id.to_string(), public_key.to_string());
        write_tx!(self, |conn| {
            // Two nodes sharing a keys directory may record the same key at once: the second does nothing.
            let inserted: Option<(String,)> = sqlx::query_as(
                "insert into receipt_keys (key_id, public_key, created_at, registered_at) \
                 values ($1, $2, $3, $4) on conflict (key_id) do nothing returning key_id",
            )
            .bind(&key_id)
            .bind(&public_key)
            .bind(created_at)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            if inserted.is_some() {
                conn.append_events(&[(now, &event)]).await?;
                return Ok(true);
            }
            // Recorded already: the insert wrote nothing, so a `Conflict` leaves nothing behind.
            let (known,): (String,) = sqlx::query_as("select public_key from receipt_keys where key_id = $1")
                .bind(&key_id)
                .fetch_one(&mut *conn)
                .await?;
            if known != public_key {
                return Err(super::StoreError::Conflict);
            }
            Ok(false)
        })
    }

    /// Every published key, oldest first.
    pub async fn receipt_keys(&self) -> Result<Vec<ReceiptKeyRow>> {
        let rows: Vec<ReceiptKeyRow> = dispatch!(self, |p| {
            sqlx::query_as(
                "select key_id, public_key, created_at, registered_at from receipt_keys \
                 order by created_at, key_id",
            )
            .fetch_all(p)
            .await?
        });
        Ok(rows)
    }
}
