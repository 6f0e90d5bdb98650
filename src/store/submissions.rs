//! Accepted submissions: the set, its files' original bytes, its delivery and its events, in one transaction.

use super::events::append_events;
use super::{NewEvent, Result, Store, StoreError, Writer, dispatch};

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
    ///
    /// On SQLite the set joins the writer's next group commit, where all the sets of a batch are written with
    /// one multi-row statement per table; on PostgreSQL it is a transaction of its own.
    pub async fn insert_submission(&self, mut s: NewSubmission) -> Result<()> {
        match &self.writer {
            Writer::Sqlite(_, group) => group.insert(s).await,
            Writer::Postgres(p) => {
                let mut tx = p.begin().await?;
                let inserted = insert_sets!(&mut *tx, &mut [&mut s]);
                if inserted.is_empty() {
                    return Err(StoreError::Conflict);
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }
}

/// Inserts the sets `$subs: &mut [&mut NewSubmission]` (taking their files' bytes) (their submissions, files, deliveries and events) on the
/// connection of an open transaction, with one multi-row statement per table, and evaluates to the ids that
/// were inserted: a set whose sender and names exist already (a retry that lost a race) is skipped.
macro_rules! insert_sets {
    ($conn:expr, $subs:expr) => {{
        let subs: &mut [&mut $crate::store::NewSubmission] = $subs;
        let bodies: Vec<Vec<Vec<u8>>> = subs
            .iter_mut()
            .map(|s| s.files.iter_mut().map(|f| std::mem::take(&mut f.body)).collect())
            .collect();
        let subs: Vec<&$crate::store::NewSubmission> = subs.iter().map(|s| &**s).collect();
        let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::new();
        // Bound parameters per statement stay well under SQLite's limit (32,766).
        for chunk in subs.chunks(500) {
            let mut q = sqlx::QueryBuilder::new(
                "insert into submissions (id, sender, sender_type, recipient, recipient_type, sequence, month, \
                 names_key, digest, response, accepted_at) ",
            );
            q.push_values(chunk, |mut row, s| {
                row.push_bind(&s.id)
                    .push_bind(&s.sender)
                    .push_bind(&s.sender_type)
                    .push_bind(&s.recipient)
                    .push_bind(&s.recipient_type)
                    .push_bind(&s.sequence)
                    .push_bind(&s.month)
                    .push_bind(&s.names_key)
                    .push_bind(&s.digest)
                    .push_bind(&s.response)
                    .push_bind(s.accepted_at);
            });
            q.push(" on conflict do nothing returning id");
            let ids: Vec<(String,)> = q.build_query_as().fetch_all(&mut *$conn).await?;
            inserted.extend(ids.into_iter().map(|(id,)| id));
        }
        let new: Vec<&$crate::store::NewSubmission> =
            subs.iter().copied().filter(|s| inserted.contains(&s.id)).collect();
        // (submission id, position, file, its bytes): the bytes are moved into the statement, not copied.
        let mut files: Vec<(&str, i32, &$crate::store::NewFile, Vec<u8>)> = Vec::new();
        for (s, bodies) in subs.iter().zip(bodies) {
            if inserted.contains(&s.id) {
                for (i, (f, body)) in s.files.iter().zip(bodies).enumerate() {
                    files.push((s.id.as_str(), i as i32, f, body));
                }
            }
        }
        // A statement carries at most ~8 MiB of bytes (or one larger file), so the bound copies that SQLite
        // makes while it runs stay small even when a batch holds many large sets.
        let mut files = files.into_iter().peekable();
        while files.peek().is_some() {
            let (mut chunk, mut size) = (Vec::new(), 0usize);
            while let Some(file) = files.next_if(|f| chunk.is_empty() || (chunk.len() < 1_000 && size + f.3.len() <= 8 << 20)) {
                size += file.3.len();
                chunk.push(file);
            }
            let mut q = sqlx::QueryBuilder::new(
                "insert into files (submission_id, position, name, kind, csv_version, records, size, sha256, body) ",
            );
            q.push_values(chunk, |mut row, (id, i, f, body)| {
                row.push_bind(id)
                    .push_bind(i)
                    .push_bind(&f.name)
                    .push_bind(&f.kind)
                    .push_bind(&f.csv_version)
                    .push_bind(f.records)
                    .push_bind(body.len() as i64)
                    .push_bind(&f.sha256)
                    .push_bind(body);
            });
            q.build().execute(&mut *$conn).await?;
        }
        for chunk in new.chunks(1_000) {
            let mut q = sqlx::QueryBuilder::new(
                "insert into deliveries (id, submission_id, recipient, sender, sender_type, sequence, month, \
                 status, received_at) ",
            );
            q.push_values(chunk, |mut row, s| {
                row.push_bind(&s.delivery_id)
                    .push_bind(&s.id)
                    .push_bind(&s.recipient)
                    .push_bind(&s.sender)
                    .push_bind(&s.sender_type)
                    .push_bind(&s.sequence)
                    .push_bind(&s.month)
                    .push_bind("queued")
                    .push_bind(s.accepted_at);
            });
            q.build().execute(&mut *$conn).await?;
        }
        let events: Vec<(i64, &$crate::store::NewEvent)> =
            new.iter().flat_map(|s| s.events.iter().map(|e| (s.accepted_at, e))).collect();
        for chunk in events.chunks(1_000) {
            append_events!($conn, chunk.iter().copied());
        }
        inserted
    }};
}
pub(crate) use insert_sets;
