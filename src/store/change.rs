//! One statement and the event that records it, in one write transaction: most admin writes (an office
//! registered or changed, a token issued or revoked, a rejection recorded…) are such a [`Change`].

use super::backend::Backend;
use super::{NewEvent, Result, Store, write_tx};

/// A value bound to a [`Change`]'s statement.
#[derive(Debug, Clone)]
pub(super) enum Param {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
}

impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(Some(v.to_string()))
    }
}

impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(Some(v))
    }
}

impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Param {
        Param::Text(v.map(str::to_string))
    }
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(Some(v))
    }
}

impl From<bool> for Param {
    fn from(v: bool) -> Param {
        Param::Bool(v)
    }
}

/// One statement that a write runs with the event recording it ([`Store::apply_change`]): the SQL (numbered
/// `$n` parameters, the same for both backends) and its values, which it owns.
#[derive(Debug, Clone)]
pub(super) struct Change {
    pub(super) sql: &'static str,
    pub(super) params: Vec<Param>,
    /// Changing no row is `NotFound`.
    pub(super) or_not_found: bool,
}

impl Change {
    pub(super) fn new(sql: &'static str) -> Change {
        Change {
            sql,
            params: Vec::new(),
            or_not_found: false,
        }
    }

    /// Binds the next parameter.
    pub(super) fn bind(mut self, value: impl Into<Param>) -> Change {
        self.params.push(value.into());
        self
    }

    /// The statement must change a row (an update of a row that may not exist): `NotFound` when it changed none.
    pub(super) fn or_not_found(mut self) -> Change {
        self.or_not_found = true;
        self
    }
}

/// The rows a statement changed, from its result (a method of each backend's result type, not of a trait).
pub(super) trait RowsAffected: sqlx::Database {
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

impl RowsAffected for sqlx::Sqlite {
    fn rows_affected(done: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

impl RowsAffected for sqlx::Postgres {
    fn rows_affected(done: &sqlx::postgres::PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Store {
    /// Runs `change` and records `event` (at `at`, Unix ms) in one write transaction (on SQLite a job of the
    /// group commit). Errors: `NotFound` when the change must touch a row and touched none, `Conflict` when it
    /// breaks a unique key; in both cases nothing is written.
    pub(super) async fn apply_change(&self, change: Change, at: i64, event: NewEvent) -> Result<()> {
        write_tx!(self, |conn| conn.apply_change(&change, at, &event).await)
    }
}
