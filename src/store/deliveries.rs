//! Inbox and outbox: listing deliveries with their files' metadata (downloading and acknowledging: `downloads`).

use super::submissions::newer;
use super::{Newer, Result, Store, StoreError, dispatch};
use crate::domain::Status;

/// A file of a delivery, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
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

/// A delivery as stored (the columns of [`COLUMNS`]).
#[derive(sqlx::FromRow)]
pub(super) struct DeliverySql {
    seq: i64,
    id: String,
    submission_id: String,
    sender: String,
    sender_type: Option<String>,
    recipient: String,
    sequence: String,
    month: Option<String>,
    status: String,
    received_at: i64,
    downloaded_at: Option<i64>,
    acknowledged_at: Option<i64>,
    arrival: i64,
    older_than_sequence: Option<String>,
    older_than_submission: Option<String>,
    older_than_delivery: Option<String>,
}

/// A file's metadata with the submission it belongs to.
#[derive(sqlx::FromRow)]
struct FileOf {
    submission_id: String,
    #[sqlx(flatten)]
    file: FileMeta,
}

/// The delivery columns, as a literal so that queries stay static strings.
macro_rules! columns {
    () => {
        "seq, id, submission_id, sender, sender_type, recipient, sequence, month, status, \
         received_at, downloaded_at, acknowledged_at, arrival, older_than_sequence, older_than_submission, \
         older_than_delivery"
    };
}

/// The columns of a [`DeliverySql`], for queries of other store modules.
pub(super) const COLUMNS: &str = columns!();

pub(super) fn delivery(r: DeliverySql) -> DeliveryRow {
    DeliveryRow {
        seq: r.seq,
        id: r.id,
        submission_id: r.submission_id,
        sender: r.sender,
        sender_type: r.sender_type,
        recipient: r.recipient,
        sequence: r.sequence,
        month: r.month,
        status: Status::parse(&r.status),
        received_at: r.received_at,
        downloaded_at: r.downloaded_at,
        acknowledged_at: r.acknowledged_at,
        arrival: r.arrival,
        older_than: newer(
            r.older_than_sequence,
            r.older_than_submission,
            r.older_than_delivery,
        ),
        files: Vec::new(),
    }
}

impl Store {
    /// Reads the files of all `rows` in one query (not one per delivery).
    pub(super) async fn attach_files(&self, rows: &mut [DeliveryRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let files: Vec<FileOf> = dispatch!(self, |p| {
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
        for f in files {
            by_submission.entry(f.submission_id).or_default().push(f.file);
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
        let rows: Vec<DeliverySql> = dispatch!(self, |p| sqlx::query_as(sql)
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
        let rows: Vec<DeliverySql> = dispatch!(self, |p| sqlx::query_as(sql)
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
        let row: DeliverySql = dispatch!(self, |p| sqlx::query_as(sql)
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
        let row: DeliverySql = dispatch!(self, |p| sqlx::query_as(sql).bind(id).fetch_one(p).await?);
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
}
