//! A catalogue of hostile requests, run as raw HTTP/1.1 over TLS against the real relay on SQLite and on
//! PostgreSQL. Each case names its attack and its expected answer; after each one the runner checks that nothing
//! was stored or routed (a 422 adds one rejection and its `submission.rejected` event, nothing else), that error
//! bodies carry `code`, `message_ja` and `message_en`, that a 422 report stays bounded, that the relay still
//! answers `/healthz` on a new connection, and that the test process's memory stays within bounds.

mod cases_auth;
mod cases_bodies;
mod cases_framing;
mod cases_multipart;
mod cases_names;
mod cases_params;
mod cases_types;
mod checks;
mod requests;

use std::time::{Duration, Instant};

use crate::helpers::*;
use crate::raw::{Exchange, exchange};
use crate::support::db::{self, TestDb};
use checks::{check_answer, vm_rss_kb};

/// The answer a case expects.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Exactly this status.
    Status(u16),
    /// Any of these statuses; the text says why each is right.
    OneOf(&'static [u16], &'static str),
    /// Framing garbage the HTTP layer drops: the connection closes without an answer, or a 4xx.
    ClosedOr4xx,
}

/// One hostile request: a name, the attack in one line, the expected answer and the bytes (with placeholders,
/// see [`requests`]), sent `times` times in a row on new connections (the last answer is checked).
pub struct Case {
    pub name: &'static str,
    pub attack: &'static str,
    pub expect: Expect,
    pub build: fn() -> Vec<u8>,
    pub times: u32,
}

/// A case sent once.
pub fn case(name: &'static str, attack: &'static str, expect: Expect, build: fn() -> Vec<u8>) -> Case {
    Case {
        name,
        attack,
        expect,
        build,
        times: 1,
    }
}

impl Case {
    /// Failed authentications this case causes, for the throttle.
    fn auth_failures(&self) -> u32 {
        match self.expect {
            Expect::Status(401 | 429) => self.times,
            Expect::OneOf(s, _) if s.contains(&401) => self.times,
            _ => 0,
        }
    }
}

/// Fewer failed authentications than this from one address per app, so that the throttle never turns an
/// expected 401 into a 429.
const THROTTLE_FREE: u32 = 5;
/// How long one answer may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);
/// How much the test process may grow over the catalogue.
const MEMORY_MARGIN_KB: u64 = 512 * 1024;

/// A relay with the three offices, an admin token and one delivered set, and the values of the placeholders.
struct Env {
    app: TestApp,
    db: TestDb,
    _dir: tempfile::TempDir,
    values: Vec<(&'static str, String)>,
    auth_failures: u32,
    last_event: i64,
    /// A case stored something: later cases get a fresh relay, so that one failure does not explain the next.
    dirty: bool,
}

async fn env(db: TestDb) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), &db);
    s.server.max_wait_secs = 1;
    let app = spawn_with(s).await;
    let (cm, prov, other) = app.offices().await;
    let admin = app.admin_token().await;
    let sent = app
        .client(Some(&cm))
        .send(schedule("20250328101500"))
        .await
        .unwrap();
    assert_status(&sent, 201);
    let inbox = app.client(Some(&prov)).get("/v1/inbox").await.unwrap();
    let delivery = inbox.json["items"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    let submission = sent.json["submission_id"].as_str().unwrap().to_string();
    let last_event = app
        .store
        .events(0, 1_000_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |e| e.seq);
    let values = vec![
        ("{CM}", cm),
        ("{PROV}", prov),
        ("{OTHER}", other),
        ("{ADMIN}", admin),
        ("{DELIVERY}", delivery),
        ("{SUBMISSION}", submission),
    ];
    Env {
        app,
        db,
        _dir: dir,
        values,
        auth_failures: 0,
        last_event,
        dirty: false,
    }
}

/// A fresh database of the same backend as `db`.
async fn fresh(db: &TestDb) -> TestDb {
    match db.backend {
        "postgres" => db::postgres()
            .await
            .expect("PostgreSQL was reachable a moment ago"),
        _ => db::sqlite(),
    }
}

/// `request` with the placeholders of its head replaced.
fn fill(env: &Env, request: Vec<u8>) -> Vec<u8> {
    let split = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(request.len(), |p| p + 4);
    let mut head = String::from_utf8_lossy(&request[..split]).into_owned();
    if head.as_bytes() != &request[..split] {
        return request; // a head that is not UTF-8 has no placeholders
    }
    for (k, v) in &env.values {
        head = head.replace(k, v);
    }
    let mut out = head.into_bytes();
    out.extend_from_slice(&request[split..]);
    out
}

/// Runs `cases` on each backend and fails listing every case that did not hold.
pub async fn run(category: &str, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for first in db::backends().await {
        let backend = first.backend;
        let started = Instant::now();
        let baseline = vm_rss_kb();
        let mut peak = baseline;
        let mut current: Option<Env> = None;
        let mut pending_db = Some(first);
        for c in &cases {
            let reuse = current.as_ref().is_some_and(|e| {
                !e.dirty && (e.auth_failures == 0 || e.auth_failures + c.auth_failures() < THROTTLE_FREE)
            });
            if !reuse {
                let db = match (pending_db.take(), &current) {
                    (Some(db), _) => db,
                    (None, Some(e)) => fresh(&e.db).await,
                    (None, None) => unreachable!(),
                };
                if let Some(old) = current.take() {
                    old.app.stop().await;
                    old.db.cleanup().await;
                }
                current = Some(env(db).await);
            }
            let e = current.as_mut().unwrap();
            let result = run_case(e, c, baseline).await;
            peak = peak.max(vm_rss_kb());
            if let Err(why) = result {
                failures.push(format!(
                    "{category}/{} on {backend} ({}): {why}",
                    c.name, c.attack
                ));
            }
            e.auth_failures += c.auth_failures();
        }
        if let Some(e) = current.take() {
            e.app.stop().await;
            e.db.cleanup().await;
        }
        eprintln!(
            "hostile/{category} on {backend}: {} cases in {:.1} s, VmRSS {} → peak {} MiB",
            cases.len(),
            started.elapsed().as_secs_f64(),
            baseline / 1024,
            peak / 1024
        );
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn run_case(e: &mut Env, c: &Case, baseline_kb: u64) -> Result<(), String> {
    let before = e.app.store.row_counts().await.map_err(|x| x.to_string())?;
    let mut answer = Exchange::default();
    for _ in 0..c.times {
        answer = exchange(&e.app, fill(e, (c.build)()), ANSWER_WITHIN).await;
    }
    let verdict = check_answer(c.expect, &answer);
    if std::env::var_os("HOSTILE_VERBOSE").is_some() {
        eprintln!(
            "{}: {:?} closed={} timed_out={}",
            c.name, answer.status, answer.closed, answer.timed_out
        );
    }
    let after = e.app.store.row_counts().await.map_err(|x| x.to_string())?;
    let events = e
        .app
        .store
        .events(e.last_event, 1000)
        .await
        .map_err(|x| x.to_string())?;
    e.last_event = events.last().map_or(e.last_event, |ev| ev.seq);
    e.dirty = (before.offices, before.submissions, before.deliveries)
        != (after.offices, after.submissions, after.deliveries);
    verdict?;
    let unchanged = (
        before.offices,
        before.submissions,
        before.files,
        before.deliveries,
    ) == (after.offices, after.submissions, after.files, after.deliveries);
    let kinds: Vec<&str> = events.iter().map(|ev| ev.kind.as_str()).collect();
    let added = (after.rejections - before.rejections, kinds.as_slice());
    let allowed = match answer.status {
        Some(422) => matches!(added, (0, []) | (1, ["submission.rejected"])),
        // A lockout is recorded in the audit trail, so that an admin can see and clear it.
        Some(429) => added.0 == 0 && kinds.iter().all(|k| *k == "auth.locked_out"),
        _ => matches!(added, (0, [])),
    };
    if !unchanged || !allowed {
        return Err(format!(
            "stored something: {before:?} → {after:?}, events {kinds:?}"
        ));
    }
    let health = exchange(&e.app, requests::get("/healthz", &[]), ANSWER_WITHIN).await;
    if health.status != Some(200) {
        return Err(format!("/healthz answered {:?} afterwards", health.status));
    }
    let rss = vm_rss_kb();
    if rss > baseline_kb + MEMORY_MARGIN_KB {
        return Err(format!("VmRSS {rss} kB, baseline {baseline_kb} kB"));
    }
    Ok(())
}

#[tokio::test]
async fn hostile_authentication() {
    run("authentication", cases_auth::cases()).await;
}

#[tokio::test]
async fn hostile_multipart() {
    run("multipart", cases_multipart::cases()).await;
}

#[tokio::test]
async fn hostile_file_names() {
    run("file_names", cases_names::cases()).await;
}

#[tokio::test]
async fn hostile_bodies() {
    run("bodies", cases_bodies::cases()).await;
}

#[tokio::test]
async fn hostile_content_types() {
    run("content_types", cases_types::cases()).await;
}

#[tokio::test]
async fn hostile_framing() {
    run("framing", cases_framing::cases()).await;
}

#[tokio::test]
async fn hostile_paths_and_parameters() {
    run("paths_and_parameters", cases_params::cases()).await;
}
