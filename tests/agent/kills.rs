//! Two running agents killed with SIGKILL over and over, at whatever point each happens to be (sending, after
//! the 201 but before the move, writing a received file, before the ack), while they exchange a month of sets
//! with deletions. Restarted after each kill and finally run to completion, every set arrives exactly once and
//! byte-identical, each outbox ends empty with every set in `sent/`, and no temporary file is left.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers;
use crate::{BIN, Office, files_in, set, support, temp_files};

/// A running `client sync` (continuous mode).
fn start(office: &Office) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(["client", "sync", "--config"])
        .arg(&office.config)
        .env_remove("CAREPLAN_RELAY_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the agent")
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_killed_again_and_again_deliver_every_set_exactly_once() {
    let db = support::db::sqlite();
    let data = tempfile::tempdir().unwrap();
    let app = helpers::spawn_app(data.path(), &db).await;
    let (cm_token, hh_token, _) = app.offices().await;
    let root = tempfile::tempdir().unwrap();
    let cm = Office::new(root.path(), "cm", &app.url(), &app.ca(), &cm_token, "");
    let hh = Office::new(root.path(), "hh", &app.url(), &app.ca(), &hh_token, "");

    // A month: plans, schedules and their deletions from the care manager, actuals (and a deletion) back.
    let mut from_cm = Vec::new();
    for day in 1..=6u32 {
        from_cm.push(set("plan", &format!("202504{day:02}090000"), false));
        from_cm.push(set("schedule", &format!("202504{day:02}090100"), false));
    }
    from_cm.push(set("plan_delete", "20250420090000", false));
    from_cm.push(set("schedule_delete", "20250420090100", false));
    let mut from_hh = Vec::new();
    for day in 25..=29u32 {
        from_hh.push(set("actual", &format!("202504{day:02}170000"), true));
    }
    from_hh.push(set("actual_delete", "20250430170000", true));
    for s in &from_cm {
        cm.drop_set(s);
    }
    for s in &from_hh {
        hh.drop_set(s);
    }

    // Kill both agents at varied moments, restarting them each time.
    let mut kills = 0;
    for round in 0..24u64 {
        let (mut a, mut b) = (start(&cm), start(&hh));
        tokio::time::sleep(Duration::from_millis(30 + (round * 37) % 260)).await;
        a.start_kill().unwrap();
        b.start_kill().unwrap();
        a.wait().await.unwrap();
        b.wait().await.unwrap();
        kills += 2;
    }

    // Then each runs to completion: two passes, so each also receives what the other sent on its last pass.
    for _ in 0..2 {
        cm.once_ok().await;
        hh.once_ok().await;
    }

    let want = |sets: &[Vec<(String, Vec<u8>)>]| -> BTreeMap<String, Vec<u8>> {
        sets.iter().flatten().cloned().collect()
    };
    assert_eq!(
        files_in(&hh.inbox),
        want(&from_cm),
        "the provider received every set, byte for byte"
    );
    assert_eq!(
        files_in(&cm.inbox),
        want(&from_hh),
        "the care manager received every set, byte for byte"
    );
    for (office, sent) in [(&cm, &from_cm), (&hh, &from_hh)] {
        assert!(
            files_in(&office.outbox).is_empty(),
            "{:?}",
            files_in(&office.outbox).keys()
        );
        let in_sent = files_in(&office.outbox.join("sent"));
        for (name, bytes) in sent.iter().flatten() {
            assert_eq!(in_sent.get(name), Some(bytes), "{name} in sent/");
        }
        assert!(
            temp_files(&office.root).is_empty(),
            "{:?}",
            temp_files(&office.root)
        );
    }

    // The relay holds exactly one delivery per set, all acknowledged.
    for (token, sets) in [(&hh_token, &from_cm), (&cm_token, &from_hh)] {
        let all = app
            .client(Some(token))
            .get("/v1/inbox?status=all&limit=500")
            .await
            .unwrap();
        let items = all.json["items"].as_array().unwrap();
        assert_eq!(
            items.len(),
            sets.len(),
            "one delivery per set after {kills} kills"
        );
        assert!(
            items.iter().all(|i| !i["acknowledged_at"].is_null()),
            "every set acknowledged"
        );
    }
    app.stop().await;
}
