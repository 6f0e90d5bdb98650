//! The audit chain: sealing queued events, verifying the chain, and exporting sealed events in batches.

use sha2::{Digest, Sha256};

use super::backend::Backend;
use super::{NewEvent, Pool, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::now_ms;

/// The hash before the first position.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stored event as the chain sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub office: Option<String>,
    pub submission_id: Option<String>,
    pub request_id: Option<String>,
    pub detail: String,
}

impl EventRow {
    /// The canonical content that the chain hashes: fixed key order, `detail` as stored.
    pub fn canonical(&self) -> String {
        serde_json::json!([
            self.seq,
            self.at,
            self.kind,
            self.office,
            self.submission_id,
            self.request_id,
            self.detail
        ])
        .to_string()
    }
}

/// `sha256(prev_hash || "\n" || canonical(event))`, hex.
pub fn chain_hash(prev: &str, event: &EventRow) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(event.canonical().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A sealed position with its event (`None` if the event row is gone).
#[derive(Debug, Clone)]
pub struct ChainRow {
    pub position: i64,
    pub prev_hash: String,
    pub hash: String,
    pub sealed_at: i64,
    pub event: Option<EventRow>,
}

type JoinedRow = (
    i64,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn chain_row(r: JoinedRow) -> ChainRow {
    let event = r.5.map(|at| EventRow {
        seq: r.4,
        at,
        kind: r.6.unwrap_or_default(),
        office: r.7,
        submission_id: r.8,
        request_id: r.9,
        detail: r.10.unwrap_or_default(),
    });
    ChainRow {
        position: r.0,
        prev_hash: r.1,
        hash: r.2,
        sealed_at: r.3,
        event,
    }
}

/// A recorded export batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub first: i64,
    pub last: i64,
    pub count: i64,
    pub sha256: String,
    pub chain_head: String,
}

impl Store {
    /// Seals up to `max` queued events onto the chain; how many it sealed. One sealer at a time: on PostgreSQL
    /// others skip (an advisory lock held to the commit); on SQLite the seal is a job of the one writer, whose
    /// transaction holds the database's write lock from its start (`BEGIN IMMEDIATE`), so sealers, also those
    /// of other processes, run one after another and each reads the head the previous one left.
    pub async fn seal(&self, max: i64) -> Result<usize> {
        let now = now_ms();
        let postgres = matches!(self.pool, Pool::Postgres(_));
        write_tx!(self, |conn| {
            if postgres {
                let (locked,): (bool,) = sqlx::query_as("select pg_try_advisory_xact_lock(726150)")
                    .fetch_one(&mut *conn)
                    .await?;
                if !locked {
                    return Ok(0);
                }
            }
            let head: Option<(i64, String)> =
                sqlx::query_as("select position, hash from audit_chain order by position desc limit 1")
                    .fetch_optional(&mut *conn)
                    .await?;
            let (mut position, mut prev) = head.unwrap_or((0, GENESIS.to_string()));
            let events: Vec<EventRow> = sqlx::query_as(
                "select e.seq, e.at, e.kind, e.office, e.submission_id, e.request_id, e.detail \
                 from audit_pending q join events e on e.seq = q.event_seq order by q.event_seq limit $1",
            )
            .bind(max)
            .fetch_all(&mut *conn)
            .await?;
            let mut rows: Vec<(i64, i64, String, String)> = Vec::with_capacity(events.len());
            for e in &events {
                position += 1;
                let hash = chain_hash(&prev, e);
                rows.push((position, e.seq, std::mem::replace(&mut prev, hash.clone()), hash));
            }
            // Multi-row statements, in chunks that stay under SQLite's limit of bound parameters.
            for chunk in rows.chunks(1_000) {
                let mut q = sqlx::QueryBuilder::new(
                    "insert into audit_chain (position, event_seq, prev_hash, hash, sealed_at) ",
                );
                q.push_values(chunk, |mut row, (position, seq, prev, hash)| {
                    row.push_bind(*position)
                        .push_bind(*seq)
                        .push_bind(prev.as_str())
                        .push_bind(hash.as_str())
                        .push_bind(now);
                });
                q.build().execute(&mut *conn).await?;
                // Exactly the rows sealed: a late commit with a lower seq stays queued for the next round.
                let mut q = sqlx::QueryBuilder::new("delete from audit_pending where event_seq in (");
                let mut list = q.separated(", ");
                for (_, seq, _, _) in chunk {
                    list.push_bind(*seq);
                }
                q.push(")");
                q.build().execute(&mut *conn).await?;
            }
            Ok(events.len())
        })
    }

    /// Chain positions after `after`, with their events, at most `limit`.
    pub async fn chain(&self, after: i64, limit: i64) -> Result<Vec<ChainRow>> {
        let rows: Vec<JoinedRow> = dispatch!(self, |p| sqlx::query_as(
            "select c.position, c.prev_hash, c.hash, c.sealed_at, c.event_seq, e.at, e.kind, e.office, \
             e.submission_id, e.request_id, e.detail \
             from audit_chain c left join events e on e.seq = c.event_seq \
             where c.position > $1 order by c.position limit $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(p)
        .await?);
        Ok(rows.into_iter().map(chain_row).collect())
    }

    /// The first event that is neither sealed nor queued (one inserted behind the relay's back), if any.
    pub async fn stray_event(&self) -> Result<Option<i64>> {
        let row: Option<(i64,)> = dispatch!(self, |p| {
            sqlx::query_as(
            "select e.seq from events e where not exists (select 1 from audit_chain c where c.event_seq = e.seq) \
             and not exists (select 1 from audit_pending q where q.event_seq = e.seq) order by e.seq limit 1"
        )
        .fetch_optional(p)
        .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Counts: (sealed positions, queued events).
    pub async fn audit_counts(&self) -> Result<(i64, i64)> {
        let (sealed,): (i64,) = dispatch!(self, |p| sqlx::query_as("select count(*) from audit_chain")
            .fetch_one(p)
            .await?);
        let (queued,): (i64,) = dispatch!(self, |p| sqlx::query_as("select count(*) from audit_pending")
            .fetch_one(p)
            .await?);
        Ok((sealed, queued))
    }

    /// The events about one submission, in order (for the admin page's history of a set).
    pub async fn events_for_submission(&self, submission_id: &str) -> Result<Vec<EventRow>> {
        let rows = dispatch!(self, |p| sqlx::query_as(
            "select seq, at, kind, office, submission_id, request_id, detail from events \
             where submission_id = $1 order by seq"
        )
        .bind(submission_id)
        .fetch_all(p)
        .await?);
        Ok(rows)
    }

    /// The newest sealed position: (position, hash, sealed_at).
    pub async fn chain_head(&self) -> Result<Option<(i64, String, i64)>> {
        let row = dispatch!(self, |p| sqlx::query_as(
            "select position, hash, sealed_at from audit_chain order by position desc limit 1"
        )
        .fetch_optional(p)
        .await?);
        Ok(row)
    }

    /// The newest export batch: (first, last, count, created_at).
    pub async fn last_export(&self) -> Result<Option<(i64, i64, i64, i64)>> {
        let row = dispatch!(self, |p| sqlx::query_as(
            "select first_position, last_position, count, created_at from audit_exports \
             order by last_position desc limit 1"
        )
        .fetch_optional(p)
        .await?);
        Ok(row)
    }

    /// The export watermark: the last exported position (0 before the first export).
    pub async fn export_watermark(&self) -> Result<i64> {
        let (last,): (Option<i64>,) = dispatch!(self, |p| sqlx::query_as(
            "select max(last_position) from audit_exports"
        )
        .fetch_one(p)
        .await?);
        Ok(last.unwrap_or(0))
    }

    /// Records an export batch and its event; `Conflict` if another exporter recorded the same batch first.
    pub async fn record_export(
        &self,
        id: &str,
        batch: &ExportRow,
        file: &str,
        event: NewEvent,
    ) -> Result<()> {
        let now = now_ms();
        let (id, batch, file) = (id.to_string(), batch.clone(), file.to_string());
        write_tx!(self, |conn| {
            // Another exporter's batch first: a `Conflict` before anything is written.
            let (last,): (Option<i64>,) = sqlx::query_as("select max(last_position) from audit_exports")
                .fetch_one(&mut *conn)
                .await?;
            if last.unwrap_or(0) + 1 != batch.first {
                return Err(StoreError::Conflict);
            }
            sqlx::query(
                "insert into audit_exports (id, first_position, last_position, count, sha256, chain_head, file, \
                 created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(batch.first)
            .bind(batch.last)
            .bind(batch.count)
            .bind(&batch.sha256)
            .bind(&batch.chain_head)
            .bind(&file)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            conn.append_events(&[(now, &event)]).await
        })
    }
}
