//! Group commit for SQLite: one writer task runs every write transaction of this process (accepting a set,
//! marking a download, acknowledging, recording events, the admin writes, sealing the audit chain) in batches,
//! many requests in one `BEGIN IMMEDIATE … COMMIT`, so one fsync of the WAL makes a whole batch durable, and no
//! two connections of this process ever fight for the lock.
//!
//! A batch is whatever queued while the previous one committed (no timer: a lone request commits at once).
//! The accepted sets of a batch are written together, one multi-row statement per table
//! ([`Backend::insert_sets`]); the other jobs run one after another in the same transaction. Their files' bytes
//! are appended to segment files first (`body_files`), flushed to disk while the statements run, and the batch
//! commits only after that flush succeeded.
//! Each job's answer is sent only after the commit returned; if the batch fails, every job in it fails.
//! A job must fail with an ordinary error (`NotFound`, `Gone`, `Conflict`) only before it has written, so
//! the other jobs of its batch are unaffected (a statement refused by a constraint leaves SQLite's transaction
//! open); any other error rolls the batch back and the jobs it did not reach are carried into the next batch.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::SqliteConnection;
use sqlx::sqlite::SqlitePool;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

use super::backend::Backend;
use super::body_files::BodyFiles;
use super::sets::{place_bodies, take_bodies};
use super::submissions::SetOutcome;
use super::{NewSubmission, Result, StoreError, Stored};

/// A boxed future borrowing the writer's connection.
pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The most jobs in one transaction (bounds its size and the time the first job waits).
const MAX_BATCH: usize = 128;

/// Answers a job's caller: with `Some(why)` if its batch failed.
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// What a job leaves after running: a continuation that answers its caller once the batch's fate is known.
struct Step {
    /// The job failed in a way that spoils the transaction: roll the batch back.
    fatal: bool,
    answer: Answer,
}

type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Step> + Send>;

enum Job {
    /// An accepted set to store (answered `Conflict` if its sender and names exist already).
    Insert(Box<NewSubmission>, oneshot::Sender<Result<Stored>>),
    /// Any other write.
    Work(Work),
}

/// What the writer has done since start: batches committed (or rolled back), the jobs in them, and the time
/// spent in `COMMIT` (the WAL's fsync), for `/metrics`.
#[derive(Debug, Default)]
pub(super) struct WriteStats {
    pub(super) batches: AtomicU64,
    pub(super) jobs: AtomicU64,
    pub(super) commit_micros: AtomicU64,
}

/// The handle requests use to reach the writer task.
#[derive(Debug, Clone)]
pub(super) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
    pub(super) stats: Arc<WriteStats>,
    /// The store's checkpointer, finished when the store closes.
    pub(super) checkpointer: Option<Arc<super::sqlite::Checkpointer>>,
}

impl GroupCommit {
    /// Starts the writer task on `pool` (a pool of one connection), with the segment files accepted sets' bytes
    /// go to (`None`: into the rows).
    ///
    /// If the task ends (a panic in a job), it is logged, [`GroupCommit::is_running`] turns false (`/healthz`
    /// answers 503), and every write fails at once with [`StoreError::WriterStopped`] instead of waiting.
    pub(super) fn start(pool: SqlitePool, files: Option<Arc<BodyFiles>>) -> GroupCommit {
        let (jobs, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(WriteStats::default());
        let task = tokio::spawn(writer(pool, files, rx, Arc::clone(&stats)));
        tokio::spawn(async move {
            if let Err(e) = task.await
                && e.is_panic()
            {
                tracing::error!(
                    "the SQLite writer task panicked: every write fails until the relay restarts"
                );
            }
        });
        GroupCommit {
            jobs,
            stats,
            checkpointer: None,
        }
    }

    /// Whether the writer task still takes jobs.
    pub(super) fn is_running(&self) -> bool {
        !self.jobs.is_closed()
    }

    /// The error for a job whose answer never came: the writer died with it, or its batch was dropped.
    fn lost(&self) -> StoreError {
        if self.is_running() {
            StoreError::Batch("the writer dropped the job".into())
        } else {
            StoreError::WriterStopped
        }
    }

    /// Stores an accepted set in the next batch.
    pub(super) async fn insert(&self, s: NewSubmission) -> Result<Stored> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Insert(Box::new(s), tx))?;
        rx.await.map_err(|_| self.lost())?
    }

    fn send(&self, job: Job) -> Result<()> {
        self.jobs.send(job).map_err(|_| StoreError::WriterStopped)
    }

    /// Runs `work` inside the next batch's transaction and returns its result once the batch has committed.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let work: Work = Box::new(move |conn| {
            Box::pin(async move {
                match work(conn).await {
                    Ok(value) => Step {
                        fatal: false,
                        answer: Box::new(move |failed| {
                            let _ = tx.send(match failed {
                                None => Ok(value),
                                Some(why) => Err(StoreError::Batch(why.to_string())),
                            });
                        }),
                    },
                    Err(e) => Step {
                        fatal: !matches!(e, StoreError::NotFound | StoreError::Gone | StoreError::Conflict),
                        answer: Box::new(move |_| {
                            let _ = tx.send(Err(e));
                        }),
                    },
                }
            })
        });
        self.send(Job::Work(work))?;
        rx.await.map_err(|_| self.lost())?
    }
}

/// The flush to disk of the segment a batch's bytes went to, running while the batch's statements do.
type Flush = tokio::task::JoinHandle<std::io::Result<()>>;

/// Stores the accepted sets of a batch: what became of each, by submission id, and, when their bytes went to
/// segment files, the flush the commit must wait for.
async fn store_sets(
    conn: &mut SqliteConnection,
    files: Option<&BodyFiles>,
    sets: &mut [(Box<NewSubmission>, oneshot::Sender<Result<Stored>>)],
) -> Result<(HashMap<String, SetOutcome>, Option<Flush>)> {
    let mut subs: Vec<&mut NewSubmission> = sets.iter_mut().map(|(s, _)| s.as_mut()).collect();
    let (bodies, flush) = match files {
        Some(files) if !subs.is_empty() => {
            let bodies = place_bodies(files, &mut subs).map_err(|e| StoreError::BodyFile(e.to_string()))?;
            let flush = files
                .unsynced()
                .map(|file| tokio::task::spawn_blocking(move || file.sync_data()));
            (bodies, flush)
        }
        _ => (take_bodies(&mut subs), None),
    };
    Ok((conn.insert_sets(&subs, bodies).await?, flush))
}

/// Waits for a batch's flush; why the batch must fail if it did not reach the disk (the segment is then closed).
async fn flushed(flush: Flush, files: Option<&BodyFiles>) -> Option<String> {
    let failed = match flush.await {
        Ok(Ok(())) => return None,
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    files.inspect(|f| f.close_current());
    tracing::error!(error = %failed, "flushing the files' bytes to disk failed");
    Some(format!("flushing the files' bytes to disk failed: {failed}"))
}

async fn writer(
    pool: SqlitePool,
    files: Option<Arc<BodyFiles>>,
    mut rx: mpsc::UnboundedReceiver<Job>,
    stats: Arc<WriteStats>,
) {
    let mut queue: VecDeque<Job> = VecDeque::new();
    loop {
        if queue.is_empty() {
            match rx.recv().await {
                Some(job) => queue.push_back(job),
                None => return,
            }
        }
        while queue.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => queue.push_back(job),
                Err(_) => break,
            }
        }
        let mut conn = match pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                // The pool is closed or broken: the queued jobs fail (their callers get an error).
                tracing::error!(error = %e, "the SQLite writer cannot get its connection");
                queue.clear();
                continue;
            }
        };
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
            tracing::error!(error = %e, "the SQLite writer cannot begin a transaction");
            queue.clear();
            continue;
        }
        let started = std::time::Instant::now();
        let mut inserts: Vec<(Box<NewSubmission>, oneshot::Sender<Result<Stored>>)> = Vec::new();
        let mut works: Vec<Work> = Vec::new();
        while inserts.len() + works.len() < MAX_BATCH {
            match queue.pop_front() {
                Some(Job::Insert(s, tx)) => inserts.push((s, tx)),
                Some(Job::Work(w)) => works.push(w),
                None => break,
            }
        }
        let (mut outcomes, flush, mut failure) =
            match store_sets(&mut conn, files.as_deref(), &mut inserts).await {
                Ok((outcomes, flush)) => (outcomes, flush, None),
                Err(e) => {
                    tracing::error!(error = %e, "the SQLite writer failed to store a batch of sets");
                    (
                        HashMap::new(),
                        None,
                        Some(format!("storing the batch failed: {e}")),
                    )
                }
            };
        let mut steps: Vec<Step> = Vec::with_capacity(works.len());
        let mut works = works.into_iter();
        if failure.is_none() {
            for work in works.by_ref() {
                let step = work(&mut conn).await;
                let fatal = step.fatal;
                steps.push(step);
                if fatal {
                    failure = Some("another write in the same transaction failed".to_string());
                    break;
                }
            }
        }
        // Jobs not reached because the batch failed go into the next one.
        for work in works.rev() {
            queue.push_front(Job::Work(work));
        }
        if let Some(flush) = flush
            && failure.is_none()
        {
            failure = flushed(flush, files.as_deref()).await;
        }
        let ran = started.elapsed();
        let outcome = if failure.is_some() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            failure
        } else {
            match sqlx::query("COMMIT").execute(&mut *conn).await {
                Ok(_) => None,
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    Some(format!("commit failed: {e}"))
                }
            }
        };
        drop(conn);
        let jobs = inserts.len() + steps.len();
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.jobs.fetch_add(jobs as u64, Ordering::Relaxed);
        let committing = started.elapsed().saturating_sub(ran);
        stats
            .commit_micros
            .fetch_add(committing.as_micros() as u64, Ordering::Relaxed);
        tracing::debug!(
            jobs,
            run_us = ran.as_micros() as u64,
            commit_us = committing.as_micros() as u64,
            "group commit"
        );
        for (s, tx) in inserts {
            let _ = tx.send(match &outcome {
                Some(why) => Err(StoreError::Batch(why.clone())),
                None => match outcomes.remove(&s.id) {
                    Some(SetOutcome::Stored(stored)) => Ok(stored),
                    Some(SetOutcome::Older(newer)) => Err(StoreError::OlderSet(Box::new(newer))),
                    Some(SetOutcome::Conflict) | None => Err(StoreError::Conflict),
                },
            });
        }
        for step in steps {
            (step.answer)(outcome.as_deref());
        }
    }
}

#[cfg(test)]
mod tests;
