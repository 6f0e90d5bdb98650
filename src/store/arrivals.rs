//! Inbox arrival numbers: each recipient's counter (`inbox_arrivals`), taken by `Backend::insert_sets` in the
//! storing transaction, and the translation of a cursor of the earlier (sequence, seq) order.

use super::{Result, Store, dispatch};

impl Store {
    /// The last arrival number given to a delivery of `recipient` that has committed (0 before the first). Every
    /// delivery with a number up to it is visible once this is.
    pub async fn last_arrival(&self, recipient: &str) -> Result<i64> {
        let row: Option<(i64,)> = dispatch!(self, |p| sqlx::query_as(
            "select last from inbox_arrivals where recipient = $1"
        )
        .bind(recipient)
        .fetch_optional(p)
        .await?);
        Ok(row.map_or(0, |(n,)| n))
    }

    /// The arrival cursor that replaces a cursor of the earlier (sequence, seq) order: just before the first
    /// arrival that the earlier order had not reached yet, so that nothing is skipped (some items may repeat).
    pub async fn arrival_for_sequence_cursor(
        &self,
        recipient: &str,
        sequence: &str,
        seq: i64,
    ) -> Result<i64> {
        let (n,): (i64,) = dispatch!(self, |p| sqlx::query_as(
            "select coalesce((select min(arrival) - 1 from deliveries where recipient = $1 \
             and (sequence > $2 or (sequence = $2 and seq > $3))), \
             (select coalesce(max(arrival), 0) from deliveries where recipient = $1))"
        )
        .bind(recipient)
        .bind(sequence)
        .bind(seq)
        .fetch_one(p)
        .await?);
        Ok(n)
    }
}
