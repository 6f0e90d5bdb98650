//! Crash windows and outages. Each window is reconstructed as a kill leaves it (the relay's state, the
//! folders, the journal); the next `--once` pass must converge: every set sent and received exactly once,
//! byte-identical, no temporary file left. A running agent killed with SIGKILL leaves no lock behind.

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{self, CARE_MANAGER};
use crate::{BIN, Office, files_in, set, support, temp_files};

fn journal(office: &Office, value: &serde_json::Value) {
    std::fs::write(
        office.outbox.join(".careplan-relay-agent.json"),
        serde_json::to_vec(value).unwrap(),
    )
    .unwrap();
}

fn digests(files: &[(String, Vec<u8>)]) -> Vec<serde_json::Value> {
    files
        .iter()
        .map(|(n, b)| json!({"name": n, "sha256": careplan_relay::relay::sha256_hex(b)}))
        .collect()
}

async fn pending(app: &helpers::TestApp, token: &str) -> Vec<serde_json::Value> {
    let a = app.client(Some(token)).get("/v1/inbox?status=all").await.unwrap();
    a.json["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_crash_window_converges_on_the_next_pass() {
    for db in support::db::backends().await {
        let data = tempfile::tempdir().unwrap();
        let app = helpers::spawn_app(data.path(), &db).await;
        let (cm_token, hh_token, _) = app.offices().await;
        let root = tempfile::tempdir().unwrap();
        let cm = Office::new(root.path(), "cm", &app.url(), &app.ca(), &cm_token, "");
        let hh = Office::new(root.path(), "hh", &app.url(), &app.ca(), &hh_token, "");
        let sender = app.client(Some(&cm_token));

        // Window 1: the request reached the relay, the agent died before the answer (journal: sending).
        let a = set("schedule", "20250401100000", false);
        cm.drop_set(&a);
        helpers::assert_status(&sender.send(a.clone()).await.unwrap(), 201);
        // Window 2: accepted and recorded as sent, killed half-way through the move (one file in sent/).
        let b = set("plan", "20250401100100", false);
        cm.drop_set(&b);
        let answer = sender.send(b.clone()).await.unwrap();
        helpers::assert_status(&answer, 201);
        std::fs::create_dir_all(cm.outbox.join("sent")).unwrap();
        std::fs::rename(cm.outbox.join(&b[0].0), cm.outbox.join("sent").join(&b[0].0)).unwrap();
        // Window 3: a refused set recorded as refused, killed before its report and the move.
        let c = crate::fixture_as("invalid/E_CODE-sex_3", "20250401100200");
        cm.drop_set(&c);
        // A temporary file of an interrupted write in sent/.
        std::fs::write(
            cm.outbox.join("sent").join(format!(
                "{}1-x.receipt.json",
                careplan_relay::agent::fsio::TEMP_PREFIX
            )),
            b"{",
        )
        .unwrap();
        journal(
            &cm,
            &json!({"outgoing": {
                "20250401100000": {"state": "sending", "files": digests(&a)},
                "20250401100100": {"state": "sent", "files": digests(&b),
                                   "submission_id": answer.json["submission_id"]},
                "20250401100200": {"state": "refused", "files": digests(&c), "by_relay": false,
                                   "report": {"error": "invalid", "files": [], "set_errors": [
                                       {"code": "E_CODE", "message_ja": "コード", "message_en": "code"}]}}
            }}),
        );
        cm.once_ok().await;
        assert!(files_in(&cm.outbox).is_empty());
        let sent = files_in(&cm.outbox.join("sent"));
        for (name, bytes) in a.iter().chain(&b) {
            assert_eq!(sent.get(name), Some(bytes), "{name}");
        }
        assert!(sent.contains_key("20250401100000.receipt.json"));
        assert!(sent.contains_key("20250401100100.receipt.json"));
        let rejected = files_in(&cm.outbox.join("rejected"));
        assert!(rejected.contains_key("20250401100200.report.txt"));
        assert_eq!(rejected.len(), c.len() + 2);
        assert_eq!(
            pending(&app, &hh_token).await.len(),
            2,
            "each set exactly once at the relay"
        );

        // Window 4: the provider's agent died while writing a file (a temporary file is left) — and window 5:
        // it had written the whole plan (files on disk, nothing journaled) but not acknowledged it.
        std::fs::create_dir_all(&hh.inbox).unwrap();
        let half = hh.inbox.join(format!(
            "{}42-{}",
            careplan_relay::agent::fsio::TEMP_PREFIX,
            a[0].0
        ));
        std::fs::write(&half, &a[0].1[..a[0].1.len() / 2]).unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        for (name, bytes) in &b {
            let f = std::fs::File::create(hh.inbox.join(name)).unwrap();
            std::io::Write::write_all(&mut &f, bytes).unwrap();
            f.set_modified(old).unwrap();
        }
        hh.once_ok().await;
        let want: BTreeMap<_, _> = a.iter().chain(&b).cloned().collect();
        assert_eq!(files_in(&hh.inbox), want, "byte-identical");
        for (name, _) in &b {
            let m = std::fs::metadata(hh.inbox.join(name))
                .unwrap()
                .modified()
                .unwrap();
            assert_eq!(m, old, "{name} already on disk is not written again");
        }
        assert!(
            temp_files(root.path()).is_empty(),
            "{:?}",
            temp_files(root.path())
        );
        assert!(
            pending(&app, &hh_token)
                .await
                .iter()
                .all(|i| i["status"] == "acknowledged")
        );

        // Window 6: files written and journaled, the office's software took them away, the acknowledgement
        // never went out: the next pass acknowledges without writing them again.
        let d = set("schedule", "20250401100300", false);
        let answer = sender.send(d.clone()).await.unwrap();
        helpers::assert_status(&answer, 201);
        let id = pending(&app, &hh_token)
            .await
            .into_iter()
            .find(|i| i["sequence"] == "20250401100300")
            .unwrap()["delivery_id"]
            .clone();
        let inbox = hh.inbox.display().to_string();
        journal(
            &hh,
            &json!({"incoming": {id.as_str().unwrap(): {"sequence": "20250401100300", "sender": CARE_MANAGER,
                                                       "dir": inbox, "files": digests(&d)}}}),
        );
        hh.once_ok().await;
        assert!(
            d.iter().all(|(n, _)| !hh.inbox.join(n).exists()),
            "not written twice"
        );
        let items = pending(&app, &hh_token).await;
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| i["status"] == "acknowledged"), "{items:?}");

        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_outage_fails_softly_and_the_agent_catches_up() {
    for db in support::db::backends().await {
        let data = tempfile::tempdir().unwrap();
        let app = helpers::spawn_app(data.path(), &db).await;
        let (cm_token, hh_token, _) = app.offices().await;
        let root = tempfile::tempdir().unwrap();
        let cm = Office::new(root.path(), "cm", &app.url(), &app.ca(), &cm_token, "");
        let a = set("schedule", "20250401110000", false);
        let ca = app.ca();
        app.stop().await;

        cm.drop_set(&a);
        let (code, log, _) = cm.sync(&["--once"]).await;
        assert_eq!(code, 1, "{log}");
        assert!(log.contains("will retry"), "{log}");
        assert_eq!(files_in(&cm.outbox).len(), a.len(), "the set stays");
        let (_, status, _) = cm.sync(&["--status"]).await;
        assert!(
            status.contains("out:20250401110000") && status.contains("1 attempts"),
            "{status}"
        );

        let app = helpers::spawn_app(data.path(), &db).await;
        cm.configure(&app.url(), &ca, &cm_token, "");
        cm.once_ok().await;
        assert!(files_in(&cm.outbox).is_empty());
        let (_, status, _) = cm.sync(&["--status"]).await;
        assert!(!status.contains("out:20250401110000"), "{status}");
        let items = app.client(Some(&hh_token)).get("/v1/inbox").await.unwrap().json["items"].clone();
        assert_eq!(items.as_array().unwrap().len(), 1);

        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_agent_is_refused_and_a_killed_agent_leaves_no_lock() {
    let db = support::db::sqlite();
    let data = tempfile::tempdir().unwrap();
    let app = helpers::spawn_app(data.path(), &db).await;
    let (cm_token, hh_token, _) = app.offices().await;
    let root = tempfile::tempdir().unwrap();
    let cm = Office::new(root.path(), "cm", &app.url(), &app.ca(), &cm_token, "");
    let a = set("schedule", "20250401120000", false);
    cm.drop_set(&a);

    let mut running = tokio::process::Command::new(BIN)
        .args(["client", "sync", "--config"])
        .arg(&cm.config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The running agent sends the set; read its log until it says so.
    let mut lines = BufReader::new(running.stdout.take().unwrap()).lines();
    loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the agent runs until it has sent the set");
        if line.contains("sent: 20250401120000") {
            break;
        }
    }

    let (code, _, err) = cm.sync(&["--once"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("another agent") && err.contains("別のエージェント"),
        "{err}"
    );

    running.start_kill().unwrap();
    running.wait().await.unwrap();
    cm.once_ok().await;
    assert!(files_in(&cm.outbox).is_empty());
    assert_eq!(
        app.client(Some(&hh_token)).get("/v1/inbox").await.unwrap().json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
    let _ = root;
}
