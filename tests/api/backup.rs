//! `backup` of a live SQLite store while sets are being uploaded, `restore` into a fresh data directory, and the
//! relay started on it: every set acknowledged (201) before the backup began is there, receipts signed before
//! still verify, and the audit trail verifies. `restore` is refused while `serve` holds the data directory.
//! PostgreSQL: the `pg_dump`/`pg_restore` round trip of docs/OPERATIONS.md, when those tools are installed.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use careplan_relay::relay::{Receipt, verify_receipt};

use crate::helpers::*;
use crate::support::db::{TestDb, sqlite_at};

/// Runs `careplan-relay --data-dir DATA ARGS…` with `env`; returns (exit code, stdout, stderr).
fn relay(data: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run careplan-relay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
        String::from_utf8(out.stderr).expect("UTF-8 messages"),
    )
}

fn sequence(i: usize) -> String {
    format!("20250328{:02}{:02}{:02}", 10 + i / 3600, (i / 60) % 60, i % 60)
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn keys_of(answer: &careplan_relay::client::Answer) -> Vec<(String, String)> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_uploads_restores_every_acknowledged_set() {
    let (live, spare) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = live.path().join("data");
    let db = sqlite_at(&data.join("relay.db"));
    let app = spawn_app(&data, &db).await;
    let (cm, _, _) = app.offices().await;
    let before = receipt_of(&app, &cm, &sequence(0)).await;

    // Two senders upload distinct sets until told to stop (at most 200 sets each).
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for s in 0..2 {
        let (client, accepted, stop) = (app.client(Some(&cm)), accepted.clone(), stop.clone());
        senders.push(tokio::spawn(async move {
            for i in 0..200 {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let answer = client.send(schedule(&sequence(1 + s * 200 + i))).await.unwrap();
                assert_status(&answer, 201);
                let id = answer.json["submission_id"].as_str().unwrap().to_string();
                accepted.lock().unwrap().push(id);
            }
        }));
    }
    for _ in 0..1000 {
        if accepted.lock().unwrap().len() >= 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let acknowledged_before: Vec<String> = accepted.lock().unwrap().clone();
    assert!(acknowledged_before.len() >= 10, "uploads are running");

    let out = spare.path().join("backup.db");
    let (code, stdout, stderr) = {
        let (data, out) = (data.clone(), out.clone());
        tokio::task::spawn_blocking(move || relay(&data, &[], &["backup", "--out", out.to_str().unwrap()]))
            .await
            .unwrap()
    };
    assert_eq!(code, 0, "{stdout}{stderr}");
    stop.store(true, Ordering::Release);
    for s in senders {
        s.await.unwrap();
    }
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    assert!(stdout.contains("submissions"), "{stdout}");

    // While the relay serves the data directory, restoring into it is refused and changes nothing.
    let served = std::fs::metadata(data.join("relay.db")).unwrap().len();
    let (code, _, stderr) = relay(&data, &[], &["restore", "--from", out.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(stderr.contains("another careplan-relay serve"), "{stderr}");
    assert!(std::fs::metadata(data.join("relay.db")).unwrap().len() >= served);
    let uploaded = accepted.lock().unwrap().len();
    eprintln!(
        "{} sets acknowledged before the backup began, {uploaded} in all; {stdout}",
        acknowledged_before.len()
    );
    app.stop().await;

    // A file that is not a relay's database is refused before anything is touched.
    let fresh = spare.path().join("fresh");
    let junk = spare.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let (code, _, stderr) = relay(&fresh, &[], &["restore", "--from", junk.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("is not a careplan-relay SQLite database"),
        "{stderr}"
    );
    assert!(!fresh.join("relay.db").exists());

    let (code, stdout, stderr) = relay(&fresh, &[], &["restore", "--from", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    #[cfg(unix)]
    assert_eq!(mode(&fresh.join("relay.db")), 0o600);
    let restored_db = sqlite_at(&fresh.join("relay.db"));
    let restored = spawn_app(&fresh, &restored_db).await;
    let sender = restored.client(Some(&cm));
    for id in acknowledged_before.iter().chain([&before.1]) {
        assert_status(&sender.get(&format!("/v1/receipts/{id}")).await.unwrap(), 200);
    }
    let counts = restored.store.row_counts().await.unwrap();
    assert!(counts.submissions as usize > acknowledged_before.len());
    assert!(counts.submissions as usize <= uploaded + 1);
    // The restored node signs with a key of its own; the original node's key is still published.
    let keys = keys_of(&restored.client(None).get("/v1/keys").await.unwrap());
    verify_receipt(&before.0, &keys).expect("a receipt signed before the backup verifies after the restore");
    restored.stop().await;

    let (code, stdout, stderr) = relay(&fresh, &[], &["audit", "verify"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("\"intact\": true"), "{stdout}");

    // Restoring over a database moves it aside (with its WAL, if any, and its segment files) instead of deleting it.
    let before_restore = std::fs::read(fresh.join("relay.db")).unwrap();
    assert!(fresh.join("relay.db.bodies").is_dir());
    let (code, stdout, stderr) = relay(&fresh, &[], &["restore", "--from", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let aside: Vec<_> = std::fs::read_dir(&fresh)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("relay.db.before-restore-")
                && !name.ends_with("-wal")
                && !name.ends_with("-shm")
                && !name.ends_with(".bodies")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), before_restore);
    let mut aside_bodies = aside[0].clone().into_os_string();
    aside_bodies.push(".bodies");
    assert!(
        std::path::Path::new(&aside_bodies).is_dir(),
        "the segment files went aside with their database"
    );
    assert_eq!(
        std::fs::read(fresh.join("relay.db")).unwrap(),
        std::fs::read(&out).unwrap()
    );
}

/// Sends one set and returns its receipt and submission id.
async fn receipt_of(app: &TestApp, token: &str, sequence: &str) -> (Receipt, String) {
    let client = app.client(Some(token));
    let sent = client.send(schedule(sequence)).await.unwrap();
    assert_status(&sent, 201);
    let id = sent.json["submission_id"].as_str().unwrap().to_string();
    let answer = client.get(&format!("/v1/receipts/{id}")).await.unwrap();
    assert_status(&answer, 200);
    (serde_json::from_value(answer.json).unwrap(), id)
}

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn postgres_dump_and_restore_round_trip() {
    if !tool("pg_dump") || !tool("pg_restore") {
        eprintln!("note: pg_dump or pg_restore is not installed; skipping the PostgreSQL backup round trip");
        return;
    }
    let Some(source) = crate::support::db::postgres().await else {
        return;
    };
    let Some(target) = crate::support::db::postgres().await else {
        return;
    };
    let (dir_a, dir_b, spare) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let app = spawn_app(dir_a.path(), &source).await;
    let (cm, _, _) = app.offices().await;
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(receipt_of(&app, &cm, &sequence(i)).await);
    }
    app.stop().await;

    // docs/OPERATIONS.md: pg_dump in the custom format, pg_restore into an empty database.
    let dump = spare.path().join("relay.dump");
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&source.url));
    run(Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&target.url)
        .arg(&dump));

    let restored = spawn_app(dir_b.path(), &target).await;
    let client = restored.client(Some(&cm));
    let keys = keys_of(&restored.client(None).get("/v1/keys").await.unwrap());
    for (receipt, id) in &sent {
        assert_status(&client.get(&format!("/v1/receipts/{id}")).await.unwrap(), 200);
        verify_receipt(receipt, &keys).expect("receipts from before the dump verify");
    }
    restored.stop().await;
    let url = [("CAREPLAN_RELAY__DATABASE__URL", target.url.as_str())];
    let (code, stdout, stderr) = relay(dir_b.path(), &url, &["audit", "verify"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for db in [source, target] {
        TestDb::cleanup(db).await;
    }
}
