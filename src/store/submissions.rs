//! Accepted submissions: the set, its files' original bytes, its delivery and its events, in one transaction.

use super::{NewEvent, Result, Store, Writer, dispatch};

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
    /// The kind of set within which sequences must rise from this sender to this recipient
    /// ([`crate::spec::Unit::stream`]); `None` compares the set with nothing.
    pub stream: Option<String>,
    /// Refuse the set (`StoreError::OlderSet`) rather than store it when a newer set of its stream was accepted.
    pub refuse_older: bool,
    pub files: Vec<NewFile>,
    pub events: Vec<NewEvent>,
}

/// A set of the same stream with a later sequence, accepted before the one being stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Newer {
    pub sequence: String,
    pub submission_id: String,
    pub delivery_id: String,
}

/// How an accepted set was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its place in the recipient's inbox: the recipient's previous arrival number plus one (or more, when a
    /// batch skipped sets).
    pub arrival: i64,
    /// The newest set of its stream accepted before it with a later sequence, if any.
    pub older_than: Option<Newer>,
}

/// What became of one set of a batch.
#[derive(Debug)]
pub(crate) enum SetOutcome {
    Stored(Stored),
    /// Its sender and names were stored before (a retry).
    Conflict,
    /// Refused: a newer set of its stream was accepted before (`refuse_older`).
    Older(Newer),
}

/// A set accepted earlier under the same names.
#[derive(Debug, Clone)]
pub struct Prior {
    pub id: String,
    pub sequence: String,
    pub digest: String,
    pub response: String,
    /// The newer set of its stream it was accepted after, if any.
    pub older_than: Option<Newer>,
}

/// A submission with the `older_than_*` columns of its delivery.
#[derive(sqlx::FromRow)]
struct PriorSql {
    id: String,
    sequence: String,
    digest: String,
    response: String,
    older_than_sequence: Option<String>,
    older_than_submission: Option<String>,
    older_than_delivery: Option<String>,
}

impl Store {
    /// The earlier submission of `sender` with exactly these names, if any.
    pub async fn prior_submission(&self, sender: &str, names_key: &str) -> Result<Option<Prior>> {
        let row: Option<PriorSql> = dispatch!(self, |p| {
            sqlx::query_as(
            "select s.id, s.sequence, s.digest, s.response, d.older_than_sequence, d.older_than_submission, \
             d.older_than_delivery from submissions s left join deliveries d on d.submission_id = s.id \
             where s.sender = $1 and s.names_key = $2"
        )
        .bind(sender)
        .bind(names_key)
        .fetch_optional(p)
        .await?
        });
        Ok(row.map(|r| Prior {
            id: r.id,
            sequence: r.sequence,
            digest: r.digest,
            response: r.response,
            older_than: newer(
                r.older_than_sequence,
                r.older_than_submission,
                r.older_than_delivery,
            ),
        }))
    }

    /// Stores the submission, its files, its delivery and its events atomically and durably, with the next
    /// arrival number of its recipient. `Conflict` if a submission with the same sender and names committed
    /// first; `OlderSet` if `refuse_older` and a newer set of its stream was accepted before (nothing stored).
    ///
    /// The set joins the next group commit (on SQLite the writer's, on PostgreSQL that of the accepted sets,
    /// `pg_sets`), where all the sets of a batch are written with one multi-row statement per table; the
    /// transaction holds its recipients' counter rows from the numbers to the commit.
    pub async fn insert_submission(&self, s: NewSubmission) -> Result<Stored> {
        match &self.writer {
            Writer::Sqlite(_, group) => group.insert(s).await,
            Writer::Postgres(_, sets) => sets.insert(s).await,
        }
    }
}

/// A `Newer` from the three `older_than_*` columns (all set or none).
pub(super) fn newer(
    sequence: Option<String>,
    submission: Option<String>,
    delivery: Option<String>,
) -> Option<Newer> {
    Some(Newer {
        sequence: sequence?,
        submission_id: submission?,
        delivery_id: delivery?,
    })
}
