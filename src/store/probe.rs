//! Looking at a database without changing it (for `check-config`): does it open or answer, and which
//! migration has been applied to it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::Result;
use super::backup::sqlite_path;

/// How long a PostgreSQL connection may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a probe found: the backend (`sqlite`, `postgres`), whether the database exists (a SQLite file that is
/// not there yet is made by `serve`), the newest migration applied (none on a new database) and the newest this
/// program has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub backend: &'static str,
    pub exists: bool,
    pub migration: Option<i64>,
    pub newest_known: i64,
}

/// Opens (SQLite, without creating) or connects to (PostgreSQL, within 5 s) the database of `url`, reads its
/// newest applied migration and closes it. Nothing is written.
///
/// Errors: `Db` when it cannot be opened or reached (the cause in its text), or a query fails.
pub async fn probe(url: &str) -> Result<Probe> {
    if let Some(path) = sqlite_path(url) {
        let newest_known = newest(&sqlx::migrate!("./migrations/sqlite"));
        if !path.exists() {
            return Ok(Probe {
                backend: "sqlite",
                exists: false,
                migration: None,
                newest_known,
            });
        }
        let mut conn = SqliteConnectOptions::new()
            .filename(&path)
            .busy_timeout(Duration::from_secs(5))
            .connect()
            .await?;
        let migration = applied!(
            conn,
            "select count(*) from sqlite_master where name = '_sqlx_migrations'"
        )?;
        conn.close().await?;
        return Ok(Probe {
            backend: "sqlite",
            exists: true,
            migration,
            newest_known,
        });
    }
    let opts = sqlx::postgres::PgConnectOptions::from_str(url)?;
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(&opts))
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
    let migration = applied!(
        conn,
        "select count(*) from information_schema.tables where table_name = '_sqlx_migrations'"
    )?;
    conn.close().await?;
    Ok(Probe {
        backend: "postgres",
        exists: true,
        migration,
        newest_known: newest(&sqlx::migrate!("./migrations/postgres")),
    })
}

fn newest(m: &sqlx::migrate::Migrator) -> i64 {
    m.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The newest successful migration on `$conn`, if the migrations table (counted by the query `$has_table`) is
/// there: `Result<Option<i64>>`.
macro_rules! applied {
    ($conn:expr, $has_table:expr) => {{
        let (tables,): (i64,) = sqlx::query_as($has_table).fetch_one(&mut $conn).await?;
        if tables == 0 {
            Ok::<Option<i64>, super::StoreError>(None)
        } else {
            let (v,): (Option<i64>,) =
                sqlx::query_as("select max(version) from _sqlx_migrations where success")
                    .fetch_one(&mut $conn)
                    .await?;
            Ok(v)
        }
    }};
}
use applied;
