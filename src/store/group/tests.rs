use super::*;

#[tokio::test]
async fn a_writer_that_died_is_reported_and_writes_fail_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
    let pool = SqlitePool::connect(&url).await.expect("open");
    let group = GroupCommit::start(pool, None);
    let ok: Result<i64> = group
        .run(|conn| Box::pin(async move { Ok(sqlx::query_scalar("select 1").fetch_one(conn).await?) }))
        .await;
    assert_eq!(ok.expect("a write through the writer"), 1);
    assert!(group.is_running());

    let died: Result<()> = group
        .run(|_| Box::pin(async move { panic!("a job panics") }))
        .await;
    assert!(matches!(died, Err(StoreError::WriterStopped)), "{died:?}");
    assert!(!group.is_running());
    let started = std::time::Instant::now();
    let after: Result<()> = group.run(|_| Box::pin(async move { Ok(()) })).await;
    assert!(matches!(after, Err(StoreError::WriterStopped)), "{after:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "refused without waiting"
    );
}

#[tokio::test]
async fn a_job_refused_by_a_unique_key_leaves_the_rest_of_its_batch_to_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
    let pool = SqlitePool::connect(&url).await.expect("open");
    sqlx::query("create table t (k text primary key)")
        .execute(&pool)
        .await
        .expect("table");
    sqlx::query("insert into t (k) values ('taken')")
        .execute(&pool)
        .await
        .expect("row");
    let group = GroupCommit::start(pool.clone(), None);
    let insert = |k: &'static str| {
        group.run(move |conn| {
            Box::pin(async move {
                sqlx::query("insert into t (k) values ($1)")
                    .bind(k)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
    };
    // Polled in one pass, so all three are queued before the writer runs: one batch.
    let (before, refused, after) = tokio::join!(insert("before"), insert("taken"), insert("after"));
    assert!(before.is_ok(), "{before:?}");
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
    assert!(after.is_ok(), "{after:?}");
    assert_eq!(group.stats.batches.load(Ordering::Relaxed), 1, "one batch");
    let keys: Vec<(String,)> = sqlx::query_as("select k from t order by k")
        .fetch_all(&pool)
        .await
        .expect("rows");
    let keys: Vec<&str> = keys.iter().map(|(k,)| k.as_str()).collect();
    assert_eq!(keys, ["after", "before", "taken"]);
}
