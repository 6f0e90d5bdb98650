//! Inbox and outbox: listing deliveries, reading original bytes, acknowledging.

use super::backend::Backend;
use super::submissions::newer;
use super::{NewEvent, Newer, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::{Status, now_ms};

/// A file of a delivery, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileMeta {
    pub name: String,
    pub kind: String,
    pub size: i64,
    pub sha256: String,
}

/// A delivery with its files' metadata.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub seq: i64,
    pub id: String,
    pub submission_id: String,
    pub sender: String,
    pub sender_type: Option<String>,
    pub recipient: String,
    pub sequence: String,
    pub month: Option<String>,
    pub status: Status,
    pub received_at: i64,
    pub downloaded_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    /// Its place in the recipient's inbox (the inbox cursor).
    pub arrival: i64,
    /// The newer set of its stream accepted before it, if any.
    pub older_than: Option<Newer>,
    pub files: Vec<FileMeta>,
}

/// Which deliveries to list.
#[derive(Debug, Clone)]
pub struct InboxQuery {
    pub recipient: String,
    pub pending_only: bool,
    /// Cursor: the arrival number of the last item seen; items accepted later come after it.
    pub after: Option<i64>,
    pub limit: i64,
}

pub(super) type Row = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The delivery columns, as a literal so that queries stay static strings.
macro_rules! columns {
    () => {
        "seq, id, submission_id, sender, sender_type, recipient, sequence, month, status, \
         received_at, downloaded_at, acknowledged_at, arrival, older_than_sequence, older_than_submission, \
         older_than_delivery"
    };
}

/// The columns of a `Row`, in its order, for queries of other store modules.
pub(super) const COLUMNS: &str = columns!();

pub(super) fn delivery(r: Row) -> DeliveryRow {
    DeliveryRow {
        seq: r.0,
        id: r.1,
        submission_id: r.2,
        sender: r.3,
        sender_type: r.4,
        recipient: r.5,
        sequence: r.6,
        month: r.7,
        status: Status::parse(&r.8),
        received_at: r.9,
        downloaded_at: r.10,
        acknowledged_at: r.11,
        arrival: r.12,
        older_than: newer(r.13, r.14, r.15),
        files: Vec::new(),
    }
}

impl Store {
    /// Reads the files of all `rows` in one query (not one per delivery).
    pub(super) async fn attach_files(&self, rows: &mut [DeliveryRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let files: Vec<(String, String, String, i64, String)> = dispatch!(self, |p| {
            let mut q = sqlx::QueryBuilder::new(
                "select submission_id, name, kind, size, sha256 from files where submission_id in (",
            );
            let mut list = q.separated(", ");
            for d in rows.iter() {
                list.push_bind(d.submission_id.as_str());
            }
            q.push(") order by submission_id, position");
            q.build_query_as().fetch_all(p).await?
        });
        let mut by_submission: std::collections::HashMap<String, Vec<FileMeta>> = Default::default();
        for (submission_id, name, kind, size, sha256) in files {
            by_submission.entry(submission_id).or_default().push(FileMeta {
                name,
                kind,
                size,
                sha256,
            });
        }
        for d in rows.iter_mut() {
            d.files = by_submission.remove(&d.submission_id).unwrap_or_default();
        }
        Ok(())
    }

    /// The recipient's deliveries in arrival order after the cursor.
    pub async fn inbox(&self, q: &InboxQuery) -> Result<Vec<DeliveryRow>> {
        // Two literal queries: the pending one repeats the partial index's condition so the planner uses it.
        let sql = if q.pending_only {
            concat!(
                "select ",
                columns!(),
                " from deliveries where recipient = $1 and status <> 'acknowledged' and arrival > $2 \
                 order by arrival limit $3"
            )
        } else {
            concat!(
                "select ",
                columns!(),
                " from deliveries where recipient = $1 and arrival > $2 order by arrival limit $3"
            )
        };
        let rows: Vec<Row> = dispatch!(self, |p| sqlx::query_as(sql)
            .bind(&q.recipient)
            .bind(q.after.unwrap_or(0))
            .bind(q.limit)
            .fetch_all(p)
            .await?);
        let mut out: Vec<DeliveryRow> = rows.into_iter().map(delivery).collect();
        self.attach_files(&mut out).await?;
        Ok(out)
    }

    /// The sender's submissions in arrival order after `after` (a `seq`).
    pub async fn outbox(&self, sender: &str, after: i64, limit: i64) -> Result<Vec<DeliveryRow>> {
        let sql = concat!(
            "select ",
            columns!(),
            " from deliveries where sender = $1 and seq > $2 order by seq limit $3"
        );
        let rows: Vec<Row> = dispatch!(self, |p| sqlx::query_as(sql)
            .bind(sender)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await?);
        let mut out: Vec<DeliveryRow> = rows.into_iter().map(delivery).collect();
        self.attach_files(&mut out).await?;
        Ok(out)
    }

    /// One delivery as seen by `office` (recipient or sender); `NotFound` for anyone else.
    pub async fn delivery_for(&self, office: &str, id: &str) -> Result<DeliveryRow> {
        let sql = concat!(
            "select ",
            columns!(),
            " from deliveries where id = $1 and (recipient = $2 or sender = $2)"
        );
        let row: Row = dispatch!(self, |p| sqlx::query_as(sql)
            .bind(id)
            .bind(office)
            .fetch_one(p)
            .await?);
        let mut v = vec![delivery(row)];
        self.attach_files(&mut v).await?;
        v.pop().ok_or(StoreError::NotFound)
    }

    /// One delivery by id for an admin (any office); `NotFound` if none.
    pub async fn delivery_by_id(&self, id: &str) -> Result<DeliveryRow> {
        let sql = concat!("select ", columns!(), " from deliveries where id = $1");
        let row: Row = dispatch!(self, |p| sqlx::query_as(sql).bind(id).fetch_one(p).await?);
        let mut v = vec![delivery(row)];
        self.attach_files(&mut v).await?;
        v.pop().ok_or(StoreError::NotFound)
    }

    /// The delivery of a submission, as seen by its sender or recipient.
    pub async fn delivery_of_submission(&self, office: &str, submission_id: &str) -> Result<DeliveryRow> {
        let id: (String,) = dispatch!(self, |p| sqlx::query_as(
            "select id from deliveries where submission_id = $1 and (recipient = $2 or sender = $2)"
        )
        .bind(submission_id)
        .bind(office)
        .fetch_one(p)
        .await?);
        self.delivery_for(office, &id.0).await
    }

    /// The original bytes of one file of a delivery to `recipient`; the first download marks it downloaded.
    /// The bytes are read outside the write; the mark and its event are one durable write.
    pub async fn download(
        &self,
        recipient: &str,
        delivery_id: &str,
        name: &str,
        event: NewEvent,
    ) -> Result<(Vec<u8>, String, String)> {
        let row: (Vec<u8>, String, String, Option<i64>, String) = dispatch!(self, |p| sqlx::query_as(
            "select f.body, f.sha256, f.kind, f.purged_at, d.submission_id from deliveries d \
             join files f on f.submission_id = d.submission_id \
             where d.id = $1 and d.recipient = $2 and f.name = $3",
        )
        .bind(delivery_id)
        .bind(recipient)
        .bind(name)
        .fetch_one(p)
        .await?);
        let (body, sha256, kind, purged_at, submission_id) = row;
        if purged_at.is_some() {
            return Err(StoreError::Gone);
        }
        let delivery_id = delivery_id.to_string();
        let mut event = event.submission(&submission_id);
        let now = now_ms();
        write_tx!(self, |conn| {
            let first = sqlx::query(
                "update deliveries set status = 'downloaded', downloaded_at = $1 where id = $2 and status = 'queued'",
            )
            .bind(now)
            .bind(&delivery_id)
            .execute(&mut *conn)
            .await?;
            event.detail["first"] = serde_json::Value::Bool(first.rows_affected() > 0);
            conn.append_events(&[(now, &event)]).await?;
            Ok(())
        })?;
        Ok((body, sha256, kind))
    }

    /// Acknowledges a delivery to `recipient` (idempotent): the time of the first acknowledgement.
    pub async fn acknowledge(&self, recipient: &str, delivery_id: &str, event: NewEvent) -> Result<i64> {
        let now = now_ms();
        let (recipient, delivery_id) = (recipient.to_string(), delivery_id.to_string());
        write_tx!(self, |conn| {
            // The update comes first (atomic under concurrent acknowledgements); it writes nothing when the
            // delivery is not this recipient's, so the `NotFound` of the select below comes before any write.
            let changed = sqlx::query(
                "update deliveries set status = 'acknowledged', acknowledged_at = $1, \
                 downloaded_at = coalesce(downloaded_at, $1) \
                 where id = $2 and recipient = $3 and status <> 'acknowledged'",
            )
            .bind(now)
            .bind(&delivery_id)
            .bind(&recipient)
            .execute(&mut *conn)
            .await?;
            let (at,): (Option<i64>,) =
                sqlx::query_as("select acknowledged_at from deliveries where id = $1 and recipient = $2")
                    .bind(&delivery_id)
                    .bind(&recipient)
                    .fetch_one(&mut *conn)
                    .await?;
            if changed.rows_affected() > 0 {
                conn.append_events(&[(now, &event)]).await?;
            }
            Ok(at.unwrap_or(now))
        })
    }
}
