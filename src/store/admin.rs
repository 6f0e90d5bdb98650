//! What admins see and do: the delivery log (deliveries and rejections), retention flags, purges.

use serde::Serialize;

use super::backend::Backend;
use super::change::Change;
use super::{FileMeta, NewEvent, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::now_ms;

/// A refused submission, kept for the log (names and reason codes, never contents).
#[derive(Debug, Clone)]
pub struct Rejection {
    pub id: String,
    pub sender: String,
    pub recipient: Option<String>,
    pub sequence: Option<String>,
    pub names: Vec<String>,
    pub codes: Vec<String>,
    pub request_id: Option<String>,
}

/// Filters of the delivery log; all optional. Times are Unix milliseconds.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Sender or recipient.
    pub office: Option<String>,
    /// queued, downloaded, acknowledged or rejected.
    pub status: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    /// Cursor: (at, id) of the last entry seen; the log runs newest first.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// One line of the delivery log.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// `delivery` or `rejection`.
    pub entry: String,
    pub id: String,
    pub at: i64,
    pub sender: String,
    pub recipient: Option<String>,
    pub sequence: Option<String>,
    pub status: String,
    pub codes: Vec<String>,
    pub submission_id: Option<String>,
    pub downloaded_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub purged_at: Option<i64>,
    pub files: Vec<FileMeta>,
}

/// A line of the log as the query reads it: a delivery's or a rejection's columns (`codes` and `names` only for
/// a rejection, the submission and the times only for a delivery).
#[derive(sqlx::FromRow)]
struct LogSql {
    entry: String,
    id: String,
    at: i64,
    sender: String,
    recipient: Option<String>,
    sequence: Option<String>,
    status: String,
    codes: Option<String>,
    names: Option<String>,
    submission_id: Option<String>,
    downloaded_at: Option<i64>,
    acknowledged_at: Option<i64>,
    purged_at: Option<i64>,
}

fn split(s: Option<String>, sep: char) -> Vec<String> {
    s.map(|s| {
        s.split(sep)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

impl Store {
    /// Records a rejected submission and its event in one transaction.
    pub async fn record_rejection(&self, r: &Rejection, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let change = Change::new(
            "insert into rejections (id, at, sender, recipient, sequence, names, codes, request_id) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.id.as_str())
        .bind(now)
        .bind(r.sender.as_str())
        .bind(r.recipient.as_deref())
        .bind(r.sequence.as_deref())
        .bind(r.names.join("/"))
        .bind(r.codes.join(","))
        .bind(r.request_id.as_deref());
        self.apply_change(change, now, event).await
    }

    /// The delivery log, newest first: deliveries with their files, and rejections with their names and codes.
    pub async fn delivery_log(&self, q: &LogQuery) -> Result<Vec<LogEntry>> {
        let (before_at, before_id) = q.before.clone().map_or((None, None), |(a, i)| (Some(a), Some(i)));
        let sql = "select entry, id, at, sender, recipient, sequence, status, codes, names, submission_id, \
             downloaded_at, acknowledged_at, purged_at from ( \
               select 'delivery' as entry, d.id as id, d.received_at as at, d.sender as sender, \
                 d.recipient as recipient, d.sequence as sequence, d.status as status, cast(null as text) as codes, \
                 cast(null as text) as names, d.submission_id as submission_id, d.downloaded_at as downloaded_at, \
                 d.acknowledged_at as acknowledged_at, d.purged_at as purged_at from deliveries d \
               union all \
               select 'rejection', r.id, r.at, r.sender, r.recipient, r.sequence, 'rejected', r.codes, r.names, \
                 cast(null as text), cast(null as bigint), cast(null as bigint), cast(null as bigint) from rejections r \
             ) x \
             where ($1 is null or x.sender = $1 or x.recipient = $1) and ($2 is null or x.status = $2) \
               and ($3 is null or x.at >= $3) and ($4 is null or x.at < $4) \
               and ($5 is null or x.sender = $5) and ($6 is null or x.recipient = $6) \
               and ($7 is null or x.at < $7 or (x.at = $7 and x.id < $8)) \
             order by x.at desc, x.id desc limit $9";
        let rows: Vec<LogSql> = dispatch!(self, |p| sqlx::query_as(sql)
            .bind(&q.office)
            .bind(&q.status)
            .bind(q.from)
            .bind(q.to)
            .bind(&q.sender)
            .bind(&q.recipient)
            .bind(before_at)
            .bind(before_id)
            .bind(q.limit)
            .fetch_all(p)
            .await?);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let files = match &r.submission_id {
                Some(sid) => dispatch!(self, |p| {
                    sqlx::query_as(
                        "select name, kind, size, sha256 from files where submission_id = $1 order by position",
                    )
                    .bind(sid)
                    .fetch_all(p)
                    .await?
                }),
                None => split(r.names, '/')
                    .into_iter()
                    .map(|name| FileMeta {
                        name,
                        kind: String::new(),
                        size: 0,
                        sha256: String::new(),
                    })
                    .collect(),
            };
            out.push(LogEntry {
                entry: r.entry,
                id: r.id,
                at: r.at,
                sender: r.sender,
                recipient: r.recipient,
                sequence: r.sequence,
                status: r.status,
                codes: split(r.codes, ','),
                submission_id: r.submission_id,
                downloaded_at: r.downloaded_at,
                acknowledged_at: r.acknowledged_at,
                purged_at: r.purged_at,
                files,
            });
        }
        Ok(out)
    }

    /// Deliveries whose bytes are still stored and that match `acknowledged` (acknowledged before `before`) or
    /// not (unacknowledged, received before `before`): ids, oldest first.
    pub async fn retention_candidates(
        &self,
        acknowledged: bool,
        before: i64,
        limit: i64,
    ) -> Result<Vec<String>> {
        let sql = if acknowledged {
            "select id from deliveries where purged_at is null and status = 'acknowledged' and acknowledged_at < $1 \
             order by acknowledged_at limit $2"
        } else {
            "select id from deliveries where purged_at is null and status <> 'acknowledged' and received_at < $1 \
             order by received_at limit $2"
        };
        let rows: Vec<(String,)> = dispatch!(self, |p| sqlx::query_as(sql)
            .bind(before)
            .bind(limit)
            .fetch_all(p)
            .await?);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Removes the bytes of a delivery's files (metadata, digests and events stay) and records the event.
    /// `NotFound` if there is no such delivery or it was purged already.
    pub async fn purge(&self, delivery_id: &str, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let delivery_id = delivery_id.to_string();
        write_tx!(self, |conn| {
            // The update comes first: when it changes no row, nothing is written and the job ends as `NotFound`.
            let done =
                sqlx::query("update deliveries set purged_at = $1 where id = $2 and purged_at is null")
                    .bind(now)
                    .bind(&delivery_id)
                    .execute(&mut *conn)
                    .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            let (submission,): (String,) =
                sqlx::query_as("select submission_id from deliveries where id = $1")
                    .bind(&delivery_id)
                    .fetch_one(&mut *conn)
                    .await?;
            let event = event.submission(&submission);
            sqlx::query(
                "update files set body = $1, segment = null, body_offset = null, purged_at = $2 \
                 where submission_id = $3",
            )
            .bind(Vec::<u8>::new())
            .bind(now)
            .bind(&submission)
            .execute(&mut *conn)
            .await?;
            conn.append_events(&[(now, &event)]).await
        })
    }
}
