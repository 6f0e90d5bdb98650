//! Exports of the audit chain: the batches recorded (each a range of positions written to a file by
//! `relay::audit`), the watermark the next export starts from.

use super::backend::Backend;
use super::{NewEvent, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::now_ms;

/// A recorded export batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub first: i64,
    pub last: i64,
    pub count: i64,
    pub sha256: String,
    pub chain_head: String,
}

/// The newest export batch: its first and last chain positions, how many events it holds, and when it was
/// recorded (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LastExport {
    pub first_position: i64,
    pub last_position: i64,
    pub count: i64,
    pub created_at: i64,
}

impl Store {
    /// The newest export batch, if any.
    pub async fn last_export(&self) -> Result<Option<LastExport>> {
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
