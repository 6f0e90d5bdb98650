//! The audit trail on both databases: intact after mixed traffic; any edit, deletion, reordering or insertion
//! made directly in the database is found at its position; exports are gap-free and overlap-free across
//! restarts and concurrent runs.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use careplan_relay::domain::{Office, OfficeKind};
use careplan_relay::generate::{Scenario, unit_files};
use careplan_relay::relay::{self, Relay, UploadedFile};
use careplan_relay::spec::{Generation, Spec};
use careplan_relay::store::Store;
use support::db::TestDb;

async fn exec(db: &TestDb, sql: &str) {
    if db.backend == "sqlite" {
        // Foreign keys are enforced per connection; an attacker's connection need not enforce them.
        let sql = sqlx::AssertSqlSafe(format!("pragma foreign_keys = off; {sql}"));
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Lifts the database's own protections, as an attacker with DDL rights would.
async fn unprotect(db: &TestDb) {
    if db.backend == "sqlite" {
        exec(
            db,
            "drop trigger events_no_update; drop trigger events_no_delete;",
        )
        .await;
    } else {
        exec(
            db,
            "drop trigger events_no_update on events; \
             alter table audit_chain drop constraint audit_chain_event_seq_fkey;",
        )
        .await;
    }
}

fn set(seq: &str) -> Vec<UploadedFile> {
    let spec = Spec::get().unwrap();
    let unit = spec.units.iter().find(|u| u.name == "schedule").unwrap();
    let mut sc = Scenario::small(Generation::V4);
    sc.sequence = seq.into();
    unit_files(spec, unit, &sc)
        .into_iter()
        .map(|f| UploadedFile {
            name: f.name,
            bytes: f.bytes,
        })
        .collect()
}

/// A relay with offices, tokens, accepted and rejected sets, downloads and acknowledgements.
/// Answers the relay and, for what the tests inspect or tamper with, its store.
async fn traffic(db: &TestDb, data: &Path) -> (Arc<Relay>, Store) {
    let store = Store::connect(&db.url, None).await.unwrap();
    let relay = Relay::new(store.clone(), Spec::get().unwrap(), data, Default::default()).unwrap();
    for (n, kind, t) in [
        ("1310000001", OfficeKind::CareManager, "43"),
        ("1310000002", OfficeKind::Provider, "11"),
    ] {
        let o = Office {
            number: n.into(),
            name: n.into(),
            kind,
            service_types: vec![t.into()],
            enabled: true,
        };
        relay.add_office(&o, "test").await.unwrap();
    }
    relay.issue_token(Some("1310000002"), "test").await.unwrap();
    for i in 0..4 {
        relay
            .submit("1310000001", set(&format!("2025032810000{i}")), None)
            .await
            .unwrap();
    }
    let mut bad = set("20250328110000");
    bad[0].bytes[0] = b'9';
    assert!(relay.submit("1310000001", bad, None).await.is_err());
    let (items, _) = relay
        .inbox(&relay::InboxRequest {
            recipient: "1310000002".into(),
            pending_only: true,
            after: None,
            limit: 10,
            wait: Duration::ZERO,
        })
        .await
        .unwrap();
    for d in items.iter().take(2) {
        let name = d.files[0].name.as_str();
        relay
            .download("1310000002", &d.delivery_id, name, None)
            .await
            .unwrap();
        relay
            .acknowledge("1310000002", &d.delivery_id, None)
            .await
            .unwrap();
    }
    (relay, store)
}

#[tokio::test]
async fn tampering_is_found_at_its_position() {
    for db in support::db::backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (relay, store) = traffic(&db, dir.path()).await;
        let store = &store;
        let v = relay.verify_audit().await.unwrap();
        assert!(
            v.intact && v.queued > 0,
            "unsealed events are queued, not broken: {v:?}"
        );
        relay.seal_all().await.unwrap();
        let v = relay.verify_audit().await.unwrap();
        assert!(v.intact, "{v:?}");
        assert!(
            v.positions >= 16,
            "offices, token, 4 accepted ×2, a rejection, downloads, acks: {v:?}"
        );
        assert_eq!(v.queued, 0);
        // Every event kind of the traffic is there, and none holds file contents.
        let chain = store.chain(0, 1000).await.unwrap();
        let kinds: std::collections::BTreeSet<String> = chain
            .iter()
            .map(|r| r.event.as_ref().unwrap().kind.clone())
            .collect();
        for k in [
            "office.added",
            "token.issued",
            "submission.accepted",
            "delivery.queued",
            "submission.rejected",
            "delivery.downloaded",
            "delivery.acknowledged",
        ] {
            assert!(kinds.contains(k), "{k} in {kinds:?}");
        }
        assert!(
            chain
                .iter()
                .all(|r| !r.event.as_ref().unwrap().detail.contains("202407,"))
        );
        // The database itself refuses changes.
        let refused = if db.backend == "sqlite" {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query("update events set kind = 'x'")
                .execute(&pool)
                .await
                .is_err()
        } else {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query("update events set kind = 'x'")
                .execute(&pool)
                .await
                .is_err()
        };
        assert!(refused);

        unprotect(&db).await;
        let seq_at = |p: usize| chain[p - 1].event.as_ref().unwrap().seq;
        // Edit position 5.
        exec(
            &db,
            &format!("update events set detail = '{{}}' where seq = {}", seq_at(5)),
        )
        .await;
        let v = relay.verify_audit().await.unwrap();
        assert_eq!((v.intact, v.broken_at), (false, Some(5)), "{v:?}");
        let original = chain[4].event.as_ref().unwrap().detail.replace('\'', "''");
        exec(
            &db,
            &format!(
                "update events set detail = '{original}' where seq = {}",
                seq_at(5)
            ),
        )
        .await;
        assert!(relay.verify_audit().await.unwrap().intact, "restored");
        // Reorder positions 7 and 8 (swap their contents).
        let (e7, e8) = (chain[6].event.clone().unwrap(), chain[7].event.clone().unwrap());
        let put = |seq: i64, e: &careplan_relay::store::EventRow| {
            format!(
                "update events set kind = '{}', detail = '{}' where seq = {seq}",
                e.kind,
                e.detail.replace('\'', "''")
            )
        };
        exec(&db, &put(e7.seq, &e8)).await;
        exec(&db, &put(e8.seq, &e7)).await;
        let v = relay.verify_audit().await.unwrap();
        assert_eq!(v.broken_at, Some(7), "{v:?}");
        exec(&db, &put(e7.seq, &e7)).await;
        exec(&db, &put(e8.seq, &e8)).await;
        // Insert an event behind the relay's back.
        exec(
            &db,
            "insert into events (at, kind, detail) values (1, 'forged', '{}')",
        )
        .await;
        let v = relay.verify_audit().await.unwrap();
        assert!(
            !v.intact && v.reason.as_deref().unwrap().contains("inserted"),
            "{v:?}"
        );
        exec(&db, "delete from events where kind = 'forged'").await;
        assert!(relay.verify_audit().await.unwrap().intact);
        // Delete position 3's event.
        exec(&db, &format!("delete from events where seq = {}", seq_at(3))).await;
        let v = relay.verify_audit().await.unwrap();
        assert_eq!(v.broken_at, Some(3), "{v:?}");
        store.close().await;
        db.cleanup().await;
    }
}

fn ndjson_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn exports_never_overlap_or_skip() {
    for db in support::db::backends().await {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("export");
        let (relay, _) = traffic(&db, dir.path()).await;
        let first = relay.export_audit(&out, "test").await.unwrap();
        let m1 = serde_json::to_value(first.batch.expect("a first batch")).unwrap();
        assert_eq!(m1["first"], 1);
        let lines = ndjson_lines(&first.files[0]);
        assert_eq!(lines.len() as i64, m1["count"].as_i64().unwrap());
        let sha = careplan_relay::relay::sha256_hex(&std::fs::read(&first.files[0]).unwrap());
        assert_eq!(m1["sha256"], sha.as_str());
        assert_eq!(lines.last().unwrap()["hash"], m1["chain_head"]);
        let receipt = careplan_relay::relay::Receipt {
            payload: m1["signed"].as_str().unwrap().into(),
            signature: m1["signature"].as_str().unwrap().into(),
            key_id: m1["key_id"].as_str().unwrap().into(),
        };
        careplan_relay::relay::verify_receipt(&receipt, &relay.keys.public_keys()).expect("signed manifest");

        // More traffic, a restart (a new relay on the same data), and two exporters at once.
        relay
            .submit("1310000001", set("20250328120000"), None)
            .await
            .unwrap();
        relay.close().await;
        let store = Store::connect(&db.url, None).await.unwrap();
        let relay = Relay::new(store, Spec::get().unwrap(), dir.path(), Default::default()).unwrap();
        let (a, b) = tokio::join!(relay.export_audit(&out, "a"), relay.export_audit(&out, "b"));
        let mut batches: Vec<serde_json::Value> = [a.unwrap(), b.unwrap()]
            .into_iter()
            .filter_map(|e| e.batch.map(|m| serde_json::to_value(m).unwrap()))
            .collect();
        // The two exporters run at once: either may take the lower range.
        batches.sort_by_key(|m| m["first"].as_i64());
        assert!(!batches.is_empty());
        let m2 = &batches[0];
        assert_eq!(
            m2["first"].as_i64().unwrap(),
            m1["last"].as_i64().unwrap() + 1,
            "no gap, no overlap"
        );
        if batches.len() == 2 {
            assert_eq!(
                batches[1]["first"].as_i64().unwrap(),
                m2["last"].as_i64().unwrap() + 1
            );
        }
        // Every sealed position appears exactly once across the files.
        let mut positions: Vec<i64> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
            .flat_map(|p| ndjson_lines(&p))
            .map(|l| l["position"].as_i64().unwrap())
            .collect();
        positions.sort_unstable();
        let n = positions.len() as i64;
        assert_eq!(positions, (1..=n).collect::<Vec<_>>());
        assert!(
            std::fs::read_dir(&out).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp"))
        );
        relay.close().await;
        db.cleanup().await;
    }
}
