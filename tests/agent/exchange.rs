//! A care-manager agent and a provider agent exchange a plan, a schedule and actuals through their folders with
//! `--once` passes; a bad set lands in `rejected/` with its report; `client receipt` fetches a receipt.

use std::process::Command;

use crate::helpers::{self, CARE_MANAGER, PROVIDER};
use crate::{BIN, Office, files_in, fixture_as, set, support, temp_files};

#[tokio::test(flavor = "multi_thread")]
async fn two_offices_exchange_sets_through_their_folders() {
    for db in support::db::backends().await {
        let data = tempfile::tempdir().unwrap();
        let app = helpers::spawn_app(data.path(), &db).await;
        let (cm_token, hh_token, other) = app.offices().await;
        let root = tempfile::tempdir().unwrap();
        let cm = Office::new(root.path(), "cm", &app.url(), &app.ca(), &cm_token, "");
        let hh = Office::new(
            root.path(),
            "hh",
            &app.url(),
            &app.ca(),
            &hh_token,
            "layout = \"per_set\"",
        );

        let plan = set("plan", "20250401090000", false);
        let schedule = set("schedule", "20250401090100", false);
        let actual = set("actual", "20250430170000", true);
        let bad = fixture_as("invalid/E_LENGTH-service_count_3_digits", "20250401090200");
        cm.drop_set(&plan);
        cm.drop_set(&schedule);
        cm.drop_set(&bad);
        hh.drop_set(&actual);

        // The care manager's pass: two sets sent, the bad one refused before it is sent.
        let log = cm.once_ok().await;
        assert!(
            log.contains("送信しました") && log.contains("sent: 20250401090000"),
            "{log}"
        );
        assert!(log.contains("refused: 20250401090200"), "{log}");
        assert!(
            files_in(&cm.outbox).is_empty(),
            "{:?}",
            files_in(&cm.outbox).keys()
        );
        let sent = files_in(&cm.outbox.join("sent"));
        for (name, bytes) in plan.iter().chain(&schedule) {
            assert_eq!(sent.get(name), Some(bytes), "{name} in sent/");
        }
        for seq in ["20250401090000", "20250401090100"] {
            let r: serde_json::Value = serde_json::from_slice(&sent[&format!("{seq}.receipt.json")]).unwrap();
            let payload: serde_json::Value = serde_json::from_str(r["payload"].as_str().unwrap()).unwrap();
            assert_eq!(payload["sequence"], seq, "{db_backend}", db_backend = db.backend);
            assert!(r["signature"].is_string() && r["key_id"].is_string());
        }
        let rejected = files_in(&cm.outbox.join("rejected"));
        for (name, bytes) in &bad {
            assert_eq!(rejected.get(name), Some(bytes), "{name} in rejected/");
        }
        let text = String::from_utf8(rejected["20250401090200.report.txt"].clone()).unwrap();
        assert!(
            text.contains("E_LENGTH") && text.contains("No.14 サービス回数"),
            "{text}"
        );
        assert!(
            text.contains("項目長 2") && text.contains("exceeds the item length 2"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&rejected["20250401090200.report.json"]).unwrap();
        assert_eq!(json["error"], "invalid");

        // The provider's pass: its actuals sent, the plan and the schedule received, one folder per set.
        let log = hh.once_ok().await;
        assert!(
            log.contains("received: 20250401090000") && log.contains("受信しました"),
            "{log}"
        );
        for (seq, files) in [("20250401090000", &plan), ("20250401090100", &schedule)] {
            let got = files_in(&hh.inbox.join(format!("{CARE_MANAGER}_{seq}")));
            let want: std::collections::BTreeMap<_, _> = files.iter().cloned().collect();
            assert_eq!(got, want, "byte-identical set {seq}");
        }
        assert!(files_in(&hh.outbox).is_empty());

        // The care manager's next pass receives the actuals, flat in its inbox.
        cm.once_ok().await;
        let want: std::collections::BTreeMap<_, _> = actual.iter().cloned().collect();
        assert_eq!(files_in(&cm.inbox), want);

        // Everything acknowledged; another pass changes nothing and writes nothing twice.
        for token in [&cm_token, &hh_token] {
            let a = app
                .client(Some(token))
                .get("/v1/inbox?status=pending")
                .await
                .unwrap();
            assert_eq!(a.json["items"].as_array().unwrap().len(), 0, "{}", a.json);
        }
        let outbox = app.client(Some(&cm_token)).get("/v1/outbox").await.unwrap();
        let items = outbox.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "the refused set was never sent");
        assert!(
            items.iter().all(|i| i["status"] == "acknowledged"),
            "{}",
            outbox.json
        );
        cm.once_ok().await;
        hh.once_ok().await;
        assert_eq!(files_in(&cm.inbox), want);
        assert!(temp_files(root.path()).is_empty());

        // --status names the outcomes; `client receipt` fetches a receipt that verifies offline.
        let (code, status, _) = cm.sync(&["--status"]).await;
        assert_eq!(code, 0);
        assert!(
            status.contains("sent") && status.contains("refused") && status.contains("received"),
            "{status}"
        );
        let id = items[0]["submission_id"].as_str().unwrap();
        let file = root.path().join("receipt.json");
        let out = Command::new(BIN)
            .args([
                "client",
                "receipt",
                id,
                "--url",
                &app.url(),
                "--token",
                &hh_token,
                "--out",
            ])
            .arg(&file)
            .arg("--cacert")
            .arg(app.ca())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", out.stderr.escape_ascii());
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert!(r["payload"].as_str().unwrap().contains(PROVIDER));
        let verify = Command::new(BIN)
            .arg("--data-dir")
            .arg(data.path())
            .args(["receipt", "verify"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(verify.status.success(), "{}", verify.stderr.escape_ascii());
        // Another office cannot fetch it: 404, exit 2 (options before the command work as well).
        let denied = Command::new(BIN)
            .args(["client", "--url", &app.url(), "--token", &other, "--cacert"])
            .arg(app.ca())
            .args(["receipt", id])
            .output()
            .unwrap();
        assert_eq!(denied.status.code(), Some(2));

        app.stop().await;
        db.cleanup().await;
    }
}
