//! Retention: the bytes of acknowledged sets are purged after a configured time (metadata, digests, events and
//! receipts stay); sets never acknowledged are only flagged to admins, and purged only by an explicit, audited
//! admin action.

use serde_json::json;

use super::{Relay, Result};
use crate::domain::now_ms;
use crate::store::NewEvent;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How long set bytes are kept (`[retention]` in the configuration).
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
#[schema(as = RetentionPolicy)]
pub struct Policy {
    /// An acknowledged set's bytes are purged this many days after its acknowledgement (default 90).
    pub acknowledged_days: u64,
    /// A set not acknowledged this many days after it arrived is flagged (default 14); it is never purged
    /// automatically.
    pub flag_unacknowledged_days: u64,
}

impl Default for Policy {
    /// Bytes kept 90 days after acknowledgement; a set flagged after 14 days unacknowledged.
    fn default() -> Self {
        Policy {
            acknowledged_days: 90,
            flag_unacknowledged_days: 14,
        }
    }
}

impl Relay {
    /// Purges what the policy allows: acknowledged sets older than the limit, then deletes the SQLite store's
    /// segment files no file points into any more. Returns how many sets were purged.
    pub async fn purge_expired(&self, policy: Policy) -> Result<usize> {
        let before = now_ms() - policy.acknowledged_days as i64 * DAY_MS;
        let mut purged = 0;
        loop {
            let ids = self.store.retention_candidates(true, before, 500).await?;
            if ids.is_empty() {
                if purged > 0 {
                    let segments = self.store.reclaim_body_files().await?;
                    tracing::debug!(segments, "retention: deleted segment files no file points into");
                }
                return Ok(purged);
            }
            for id in ids {
                let event = NewEvent::new(
                    "delivery.purged",
                    None,
                    json!({ "delivery_id": id, "reason": "retention", "acknowledged_days": policy.acknowledged_days }),
                );
                self.store.purge(&id, event).await?;
                purged += 1;
            }
        }
    }

    /// Deliveries not acknowledged within the flag time, still holding their bytes: ids, oldest first.
    pub async fn flagged(&self, policy: Policy, limit: i64) -> Result<Vec<String>> {
        let before = now_ms() - policy.flag_unacknowledged_days as i64 * DAY_MS;
        Ok(self.store.retention_candidates(false, before, limit).await?)
    }

    /// An admin purges one delivery's bytes explicitly (whatever its status); the event names the admin.
    pub async fn purge_delivery(
        &self,
        delivery_id: &str,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<()> {
        let event = NewEvent::new(
            "delivery.purged",
            None,
            json!({ "delivery_id": delivery_id, "reason": "admin", "actor": actor }),
        )
        .request(request_id);
        Ok(self.store.purge(delivery_id, event).await?)
    }
}
