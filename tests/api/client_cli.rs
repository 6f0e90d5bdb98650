//! The reference client as a new user meets it: the development CA found in `--data-dir`, hints for an
//! `http://` URL and an unknown CA, one way of answering an unknown id, a replay said as such, "digests OK",
//! and no panic when stdout closes early.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::helpers::*;
use crate::support::db::backends;

const BIN: &str = env!("CARGO_BIN_EXE_careplan-relay");

fn client(data_dir: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["client", "--url", url, "--token", token])
        .args(args)
        .output()
        .expect("run careplan-relay")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("UTF-8")
}

// The client runs as a process while the relay serves on this runtime's other threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_answers_a_new_user_plainly() {
    let db = backends().await.into_iter().next().expect("a database");
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(&dir.path().join("relay"), &db).await;
    let (cm, prov, _) = app.offices().await;
    let url = app.url();
    let files = dir.path().join("out");
    std::fs::create_dir_all(&files).unwrap();
    let mut paths = Vec::new();
    for (name, bytes) in schedule("20250328101500") {
        let p = files.join(&name);
        std::fs::write(&p, bytes).unwrap();
        paths.push(p.display().to_string());
    }
    let send: Vec<&str> = std::iter::once("send")
        .chain(paths.iter().map(String::as_str))
        .collect();

    // No --cacert: the relay's development CA under --data-dir is used.
    let first = client(&app.data_dir, &url, &cm, &send);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let again = client(&app.data_dir, &url, &cm, &send);
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again.stderr).contains("replay"), "{}", text(&again.stderr));

    // An unknown id: fetch and ack answer alike, with the relay's message in Japanese and English, exit 2.
    let fetch = client(&app.data_dir, &url, &prov, &["fetch", "no-such-id", "--out", "x"]);
    let ack = client(&app.data_dir, &url, &prov, &["ack", "no-such-id"]);
    assert_eq!((fetch.status.code(), ack.status.code()), (Some(2), Some(2)));
    assert_eq!(text(&fetch.stderr), text(&ack.stderr));
    assert!(
        text(&fetch.stderr).contains("HTTP 404"),
        "{}",
        text(&fetch.stderr)
    );
    assert!(
        !text(&fetch.stderr).is_ascii(),
        "Japanese first: {}",
        text(&fetch.stderr)
    );

    // A real delivery: the paths, then "digests OK".
    let inbox = client(&app.data_dir, &url, &prov, &["inbox"]);
    let listed: serde_json::Value = serde_json::from_slice(&inbox.stdout).unwrap();
    let id = listed["items"][0]["delivery_id"].as_str().unwrap().to_string();
    let out = dir.path().join("in");
    let fetched = client(
        &app.data_dir,
        &url,
        &prov,
        &["fetch", &id, "--out", out.to_str().unwrap()],
    );
    assert_eq!(fetched.status.code(), Some(0), "{}", text(&fetched.stderr));
    assert!(text(&fetched.stderr).contains("digests OK: 3 files"));
    assert_eq!(text(&fetched.stdout).lines().count(), 3);

    // An http:// URL, and a relay whose CA the client does not know: a hint, exit 2.
    let plain = url.replacen("https://", "http://", 1);
    let http = client(&app.data_dir, &plain, &prov, &["inbox"]);
    assert_eq!(http.status.code(), Some(2));
    assert!(text(&http.stderr).contains("https://"), "{}", text(&http.stderr));
    let stranger = client(&dir.path().join("empty"), &url, &prov, &["inbox"]);
    assert_eq!(stranger.status.code(), Some(2));
    assert!(
        text(&stranger.stderr).contains("--cacert"),
        "{}",
        text(&stranger.stderr)
    );

    // stdout closed before the answer is written: no panic.
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(&app.data_dir)
        .args(["client", "--url", &url, "--token", &prov, "inbox", "--all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let done = child.wait_with_output().unwrap();
    assert!(!text(&done.stderr).contains("panicked"), "{}", text(&done.stderr));
    app.stop().await;
}
