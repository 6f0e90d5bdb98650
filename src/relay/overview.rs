//! What an admin reads: the admin page's overview (offices with their tokens and users, the audit chain's state,
//! flagged sets, certificates) and the sealed audit events of `GET /v1/admin/audit/events`.

use std::collections::HashMap;

use super::{Relay, Result};
use crate::domain::Office;
pub use crate::store::TokenInfo;
use crate::store::{CertificateRow, ChainHead, ChainRow, DeliveryRow, LastExport, UserRow};

/// The admin page's dashboard data.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Each office (by number) with its tokens (oldest first) and its portal users (by login ID).
    pub offices: Vec<(Office, Vec<TokenInfo>, Vec<UserRow>)>,
    pub admin_tokens: Vec<TokenInfo>,
    /// The newest sealed position.
    pub head: Option<ChainHead>,
    /// Events queued, not yet sealed.
    pub queued: i64,
    /// The newest export.
    pub export: Option<LastExport>,
    /// Up to `flagged_shown` deliveries that retention flags (unacknowledged too long), oldest first.
    pub flagged: Vec<DeliveryRow>,
    /// More flagged sets exist than are in `flagged`.
    pub more_flagged: bool,
    /// The newest client certificates issued here, at most `certificates_shown`.
    pub certificates: Vec<CertificateRow>,
}

impl Relay {
    /// Reads the admin page's overview in one pass: the offices, every office's tokens and every office's users
    /// in one query each.
    pub async fn overview(&self, flagged_shown: usize, certificates_shown: i64) -> Result<Overview> {
        let store = &self.store;
        let mut tokens: HashMap<String, Vec<TokenInfo>> = HashMap::new();
        for t in store.office_tokens().await? {
            tokens
                .entry(t.office.clone().unwrap_or_default())
                .or_default()
                .push(t);
        }
        let mut users: HashMap<String, Vec<UserRow>> = HashMap::new();
        for u in store.all_users().await? {
            users.entry(u.office.clone()).or_default().push(u);
        }
        let offices = store
            .offices()
            .await?
            .into_iter()
            .map(|o| {
                let t = tokens.remove(&o.number).unwrap_or_default();
                let u = users.remove(&o.number).unwrap_or_default();
                (o, t, u)
            })
            .collect();
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
            queued: store.audit_counts().await?.queued,
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
