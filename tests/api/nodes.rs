//! Several relay nodes on one database: upload through one, long-poll, download and acknowledge through the
//! other (PostgreSQL); receipts signed by one node verify with the keys published by the other, each node
//! with its own keys directory, also after a rotation (PostgreSQL and SQLite).

use careplan_relay::relay::{Receipt, verify_receipt};

use crate::helpers::*;
use crate::support::db::TestDb;

#[tokio::test]
async fn two_nodes_share_one_postgres() {
    let Some(db) = crate::support::db::postgres().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = spawn_app(dir_a.path(), &db).await;
    let b = spawn_app(dir_b.path(), &db).await;
    let (cm, prov, _) = a.offices().await;

    let waiting = {
        let recipient = b.client(Some(&prov));
        tokio::spawn(async move { recipient.get("/v1/inbox?wait=20").await.unwrap() })
    };
    b.long_polls(1).await;
    let set = schedule("20250328101500");
    assert_status(&a.client(Some(&cm)).send(set.clone()).await.unwrap(), 201);
    let got = waiting.await.unwrap();
    let item = &got.json["items"][0];
    let delivery = item["delivery_id"].as_str().unwrap().to_string();
    let recipient = b.client(Some(&prov));
    for (name, bytes) in &set {
        let (status, body, _) = recipient.download(&delivery, name).await.unwrap();
        assert_eq!((status, &body), (200, bytes));
    }
    assert_status(
        &recipient
            .post(&format!("/v1/inbox/{delivery}/ack"))
            .await
            .unwrap(),
        200,
    );
    let out = a.client(Some(&cm)).get("/v1/outbox").await.unwrap();
    assert_eq!(out.json["items"][0]["status"], "acknowledged");
    a.stop().await;
    b.stop().await;
    db.cleanup().await;
}

/// `GET /v1/keys` of a node as (key_id, base64 public key).
async fn published(node: &TestApp) -> Vec<(String, String)> {
    let answer = node.client(None).get("/v1/keys").await.unwrap();
    assert_status(&answer, 200);
    answer.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["key_id"].as_str().unwrap().into(),
                k["ed25519_public_key_base64"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn current_key(data_dir: &std::path::Path) -> String {
    std::fs::read_to_string(data_dir.join("keys").join("current"))
        .unwrap()
        .trim()
        .to_string()
}

/// Runs `careplan-relay --data-dir DATA ARGS…` on the test's database: (exit code, stdout, stderr). On a
/// blocking thread: the nodes in this process must go on committing while the command waits for SQLite's lock.
async fn cli(data: &std::path::Path, db: &TestDb, args: &[&str]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_careplan-relay"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env("CAREPLAN_RELAY__DATABASE__URL", &db.url);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

async fn receipt(node: &TestApp, token: &str, submission: &str) -> Receipt {
    let answer = node
        .client(Some(token))
        .get(&format!("/v1/receipts/{submission}"))
        .await
        .unwrap();
    assert_status(&answer, 200);
    serde_json::from_value(answer.json).unwrap()
}

#[tokio::test]
async fn receipts_signed_by_one_node_verify_with_the_keys_of_another() {
    for db in crate::support::db::backends().await {
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // Each node has a keys directory of its own: nothing is copied between them.
        let a = spawn_app(dir_a.path(), &db).await;
        let b = spawn_app(dir_b.path(), &db).await;
        let (key_a, key_b) = (current_key(dir_a.path()), current_key(dir_b.path()));
        assert_ne!(key_a, key_b, "{}: each node made its own key", db.backend);
        let (cm, prov, _) = a.offices().await;
        let sent = a
            .client(Some(&cm))
            .send(schedule("20250328101500"))
            .await
            .unwrap();
        assert_status(&sent, 201);
        let sid = sent.json["submission_id"].as_str().unwrap().to_string();

        let by_a = receipt(&a, &cm, &sid).await;
        let by_b = receipt(&b, &prov, &sid).await;
        assert_eq!(
            (by_a.key_id.as_str(), by_b.key_id.as_str()),
            (key_a.as_str(), key_b.as_str())
        );
        let (keys_a, keys_b) = (published(&a).await, published(&b).await);
        assert_eq!(keys_a, keys_b, "{}: both nodes publish the same keys", db.backend);
        assert_eq!(keys_a.len(), 2, "{}: {keys_a:?}", db.backend);
        verify_receipt(&by_a, &keys_b).expect("node A's receipt verifies with node B's keys");
        verify_receipt(&by_b, &keys_a).expect("node B's receipt verifies with node A's keys");

        // `receipt verify` in node B's data directory, without --keys, verifies node A's receipt.
        let file = dir_b.path().join("receipt-a.json");
        std::fs::write(&file, serde_json::to_vec(&by_a).unwrap()).unwrap();
        let (code, out, err) = cli(dir_b.path(), &db, &["receipt", "verify", file.to_str().unwrap()]).await;
        assert_eq!(code, 0, "{}: {out}{err}", db.backend);

        // Outside any relay's data directory: no key is created; without keys it says how to get them, and
        // `--url` verifies with the keys a relay publishes.
        let elsewhere = tempfile::tempdir().unwrap();
        let (file_arg, url, ca) = (file.to_str().unwrap(), b.url(), b.ca());
        let nowhere = crate::support::db::sqlite_at(&elsewhere.path().join("none.db"));
        let (code, _, err) = cli(elsewhere.path(), &nowhere, &["receipt", "verify", file_arg]).await;
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--url"), "{err}");
        let args = [
            "receipt",
            "verify",
            file_arg,
            "--url",
            &url,
            "--cacert",
            ca.to_str().unwrap(),
        ];
        let (code, out, err) = cli(elsewhere.path(), &nowhere, &args).await;
        assert_eq!(code, 0, "{}: {out}{err}", db.backend);
        assert!(out.starts_with("valid receipt"), "{out}");
        assert!(!elsewhere.path().join("keys").exists(), "verifying made no key");
        assert!(
            !elsewhere.path().join("none.db").exists(),
            "verifying made no database"
        );

        // Node A rotates its key with `receipt new-key`: published at once (node B lists it before node A
        // restarts), it signs from node A's next start.
        let (code, out, err) = cli(dir_a.path(), &db, &["receipt", "new-key"]).await;
        assert_eq!(code, 0, "{}: {out}{err}", db.backend);
        let rotated = current_key(dir_a.path());
        assert_ne!(rotated, key_a);
        let keys_b = published(&b).await;
        assert!(
            keys_b.iter().any(|(id, _)| *id == rotated),
            "{}: {keys_b:?}",
            db.backend
        );
        assert_eq!(
            receipt(&a, &cm, &sid).await.key_id,
            key_a,
            "the running node keeps its key"
        );
        a.stop().await;
        let a = spawn_app(dir_a.path(), &db).await;
        let after = receipt(&a, &cm, &sid).await;
        assert_eq!(after.key_id, rotated);
        let keys_b = published(&b).await;
        assert_eq!(keys_b.len(), 3, "{}: {keys_b:?}", db.backend);
        for r in [&by_a, &by_b, &after] {
            verify_receipt(r, &keys_b).expect("every receipt verifies with node B's keys");
        }
        a.stop().await;
        b.stop().await;
        db.cleanup().await;
    }
}
