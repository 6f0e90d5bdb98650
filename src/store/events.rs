//! Appending events inside a transaction. The table refuses UPDATE and DELETE (migration triggers).

use serde_json::Value;

/// An event to record with the change it describes. `detail` holds names, digests, counts, codes: no contents.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: &'static str,
    pub office: Option<String>,
    pub submission_id: Option<String>,
    pub request_id: Option<String>,
    pub detail: Value,
}

impl NewEvent {
    pub fn new(kind: &'static str, office: Option<&str>, detail: Value) -> NewEvent {
        NewEvent {
            kind,
            office: office.map(str::to_string),
            submission_id: None,
            request_id: None,
            detail,
        }
    }

    pub fn submission(mut self, id: &str) -> NewEvent {
        self.submission_id = Some(id.to_string());
        self
    }

    pub fn request(mut self, id: Option<&str>) -> NewEvent {
        self.request_id = id.map(str::to_string);
        self
    }
}

use super::backend::Backend;
use super::{EventRow, Result, Store, dispatch, write_tx};

impl Store {
    /// Records events on their own (for changes with no other row, e.g. a rejected submission).
    pub async fn record(&self, events: &[NewEvent]) -> Result<()> {
        let at = crate::domain::now_ms();
        let events = events.to_vec();
        write_tx!(self, |conn| {
            let events: Vec<(i64, &NewEvent)> = events.iter().map(|e| (at, e)).collect();
            conn.append_events(&events).await
        })
    }

    /// Events in order after `after` (a `seq`), at most `limit`.
    pub async fn events(&self, after: i64, limit: i64) -> Result<Vec<EventRow>> {
        let rows = dispatch!(self, |p| sqlx::query_as(
            "select seq, at, kind, office, submission_id, request_id, detail from events where seq > $1 \
             order by seq limit $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await?);
        Ok(rows)
    }
}
