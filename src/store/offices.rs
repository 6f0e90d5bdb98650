//! Registered offices.

use super::change::Change;
use super::{NewEvent, Result, Store, dispatch};
use crate::domain::{Office, OfficeKind, now_ms};

/// An office as stored: its service types joined with commas.
#[derive(sqlx::FromRow)]
struct OfficeSql {
    number: String,
    name: String,
    kind: String,
    service_types: String,
    enabled: bool,
}

fn office(r: OfficeSql) -> Office {
    Office {
        number: r.number,
        name: r.name,
        kind: OfficeKind::parse(&r.kind).unwrap_or(OfficeKind::Provider),
        service_types: r
            .service_types
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        enabled: r.enabled,
    }
}

impl Store {
    /// Registers an office; `Conflict` if the number exists.
    pub async fn add_office(&self, o: &Office, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let change = Change::new(
            "insert into offices (number, name, kind, service_types, enabled, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(o.number.as_str())
        .bind(o.name.as_str())
        .bind(o.kind.as_str())
        .bind(o.service_types.join(","))
        .bind(o.enabled)
        .bind(now);
        self.apply_change(change, now, event).await
    }

    pub async fn office(&self, number: &str) -> Result<Office> {
        let row: OfficeSql = dispatch!(self, |p| sqlx::query_as(
            "select number, name, kind, service_types, enabled from offices where number = $1"
        )
        .bind(number)
        .fetch_one(p)
        .await?);
        Ok(office(row))
    }

    pub async fn offices(&self) -> Result<Vec<Office>> {
        let rows: Vec<OfficeSql> = dispatch!(self, |p| sqlx::query_as(
            "select number, name, kind, service_types, enabled from offices order by number"
        )
        .fetch_all(p)
        .await?);
        Ok(rows.into_iter().map(office).collect())
    }

    /// Enables or disables an office.
    pub async fn set_office_enabled(&self, number: &str, enabled: bool, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let change = Change::new("update offices set enabled = $1, updated_at = $2 where number = $3")
            .bind(enabled)
            .bind(now)
            .bind(number)
            .or_not_found();
        self.apply_change(change, now, event).await
    }

    /// Sets an office's name and service types; `NotFound` if the number is not registered.
    pub async fn edit_office(
        &self,
        number: &str,
        name: &str,
        service_types: &[String],
        event: NewEvent,
    ) -> Result<()> {
        let now = now_ms();
        let change = Change::new(
            "update offices set name = $1, service_types = $2, updated_at = $3 where number = $4",
        )
        .bind(name)
        .bind(service_types.join(","))
        .bind(now)
        .bind(number)
        .or_not_found();
        self.apply_change(change, now, event).await
    }

    /// Whether the office requires its client certificate at the portal's login.
    pub async fn login_certificate(&self, number: &str) -> Result<bool> {
        let (required,): (bool,) = dispatch!(self, |p| sqlx::query_as(
            "select login_certificate from offices where number = $1"
        )
        .bind(number)
        .fetch_one(p)
        .await?);
        Ok(required)
    }

    /// Sets whether the office requires its client certificate at the portal's login; `NotFound` if the number
    /// is not registered.
    pub async fn set_login_certificate(&self, number: &str, required: bool, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let change =
            Change::new("update offices set login_certificate = $1, updated_at = $2 where number = $3")
                .bind(required)
                .bind(now)
                .bind(number)
                .or_not_found();
        self.apply_change(change, now, event).await
    }
}
