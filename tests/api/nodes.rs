//! Several relay processes on one PostgreSQL database: upload through one, long-poll, download and
//! acknowledge through the other.

use crate::helpers::*;

#[tokio::test]
async fn two_nodes_share_one_postgres() {
    let Some(db) = crate::support::db::postgres().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = spawn_app(dir_a.path(), &db).await;
    // Node B shares the database and the signing keys (deploy/ documents sharing the keys directory).
    let b_keys = dir_b.path().join("keys");
    std::fs::create_dir_all(&b_keys).unwrap();
    for e in std::fs::read_dir(dir_a.path().join("keys")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), b_keys.join(e.file_name())).unwrap();
    }
    let b = spawn_app(dir_b.path(), &db).await;
    let (cm, prov, _) = a.offices().await;

    let waiting = {
        let recipient = b.client(Some(&prov));
        tokio::spawn(async move { recipient.get("/v1/inbox?wait=20").await.unwrap() })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
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
