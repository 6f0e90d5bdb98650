//! The only module that names sqlx: one `Store` over SQLite (embedded default) or PostgreSQL.
//!
//! Both backends run the same SQL (numbered `$n` parameters, `returning`, `on conflict`), written once; each has
//! its own migrations under `migrations/`. Reads go through `dispatch!`, every write through `write_tx!`: a
//! body written once that runs on either connection type. The writes that several bodies share (appending
//! events, storing accepted sets, one statement with its event) are functions of `backend::Backend`, generic
//! over the two connection types. Every change and the events that record it commit in one transaction.
//!
//! On SQLite, reads use a fixed set of read-only connections and every write of this process is a job of one
//! writer task on one connection, which group-commits them (`group`: many requests, one fsync); the files'
//! bytes of a database file go to append-only segment files beside it (`body_files`). On PostgreSQL
//! every write is its own transaction on the shared pool and the server groups the commits. Only the migrations
//! (`migrations`) and the bulk load of `seed` write otherwise, each saying why; a backup (`backup`) only reads.

mod admin;
mod arrivals;
mod audit;
mod backend;
pub mod backup;
mod bodies;
mod body_files;
mod certificates;
mod change;
mod deliveries;
mod downloads;
mod error;
mod events;
mod exports;
mod group;
mod migrations;
mod offices;
mod pg_sets;
mod portal;
pub mod probe;
mod readers;
mod receipt_keys;
#[cfg(feature = "tools")]
mod seed;
mod sessions;
mod sets;
mod sqlite;
mod submissions;
mod tokens;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::SqlitePool;

pub use admin::{LogEntry, LogQuery, Rejection};
pub use audit::{AuditCounts, ChainHead, ChainRow, EventRow, GENESIS, chain_hash};
pub use bodies::SetOf;
pub use body_files::sha256_hex;
pub use certificates::CertificateRow;
pub use deliveries::{DeliveryRow, FileMeta, InboxQuery};
pub use downloads::FileBody;
pub use error::{Result, StoreError};
pub use events::NewEvent;
pub use exports::{ExportRow, LastExport};
pub use migrations::Schema;
pub use portal::{NewestQuery, Side};
pub use receipt_keys::ReceiptKeyRow;
pub use sessions::SessionRow;
pub use submissions::{NewFile, NewSubmission, Newer, Prior, Stored};
pub use tokens::{TokenInfo, TokenRow};
pub use users::{UserChange, UserRow, UserSessionRow};

/// PostgreSQL's "database does not exist" (3D000) as one line that says what to do.
fn missing_database(e: sqlx::Error, opts: &PgConnectOptions) -> StoreError {
    let missing = e
        .as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "3D000");
    if !missing {
        return e.into();
    }
    let name = opts.get_database().unwrap_or("?");
    StoreError::Setup(format!(
        "the PostgreSQL database `{name}` does not exist on {}:{}; create it first (for example `createdb -h {} -p {} {name}`), \
         then start again: the relay creates its tables itself",
        opts.get_host(),
        opts.get_port(),
        opts.get_host(),
        opts.get_port()
    ))
}

/// Row counts of the tables a request can add to (see [`Store::row_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct RowCounts {
    pub offices: i64,
    pub submissions: i64,
    pub files: i64,
    pub deliveries: i64,
    pub rejections: i64,
    pub events: i64,
}

/// The deliveries not yet acknowledged (see [`Store::pending_deliveries`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Pending {
    pub count: i64,
    /// When the oldest arrived, Unix ms; `None` when there is none.
    pub oldest: Option<i64>,
}

/// Where reads go.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(std::sync::Arc<readers::Readers>),
    Postgres(PgPool),
}

/// Where write transactions go.
#[derive(Debug, Clone)]
enum Writer {
    /// SQLite: the pool of the one writer connection (for migrations, `seed`'s options and closing), and the
    /// group commit that runs every write on it.
    Sqlite(SqlitePool, group::GroupCommit),
    /// PostgreSQL: the shared pool, where every write is a transaction of its own, and the group commit of
    /// accepted sets (`pg_sets`).
    Postgres(PgPool, pg_sets::PgSets),
}

/// The relay's database.
#[derive(Debug, Clone)]
pub struct Store {
    /// Reads (on SQLite: read-only connections).
    pool: Pool,
    /// Write transactions (on SQLite: one connection and its group commit; on PostgreSQL: the same pool as
    /// `pool`).
    writer: Writer,
    /// Where a SQLite database file keeps its accepted files' bytes (`None`: in the rows, on PostgreSQL and for
    /// an in-memory database).
    body_files: Option<std::sync::Arc<body_files::BodyFiles>>,
}

/// Runs `$body` with `$pool` bound to the store's reads: the PostgreSQL pool, or one SQLite read-only connection
/// held for the whole body. The SQL is the same for both. A body runs one query and must not await another
/// read of the store: with every SQLite connection held by such bodies, it would wait forever.
macro_rules! dispatch {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite(readers) => {
                let mut conn = readers.get().await?;
                let $pool: &mut sqlx::SqliteConnection = &mut conn;
                $body
            }
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use dispatch;

/// Runs `$body` (an expression of type `Result<T>` that uses `$conn: &mut <backend>Connection` and owns what
/// it captures: clone borrowed inputs first) in a write transaction: on SQLite as one job of the writer's group
/// commit, on PostgreSQL in a transaction of its own, committed when the body succeeds. The body must fail with
/// an ordinary error (`NotFound`, `Gone`, `Conflict`) only before it has written (see `group`): on SQLite the
/// other jobs of its batch commit with whatever it wrote.
macro_rules! write_tx {
    ($store:expr, |$conn:ident| $body:expr) => {
        match &$store.writer {
            $crate::store::Writer::Sqlite(_, group) => {
                group
                    .run(move |$conn: &mut sqlx::SqliteConnection| Box::pin(async move { $body }))
                    .await
            }
            $crate::store::Writer::Postgres(p, _) => {
                let mut tx = p.begin().await?;
                let out = {
                    let $conn: &mut sqlx::PgConnection = &mut *tx;
                    async move { $body }.await
                };
                if out.is_ok() {
                    tx.commit().await?;
                }
                out
            }
        }
    };
}
pub(crate) use write_tx;

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`) and applies the migrations.
    pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<Store> {
        Ok(Store::open(url, max_connections, Schema::Migrate).await?.0)
    }

    /// Connects to `url` and applies or checks the migrations as `schema` says; the store and the migration
    /// versions this call applied.
    ///
    /// Errors: `Setup` for a PostgreSQL database that does not exist, or (with [`Schema::RequireCurrent`]) one
    /// that lacks a migration; `Db` when it cannot be reached; `Migrate` when a migration fails.
    pub async fn open(url: &str, max_connections: Option<u32>, schema: Schema) -> Result<(Store, Vec<i64>)> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                // No ping before each use (a round trip per query): a connection broken by a database
                // restart fails one request with 500, is dropped, and the client's retry is idempotent.
                .test_before_acquire(false)
                .max_connections(max_connections.unwrap_or(16))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts.clone())
                .await
                .map_err(|e| missing_database(e, &opts))?;
            Store {
                writer: Writer::Postgres(pool.clone(), pg_sets::PgSets::start(pool.clone())),
                pool: Pool::Postgres(pool),
                body_files: None,
            }
        } else {
            sqlite::open(url, max_connections).await?
        };
        let applied = store.schema(schema).await?;
        Ok((store, applied))
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// (connections open, idle) for reads.
    pub fn pool_stats(&self) -> (i64, i64) {
        match &self.pool {
            Pool::Sqlite(readers) => readers.stats(),
            Pool::Postgres(p) => (i64::from(p.size()), p.num_idle() as i64),
        }
    }

    /// The SQLite writer's group commits since start: (batches, jobs in them, microseconds spent committing);
    /// `None` on PostgreSQL, whose writes commit one transaction each.
    pub fn group_commit_stats(&self) -> Option<(u64, u64, u64)> {
        match &self.writer {
            Writer::Sqlite(_, group) => {
                let s = &group.stats;
                let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
                Some((load(&s.batches), load(&s.jobs), load(&s.commit_micros)))
            }
            Writer::Postgres(..) => None,
        }
    }

    /// Deliveries not yet acknowledged: how many, and when the oldest arrived.
    pub async fn pending_deliveries(&self) -> Result<Pending> {
        let pending = dispatch!(self, |p| {
            sqlx::query_as(
            "select count(*) as count, min(received_at) as oldest from deliveries where status <> 'acknowledged'"
        )
        .fetch_one(p)
        .await?
        });
        Ok(pending)
    }

    /// Rows in the tables a request can add to. For the admin's overview and for checking that a refused
    /// request stored nothing.
    pub async fn row_counts(&self) -> Result<RowCounts> {
        let counts = dispatch!(self, |p| {
            sqlx::query_as(
            "select (select count(*) from offices) as offices, (select count(*) from submissions) as submissions, \
             (select count(*) from files) as files, (select count(*) from deliveries) as deliveries, \
             (select count(*) from rejections) as rejections, (select count(*) from events) as events"
        )
        .fetch_one(p)
        .await?
        });
        Ok(counts)
    }

    /// Checks that the database answers and that the task writing accepted sets runs (`WriterStopped` if not).
    pub async fn ping(&self) -> Result<()> {
        let running = match &self.writer {
            Writer::Sqlite(_, group) => group.is_running(),
            Writer::Postgres(_, sets) => sets.is_running(),
        };
        if !running {
            return Err(StoreError::WriterStopped);
        }
        dispatch!(self, |p| sqlx::query("select 1").execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// Closes the pools: waits for the connections in use and refuses later reads and writes, and on SQLite waits
    /// for the checkpointer's last checkpoint, so the database file is left alone once this returns (SQLite's
    /// read-only connections themselves close when the store is dropped).
    pub async fn close(&self) {
        match &self.writer {
            Writer::Sqlite(p, _) => p.close().await,
            Writer::Postgres(p, _) => p.close().await,
        }
        if let Writer::Sqlite(_, group) = &self.writer
            && let Some(c) = &group.checkpointer
        {
            c.finish().await;
        }
        match &self.pool {
            Pool::Sqlite(readers) => readers.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
