//! A set's records as JSON: the recipient reads the delivery, the sender its submission, nobody else either;
//! the answer equals `convert --to json` of the same files; the read is an audit event and marks nothing.

use careplan_relay::records::{FORMAT, document};
use careplan_relay::spec::Spec;
use careplan_relay::validate::InputFile;

use crate::helpers::*;
use crate::support::db::backends;

#[tokio::test]
async fn records_of_a_set_for_its_recipient_and_its_sender_only() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, other) = app.offices().await;
        let (sender, recipient, stranger) = (
            app.client(Some(&cm)),
            app.client(Some(&prov)),
            app.client(Some(&other)),
        );
        let set = schedule("20250328101500");
        let created = sender.send(set.clone()).await.unwrap();
        assert_status(&created, 201);
        let submission = created.json["submission_id"].as_str().unwrap().to_string();
        let inbox = recipient.get("/v1/inbox").await.unwrap();
        let delivery = inbox.json["items"][0]["delivery_id"]
            .as_str()
            .unwrap()
            .to_string();

        let files: Vec<InputFile<'_>> = set
            .iter()
            .map(|(name, bytes)| InputFile { name, bytes })
            .collect();
        let want = serde_json::to_value(document(Spec::get().unwrap(), &files).unwrap()).unwrap();

        let got = recipient
            .get(&format!("/v1/inbox/{delivery}/records"))
            .await
            .unwrap();
        assert_status(&got, 200);
        assert_eq!(got.json["format"], FORMAT, "{}", db.backend);
        assert_eq!(
            got.json, want,
            "{}: the same document as convert --to json",
            db.backend
        );
        let plan = &got.json["files"][0];
        assert_eq!(plan["kind"], "UPPLAN");
        assert_eq!(plan["records"][0]["items"]["service_date"], "2025-04-01");

        let mine = sender
            .get(&format!("/v1/outbox/{submission}/records"))
            .await
            .unwrap();
        assert_status(&mine, 200);
        assert_eq!(mine.json, want, "{}", db.backend);

        // Nobody else, and not the other way round: 404 without saying whether it exists.
        for (client, path) in [
            (&stranger, format!("/v1/inbox/{delivery}/records")),
            (&stranger, format!("/v1/outbox/{submission}/records")),
            (&sender, format!("/v1/inbox/{delivery}/records")),
            (&recipient, format!("/v1/outbox/{submission}/records")),
            (&recipient, "/v1/inbox/no-such-delivery/records".to_string()),
        ] {
            let a = client.get(&path).await.unwrap();
            assert_status(&a, 404);
            assert!(a.json["message_ja"].is_string(), "{}: {}", db.backend, a.json);
        }

        // Reading records is audited and does not count as a download.
        let item = recipient.get(&format!("/v1/inbox/{delivery}")).await.unwrap();
        assert_eq!(item.json["status"], "queued", "{}", db.backend);
        let reads = app
            .events()
            .await
            .into_iter()
            .filter(|(kind, _)| kind == "set.records_read")
            .count();
        assert_eq!(reads, 2, "{}", db.backend);
        app.stop().await;
    }
}
