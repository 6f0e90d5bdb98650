//! The original bytes of a whole set, for reading its records (no download mark: that is `download`'s), and of
//! one `files` row wherever they are kept.

use super::body_files::BodyAt;
use super::{Result, Store, StoreError, dispatch};

/// The columns of a `files` row that say where its bytes are: select `f.body, f.segment, f.body_offset, f.size,
/// f.sha256`.
#[derive(sqlx::FromRow)]
pub(super) struct BytesSql {
    body: Vec<u8>,
    segment: Option<i64>,
    body_offset: Option<i64>,
    size: i64,
    pub(super) sha256: String,
}

/// One file of a set, as `set_bodies` reads it.
#[derive(sqlx::FromRow)]
struct SetFileSql {
    name: String,
    purged_at: Option<i64>,
    #[sqlx(flatten)]
    bytes: BytesSql,
}

/// Which set, and as whom: the recipient of a delivery or the sender of a submission.
#[derive(Debug, Clone, Copy)]
pub enum SetOf<'a> {
    /// Delivery id, read by its recipient.
    Delivery(&'a str),
    /// Submission id, read by its sender.
    Submission(&'a str),
}

impl Store {
    /// The files of a set as `(name, bytes)` in the order they were sent, for `office` as the recipient of the
    /// delivery or the sender of the submission. `NotFound` for anyone else (or no such set), `Gone` once the
    /// bytes were purged.
    pub async fn set_bodies(&self, office: &str, set: SetOf<'_>) -> Result<Vec<(String, Vec<u8>)>> {
        let (sql, id) = match set {
            SetOf::Delivery(id) => (
                "select f.name, f.purged_at, f.body, f.segment, f.body_offset, f.size, f.sha256 from deliveries d \
                 join files f on f.submission_id = d.submission_id \
                 where d.id = $1 and d.recipient = $2 order by f.position",
                id,
            ),
            SetOf::Submission(id) => (
                "select f.name, f.purged_at, f.body, f.segment, f.body_offset, f.size, f.sha256 from submissions s \
                 join files f on f.submission_id = s.id \
                 where s.id = $1 and s.sender = $2 order by f.position",
                id,
            ),
        };
        let rows: Vec<SetFileSql> = dispatch!(self, |p| sqlx::query_as(sql)
            .bind(id)
            .bind(office)
            .fetch_all(p)
            .await?);
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        if rows.iter().any(|r| r.purged_at.is_some()) {
            return Err(StoreError::Gone);
        }
        let mut files = Vec::with_capacity(rows.len());
        for row in rows {
            files.push((row.name, self.file_bytes(row.bytes).await?));
        }
        Ok(files)
    }

    /// Deletes the segment files that no `files` row points into any more (retention emptied them all), as a job
    /// of the SQLite writer, so that no batch appends meanwhile; the number deleted (always 0 without segment
    /// files).
    ///
    /// Errors: `BodyFile` when the directory cannot be listed or a segment deleted; the store's own.
    pub async fn reclaim_body_files(&self) -> Result<usize> {
        let (Some(files), super::Writer::Sqlite(_, group)) = (self.body_files.clone(), &self.writer) else {
            return Ok(0);
        };
        group
            .run(move |conn| {
                Box::pin(async move {
                    let referenced: Vec<(i64,)> =
                        sqlx::query_as("select distinct segment from files where segment is not null")
                            .fetch_all(&mut *conn)
                            .await?;
                    let referenced = referenced.into_iter().map(|(s,)| s).collect();
                    files
                        .reclaim(&referenced)
                        .map_err(|e| StoreError::BodyFile(format!("reclaiming segments: {e}")))
                })
            })
            .await
    }

    /// The original bytes of a `files` row: its `body`, or the range of the segment file it names, read on a
    /// blocking thread and checked against the row's SHA-256.
    ///
    /// Errors: `BodyFile` when the segment is missing, too short or holds other bytes.
    pub(super) async fn file_bytes(&self, row: BytesSql) -> Result<Vec<u8>> {
        let (Some(segment), Some(offset)) = (row.segment, row.body_offset) else {
            return Ok(row.body);
        };
        let Some(files) = self.body_files.clone() else {
            return Err(StoreError::BodyFile(format!(
                "a file's bytes are in segment {segment}, but this store has no segment files"
            )));
        };
        let at = BodyAt {
            segment,
            offset,
            size: row.size,
        };
        let sha256 = row.sha256;
        tokio::task::spawn_blocking(move || files.read_checked(at, &sha256))
            .await
            .map_err(|e| StoreError::BodyFile(e.to_string()))?
            .map_err(|e| StoreError::BodyFile(format!("segment {segment} at {offset}: {e}")))
    }
}
