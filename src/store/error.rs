//! The store's errors, and which of them a retry may cure.

use super::Newer;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The object existed but its bytes were purged by retention.
    #[error("purged")]
    Gone,
    /// A unique constraint refused the write (e.g. an office number or a set registered twice).
    #[error("already exists")]
    Conflict,
    /// A set was refused because a newer set of its stream was accepted before it (nothing was stored).
    #[error("a newer set of the stream was accepted before")]
    OlderSet(Box<Newer>),
    #[error("database: {0}")]
    Db(#[source] sqlx::Error),
    /// A group-committed write failed because its batch failed (the cause is logged once by the writer).
    #[error("database: {0}")]
    Batch(String),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite writer task has ended (a panic): no write can succeed until the relay restarts.
    #[error("the database writer has stopped; the relay must be restarted")]
    WriterStopped,
    /// The SQLite store's segment files (`store::body_files`) could not be written or read, or held bytes whose
    /// SHA-256 is not the one recorded for the file.
    #[error("file bodies: {0}")]
    BodyFile(String),
    /// The database cannot be used as configured (what to do is in the message).
    #[error("{0}")]
    Setup(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Db(e),
        }
    }
}

impl StoreError {
    /// Whether the same request may succeed if retried shortly (the database was unreachable, busy, shutting
    /// down or short of resources; a serialization failure or deadlock; a group-commit batch that failed as a
    /// whole; the writer task stopped, which `/healthz` reports so that a balancer moves clients to another
    /// node): answered 503 with `Retry-After`. Every other store error is permanent (500): retrying it would
    /// fail again.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Batch(_) | StoreError::WriterStopped => true,
            StoreError::Db(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(d) => d.code().is_some_and(|c| transient_code(&c)),
                _ => false,
            },
            _ => false,
        }
    }
}

/// SQLite's SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes; PostgreSQL's serialization failure
/// and deadlock (40001, 40P01), connection exceptions (08…), insufficient resources (53…), operator intervention
/// such as a shutdown (57P…).
fn transient_code(code: &str) -> bool {
    // A SQLSTATE has five characters; SQLite's (extended) result codes are numbers of at most four digits.
    if code.len() != 5 {
        return code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6));
    }
    matches!(code, "40001" | "40P01") || ["08", "53", "57P"].iter().any(|p| code.starts_with(p))
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_locked_and_unreachable_are_transient_the_rest_permanent() {
        for code in [
            "5", "6", "517", "262", "40001", "40P01", "08006", "53300", "57P01",
        ] {
            assert!(transient_code(code), "{code}");
        }
        for code in ["19", "2067", "1", "23505", "42501", "42P01"] {
            assert!(!transient_code(code), "{code}");
        }
        assert!(StoreError::Db(sqlx::Error::PoolTimedOut).is_transient());
        assert!(StoreError::Batch("the batch failed".into()).is_transient());
        assert!(
            !StoreError::Conflict.is_transient(),
            "an unnamed conflict is not cured by retrying"
        );
        assert!(!StoreError::Setup("no database".into()).is_transient());
        assert!(!StoreError::Db(sqlx::Error::ColumnNotFound("x".into())).is_transient());
    }
}
