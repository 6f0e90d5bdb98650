//! Publishing the receipt keys: every key of this node's data directory is recorded in the database before
//! the node signs anything, and `GET /v1/keys` lists the database's keys, those of every node.

use super::{Relay, Result};
use crate::relay::Receipt;

/// A published key as `GET /v1/keys` lists it: id, base64 public key, when it was made (Unix ms, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub key_id: String,
    pub public_base64: String,
    pub created_at: i64,
}

impl Relay {
    /// Records every key of this data directory in the database (those already there are left as they are).
    /// `App::build` calls it at start; signing calls it first if it has not succeeded yet.
    ///
    /// Errors: the database cannot be written, or it holds one of these key ids with another public key.
    pub async fn publish_keys(&self) -> Result<()> {
        for k in self.keys.local() {
            if self
                .store
                .register_receipt_key(&k.key_id, &k.public_base64, k.created_at)
                .await?
            {
                tracing::info!(key_id = %k.key_id, "published a receipt key in the database");
            }
        }
        self.keys.mark_registered();
        Ok(())
    }

    /// Signs `payload` (JSON text) with this node's current key, published in the database first.
    pub async fn sign(&self, payload: String) -> Result<Receipt> {
        if !self.keys.is_registered() {
            self.publish_keys().await?;
        }
        Ok(self.keys.sign(payload))
    }

    /// Every public key in the database (of every node sharing it), oldest first; this node's are published
    /// first if they are not yet.
    pub async fn published_keys(&self) -> Result<Vec<PublishedKey>> {
        if !self.keys.is_registered() {
            self.publish_keys().await?;
        }
        Ok(self
            .store
            .receipt_keys()
            .await?
            .into_iter()
            .map(|r| PublishedKey {
                key_id: r.key_id,
                public_base64: r.public_key,
                created_at: r.created_at,
            })
            .collect())
    }
}
