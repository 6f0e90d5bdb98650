//! The running agent picks up a set written into its outbox while it runs and receives what arrives; a part of
//! a send unit waits for the rest, and `--status` says what is missing.

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers;
use crate::{BIN, Office, files_in, set, support};

type Log = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

/// Reads the agent's log until a line contains `what`.
async fn wait_for(lines: &mut Log, what: &str) -> String {
    // A guard against a hang, not a measure: the agents act within seconds.
    tokio::time::timeout(std::time::Duration::from_secs(120), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the agent runs");
            if line.contains(what) {
                return line;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no `{what}` in the agent's log"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_part_of_a_set_waits_and_the_running_agent_takes_the_whole() {
    let db = support::db::sqlite();
    let data = tempfile::tempdir().unwrap();
    let app = helpers::spawn_app(data.path(), &db).await;
    let (cm_token, hh_token, _) = app.offices().await;
    let root = tempfile::tempdir().unwrap();
    // Full rescans are an hour apart: the rest of the set is seen through the folder's change notices, or the
    // closer looks the agent takes while a set waits for its files.
    let cm = Office::new(
        root.path(),
        "cm",
        &app.url(),
        &app.ca(),
        &cm_token,
        "rescan_secs = 3600",
    );
    let hh = Office::new(
        root.path(),
        "hh",
        &app.url(),
        &app.ca(),
        &hh_token,
        "wait_secs = 5",
    );

    let a = set("schedule", "20250401130000", false);
    let plan = a.iter().find(|(n, _)| n.starts_with("UPPLAN_")).unwrap();
    cm.drop_set(std::slice::from_ref(plan));
    assert_eq!(
        cm.once_ok().await.lines().count(),
        0,
        "nothing to say: the set waits"
    );
    assert_eq!(files_in(&cm.outbox).len(), 1);
    let (code, status, _) = cm.sync(&["--status"]).await;
    assert_eq!(code, 0);
    assert!(
        status.contains("20250401130000") && status.contains("missing UPSIKYU, UPHOSOKU"),
        "{status}"
    );

    let mut agents = Vec::new();
    let mut logs = Vec::new();
    for office in [&cm, &hh] {
        let mut child = tokio::process::Command::new(BIN)
            .args(["client", "sync", "--config"])
            .arg(&office.config)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap().unwrap();
        assert!(first.contains("started"), "{first}");
        agents.push(child);
        logs.push(lines);
    }
    // The care software writes the rest under temporary names and renames them, as it should.
    for (name, bytes) in &a {
        if name != &plan.0 {
            let tmp = cm.outbox.join(format!("{name}.tmp"));
            std::fs::write(&tmp, bytes).unwrap();
            std::fs::rename(&tmp, cm.outbox.join(name)).unwrap();
        }
    }
    let (cm_log, hh_log) = logs.split_at_mut(1);
    wait_for(&mut cm_log[0], "sent: 20250401130000").await;
    wait_for(&mut hh_log[0], "received: 20250401130000").await;
    let want: std::collections::BTreeMap<_, _> = a.iter().cloned().collect();
    assert_eq!(files_in(&hh.inbox), want);
    assert!(files_in(&cm.outbox).is_empty());
    for mut child in agents {
        child.start_kill().unwrap();
        child.wait().await.unwrap();
    }
    app.stop().await;
}
