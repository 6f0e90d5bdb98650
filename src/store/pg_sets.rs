//! Group commit of accepted sets on PostgreSQL: the sets that arrive while a batch is being written wait for the
//! next one, and each batch is one transaction with one multi-row statement per table
//! ([`Backend::insert_sets`]) instead of a transaction of about ten statements per set. Every other write stays
//! a transaction of its own.
//!
//! A batch takes each of its recipients' counter rows in a fixed order, as a single set does, so batches of two
//! nodes wait for each other instead of deadlocking. Each set's answer is sent only after its batch committed; if
//! the batch fails, every set in it fails with [`StoreError::Batch`] (answered 503: the sender's retry is
//! idempotent) and the cause is logged once.

use std::collections::HashMap;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::backend::Backend;
use super::sets::take_bodies;
use super::submissions::SetOutcome;
use super::{NewSubmission, Result, StoreError, Stored};

/// The most sets in one transaction.
const MAX_BATCH: usize = 64;

type Job = (Box<NewSubmission>, oneshot::Sender<Result<Stored>>);

/// The handle requests use to reach the task that writes the batches.
#[derive(Debug, Clone)]
pub(super) struct PgSets {
    jobs: mpsc::UnboundedSender<Job>,
}

impl PgSets {
    /// Starts the batch task on `pool`.
    pub(super) fn start(pool: PgPool) -> PgSets {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(batches(pool, rx));
        PgSets { jobs }
    }

    /// Whether the batch task still takes sets (it ends only by a panic).
    pub(super) fn is_running(&self) -> bool {
        !self.jobs.is_closed()
    }

    /// Stores an accepted set in the next batch: how it was stored, or `Conflict`, `OlderSet`, `Batch`.
    pub(super) async fn insert(&self, s: NewSubmission) -> Result<Stored> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send((Box::new(s), tx))
            .map_err(|_| StoreError::WriterStopped)?;
        rx.await
            .map_err(|_| StoreError::Batch("the set's batch was dropped".into()))?
    }
}

async fn batches(pool: PgPool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = write(&pool, &mut batch).await;
        if let Err(e) = &outcome {
            tracing::error!(error = %e, sets = batch.len(), "storing a batch of sets on PostgreSQL failed");
        }
        let mut outcomes = match outcome {
            Ok(outcomes) => Ok(outcomes),
            Err(e) => Err(e.to_string()),
        };
        for (s, tx) in batch {
            let _ = tx.send(match &mut outcomes {
                Err(why) => Err(StoreError::Batch(why.clone())),
                Ok(outcomes) => match outcomes.remove(&s.id) {
                    Some(SetOutcome::Stored(stored)) => Ok(stored),
                    Some(SetOutcome::Older(newer)) => Err(StoreError::OlderSet(Box::new(newer))),
                    Some(SetOutcome::Conflict) | None => Err(StoreError::Conflict),
                },
            });
        }
    }
}

/// Writes one batch in one transaction: what became of each set, by submission id.
async fn write(pool: &PgPool, batch: &mut [Job]) -> Result<HashMap<String, SetOutcome>> {
    let mut tx = pool.begin().await?;
    let mut subs: Vec<&mut NewSubmission> = batch.iter_mut().map(|(s, _)| s.as_mut()).collect();
    let bodies = take_bodies(&mut subs);
    let outcomes = tx.insert_sets(&subs, bodies).await?;
    tx.commit().await?;
    Ok(outcomes)
}
