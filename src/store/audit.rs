//! The audit chain: sealing queued events and reading the chain back to verify it (its exports: `exports`).

use sha2::{Digest, Sha256};

use super::{Pool, Result, Store, dispatch, write_tx};
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

/// A chain position joined with its event (the event's columns null when its row is gone).
#[derive(sqlx::FromRow)]
struct ChainSql {
    position: i64,
    prev_hash: String,
    hash: String,
    sealed_at: i64,
    event_seq: i64,
    at: Option<i64>,
    kind: Option<String>,
    office: Option<String>,
    submission_id: Option<String>,
    request_id: Option<String>,
    detail: Option<String>,
}

fn chain_row(r: ChainSql) -> ChainRow {
    let event = r.at.map(|at| EventRow {
        seq: r.event_seq,
        at,
        kind: r.kind.unwrap_or_default(),
        office: r.office,
        submission_id: r.submission_id,
        request_id: r.request_id,
        detail: r.detail.unwrap_or_default(),
    });
    ChainRow {
        position: r.position,
        prev_hash: r.prev_hash,
        hash: r.hash,
        sealed_at: r.sealed_at,
        event,
    }
}

/// The newest sealed position of the chain. `sealed_at` is Unix ms.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChainHead {
    pub position: i64,
    pub hash: String,
    pub sealed_at: i64,
}

/// The audit trail's counts: positions sealed, events queued for sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCounts {
    pub sealed: i64,
    pub queued: i64,
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
        let rows: Vec<ChainSql> = dispatch!(self, |p| sqlx::query_as(
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

    /// Positions sealed and events queued.
    pub async fn audit_counts(&self) -> Result<AuditCounts> {
        let (sealed,): (i64,) = dispatch!(self, |p| sqlx::query_as("select count(*) from audit_chain")
            .fetch_one(p)
            .await?);
        let (queued,): (i64,) = dispatch!(self, |p| sqlx::query_as("select count(*) from audit_pending")
            .fetch_one(p)
            .await?);
        Ok(AuditCounts { sealed, queued })
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

    /// The newest sealed position, if any.
    pub async fn chain_head(&self) -> Result<Option<ChainHead>> {
        let row = dispatch!(self, |p| sqlx::query_as(
            "select position, hash, sealed_at from audit_chain order by position desc limit 1"
        )
        .fetch_optional(p)
        .await?);
        Ok(row)
    }
}
