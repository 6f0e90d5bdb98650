//! SQLite's read-only connections: a fixed set, open for the life of the store, lent to one read at a time.
//!
//! Not a sqlx pool: a pool pings a SQLite connection's worker thread on every release (one more thread round
//! trip and a spawned task per read), which a local file does not need. Like a pool, reads wait in one fair
//! queue for whichever connection frees first, give up after [`WAIT`], and fail once the store is closed.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

use super::{Result, StoreError};

/// How long a read waits for a connection before failing (as a pool's acquire timeout would).
const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(super) struct Readers {
    /// One permit per connection; waiters are served in order. A read holds a permit as long as its connection,
    /// so a read with a permit always finds a connection unlocked.
    permits: Semaphore,
    conns: Vec<Mutex<SqliteConnection>>,
}

/// A connection lent to one read.
#[derive(Debug)]
pub(super) struct Lent<'a> {
    // Fields drop in order: the connection is unlocked before the permit lets the next read in.
    conn: MutexGuard<'a, SqliteConnection>,
    _permit: SemaphorePermit<'a>,
}

impl Readers {
    /// Opens `n` (at least one) connections with `opts`.
    pub(super) async fn open(opts: &SqliteConnectOptions, n: u32) -> Result<Readers> {
        let mut conns = Vec::new();
        for _ in 0..n.max(1) {
            conns.push(Mutex::new(opts.connect().await?));
        }
        Ok(Readers {
            permits: Semaphore::new(conns.len()),
            conns,
        })
    }

    /// A free connection, lent in the order reads asked for one.
    pub(super) async fn get(&self) -> Result<Lent<'_>> {
        let permit = match tokio::time::timeout(WAIT, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => return Err(StoreError::Db(sqlx::Error::PoolClosed)),
            Err(_elapsed) => return Err(StoreError::Db(sqlx::Error::PoolTimedOut)),
        };
        let free = self.conns.iter().find_map(|c| c.try_lock().ok());
        let conn = match free {
            Some(conn) => conn,
            // Not reached (see `permits`); waiting on one connection would still be correct.
            None => self.conns[0].lock().await,
        };
        Ok(Lent {
            conn,
            _permit: permit,
        })
    }

    /// (connections open, connections free).
    pub(super) fn stats(&self) -> (i64, i64) {
        (self.conns.len() as i64, self.permits.available_permits() as i64)
    }

    /// Waits for the reads in progress and refuses later ones. The connections close when the store is dropped.
    pub(super) async fn close(&self) {
        if let Ok(all) = self.permits.acquire_many(self.conns.len() as u32).await {
            all.forget();
        }
        self.permits.close();
    }
}

impl Deref for Lent<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    async fn readers(n: u32) -> (tempfile::TempDir, Readers) {
        let dir = tempfile::tempdir().unwrap();
        let opts = SqliteConnectOptions::new()
            .filename(dir.path().join("r.db"))
            .create_if_missing(true);
        let readers = Readers::open(&opts, n).await.unwrap();
        (dir, readers)
    }

    #[tokio::test]
    async fn a_read_waits_for_the_first_connection_freed_and_close_refuses_later_reads() {
        let (_dir, r) = readers(2).await;
        let a = r.get().await.unwrap();
        let b = r.get().await.unwrap();
        assert_eq!(r.stats(), (2, 0));
        let mut third = Box::pin(r.get());
        assert!(ready_soon(&mut third).await.is_none(), "no connection is free");
        drop(b);
        let mut c = third.await.unwrap();
        let (one,): (i64,) = sqlx::query_as("select 1").fetch_one(&mut *c).await.unwrap();
        assert_eq!(one, 1);
        drop((a, c));
        assert_eq!(r.stats(), (2, 2));
        r.close().await;
        assert!(matches!(
            r.get().await,
            Err(StoreError::Db(sqlx::Error::PoolClosed))
        ));
    }

    /// `f`'s output if it is ready within 50 ms (`f` can be awaited again otherwise).
    async fn ready_soon<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        tokio::time::timeout(Duration::from_millis(50), f).await.ok()
    }
}
