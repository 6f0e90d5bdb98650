//! `Store::seed` on both real databases: counts, statuses, the seeded inbox read through the store, a download
//! whose bytes match their SHA-256 and are a valid file, a token for the office it names, and a schema (indexes,
//! constraints) after the seed identical to the migrated one, also after an interrupted seed.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

mod support;

use careplan_relay::relay::{Relay, sha256_hex, token_hash};
use careplan_relay::spec::Spec;
use careplan_relay::store::{InboxQuery, NewEvent, Store, StoreError};
use careplan_relay::validate::{InputFile, validate_set};
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::Connection;

const OFFICES: u64 = 50;
const DELIVERIES: u64 = 2_000;
const BACKLOG: u64 = 300;

/// The schema as the database describes it: every object of `sqlite_master` with its SQL, or on PostgreSQL every
/// index of `pg_indexes` and every constraint with its definition.
async fn schema(url: &str) -> Vec<(String, String, String)> {
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(
            "select tablename::text, indexname::text, indexdef from pg_indexes \
             where schemaname = current_schema() \
             union all select conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) \
             from pg_constraint where connamespace = current_schema()::regnamespace order by 1, 2, 3",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(
            "select type || ' ' || tbl_name, name, coalesce(sql, '') from sqlite_master order by 1, 2, 3",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    }
}

/// `select count(*)` of a table (with a condition) straight from the database.
async fn count(url: &str, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(format!("select count(*) from {sql}"));
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as::<_, (i64,)>(sql)
            .fetch_one(&mut c)
            .await
            .unwrap()
            .0
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as::<_, (i64,)>(sql)
            .fetch_one(&mut c)
            .await
            .unwrap()
            .0
    }
}

#[tokio::test]
async fn seeds_a_readable_inbox_on_both_databases() {
    for db in support::db::backends().await {
        check(&db.url, db.backend).await;
        db.cleanup().await;
    }
}

async fn check(url: &str, backend: &str) {
    let store = Store::connect(url, None).await.unwrap();
    let migrated = schema(url).await;
    assert!(
        migrated
            .iter()
            .any(|(_, name, _)| name == "deliveries_pending_arrival"),
        "{backend}: {migrated:?}"
    );
    let mut reports = Vec::new();
    let (office, pending) = store
        .seed(OFFICES, DELIVERIES, 7, BACKLOG, |done, total, step| {
            reports.push((done, total, step))
        })
        .await
        .unwrap();
    // An empty database: the indexes were dropped for the load and rebuilt exactly as they were.
    assert_eq!(
        reports.first(),
        Some(&(0, DELIVERIES, "indexes dropped")),
        "{backend}"
    );
    assert!(
        reports.contains(&(DELIVERIES, DELIVERIES, "deliveries")),
        "{backend}: {reports:?}"
    );
    assert_eq!(
        reports.last(),
        Some(&(DELIVERIES, DELIVERIES, "indexes rebuilt")),
        "{backend}"
    );
    assert_eq!(schema(url).await, migrated, "{backend}: the schema after seeding");
    assert_eq!(office, "1300000000", "{backend}: the backlog goes to office 0");

    // Counts: offices, one submission, one file and one delivery per set; no events for seeded data.
    assert_eq!(store.offices().await.unwrap().len() as u64, OFFICES, "{backend}");
    for table in ["submissions", "files", "deliveries"] {
        assert_eq!(count(url, table).await, DELIVERIES as i64, "{backend}: {table}");
    }
    assert_eq!(count(url, "events").await, 0, "{backend}");
    // The backlog is queued, 5 % of the rest pending, the others acknowledged.
    let spread = (DELIVERIES - BACKLOG) * 5 / 100;
    assert_eq!(
        store.pending_deliveries().await.unwrap().count as u64,
        BACKLOG + spread,
        "{backend}"
    );
    assert!(
        count(url, "deliveries where status = 'downloaded'").await > 0,
        "{backend}"
    );
    assert_eq!(
        count(
            url,
            "deliveries where status = 'acknowledged' and acknowledged_at is null"
        )
        .await,
        0,
        "{backend}"
    );
    // Every delivery goes between offices of different kinds, and every office receives some.
    for (sender_type, parity) in [("43", 0), ("11", 1)] {
        let wrong = format!(
            "deliveries where sender_type = '{sender_type}' and cast(substr(recipient, 10, 1) as integer) % 2 = {parity}"
        );
        assert_eq!(count(url, &wrong).await, 0, "{backend}: {wrong}");
    }
    assert_eq!(
        count(url, "(select distinct recipient from deliveries) r").await,
        OFFICES as i64
    );

    // The inbox through the store: the pending deliveries of the office, in sequence order, each with its file.
    let q = InboxQuery {
        recipient: office.clone(),
        pending_only: true,
        after: None,
        limit: 500,
    };
    let items = store.inbox(&q).await.unwrap();
    assert_eq!(items.len() as i64, pending, "{backend}");
    assert!(pending >= BACKLOG as i64, "{backend}");
    assert!(
        items.windows(2).all(|w| w[0].sequence < w[1].sequence),
        "{backend}"
    );
    // Seeded deliveries carry arrival numbers in the same order, and the recipient's counter is past them.
    assert!(items.windows(2).all(|w| w[0].arrival < w[1].arrival), "{backend}");
    let last = store.last_arrival(&office).await.unwrap();
    assert!(items.last().is_some_and(|d| d.arrival <= last), "{backend}");
    let d = &items[0];
    assert_eq!(
        (d.files.len(), d.sender_type.as_deref()),
        (1, Some("11")),
        "{backend}"
    );
    let f = &d.files[0];
    assert!(
        f.name.starts_with("UPJSK_") && f.name.contains(&office),
        "{backend}: {}",
        f.name
    );

    // A download: the bytes match the SHA-256 and size in the inbox, and they are a valid UPJSK file.
    let event = NewEvent::new(
        "delivery.downloaded",
        Some(&office),
        json!({ "delivery_id": d.id }),
    );
    let file = store.download(&office, &d.id, &f.name, event).await.unwrap();
    let bytes = file.body;
    assert_eq!(file.sha256, f.sha256, "{backend}");
    assert_eq!(
        (sha256_hex(&bytes), bytes.len() as i64, file.kind),
        (file.sha256, f.size, "UPJSK".into())
    );
    let name = "UPJSK_202503_1310000001_43_1310000002_11_20250328101500.CSV";
    let checked = validate_set(Spec::get().unwrap(), &[InputFile { name, bytes: &bytes }]);
    assert!(checked.report.valid, "{backend}: {:?}", checked.report);
    assert_eq!(checked.report.files[0].records, 2, "{backend}");

    // Acknowledging works on seeded rows; another office cannot see them.
    let event = NewEvent::new(
        "delivery.acknowledged",
        Some(&office),
        json!({ "delivery_id": d.id }),
    );
    store.acknowledge(&office, &d.id, event).await.unwrap();
    let other = NewEvent::new("delivery.downloaded", Some("1300000002"), json!({}));
    let err = store
        .download("1300000002", &d.id, &f.name, other)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{backend}: {err:?}");

    // A token for the office, through the ordinary issuing path.
    let keys = tempfile::tempdir().unwrap();
    let relay = Relay::open(
        store.clone(),
        Spec::get().unwrap(),
        keys.path(),
        Default::default(),
    )
    .unwrap();
    let token = relay.issue_token(Some(&office), "test").await.unwrap();
    let row = store
        .token_by_hash(&token_hash(token.token.expose_secret()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.office.as_deref(), Some(office.as_str()), "{backend}");

    // The same seed twice collides on its ids; the data stays as it was.
    let again = store.seed(OFFICES, 10, 7, 0, |_, _, _| {}).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict), "{backend}: {again:?}");
    assert_eq!(count(url, "deliveries").await, DELIVERIES as i64, "{backend}");
    assert_eq!(
        schema(url).await,
        migrated,
        "{backend}: the schema after a refused seed"
    );
    store.close().await;
}

#[tokio::test]
async fn a_seed_finishes_what_an_interrupted_one_left() {
    for db in support::db::backends().await {
        let store = Store::connect(&db.url, None).await.unwrap();
        let migrated = schema(&db.url).await;
        // What an interrupted seed leaves: an index dropped, its definition waiting in seed_rebuild.
        let (_, _, def) = migrated
            .iter()
            .find(|(_, name, _)| name == "deliveries_pending_arrival")
            .unwrap()
            .clone();
        for sql in [
            "create table seed_rebuild (ord integer not null, stmt text not null)".to_string(),
            format!(
                "insert into seed_rebuild (ord, stmt) values (0, '{}')",
                def.replace('\'', "''")
            ),
            "drop index deliveries_pending_arrival".to_string(),
        ] {
            exec(&db.url, &sql).await;
        }
        assert_ne!(schema(&db.url).await, migrated, "{}", db.backend);
        let mut steps = Vec::new();
        store
            .seed(8, 20, 3, 5, |_, _, step| steps.push(step))
            .await
            .unwrap();
        assert_eq!(steps.first(), Some(&"indexes rebuilt"), "{}", db.backend);
        assert_eq!(schema(&db.url).await, migrated, "{}", db.backend);
        assert_eq!(count(&db.url, "deliveries").await, 20, "{}", db.backend);
        store.close().await;
        db.cleanup().await;
    }
}

/// Runs one statement straight on the database.
async fn exec(url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}
