//! The cluster as an operator runs it (deploy/cluster/): PostgreSQL, two `serve` processes sharing it, and
//! Debian's HAProxy in front with deploy/cluster/haproxy.cfg, passing TLS through so that client certificates
//! reach the relay. Under load through the balancer, node A is killed with SIGKILL. Then: every set answered
//! 201 (or 200 to a retry) is delivered exactly once and byte-identical, node B goes on serving, the recipient's
//! long-polls resume, receipts signed by node A verify with the keys node B publishes, the audit trail verifies,
//! and node A, restarted, serves again. The figures are printed (`deploy/cluster/run` shows them).
//!
//! Needs `haproxy` on PATH and PostgreSQL: without them the test says it skipped, unless
//! `CAREPLAN_RELAY_REQUIRE_HAPROXY=1` / `CAREPLAN_RELAY_REQUIRE_PG=1` (set by `.ci/run`) make that a failure.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

mod support;

#[path = "cluster/balancer.rs"]
mod balancer;
#[path = "cluster/clients.rs"]
mod clients;
#[path = "cluster/load.rs"]
mod load;

use std::time::{Duration, Instant};

use careplan_relay::relay::{Receipt, verify_receipt};

use balancer::Balancer;
use load::{Figures, Load};
use support::process::{Node, cli};

const CARE_MANAGER: &str = "1310000001";
const PROVIDER: &str = "1310000002";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(no_haproxy, ignore = "needs HAProxy: apt-get install haproxy")]
async fn a_node_killed_under_load_loses_nothing() {
    let Some(haproxy) = balancer::haproxy() else {
        return;
    };
    let Some(db) = support::db::postgres().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a_dir, b_dir) = (dir_a.path(), dir_b.path());
    cli(
        a_dir,
        &db.url,
        &[
            "office",
            "add",
            CARE_MANAGER,
            "--name",
            "居宅A",
            "--kind",
            "care_manager",
            "--service-type",
            "43",
        ],
    );
    cli(
        a_dir,
        &db.url,
        &[
            "office",
            "add",
            PROVIDER,
            "--name",
            "訪問介護B",
            "--kind",
            "provider",
            "--service-type",
            "11",
        ],
    );
    let token = cli(a_dir, &db.url, &["token", "issue", "--office", CARE_MANAGER]);
    let token = token.lines().last().unwrap().to_string();
    // The recipient authenticates with a client certificate: it must pass through the balancer untouched.
    let certs = a_dir.join("provider-cert");
    cli(
        a_dir,
        &db.url,
        &[
            "cert",
            "issue",
            "--office",
            PROVIDER,
            "--out",
            certs.to_str().unwrap(),
        ],
    );
    balancer::share_tls(a_dir, b_dir);

    let mut a = Node::start(a_dir, &db.url);
    let b = Node::start(b_dir, &db.url);
    let balancer = Balancer::start(&haproxy, &a.addr, &b.addr);
    let load = Load::new(&balancer.url(), a_dir, &token, &certs);
    load.wait_until_served().await;

    let running = load.run(8);
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Receipts that node A signs before it dies; verified later with node B's keys.
    let by_a = load.receipts_from(&a.url(), 5).await;
    assert!(!by_a.is_empty(), "node A signed receipts before the kill");
    let killed_at = Instant::now();
    a.kill();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let figures: Figures = running.stop(killed_at).await;

    // Every acknowledged set: exactly one delivery, the same bytes.
    let received = load.drain(&figures.accepted, Duration::from_secs(60)).await;
    for (sid, files) in &figures.accepted {
        let mut got = received
            .get(sid)
            .unwrap_or_else(|| panic!("acknowledged set {sid} was not delivered"))
            .clone();
        let mut sent = files.clone();
        got.sort();
        sent.sort();
        assert!(got == sent, "set {sid} arrived with other bytes");
    }
    let deliveries = load.deliveries().await;
    assert_eq!(
        deliveries.len(),
        figures.accepted.len(),
        "one delivery per acknowledged set, none extra"
    );
    let polls = load.polls_since(killed_at);
    assert!(polls > 0, "the recipient's long-polls resumed after the kill");
    assert!(figures.accepted_after_kill > 0, "node B went on accepting sets");
    println!(
        "{}\ncluster: recipient polls answered after the kill {polls}",
        figures.report()
    );

    // Node B publishes node A's key: A's receipts verify through the balancer.
    let keys = load.published_keys().await;
    let key_a = std::fs::read_to_string(a_dir.join("keys/current")).unwrap();
    let key_a = key_a.trim();
    for (_, r) in &by_a {
        assert_eq!(r.key_id, key_a, "node A signed it");
        verify_receipt(r, &keys).expect("a receipt signed by node A verifies with the keys node B publishes");
    }
    let r: Receipt = load.receipt(&by_a[0].0).await;
    assert_ne!(r.key_id, key_a, "node B signs after node A's death");
    verify_receipt(&r, &keys).expect("node B's receipt for a set node A accepted verifies");

    let audit: serde_json::Value = serde_json::from_str(&cli(b_dir, &db.url, &["audit", "verify"])).unwrap();
    assert_eq!(audit["intact"], true, "{audit}");
    println!(
        "cluster: audit verify: intact, {} events sealed",
        audit["positions"]
    );

    // Node A comes back on its port; the balancer's checks put it in again.
    a.restart();
    let back = load.reaches_key(key_a, &by_a[0].0, Duration::from_secs(20)).await;
    assert!(back, "node A is back in the balancer after its restart");
    load.send_one("20250329000001").await;

    drop(balancer);
    a.kill();
    drop(b);
    db.cleanup().await;
}
