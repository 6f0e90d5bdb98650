//! Client certificates issued by the relay: serial, office, validity, issue and revocation times.

use super::backend::Backend;
use super::change::Change;
use super::{NewEvent, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::now_ms;

/// One issued client certificate. Times are Unix milliseconds (UTC); `serial` is lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CertificateRow {
    pub serial: String,
    pub office: String,
    pub not_before: i64,
    pub not_after: i64,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Records an issued certificate (its `issued_at` is now, `revoked_at` is ignored) and its event in one
    /// transaction. `Conflict` if the serial is recorded already.
    pub async fn insert_certificate(&self, c: &CertificateRow, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let change = Change::new(
            "insert into client_certificates (serial, office, not_before, not_after, issued_at) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(c.serial.as_str())
        .bind(c.office.as_str())
        .bind(c.not_before)
        .bind(c.not_after)
        .bind(now);
        self.apply_change(change, now, event).await
    }

    /// Issued certificates, newest first, of one office or of all; at most `limit`.
    pub async fn certificates(&self, office: Option<&str>, limit: i64) -> Result<Vec<CertificateRow>> {
        let rows: Vec<CertificateRow> = dispatch!(self, |p| {
            sqlx::query_as(
            "select serial, office, not_before, not_after, issued_at, revoked_at from client_certificates \
             where ($1 is null or office = $1) order by issued_at desc, serial desc limit $2"
        )
        .bind(office)
        .bind(limit)
        .fetch_all(p)
        .await?
        });
        Ok(rows)
    }

    /// The certificate with this serial, if it was issued here.
    pub async fn certificate(&self, serial: &str) -> Result<Option<CertificateRow>> {
        let r: Option<CertificateRow> = dispatch!(self, |p| {
            sqlx::query_as(
            "select serial, office, not_before, not_after, issued_at, revoked_at from client_certificates \
             where serial = $1"
        )
        .bind(serial)
        .fetch_optional(p)
        .await?
        });
        Ok(r)
    }

    /// Revokes a certificate and records the event; revoking it again changes nothing and records nothing.
    /// Returns the row as revoked; `NotFound` if no certificate has this serial.
    pub async fn revoke_certificate(&self, serial: &str, event: NewEvent) -> Result<CertificateRow> {
        let now = now_ms();
        let serial = serial.to_string();
        write_tx!(self, |conn| {
            let done = sqlx::query(
                "update client_certificates set revoked_at = $1 where serial = $2 and revoked_at is null",
            )
            .bind(now)
            .bind(&serial)
            .execute(&mut *conn)
            .await?;
            let r: Option<CertificateRow> = sqlx::query_as(
                "select serial, office, not_before, not_after, issued_at, revoked_at from client_certificates \
                 where serial = $1",
            )
            .bind(&serial)
            .fetch_optional(&mut *conn)
            .await?;
            // No such certificate: the update above changed nothing either.
            let Some(r) = r else {
                return Err(StoreError::NotFound);
            };
            if done.rows_affected() > 0 {
                let event = NewEvent {
                    office: Some(r.office.clone()),
                    ..event
                };
                conn.append_events(&[(now, &event)]).await?;
            }
            Ok(r)
        })
    }
}
