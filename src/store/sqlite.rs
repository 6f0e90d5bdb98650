//! Opening the SQLite store: WAL with synchronous=FULL (a commit that returned survives a crash), one writer
//! connection with its group commit, a fixed set of read-only connections, checkpoints taken off the write path,
//! and the segment files beside a database file that hold the accepted files' bytes (`body_files`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::body_files::BodyFiles;
use super::readers::Readers;
use super::{Pool, Result, Store, StoreError, Writer, group};

/// How often the checkpointer copies committed pages from the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

pub(super) async fn open(url: &str, max_connections: Option<u32>) -> Result<Store> {
    let opts = SqliteConnectOptions::from_str(url)?;
    // Created 0600 before SQLite opens it (its WAL and shared memory follow the file's mode); existing files
    // with a wider mode are tightened.
    let file = opts.get_filename();
    let mut body_files = None;
    if file != std::path::Path::new(":memory:") {
        crate::files::private_database(file).map_err(|e| {
            sqlx::Error::Io(std::io::Error::new(
                e.kind(),
                format!("making {} private: {e}", file.display()),
            ))
        })?;
        body_files = Some(Arc::new(BodyFiles::open(file).map_err(|e| {
            StoreError::Setup(format!(
                "the directory of file bodies beside {} cannot be used: {e}",
                file.display()
            ))
        })?));
    }
    let opts = opts
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        // After a checkpoint resets the WAL, keep the file at most this big.
        .pragma("journal_size_limit", (64 * 1024 * 1024).to_string());
    // One writer connection: the writes of this process queue in order instead of sleeping in SQLite's busy
    // handler; other processes (the admin commands) still wait on the file lock. It never checkpoints: a
    // checkpoint inside a commit would hold up the whole batch. A batch's pages stay in its cache.
    let writer = SqlitePoolOptions::new()
        // A local file does not drop connections: no ping round trip before each use.
        .test_before_acquire(false)
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(
            opts.clone()
                .pragma("wal_autocheckpoint", "0")
                .pragma("cache_size", "-65536"),
        )
        .await?;
    let readers = Readers::open(&opts.clone().read_only(true), max_connections.unwrap_or(8)).await?;
    let checkpoints = opts.connect().await?;
    let stop = Arc::new(tokio::sync::Notify::new());
    let task = tokio::spawn(checkpointer(checkpoints, writer.clone(), Arc::clone(&stop)));
    let mut group = group::GroupCommit::start(writer.clone(), body_files.clone());
    group.checkpointer = Some(Arc::new(Checkpointer {
        stop,
        task: tokio::sync::Mutex::new(Some(task)),
    }));
    Ok(Store {
        pool: Pool::Sqlite(Arc::new(readers)),
        writer: Writer::Sqlite(writer, group),
        body_files,
    })
}

/// WAL frames (4 KiB pages) past which the checkpointer resets the WAL to empty (TRUNCATE), briefly holding
/// up the writer, rather than let the file grow while readers keep it busy.
const TRUNCATE_AT_FRAMES: i64 = 16_384;

/// The checkpointer task of a store: told to stop when the store closes, and awaited, so that nothing writes
/// to the database file once `Store::close` has returned.
#[derive(Debug)]
pub(super) struct Checkpointer {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Checkpointer {
    /// Wakes the checkpointer (the writer pool is closed by then) and waits for its last checkpoint.
    pub(super) async fn finish(&self) {
        self.stop.notify_one();
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

/// Copies the WAL into the database file without blocking the writer (PASSIVE), until the store is closed;
/// then once more, truncating the WAL. A WAL that has grown past [`TRUNCATE_AT_FRAMES`] is truncated.
async fn checkpointer(mut conn: SqliteConnection, writer: SqlitePool, stop: Arc<tokio::sync::Notify>) {
    while !writer.is_closed() {
        tokio::select! {
            () = tokio::time::sleep(CHECKPOINT_EVERY) => {}
            () = stop.notified() => continue,
        }
        // (busy, frames in the WAL, frames copied)
        let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await;
        match passive {
            Ok((_, frames, _)) if frames >= TRUNCATE_AT_FRAMES => {
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&mut conn)
                    .await
                {
                    tracing::warn!(error = %e, frames, "truncating the WAL failed; retrying");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
        }
    }
    let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
}
