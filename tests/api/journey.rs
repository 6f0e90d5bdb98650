//! The whole journey: send → inbox → download → acknowledge → receipt, with retries and restarts.

use careplan_relay::relay::{Receipt, verify_receipt};

use crate::helpers::*;
use crate::support::db::backends;

/// One schedule set sent from the care manager to the provider: the clients, the set, the 201's body and the
/// delivery id in the provider's inbox.
struct Sent {
    sender: Checked,
    recipient: Checked,
    set: Vec<(String, Vec<u8>)>,
    created: serde_json::Value,
    delivery: String,
    /// The provider's token, for a client after a restart.
    provider_token: String,
}

async fn sent(app: &TestApp) -> Sent {
    let (cm, prov, _) = app.offices().await;
    let (sender, recipient) = (app.client(Some(&cm)), app.client(Some(&prov)));
    let set = schedule("20250328101500");
    let created = sender.send(set.clone()).await.unwrap();
    assert_status(&created, 201);
    let inbox = recipient.get("/v1/inbox").await.unwrap();
    let delivery = inbox.json["items"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    Sent {
        sender,
        recipient,
        set,
        created: created.json,
        delivery,
        provider_token: prov,
    }
}

#[tokio::test]
async fn a_set_is_accepted_once_a_retry_answers_the_same_and_other_bytes_conflict() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let Sent {
            sender,
            recipient,
            set,
            created,
            ..
        } = sent(&app).await;
        assert_eq!(created["sender"], CARE_MANAGER);
        assert_eq!(created["recipient"], PROVIDER);
        assert_eq!(created["sequence"], "20250328101500");
        assert_eq!(created["month"], "202504");
        assert_eq!(created["status"], "queued");
        assert_eq!(created["files"].as_array().unwrap().len(), 3);
        // An identical retry answers 200 with the first answer; other bytes under the same names are a 409.
        let again = sender.send(set.clone()).await.unwrap();
        assert_status(&again, 200);
        assert_eq!(again.json, created);
        let mut changed = set.clone();
        changed[1].1[0] = b'9';
        assert_status(&sender.send(changed).await.unwrap(), 409);
        let items = recipient.get("/v1/inbox").await.unwrap().json["items"].clone();
        let items = items.as_array().unwrap();
        assert_eq!(items.len(), 1, "the retry delivered nothing new");
        assert_eq!(items[0]["sender"], CARE_MANAGER);
        assert_eq!(items[0]["sender_service_type"], "43");
        assert_eq!(items[0]["status"], "queued");
        // The sender does not see it in its inbox.
        let own = sender.get("/v1/inbox").await.unwrap();
        assert!(own.json["items"].as_array().unwrap().is_empty());
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_recipient_downloads_the_exact_bytes_with_their_digests_and_acknowledges() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let Sent {
            sender,
            recipient,
            set,
            delivery,
            ..
        } = sent(&app).await;
        for (name, bytes) in &set {
            let (status, got, digest) = recipient.download(&delivery, name).await.unwrap();
            assert_eq!(status, 200);
            assert_eq!(&got, bytes, "{name}: the exact original bytes");
            let sha = careplan_relay::relay::sha256_hex(bytes);
            let raw: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&sha[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            use base64::Engine;
            let want = format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode(raw)
            );
            assert_eq!(digest.as_deref(), Some(want.as_str()));
        }
        let out = sender.get("/v1/outbox").await.unwrap();
        assert_eq!(out.json["items"][0]["status"], "downloaded");
        let ack_path = format!("/v1/inbox/{delivery}/ack");
        let ack = recipient.post(&ack_path).await.unwrap();
        assert_status(&ack, 200);
        let ack2 = recipient.post(&ack_path).await.unwrap();
        assert_eq!(
            ack2.json["acknowledged_at"], ack.json["acknowledged_at"],
            "repeating it changes nothing"
        );
        let pending = recipient.get("/v1/inbox").await.unwrap();
        assert!(pending.json["items"].as_array().unwrap().is_empty());
        let all = recipient.get("/v1/inbox?status=all").await.unwrap();
        assert_eq!(all.json["items"].as_array().unwrap().len(), 1);
        let out = sender.get("/v1/outbox").await.unwrap();
        assert_eq!(out.json["items"][0]["status"], "acknowledged");
        assert!(out.json["items"][0]["acknowledged_at"].is_string());
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_receipt_verifies_with_the_published_key_and_both_sides_get_the_same() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let Sent {
            sender,
            recipient,
            created,
            delivery,
            ..
        } = sent(&app).await;
        let ack = recipient
            .post(&format!("/v1/inbox/{delivery}/ack"))
            .await
            .unwrap();
        let receipt: Receipt = serde_json::from_value(ack.json["receipt"].clone()).unwrap();
        let keys = app.client(None).get("/v1/keys").await.unwrap();
        let keys: Vec<(String, String)> = keys.json["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["key_id"].as_str().unwrap().into(),
                    k["ed25519_public_key_base64"].as_str().unwrap().into(),
                )
            })
            .collect();
        let payload = verify_receipt(&receipt, &keys).expect("the receipt verifies with the published key");
        assert_eq!(payload["status"], "acknowledged");
        assert_eq!(payload["files"].as_array().unwrap().len(), 3);
        let mut tampered = receipt.clone();
        tampered.payload = tampered.payload.replacen(PROVIDER, OTHER, 1);
        assert!(verify_receipt(&tampered, &keys).is_err());
        // Sender and recipient can fetch the receipt.
        let sid = created["submission_id"].as_str().unwrap();
        let first = sender.get(&format!("/v1/receipts/{sid}")).await.unwrap();
        assert_status(&first, 200);
        // A receipt shown twice is the same receipt: it attests a state, issued at that state's time.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let again = sender.get(&format!("/v1/receipts/{sid}")).await.unwrap();
        assert_eq!(first.json, again.json, "{}", db.backend);
        assert_eq!(
            recipient.get(&format!("/v1/receipts/{sid}")).await.unwrap().json,
            first.json,
            "the recipient gets the same receipt"
        );
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_restart_on_the_same_data_keeps_the_delivered_set() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let Sent {
            set,
            delivery,
            provider_token: prov,
            ..
        } = sent(&app).await;
        app.stop().await;
        let app = spawn_app(dir.path(), &db).await;
        let recipient = app.client(Some(&prov));
        let all = recipient.get("/v1/inbox?status=all").await.unwrap();
        assert_eq!(all.json["items"][0]["delivery_id"], delivery.as_str());
        let (_, got, _) = recipient.download(&delivery, &set[1].0).await.unwrap();
        assert_eq!(got, set[1].1);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn inbox_orders_by_arrival_pages_and_long_polls() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;
        let (sender, recipient) = (app.client(Some(&cm)), app.client(Some(&prov)));
        for seq in ["20250328100000", "20250328110000", "20250328120000"] {
            assert_status(&sender.send(schedule(seq)).await.unwrap(), 201);
        }
        let page = recipient.get("/v1/inbox?limit=2").await.unwrap();
        let seqs: Vec<&str> = page.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["sequence"].as_str().unwrap())
            .collect();
        assert_eq!(seqs, ["20250328100000", "20250328110000"]);
        let next = page.json["next"]
            .as_str()
            .expect("a cursor when the page is full");
        let rest = recipient
            .get(&format!("/v1/inbox?limit=2&after={next}"))
            .await
            .unwrap();
        assert_eq!(rest.json["items"][0]["sequence"], "20250328120000");
        assert!(rest.json["next"].is_string(), "the last page has a cursor too");
        assert_status(&recipient.get("/v1/inbox?after=garbage").await.unwrap(), 400);

        // Long-poll: a waiting inbox returns as soon as a set arrives.
        let other = app.client(Some(&prov));
        for item in recipient.get("/v1/inbox").await.unwrap().json["items"]
            .as_array()
            .unwrap()
        {
            let id = item["delivery_id"].as_str().unwrap();
            assert_status(
                &recipient.post(&format!("/v1/inbox/{id}/ack")).await.unwrap(),
                200,
            );
        }
        let started = std::time::Instant::now();
        let waiting = tokio::spawn(async move { other.get("/v1/inbox?wait=20").await.unwrap() });
        app.long_polls(1).await;
        assert_status(&sender.send(schedule("20250328130000")).await.unwrap(), 201);
        let got = waiting.await.unwrap();
        assert_eq!(got.json["items"][0]["sequence"], "20250328130000");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the wait ended with the arrival, not the timeout"
        );
        // Nothing arrives: the wait ends empty, with the cursor to go on from.
        let cursor = got.json["next"].as_str().unwrap();
        let empty = recipient
            .get(&format!("/v1/inbox?wait=1&status=pending&after={cursor}"))
            .await
            .unwrap();
        assert!(empty.json["items"].as_array().unwrap().is_empty());
        assert_eq!(empty.json["next"], cursor);
        app.stop().await;
        db.cleanup().await;
    }
}
