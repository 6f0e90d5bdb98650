//! Upgrades: a database written by the earliest landed version (`bfeee5f`, three migrations) is opened by
//! today's binary, which migrates it at start; every set, token and audit event is still there and verifies.
//!
//! The data under `tests/upgrade/bfeee5f/{sqlite,postgres}/` was written by that version's binary with
//! `tests/upgrade/make.py` (two offices, four tokens of which one revoked, three sets of which two downloaded
//! and acknowledged with their receipts and one pending, one refused set), and `expected.json` holds what it
//! answered. On both databases this test checks that today's relay answers the same: the outbox and inbox list
//! the same sets with the same states and digests, each file downloads byte for byte (by SHA-256), the pending
//! set can still be acknowledged, the tokens still authenticate (and the revoked one does not), the old receipts
//! verify with the keys the relay now publishes, and `audit verify` passes over the old chain and the new events.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

mod support;

use std::path::{Path, PathBuf};

use careplan_relay::client::{Client, ClientOptions};
use careplan_relay::relay::{Receipt, verify_receipt};
use serde_json::Value;
use sha2::Digest;
use sqlx::Connection;
use support::process::{Node, cli};

fn written(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/upgrade/bfeee5f")
        .join(backend)
}

/// A data directory holding the old node's receipt key, as the old relay left it.
fn data_dir_from(old: &Path) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir(data.path().join("keys")).unwrap();
    for e in std::fs::read_dir(old.join("keys")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), data.path().join("keys").join(e.file_name())).unwrap();
    }
    data
}

/// Loads a `pg_dump --inserts` text into the empty database at `url` (psql's meta-commands left out).
async fn load_dump(url: &str, dump: &Path) {
    let text = std::fs::read_to_string(dump).unwrap();
    let sql: String = text
        .lines()
        .filter(|l| !l.starts_with('\\'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

fn client(node: &Node, data: &Path, token: &str) -> Client {
    Client::new(&ClientOptions {
        url: node.url(),
        token: Some(token.to_string().into()),
        cacert: Some(data.join("tls/ca.pem")),
        ..Default::default()
    })
    .unwrap()
}

/// (submission_id, status) of every item of a list answer, sorted.
fn states(items: &Value, status: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let state = if status == "inbox" {
                if i["acknowledged_at"].is_null() {
                    "pending"
                } else {
                    "acknowledged"
                }
                .to_string()
            } else {
                i["status"].as_str().unwrap().to_string()
            };
            (i["submission_id"].as_str().unwrap().to_string(), state)
        })
        .collect();
    v.sort();
    v
}

async fn upgrade(backend: &str, db_url: &str, data: &Path) {
    let old = written(backend);
    let expected: Value = serde_json::from_slice(&std::fs::read(old.join("expected.json")).unwrap()).unwrap();
    let token = |k: &str| expected["tokens"][k].as_str().unwrap().to_string();
    let mut node = Node::start(data, db_url);
    let (sender, recipient) = (
        client(&node, data, &token("care_manager")),
        client(&node, data, &token("provider")),
    );

    // The sender's outbox: the same sets, in the same states.
    let outbox = sender.get("/v1/outbox").await.unwrap();
    assert_eq!(outbox.status, 200, "{backend}: {}", outbox.json);
    assert_eq!(
        states(&outbox.json["items"], "outbox"),
        states(&expected["outbox"], "outbox"),
        "{backend}: the outbox"
    );

    // The recipient's inbox: every set, each file byte for byte.
    let inbox = recipient.get("/v1/inbox?status=all").await.unwrap();
    assert_eq!(inbox.status, 200, "{backend}: {}", inbox.json);
    let items = inbox.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{backend}: {}", inbox.json);
    let mut pending = Vec::new();
    for item in items {
        let delivery = item["delivery_id"].as_str().unwrap();
        for f in item["files"].as_array().unwrap() {
            let name = f["name"].as_str().unwrap();
            let (status, bytes, _) = recipient.download(delivery, name).await.unwrap();
            assert_eq!(status, 200, "{backend}: {name}");
            let digest = hex(&sha2::Sha256::digest(&bytes));
            assert_eq!(
                Some(digest.as_str()),
                expected["sha256"][name].as_str(),
                "{backend}: {name}"
            );
        }
        if item["acknowledged_at"].is_null() {
            pending.push(delivery.to_string());
        }
    }
    assert_eq!(pending.len(), 1, "{backend}: one set was left pending");
    let ack = recipient
        .post(&format!("/v1/inbox/{}/ack", pending[0]))
        .await
        .unwrap();
    assert_eq!(ack.status, 200, "{backend}: {}", ack.json);

    // Tokens: the admin token still administers, the revoked one is still refused.
    let admin = client(&node, data, &token("admin"))
        .get("/v1/admin/offices")
        .await
        .unwrap();
    assert_eq!(admin.status, 200, "{backend}: {}", admin.json);
    let revoked = client(&node, data, &token("revoked"))
        .get("/v1/inbox")
        .await
        .unwrap();
    assert_eq!(revoked.status, 401, "{backend}: the revoked token");

    // Receipts signed by the old relay verify with the keys today's relay publishes.
    let keys = client(&node, data, &token("provider"))
        .get("/v1/keys")
        .await
        .unwrap();
    let keys: Vec<(String, String)> = keys.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let f = |n: &str| k[n].as_str().unwrap().to_string();
            (f("key_id"), f("ed25519_public_key_base64"))
        })
        .collect();
    for r in expected["receipts"].as_array().unwrap() {
        let r: Receipt = serde_json::from_value(r.clone()).unwrap();
        verify_receipt(&r, &keys).unwrap_or_else(|e| panic!("{backend}: an old receipt: {e}"));
    }
    node.terminate();

    // The chain the old relay sealed, and the events since, verify.
    let audit: Value = serde_json::from_str(&cli(data, db_url, &["audit", "verify"])).unwrap();
    assert_eq!(audit["intact"], true, "{backend}: {audit}");
    let before = expected["audit_verify"]["positions"].as_i64().unwrap();
    assert!(
        audit["positions"].as_i64().unwrap() > before,
        "{backend}: {audit} after {before}"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_sqlite_store_of_the_first_version_upgrades() {
    let old = written("sqlite");
    let data = data_dir_from(&old);
    let db = data.path().join("relay.db");
    std::fs::copy(old.join("relay.db"), &db).unwrap();
    upgrade("sqlite", &format!("sqlite://{}", db.display()), data.path()).await;
}

#[tokio::test]
async fn a_postgres_store_of_the_first_version_upgrades() {
    let Some(db) = support::db::postgres().await else {
        return;
    };
    let old = written("postgres");
    let data = data_dir_from(&old);
    load_dump(&db.url, &old.join("dump.sql")).await;
    upgrade("postgres", &db.url, data.path()).await;
    db.cleanup().await;
}
