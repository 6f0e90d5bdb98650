//! Kill the relay process (SIGKILL) while clients upload concurrently, restart it, and check that every set
//! that got a 201 is there, complete and byte-identical (on SQLite: read from the segment files the killed
//! process was appending to), that no partial set is visible and that new sets are stored after the restart; and
//! SIGTERM drains and stops.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

mod support;

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use careplan_relay::client::{Client, ClientOptions};
use careplan_relay::generate::{Scenario, unit_files};
use careplan_relay::spec::{Generation, Spec};
use support::process::{Node, cli};

fn set(seq: usize) -> Vec<(String, Vec<u8>)> {
    let spec = Spec::get().unwrap();
    let unit = spec.units.iter().find(|u| u.name == "schedule").unwrap();
    let mut sc = Scenario::small(Generation::V4);
    sc.sequence = format!("20250328{:02}{:02}{:02}", seq / 3600, seq / 60 % 60, seq % 60);
    sc.seed = seq as u64;
    unit_files(spec, unit, &sc)
        .into_iter()
        .map(|f| (f.name, f.bytes))
        .collect()
}

/// The sets that got a 201, by submission id.
type Accepted = HashMap<String, Vec<(String, Vec<u8>)>>;

async fn crash_and_recover(db_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    cli(
        data,
        db_url,
        &[
            "office",
            "add",
            "1310000001",
            "--name",
            "A",
            "--kind",
            "care_manager",
            "--service-type",
            "43",
        ],
    );
    cli(
        data,
        db_url,
        &[
            "office",
            "add",
            "1310000002",
            "--name",
            "B",
            "--kind",
            "provider",
            "--service-type",
            "11",
        ],
    );
    let token = |o: &str| {
        cli(data, db_url, &["token", "issue", "--office", o])
            .lines()
            .last()
            .unwrap()
            .to_string()
    };
    let (sender_token, recipient_token) = (token("1310000001"), token("1310000002"));
    let mut node = Node::start(data, db_url);
    let addr = node.addr.clone();
    let client = |addr: &str, t: &str| {
        Client::new(&ClientOptions {
            url: format!("https://{addr}"),
            token: Some(t.to_string().into()),
            cacert: Some(data.join("tls/ca.pem")),
            ..Default::default()
        })
        .unwrap()
    };

    let accepted: Arc<Mutex<Accepted>> = Arc::default();
    let mut tasks = Vec::new();
    for worker in 0..8usize {
        let (sender, accepted) = (client(&addr, &sender_token), Arc::clone(&accepted));
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let files = set(worker * 5000 + i);
                match sender.send(files.clone()).await {
                    Ok(a) if a.status == 201 => {
                        let id = a.json["submission_id"].as_str().unwrap().to_string();
                        accepted.lock().unwrap().insert(id, files);
                    }
                    Ok(a) => panic!("unexpected answer {}: {}", a.status, a.json),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    node.kill();
    for t in tasks {
        t.await.unwrap();
    }
    let accepted = std::mem::take(&mut *accepted.lock().unwrap());
    assert!(
        accepted.len() >= 5,
        "the load ran before the kill ({} sets)",
        accepted.len()
    );

    node.restart();
    let recipient = client(&node.addr, &recipient_token);
    let mut seen = HashMap::new();
    let mut after = String::new();
    loop {
        let q = if after.is_empty() {
            String::new()
        } else {
            format!("&after={after}")
        };
        let page = recipient
            .get(&format!("/v1/inbox?status=all&limit=500{q}"))
            .await
            .unwrap();
        for item in page.json["items"].as_array().unwrap() {
            let files = item["files"].as_array().unwrap();
            assert_eq!(files.len(), 3, "a visible set is complete: {item}");
            seen.insert(
                item["submission_id"].as_str().unwrap().to_string(),
                item["delivery_id"].as_str().unwrap().to_string(),
            );
        }
        // `next` is on every page; a page short of the limit is the last.
        if page.json["items"].as_array().unwrap().len() < 500 {
            break;
        }
        after = page.json["next"].as_str().unwrap().to_string();
    }
    for (submission, files) in &accepted {
        let delivery = seen
            .get(submission)
            .unwrap_or_else(|| panic!("acknowledged upload {submission} lost"));
        for (name, bytes) in files {
            let (status, got, _) = recipient.download(delivery, name).await.unwrap();
            assert_eq!(status, 200);
            assert!(got == *bytes, "{name} is byte-identical after the crash");
        }
    }

    // The restarted relay stores and serves new sets as before (on SQLite in a new segment file, after
    // whatever the killed process left unreferenced at the end of its last one).
    let sender = client(&node.addr, &sender_token);
    let files = set(86_399); // 23:59:59, after every worker's sequences
    let a = sender.send(files.clone()).await.unwrap();
    assert_eq!(a.status, 201, "{}", a.json);
    let delivery = a.json["delivery_id"].as_str().unwrap();
    for (name, bytes) in &files {
        let (status, got, _) = recipient.download(delivery, name).await.unwrap();
        assert_eq!(status, 200);
        assert!(got == *bytes, "{name} sent after the restart is byte-identical");
    }
    if let Some(db) = careplan_relay::store::backup::sqlite_path(db_url) {
        let mut dir = db.into_os_string();
        dir.push(".bodies");
        let segments = std::fs::read_dir(&dir).unwrap().count();
        assert!(
            segments >= 2,
            "the sets' bytes are in segment files, one more after the restart ({segments} in {dir:?})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_acknowledged_upload_sqlite() {
    let db = support::db::sqlite();
    crash_and_recover(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_acknowledged_upload_postgres() {
    let Some(db) = support::db::postgres().await else {
        return;
    };
    crash_and_recover(&db.url).await;
    db.cleanup().await;
}

#[tokio::test]
async fn sigterm_drains_and_stops() {
    let db = support::db::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start(dir.path(), &db.url);
    let client = Client::new(&ClientOptions {
        url: node.url(),
        cacert: Some(dir.path().join("tls/ca.pem")),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(client.get("/healthz").await.unwrap().status, 200);
    let status = Command::new("kill")
        .args(["-TERM", &node.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(code) = node.try_wait() {
            assert!(code.success(), "serve exits 0 after SIGTERM: {code:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
