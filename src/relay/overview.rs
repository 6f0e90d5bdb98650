//! What an admin reads: the admin page's overview (offices with their tokens and users, the audit chain's state,
//! flagged sets, certificates) and the sealed audit events of `GET /v1/admin/audit/events`.

use super::{Relay, Result};
use crate::domain::Office;
use crate::store::{CertificateRow, ChainRow, DeliveryRow, UserRow};

/// A token as an admin sees it: `(id, created_at ms, revoked_at ms)`, never the token.
pub type TokenInfo = (String, i64, Option<i64>);

/// The admin page's dashboard data.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Each office (by number) with its tokens and its portal users.
    pub offices: Vec<(Office, Vec<TokenInfo>, Vec<UserRow>)>,
    pub admin_tokens: Vec<TokenInfo>,
    /// The newest sealed position: (position, hash, sealed_at ms).
    pub head: Option<(i64, String, i64)>,
    /// Events queued, not yet sealed.
    pub queued: i64,
    /// The newest export: (first position, last position, count, created_at ms).
    pub export: Option<(i64, i64, i64, i64)>,
    /// Up to `flagged_shown` deliveries that retention flags (unacknowledged too long), oldest first.
    pub flagged: Vec<DeliveryRow>,
    /// More flagged sets exist than are in `flagged`.
    pub more_flagged: bool,
    /// The newest client certificates issued here, at most `certificates_shown`.
    pub certificates: Vec<CertificateRow>,
}

impl Relay {
    /// Reads the admin page's overview in one pass (one query per office for its tokens and users).
    pub async fn overview(&self, flagged_shown: usize, certificates_shown: i64) -> Result<Overview> {
        let store = &self.store;
        let mut offices = Vec::new();
        for o in store.offices().await? {
            let tokens = store.tokens(Some(&o.number)).await?;
            let users = store.users(&o.number).await?;
            offices.push((o, tokens, users));
        }
        let mut flagged_ids = self
            .flagged(self.policies.retention, flagged_shown as i64 + 1)
            .await?;
        let more_flagged = flagged_ids.len() > flagged_shown;
        flagged_ids.truncate(flagged_shown);
        let mut flagged = Vec::with_capacity(flagged_ids.len());
        for id in flagged_ids {
            flagged.push(store.delivery_by_id(&id).await?);
        }
        Ok(Overview {
            offices,
            admin_tokens: store.tokens(None).await?,
            head: store.chain_head().await?,
            queued: store.audit_counts().await?.1,
            export: store.last_export().await?,
            flagged,
            more_flagged,
            certificates: store.certificates(None, certificates_shown).await?,
        })
    }

    /// Sealed audit positions after `after`, at most `limit`, in chain order.
    pub async fn audit_events(&self, after: i64, limit: i64) -> Result<Vec<ChainRow>> {
        Ok(self.store.chain(after, limit).await?)
    }
}
