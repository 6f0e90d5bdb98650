//! What a recipient does with a delivery: download its files' original bytes (the first download marks it
//! downloaded) and acknowledge it.

use super::backend::Backend;
use super::bodies::BytesSql;
use super::{NewEvent, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::now_ms;

/// One file's bytes as stored, with what `download` checks and marks.
#[derive(sqlx::FromRow)]
struct BodySql {
    #[sqlx(flatten)]
    bytes: BytesSql,
    kind: String,
    purged_at: Option<i64>,
    submission_id: String,
}

/// The original bytes of one file of a delivery, with their SHA-256 (hex) and the file's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileBody {
    pub body: Vec<u8>,
    pub sha256: String,
    pub kind: String,
}

impl Store {
    /// The original bytes of one file of a delivery to `recipient`; the first download marks it downloaded.
    /// The bytes are read outside the write; the mark and its event are one durable write.
    pub async fn download(
        &self,
        recipient: &str,
        delivery_id: &str,
        name: &str,
        event: NewEvent,
    ) -> Result<FileBody> {
        let row: BodySql = dispatch!(self, |p| {
            sqlx::query_as(
            "select f.body, f.segment, f.body_offset, f.size, f.sha256, f.kind, f.purged_at, d.submission_id \
             from deliveries d \
             join files f on f.submission_id = d.submission_id \
             where d.id = $1 and d.recipient = $2 and f.name = $3",
        )
        .bind(delivery_id)
        .bind(recipient)
        .bind(name)
        .fetch_one(p)
        .await?
        });
        if row.purged_at.is_some() {
            return Err(StoreError::Gone);
        }
        // Read before the mark: bytes that cannot be read are not reported downloaded.
        let sha256 = row.bytes.sha256.clone();
        let body = self.file_bytes(row.bytes).await?;
        let delivery_id = delivery_id.to_string();
        let mut event = event.submission(&row.submission_id);
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
        Ok(FileBody {
            body,
            sha256,
            kind: row.kind,
        })
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
