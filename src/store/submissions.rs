//! Accepted submissions: the set, its files' original bytes, its delivery and its events, in one transaction.

use super::events::append_events;
use super::{NewEvent, Result, Store, dispatch};

/// One file of an accepted set.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: String,
    pub kind: String,
    pub csv_version: Option<String>,
    pub records: i64,
    pub sha256: String,
    pub body: Vec<u8>,
}

/// An accepted set, ready to store and route.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub id: String,
    pub delivery_id: String,
    pub sender: String,
    pub sender_type: Option<String>,
    pub recipient: String,
    pub recipient_type: Option<String>,
    pub sequence: String,
    pub month: Option<String>,
    /// The sorted file names joined with `/`: with `sender`, the identity of a set for retries.
    pub names_key: String,
    /// SHA-256 over the names and the files' digests.
    pub digest: String,
    /// The 201 body, replayed on an idempotent retry.
    pub response: String,
    pub accepted_at: i64,
    pub files: Vec<NewFile>,
    pub events: Vec<NewEvent>,
}

/// A set accepted earlier under the same names.
#[derive(Debug, Clone)]
pub struct Prior {
    pub id: String,
    pub digest: String,
    pub response: String,
}

impl Store {
    /// The earlier submission of `sender` with exactly these names, if any.
    pub async fn prior_submission(&self, sender: &str, names_key: &str) -> Result<Option<Prior>> {
        let row: Option<(String, String, String)> = dispatch!(self, |p| sqlx::query_as(
            "select id, digest, response from submissions where sender = $1 and names_key = $2"
        )
        .bind(sender)
        .bind(names_key)
        .fetch_optional(p)
        .await?);
        Ok(row.map(|(id, digest, response)| Prior { id, digest, response }))
    }

    /// Stores the submission, its files, its delivery and its events atomically and durably.
    /// `Conflict` if a submission with the same sender and names committed first.
    pub async fn insert_submission(&self, s: &NewSubmission) -> Result<()> {
        dispatch!(self, |p| {
            let mut tx = p.begin_with(self.begin_sql()).await?;
            sqlx::query(
                "insert into submissions (id, sender, sender_type, recipient, recipient_type, sequence, month, \
                 names_key, digest, response, accepted_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&s.id)
            .bind(&s.sender)
            .bind(&s.sender_type)
            .bind(&s.recipient)
            .bind(&s.recipient_type)
            .bind(&s.sequence)
            .bind(&s.month)
            .bind(&s.names_key)
            .bind(&s.digest)
            .bind(&s.response)
            .bind(s.accepted_at)
            .execute(&mut *tx)
            .await?;
            for (i, f) in s.files.iter().enumerate() {
                sqlx::query(
                    "insert into files (submission_id, position, name, kind, csv_version, records, size, sha256, body) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&s.id)
                .bind(i as i32)
                .bind(&f.name)
                .bind(&f.kind)
                .bind(&f.csv_version)
                .bind(f.records)
                .bind(f.body.len() as i64)
                .bind(&f.sha256)
                .bind(&f.body)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "insert into deliveries (id, submission_id, recipient, sender, sender_type, sequence, month, status, \
                 received_at) values ($1, $2, $3, $4, $5, $6, $7, 'queued', $8)",
            )
            .bind(&s.delivery_id)
            .bind(&s.id)
            .bind(&s.recipient)
            .bind(&s.sender)
            .bind(&s.sender_type)
            .bind(&s.sequence)
            .bind(&s.month)
            .bind(s.accepted_at)
            .execute(&mut *tx)
            .await?;
            append_events!(tx, s.accepted_at, &s.events);
            tx.commit().await?;
        });
        Ok(())
    }
}
