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

/// Inserts `$events` (an iterator of `(at, &NewEvent)`) on the connection of an open transaction
/// (`$conn: &mut <DB>Connection`) and queues each for sealing into the audit chain: two statements, however
/// many events (callers keep a batch under SQLite's limit of bound parameters).
macro_rules! append_events {
    ($conn:expr, $events:expr) => {{
        let events: Vec<(i64, &$crate::store::NewEvent)> = IntoIterator::into_iter($events).collect();
        if !events.is_empty() {
            let mut q = sqlx::QueryBuilder::new(
                "insert into events (at, kind, office, submission_id, request_id, detail) ",
            );
            q.push_values(&events, |mut row, (at, e)| {
                row.push_bind(*at)
                    .push_bind(e.kind)
                    .push_bind(e.office.as_deref())
                    .push_bind(e.submission_id.as_deref())
                    .push_bind(e.request_id.as_deref())
                    .push_bind(e.detail.to_string());
            });
            q.push(" returning seq");
            let seqs: Vec<(i64,)> = q.build_query_as().fetch_all(&mut *$conn).await?;
            let mut q = sqlx::QueryBuilder::new("insert into audit_pending (event_seq) ");
            q.push_values(&seqs, |mut row, s| {
                row.push_bind(s.0);
            });
            q.build().execute(&mut *$conn).await?;
        }
    }};
}
pub(crate) use append_events;

use super::{Result, Store, dispatch, write_tx};

impl Store {
    /// Records events on their own (for changes with no other row, e.g. a rejected submission).
    pub async fn record(&self, events: &[NewEvent]) -> Result<()> {
        let at = crate::domain::now_ms();
        let events = events.to_vec();
        write_tx!(self, |conn| {
            append_events!(conn, events.iter().map(|e| (at, e)));
            Ok(())
        })
    }

    /// Events in order after `after`, at most `limit`: (seq, at, kind, office, submission_id, detail).
    pub async fn events(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64, String, Option<String>, Option<String>, String)>> {
        let rows = dispatch!(self, |p| {
            sqlx::query_as(
            "select seq, at, kind, office, submission_id, detail from events where seq > $1 order by seq limit $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await?
        });
        Ok(rows)
    }
}
