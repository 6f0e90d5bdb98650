//! The original bytes of a whole set, for reading its records (no download mark: that is `download`'s).

use super::{Result, Store, StoreError, dispatch};

/// Which set, and as whom: the recipient of a delivery or the sender of a submission.
#[derive(Debug, Clone, Copy)]
pub enum SetOf<'a> {
    /// Delivery id, read by its recipient.
    Delivery(&'a str),
    /// Submission id, read by its sender.
    Submission(&'a str),
}

impl Store {
    /// The files of a set as `(name, bytes)` in the order they were sent, for `office` as the recipient of the
    /// delivery or the sender of the submission. `NotFound` for anyone else (or no such set), `Gone` once the
    /// bytes were purged.
    pub async fn set_bodies(&self, office: &str, set: SetOf<'_>) -> Result<Vec<(String, Vec<u8>)>> {
        let (sql, id) = match set {
            SetOf::Delivery(id) => (
                "select f.name, f.body, f.purged_at from deliveries d \
                 join files f on f.submission_id = d.submission_id \
                 where d.id = $1 and d.recipient = $2 order by f.position",
                id,
            ),
            SetOf::Submission(id) => (
                "select f.name, f.body, f.purged_at from submissions s \
                 join files f on f.submission_id = s.id \
                 where s.id = $1 and s.sender = $2 order by f.position",
                id,
            ),
        };
        let rows: Vec<(String, Vec<u8>, Option<i64>)> = dispatch!(self, |p| sqlx::query_as(sql)
            .bind(id)
            .bind(office)
            .fetch_all(p)
            .await?);
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        if rows.iter().any(|r| r.2.is_some()) {
            return Err(StoreError::Gone);
        }
        Ok(rows.into_iter().map(|(name, body, _)| (name, body)).collect())
    }
}
