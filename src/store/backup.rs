//! Backups of the SQLite store: a consistent copy of a live database (`VACUUM INTO`, one read transaction, so
//! `serve` keeps writing meanwhile) with the files' bytes from its segment files copied into it, and the checks a file passes before it is restored (a SQLite file whose
//! integrity check is `ok`, with the relay's tables and no migration newer than this program's).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;

use super::body_files::{BodyAt, BodyFiles};
use super::{Result, StoreError};

/// What a backup file holds: its size in bytes, the newest migration applied to it (its version number), and
/// its rows of submissions, deliveries and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupSummary {
    pub bytes: u64,
    pub migration: i64,
    pub submissions: i64,
    pub deliveries: i64,
    pub events: i64,
}

/// The tables every relay database has; a file without them is not a relay's database.
const RELAY_TABLES: [&str; 6] = [
    "_sqlx_migrations",
    "offices",
    "submissions",
    "deliveries",
    "events",
    "audit_chain",
];

/// The file of a `sqlite://` URL; `None` for PostgreSQL (or an in-memory database).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let opts = SqliteConnectOptions::from_str(url).ok()?;
    let file = opts.get_filename();
    (file != Path::new(":memory:")).then(|| file.to_path_buf())
}

fn setup(text: String) -> StoreError {
    StoreError::Setup(text)
}

/// Writes a consistent copy of the live SQLite database `db` to `out` (created `0600`; it must not exist), by
/// way of `<out>.partial`, checked with [`check_backup`] before it is renamed into place and synced.
///
/// Errors: `Setup` when `db` does not exist, `out` exists, or the copy fails its check; `Db` for SQLite errors.
pub async fn backup_sqlite(db: &Path, out: &Path) -> Result<BackupSummary> {
    if !db.is_file() {
        return Err(setup(format!("there is no SQLite database at {}", db.display())));
    }
    if out.exists() {
        return Err(setup(format!(
            "{} exists already; name a new file",
            out.display()
        )));
    }
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    // Created empty and private first: VACUUM INTO writes into an empty file and keeps its mode.
    crate::files::private_database(&partial)
        .map_err(|e| setup(format!("creating {}: {e}", partial.display())))?;
    let copied = async {
        let mut conn = SqliteConnectOptions::new()
            .filename(db)
            .busy_timeout(Duration::from_secs(30))
            .connect()
            .await?;
        sqlx::query("VACUUM INTO $1")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        inline_bodies(db, &partial).await?;
        check_backup(&partial).await
    }
    .await;
    let summary = match copied {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .and_then(|()| std::fs::rename(&partial, out))
        .and_then(|()| sync_parent(out))
        .map_err(|e| setup(format!("writing {}: {e}", out.display())))?;
    Ok(summary)
}

/// Rows of `files` filled per transaction by [`inline_bodies`].
const INLINE_CHUNK: i64 = 256;

/// Copies into the backup `copy` the bytes its `files` rows keep in the live database's segment files
/// (`<db>.bodies/`), so that the backup is one self-contained file: each such row gets its bytes in `body`
/// (checked against its SHA-256) and no longer names a segment.
///
/// Errors: `Setup` when a segment is missing or holds other bytes (retention may have deleted it after the
/// copy was taken: run the backup again); `Db` for SQLite errors.
async fn inline_bodies(db: &Path, copy: &Path) -> Result<()> {
    let mut conn = SqliteConnectOptions::new().filename(copy).connect().await?;
    let (has_segments,): (bool,) =
        sqlx::query_as("select count(*) > 0 from pragma_table_info('files') where name = 'segment'")
            .fetch_one(&mut conn)
            .await?;
    if has_segments {
        let files = BodyFiles::open(db)
            .map_err(|e| setup(format!("reading the file bodies of {}: {e}", db.display())))?;
        let mut after = 0i64;
        loop {
            let rows: Vec<(i64, i64, i64, i64, String)> = sqlx::query_as(
                "select rowid, segment, body_offset, size, sha256 from files \
                 where segment is not null and rowid > $1 order by rowid limit $2",
            )
            .bind(after)
            .bind(INLINE_CHUNK)
            .fetch_all(&mut conn)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            let mut tx = conn.begin().await?;
            for (rowid, segment, offset, size, sha256) in rows {
                let at = BodyAt {
                    segment,
                    offset,
                    size,
                };
                let bytes = files.read_checked(at, &sha256).map_err(|e| {
                    setup(format!(
                        "the bytes of a file in segment {segment} of {}.bodies cannot be read ({e}; retention may \
                         have removed them while the copy was made): run the backup again",
                        db.display()
                    ))
                })?;
                sqlx::query(
                    "update files set body = $1, segment = null, body_offset = null where rowid = $2",
                )
                .bind(bytes)
                .bind(rowid)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
    }
    conn.close().await?;
    Ok(())
}

/// Syncs the directory holding `path`, so that a rename into it survives a crash.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(parent)?.sync_all()
}

/// Checks that `file` is a relay's SQLite database that this program can open: SQLite's `integrity_check`
/// answers `ok`, the relay's tables are there, and no migration in it is newer than this program's.
///
/// Errors: `Setup` naming what is wrong (not SQLite, damaged, not a relay's, too new).
pub async fn check_backup(file: &Path) -> Result<BackupSummary> {
    let bytes = std::fs::metadata(file)
        .map_err(|e| setup(format!("cannot read {}: {e}", file.display())))?
        .len();
    let not_ours = |what: &str| {
        setup(format!(
            "{} is not a careplan-relay SQLite database: {what}",
            file.display()
        ))
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true)
        .connect()
        .await
        .map_err(|e| not_ours(&e.to_string()))?;
    let problems: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| not_ours(&e.to_string()))?;
    if problems.len() != 1 || problems[0].0 != "ok" {
        let first: Vec<&str> = problems.iter().take(5).map(|p| p.0.as_str()).collect();
        return Err(setup(format!(
            "{} fails SQLite's integrity check: {}",
            file.display(),
            first.join("; ")
        )));
    }
    let tables: Vec<(String,)> = sqlx::query_as("select name from sqlite_master where type = 'table'")
        .fetch_all(&mut conn)
        .await?;
    if let Some(missing) = RELAY_TABLES.iter().find(|t| !tables.iter().any(|(n,)| n == *t)) {
        return Err(not_ours(&format!("it has no table {missing}")));
    }
    let (migration,): (Option<i64>,) =
        sqlx::query_as("select max(version) from _sqlx_migrations where success")
            .fetch_one(&mut conn)
            .await?;
    let migration = migration.unwrap_or(0);
    let newest = sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    if migration > newest {
        return Err(setup(format!(
            "{} was written by a newer careplan-relay (migration {migration}; this one knows up to {newest}): \
             restore it with that version",
            file.display()
        )));
    }
    let (submissions, deliveries, events): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from submissions), (select count(*) from deliveries), \
         (select count(*) from events)",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(BackupSummary {
        bytes,
        migration,
        submissions,
        deliveries,
        events,
    })
}
