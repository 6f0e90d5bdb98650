//! The office portal's lists: an office's deliveries newest first, as received or as sent, in pages.

use super::deliveries::{COLUMNS, DeliverySql, delivery};
use super::{DeliveryRow, Result, Store, dispatch};

/// Which side of a delivery an office is on in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Deliveries to the office (its inbox).
    Received,
    /// Deliveries from the office (its outbox).
    Sent,
}

/// One page of an office's deliveries, newest first.
#[derive(Debug, Clone)]
pub struct NewestQuery {
    pub office: String,
    pub side: Side,
    /// Only deliveries not acknowledged yet.
    pub pending_only: bool,
    /// Only deliveries older than this `seq` (the previous page's last); none for the newest.
    pub before: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// An office's deliveries, newest (highest `seq`, the order of acceptance) first, with their files.
    pub async fn newest_deliveries(&self, q: &NewestQuery) -> Result<Vec<DeliveryRow>> {
        let side = match q.side {
            Side::Received => "recipient = $1",
            Side::Sent => "sender = $1",
        };
        let pending = if q.pending_only {
            " and status <> 'acknowledged'"
        } else {
            ""
        };
        let sql = format!(
            "select {COLUMNS} from deliveries where {side}{pending} and seq < $2 order by seq desc limit $3"
        );
        let before = q.before.unwrap_or(i64::MAX);
        let rows: Vec<DeliverySql> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&q.office)
            .bind(before)
            .bind(q.limit)
            .fetch_all(p)
            .await?);
        let mut out: Vec<DeliveryRow> = rows.into_iter().map(delivery).collect();
        self.attach_files(&mut out).await?;
        Ok(out)
    }
}
