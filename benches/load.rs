//! Load generator for the relay (docs/perf-load.md): the real `careplan-relay serve` as a child process, many
//! concurrent HTTPS senders of valid sets, and recipients that long-poll, download and acknowledge.
//!
//! ```text
//! cargo build --release                                  # the server binary the bench starts
//! cargo bench --bench load                               # SQLite, 64 senders, 20 s
//! cargo bench --bench load -- --db postgres --clients 16 --seconds 10
//! cargo bench --bench load -- --db both --sweep --seconds 10   # 1, 16, 64, 256 senders on each database
//! ```
//!
//! What one run does:
//! - starts `target/release/careplan-relay serve --listen 127.0.0.1:0` with a fresh temporary data directory
//!   on SQLite (`<data-dir>/relay.db`, WAL, synchronous=FULL) or on a fresh PostgreSQL database
//!   `relay_load_<uuid>` created through `--pg-admin` and dropped at the end;
//! - registers care-manager offices (service type 43) and provider offices (service type 11) with
//!   `careplan-relay office add` and issues one token per office with `careplan-relay token issue`;
//! - runs `--clients` sender tasks in a closed loop for `--warmup` + `--seconds` seconds. Each draws a send unit
//!   from a fixed mix (60 % schedule = UPPLAN + UPSIKYU + UPHOSOKU from a care manager to a provider, 30 % actual
//!   = UPJSK from a provider to a care manager, 5 % schedule_delete = DLTPLAN, 5 % actual_delete = DLTJSK), with
//!   2–40 users per file and 2–6 detail rows per user. The bytes come from `careplan_relay::generate`, built
//!   before the clock starts (a few templates per sending office, each checked with `validate_set`); every send
//!   gets a fresh 14-digit sequence, a real date-time counted in seconds from 2025-04-01 00:00:00 and
//!   interleaved between senders, so every set is valid and new and must get 201. Anything else is an error;
//! - runs one recipient task per office (`--pollers`, default one per 8 senders, at least 2): `GET
//!   /v1/inbox?wait=1`, then every file of every delivery is downloaded (and its SHA-256 checked) and the
//!   delivery acknowledged;
//! - samples the server's VmRSS every 200 ms and reads VmHWM (peak RSS) before killing it.
//!
//! Only what completes inside the measured window (after the warm-up) is counted. The load generator shares
//! the machine with the server: its own CPU time is reported next to the server's.
//!
//! Output: one Markdown row per run, `| db | clients | accepted sets/s | p50 ms | p99 ms | errors | downloads/s |
//! peak RSS MB |`, then a table of details (latency maximum, download/ack/delivery latencies, CPU per set).
//!
//! Two other modes (bench/run uses both):
//! - `--put-url https://HOST:PORT/upload --cacert ca.pem [--put-pid PID]` (load/put.rs): no relay; the same
//!   senders, mix and bytes PUT each set, as the multipart body the relay would get, to a plain HTTPS upload
//!   server such as nginx, with the same counting and latency rows;
//! - `--near-limit --clients 100 [--prefill-seconds S]` (load/near_limit.rs): every sender at once with a set just
//!   under the server's body limit; the server's peak RSS against `clients × limit + idle RSS`.

// A bench binary: a failed setup step should stop it loudly, and nothing here is a public API.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use careplan_relay::client::{Answer, Client};
use careplan_relay::generate::{Rng, Scenario, unit_files};
use careplan_relay::name::Party;
use careplan_relay::spec::{Generation, Spec};
use careplan_relay::validate::{InputFile, validate_set};
use clap::Parser;
use relay_process::{RelayProcess, create_pg_database, drop_pg_database, percentiles};

#[path = "load/near_limit.rs"]
mod near_limit;
#[path = "load/put.rs"]
mod put;
#[path = "support/relay.rs"]
mod relay_process;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_careplan-relay");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DbChoice {
    Sqlite,
    Postgres,
    Both,
}

/// Load generator for careplan-relay (see docs/perf-load.md).
#[derive(Debug, Clone, Parser)]
struct Args {
    /// Concurrent sender clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds of load before the measured window (connections, caches).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Seed of every random choice (units, sizes, recipients).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Database of the relay.
    #[arg(long, value_enum, default_value = "sqlite")]
    db: DbChoice,
    /// Recipient offices, each polled by one task (default: clients / 8, at least 2); a quarter of them (at
    /// least one) are care managers, the rest providers.
    #[arg(long)]
    pollers: Option<usize>,
    /// Run at each of --sweep-clients senders instead of --clients.
    #[arg(long)]
    sweep: bool,
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    sweep_clients: Vec<usize>,
    /// PostgreSQL URL with the right to create and drop databases.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_admin: String,
    /// The server binary (default: target/release/careplan-relay).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Templates per sending office and send unit.
    #[arg(long, default_value_t = 4)]
    templates: usize,
    /// Record the server with `perf record` during the measured window into this file (one run only).
    #[arg(long)]
    perf: Option<PathBuf>,
    /// `RUST_LOG` of the server (default: its own default, `info`).
    #[arg(long)]
    server_log: Option<String>,
    /// Extra environment of the server, `KEY=VALUE` (repeat), e.g. `CAREPLAN_RELAY__DATABASE__MAX_CONNECTIONS=1`.
    #[arg(long = "server-env", value_parser = parse_env)]
    server_env: Vec<(String, String)>,
    /// Register the recipient offices but do not poll, download or acknowledge (the submission path alone).
    #[arg(long)]
    no_download: bool,
    /// Text added to the db column of the tables (to tell experiments apart).
    #[arg(long)]
    label: Option<String>,
    /// Instead of a relay, PUT each set (the same multipart body the relay gets) to `URL/<clients>-<sequence>`
    /// on another HTTPS server (a plain file-upload baseline, e.g. nginx with `dav_methods PUT`).
    #[arg(long, value_name = "URL")]
    put_url: Option<String>,
    /// CA certificate (PEM) that signs the --put-url server's certificate.
    #[arg(long, value_name = "PEM")]
    cacert: Option<PathBuf>,
    /// Accept any certificate from the --put-url server.
    #[arg(long)]
    insecure: bool,
    /// Process id of the --put-url server (with its child processes: nginx workers), for its CPU and peak RSS.
    #[arg(long, value_name = "PID")]
    put_pid: Option<u32>,
    /// Memory under the largest sets: --clients senders (e.g. 100) all start at once, each sending --rounds
    /// schedule sets whose body is just under the server's body limit (`CAREPLAN_RELAY__SERVER__MAX_BODY_BYTES`
    /// from --server-env, else the relay's default); reports the server's peak RSS against
    /// clients × limit + idle RSS.
    #[arg(long)]
    near_limit: bool,
    /// --near-limit: sets per sender.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// --near-limit: then fill the database with this many seconds of the normal mix (64 senders, submissions
    /// only), restart the server and measure again over the stored sets (0: skip).
    #[arg(long, default_value_t = 0)]
    prefill_seconds: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

// ── the server ────────────────────────────────────────────────────────────────────────────────────

/// The relay under test: its process, its temporary data directory and, on PostgreSQL, the database to drop.
struct Server {
    process: RelayProcess,
    _data: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl std::ops::Deref for Server {
    type Target = RelayProcess;
    fn deref(&self) -> &RelayProcess {
        &self.process
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut RelayProcess {
        &mut self.process
    }
}

impl Server {
    async fn create(bin: &Path, db: DbChoice, pg_admin: &str) -> anyhow::Result<Server> {
        let data = tempfile::Builder::new().prefix("relay-load-").tempdir()?;
        let (db_url, pg) = if db == DbChoice::Postgres {
            let (url, name) = create_pg_database(pg_admin, "relay_load").await?;
            (Some(url), Some((pg_admin.to_string(), name)))
        } else {
            (None, None)
        };
        Ok(Server {
            process: RelayProcess::new(bin, data.path(), db_url),
            _data: data,
            pg,
        })
    }

    /// Runs a CLI command against the data directory and database; returns stdout.
    fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.command().args(args).output()?;
        if !out.status.success() {
            bail!(
                "careplan-relay {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    fn add_office(&self, number: &str, kind: &str, service_type: &str) -> anyhow::Result<String> {
        self.cli(&[
            "office",
            "add",
            number,
            "--name",
            &format!("負荷試験 {number}"),
            "--kind",
            kind,
            "--service-type",
            service_type,
        ])?;
        let out = self.cli(&["token", "issue", "--office", number])?;
        Ok(out.lines().last().context("a token line")?.trim().to_string())
    }

    /// Starts `serve` with `RUST_LOG=log` (if given) and the extra environment.
    fn start(&mut self, log: Option<&str>, env: &[(String, String)]) -> anyhow::Result<()> {
        let mut env = env.to_vec();
        if let Some(l) = log {
            env.push(("RUST_LOG".into(), l.into()));
        }
        self.process.start(&env)
    }

    async fn stop(mut self) {
        self.halt();
        if let Some((admin, name)) = &self.pg {
            drop_pg_database(admin, name).await;
        }
    }
}

/// Latency of `write 4 KiB + fdatasync` in `dir`, 200 times: (p50, p99) in ms. A durable commit waits for at
/// least one of these (SQLite WAL with synchronous=FULL: one per commit).
fn fsync_probe(dir: &Path) -> anyhow::Result<(f64, f64)> {
    use std::io::{Seek, Write};
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path)?;
    let mut v = Vec::new();
    for i in 0..200u64 {
        f.seek(std::io::SeekFrom::Start(i % 16 * 4096))?;
        f.write_all(&[0x5a; 4096])?;
        let t = Instant::now();
        f.sync_data()?;
        v.push(t.elapsed());
    }
    std::fs::remove_file(&path)?;
    let (p50, p99, _) = percentiles(&mut v);
    Ok((p50, p99))
}

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// User + system CPU seconds of a process (`self` or a pid), from /proc/<pid>/stat (USER_HZ = 100).
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some((_, rest)) = s.rsplit_once(')') else {
        return 0.0;
    };
    // After the command: state is field 3; utime and stime are fields 14 and 15.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(14) + ticks(15)) / 100.0
}

/// Busy and steal CPU seconds of the whole machine (all cores), from the first line of /proc/stat.
fn machine_cpu() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<f64> = s
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0) / 100.0;
    // user nice system idle iowait irq softirq steal
    (at(0) + at(1) + at(2) + at(5) + at(6), at(7))
}

// ── the sets ──────────────────────────────────────────────────────────────────────────────────────

/// The send units and their share of the sets; `true` when a care manager sends them.
const MIX: &[(&str, u64, bool)] = &[
    ("schedule", 60, true),
    ("actual", 30, false),
    ("schedule_delete", 5, true),
    ("actual_delete", 5, false),
];

const PLACEHOLDER_SEQ: &str = "20250101000000";

/// A valid set with a placeholder sequence, which each send replaces.
struct Template {
    files: Vec<(String, Vec<u8>)>,
}

impl Template {
    fn with_sequence(&self, seq: &str) -> Vec<(String, Vec<u8>)> {
        self.files
            .iter()
            .map(|(n, b)| (n.replace(PLACEHOLDER_SEQ, seq), b.clone()))
            .collect()
    }

    fn bytes(&self) -> usize {
        self.files.iter().map(|(_, b)| b.len()).sum()
    }
}

/// Templates of one sending office, per unit of [`MIX`] (empty for units the office does not send).
type OfficeTemplates = Vec<Vec<Template>>;

fn templates_for(
    spec: &Spec,
    sender: &Party,
    recipients: &[Party],
    sends_as_care_manager: bool,
    n: usize,
    rng: &mut Rng,
) -> anyhow::Result<OfficeTemplates> {
    let mut out = Vec::new();
    for &(unit_name, _, cm) in MIX {
        let mut v = Vec::new();
        if cm == sends_as_care_manager {
            let unit = spec
                .units
                .iter()
                .find(|u| u.name == unit_name)
                .with_context(|| format!("unit {unit_name}"))?;
            for _ in 0..n {
                let sc = Scenario {
                    generation: Generation::V4,
                    sender: sender.clone(),
                    recipient: recipients[rng.below(recipients.len() as u64) as usize].clone(),
                    sequence: PLACEHOLDER_SEQ.into(),
                    month: format!("2025{:02}", 1 + rng.below(12)),
                    users: 2 + rng.below(39) as usize,
                    rows_per_user: 2 + rng.below(5) as usize,
                    seed: rng.next_u64(),
                };
                let files: Vec<(String, Vec<u8>)> = unit_files(spec, unit, &sc)
                    .into_iter()
                    .map(|f| (f.name, f.bytes))
                    .collect();
                ensure_valid(spec, &files, &format!("a generated {unit_name} set"))?;
                v.push(Template { files });
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// CPU cost of `validate_set` alone for a set of the mix, in µs: the mean over the templates of each unit,
/// weighted by the unit's share of [`MIX`] (a lower bound of the server's work per set).
/// Fails with the report when the generated `files` (`what`) are not a valid set: a bench must only send sets
/// that the relay has to accept.
fn ensure_valid(spec: &Spec, files: &[(String, Vec<u8>)], what: &str) -> anyhow::Result<()> {
    let input: Vec<InputFile<'_>> = files
        .iter()
        .map(|(name, bytes)| InputFile { name, bytes })
        .collect();
    let checked = validate_set(spec, &input);
    if !checked.report.valid {
        bail!(
            "{what} is invalid: {}",
            serde_json::to_string_pretty(&checked.report)?
        );
    }
    Ok(())
}

fn validation_cost(spec: &Spec, offices: &[Arc<OfficeTemplates>]) -> f64 {
    let mut weighted = 0.0;
    for (unit, &(_, share, _)) in MIX.iter().enumerate() {
        let sets: Vec<&Template> = offices.iter().flat_map(|o| &o[unit]).collect();
        if sets.is_empty() {
            continue;
        }
        let t = Instant::now();
        let rounds = 3;
        for _ in 0..rounds {
            for set in &sets {
                let input: Vec<InputFile<'_>> = set
                    .files
                    .iter()
                    .map(|(name, bytes)| InputFile { name, bytes })
                    .collect();
                std::hint::black_box(validate_set(spec, &input));
            }
        }
        let mean = t.elapsed().as_secs_f64() * 1e6 / (rounds * sets.len()) as f64;
        weighted += mean * share as f64 / 100.0;
    }
    weighted
}

/// Seconds since 1970-01-01 → `YYYYMMDDHHMMSS` (UTC, proleptic Gregorian).
fn date_time(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// 2025-04-01 00:00:00 UTC.
const SEQUENCE_BASE: i64 = 1_743_465_600;

// ── the load ──────────────────────────────────────────────────────────────────────────────────────

#[derive(Default)]
struct SenderStats {
    accepted: u64,
    latencies: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
    bytes: u64,
}

impl SenderStats {
    fn merge(&mut self, x: SenderStats) {
        self.accepted += x.accepted;
        self.latencies.extend(x.latencies);
        self.bytes += x.bytes;
        for (k, v) in x.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.samples.extend(x.samples);
    }
}

#[derive(Default)]
struct PollerStats {
    files: u64,
    acks: u64,
    download: Vec<Duration>,
    ack: Vec<Duration>,
    delivery: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
}

fn error(errors: &mut BTreeMap<String, u64>, samples: &mut Vec<String>, key: String, detail: String) {
    *errors.entry(key).or_default() += 1;
    if samples.len() < 3 {
        samples.push(detail);
    }
}

/// When each accepted submission was acknowledged by the sender's 201, for the delivery latency.
type Accepted = Arc<Mutex<HashMap<String, Instant>>>;

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn counts(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

/// Where a sender's sets go: the relay's `POST /v1/submissions`, or a PUT of the same body elsewhere.
enum Target {
    Relay(Client),
    Put(put::PutTarget),
}

impl Target {
    async fn send(&self, seq: &str, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Answer> {
        match self {
            Target::Relay(client) => client.send(files).await,
            Target::Put(put) => put.send(seq, files).await,
        }
    }
}

struct SenderCtx {
    index: usize,
    clients: usize,
    as_cm: (Target, Arc<OfficeTemplates>),
    as_provider: (Target, Arc<OfficeTemplates>),
    seed: u64,
    window: Window,
    accepted: Accepted,
}

async fn sender(cx: SenderCtx) -> SenderStats {
    let mut st = SenderStats::default();
    let mut rng = Rng::new(cx.seed ^ (cx.index as u64).wrapping_mul(0x0100_0000_01b3));
    let total: u64 = MIX.iter().map(|m| m.1).sum();
    for n in 0u64.. {
        if Instant::now() >= cx.window.end {
            break;
        }
        let mut pick = rng.below(total);
        let unit = MIX
            .iter()
            .position(|m| {
                let hit = pick < m.1;
                pick = pick.saturating_sub(m.1);
                hit
            })
            .unwrap_or(0);
        let (client, templates) = if MIX[unit].2 { &cx.as_cm } else { &cx.as_provider };
        let choices = &templates[unit];
        let template = &choices[rng.below(choices.len() as u64) as usize];
        let seq = date_time(SEQUENCE_BASE + (n * cx.clients as u64 + cx.index as u64) as i64);
        let files = template.with_sequence(&seq);
        let t0 = Instant::now();
        let answer = client.send(&seq, files).await;
        let t1 = Instant::now();
        let counted = cx.window.counts(t0) && t1 < cx.window.end;
        match answer {
            Ok(a) if a.status == 201 => {
                if let Some(id) = a.json["submission_id"].as_str() {
                    cx.accepted.lock().unwrap().insert(id.to_string(), t1);
                }
                if counted {
                    st.accepted += 1;
                    st.latencies.push(t1 - t0);
                    st.bytes += template.bytes() as u64;
                }
            }
            Ok(a) => error(
                &mut st.errors,
                &mut st.samples,
                format!("HTTP {}", a.status),
                format!("{seq} {}: {}", MIX[unit].0, a.json),
            ),
            Err(e) => error(
                &mut st.errors,
                &mut st.samples,
                "transport".into(),
                format!("{seq}: {e:#}"),
            ),
        }
    }
    st
}

async fn poller(client: Client, window: Window, accepted: Accepted) -> PollerStats {
    let mut st = PollerStats::default();
    'poll: while Instant::now() < window.end {
        let page = match client.get("/v1/inbox?wait=1&limit=100").await {
            Ok(a) if a.status == 200 => a.json,
            Ok(a) => {
                let key = format!("inbox HTTP {}", a.status);
                error(&mut st.errors, &mut st.samples, key, a.json.to_string());
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) => {
                error(
                    &mut st.errors,
                    &mut st.samples,
                    "inbox transport".into(),
                    format!("{e:#}"),
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        for item in page["items"].as_array().cloned().unwrap_or_default() {
            if Instant::now() >= window.end {
                break 'poll;
            }
            let delivery = item["delivery_id"].as_str().unwrap_or_default();
            for f in item["files"].as_array().cloned().unwrap_or_default() {
                let name = f["name"].as_str().unwrap_or_default();
                let t0 = Instant::now();
                match client.download(delivery, name).await {
                    Ok((200, bytes, _))
                        if Some(careplan_relay::relay::sha256_hex(&bytes).as_str())
                            == f["sha256"].as_str() =>
                    {
                        let t1 = Instant::now();
                        if window.counts(t0) && t1 < window.end {
                            st.files += 1;
                            st.download.push(t1 - t0);
                        }
                    }
                    Ok((status, _, _)) => error(
                        &mut st.errors,
                        &mut st.samples,
                        format!("download HTTP {status} or digest"),
                        format!("{delivery}/{name}"),
                    ),
                    Err(e) => error(
                        &mut st.errors,
                        &mut st.samples,
                        "download transport".into(),
                        format!("{e:#}"),
                    ),
                }
            }
            let t0 = Instant::now();
            match client.post(&format!("/v1/inbox/{delivery}/ack")).await {
                Ok(a) if a.status == 200 => {
                    let t1 = Instant::now();
                    let sent = item["submission_id"]
                        .as_str()
                        .and_then(|s| accepted.lock().unwrap().remove(s));
                    if window.counts(t0) && t1 < window.end {
                        st.acks += 1;
                        st.ack.push(t1 - t0);
                        if let Some(sent) = sent.filter(|s| *s >= window.start) {
                            st.delivery.push(t1 - sent);
                        }
                    }
                }
                Ok(a) => error(
                    &mut st.errors,
                    &mut st.samples,
                    format!("ack HTTP {}", a.status),
                    a.json.to_string(),
                ),
                Err(e) => error(
                    &mut st.errors,
                    &mut st.samples,
                    "ack transport".into(),
                    format!("{e:#}"),
                ),
            }
        }
    }
    st
}

struct RunResult {
    db: String,
    clients: usize,
    offices: (usize, usize),
    seconds: f64,
    accepted: u64,
    latency: (f64, f64, f64),
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
    bytes: u64,
    files: u64,
    acks: u64,
    download: (f64, f64, f64),
    ack: (f64, f64, f64),
    /// `None` when no delivery sent inside the window was acknowledged inside it.
    delivery: Option<(f64, f64, f64)>,
    backlog: usize,
    hwm_kb: u64,
    rss_max_kb: u64,
    server_cpu: f64,
    self_cpu: f64,
    /// CPU seconds used by every other process on the machine during the window, and stolen by the host.
    other_cpu: f64,
    steal: f64,
    /// fdatasync latency in the data directory just before the run (p50, p99 ms).
    fsync: (f64, f64),
    /// `validate_set` alone, µs per set of the mix.
    validate_us: f64,
}

impl RunResult {
    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {} | {:.0} | {:.0} |",
            self.db,
            self.clients,
            self.accepted as f64 / self.seconds,
            self.latency.0,
            self.latency.1,
            self.error_count(),
            self.files as f64 / self.seconds,
            self.hwm_kb as f64 / 1024.0,
        )
    }

    fn detail(&self) -> String {
        let per_set = |cpu: f64| {
            if self.accepted == 0 {
                0.0
            } else {
                cpu * 1e3 / self.accepted as f64
            }
        };
        format!(
            "| {} | {} | {}+{} | {} | {:.0} | {:.1} | {:.1} / {:.1} | {:.1} / {:.1} | {} | {} | {} \
             | {:.0} % | {:.2} | {:.2} | {:.0} % | {:.0} % | {:.1} / {:.1} |",
            self.db,
            self.clients,
            self.offices.0,
            self.offices.1,
            self.accepted,
            self.bytes as f64 / self.accepted.max(1) as f64 / 1024.0,
            self.latency.2,
            self.download.0,
            self.download.1,
            self.ack.0,
            self.ack.1,
            self.delivery
                .map_or_else(|| "–".to_string(), |d| format!("{:.0} / {:.0}", d.0, d.1)),
            self.acks,
            self.backlog,
            self.server_cpu / self.seconds * 100.0,
            per_set(self.server_cpu),
            self.validate_us / 1e3,
            self.self_cpu / self.seconds * 100.0,
            (self.other_cpu + self.steal) / self.seconds * 100.0,
            self.fsync.0,
            self.fsync.1,
        )
    }
}

const ROW_HEADER: &str = "| db | clients | accepted sets/s | p50 ms | p99 ms | errors | downloads/s | peak RSS MB |\n\
                          |---|---:|---:|---:|---:|---:|---:|---:|";
const DETAIL_HEADER: &str = "| db | clients | offices cm+prov | accepted | KB/set | max ms | download p50 / p99 ms | \
                             ack p50 / p99 ms | delivery p50 / p99 ms | acked | backlog | server CPU | \
                             server CPU ms/set | validate_set ms/set | loadgen CPU | other CPU | fdatasync p50 / p99 ms |\n\
                             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

async fn run(args: &Args, bin: &Path, db: DbChoice, clients: usize) -> anyhow::Result<RunResult> {
    let mut server = Server::create(bin, db, &args.pg_admin).await?;
    let result = run_on(args, &mut server, db, clients).await;
    server.stop().await;
    result
}

/// The offices of a run and the sets each sends, built before the clock starts. The same arguments give the
/// same offices and the same bytes, whatever receives them (the relay or a --put-url server).
struct Plan {
    cms: Vec<Party>,
    provs: Vec<Party>,
    cm_templates: Vec<Arc<OfficeTemplates>>,
    prov_templates: Vec<Arc<OfficeTemplates>>,
}

impl Plan {
    fn new(args: &Args, clients: usize) -> anyhow::Result<Plan> {
        let spec = Spec::get()?;
        let offices = args.pollers.unwrap_or(clients / 8).max(2);
        let n_cm = (offices / 4).max(1);
        let n_prov = offices - n_cm;
        let cms: Vec<Party> = (0..n_cm)
            .map(|i| Party {
                office: format!("1310{:06}", i + 1),
                service_type: Some("43".into()),
            })
            .collect();
        let provs: Vec<Party> = (0..n_prov)
            .map(|i| Party {
                office: format!("1320{:06}", i + 1),
                service_type: Some("11".into()),
            })
            .collect();
        let mut rng = Rng::new(args.seed);
        let cm_templates = cms
            .iter()
            .map(|p| templates_for(spec, p, &provs, true, args.templates, &mut rng).map(Arc::new))
            .collect::<anyhow::Result<_>>()?;
        let prov_templates = provs
            .iter()
            .map(|p| templates_for(spec, p, &cms, false, args.templates, &mut rng).map(Arc::new))
            .collect::<anyhow::Result<_>>()?;
        Ok(Plan {
            cms,
            provs,
            cm_templates,
            prov_templates,
        })
    }

    fn all_templates(&self) -> Vec<Arc<OfficeTemplates>> {
        self.cm_templates
            .iter()
            .chain(&self.prov_templates)
            .cloned()
            .collect()
    }
}

async fn run_on(args: &Args, server: &mut Server, db: DbChoice, clients: usize) -> anyhow::Result<RunResult> {
    let spec = Spec::get()?;
    let plan = Plan::new(args, clients)?;
    let (n_cm, n_prov) = (plan.cms.len(), plan.provs.len());
    let mut cm_tokens = Vec::new();
    let mut prov_tokens = Vec::new();
    for p in &plan.cms {
        cm_tokens.push(server.add_office(&p.office, "care_manager", "43")?);
    }
    for p in &plan.provs {
        prov_tokens.push(server.add_office(&p.office, "provider", "11")?);
    }
    let (cm_templates, prov_templates) = (&plan.cm_templates, &plan.prov_templates);

    let validate_us = validation_cost(spec, &plan.all_templates());
    let fsync = fsync_probe(&server.data)?;
    server.start(args.server_log.as_deref(), &args.server_env)?;
    let pid = server.pid();
    let t0 = Instant::now() + Duration::from_millis(200);
    let window = Window {
        start: t0 + Duration::from_secs(args.warmup),
        end: t0 + Duration::from_secs(args.warmup + args.seconds),
    };
    let accepted: Accepted = Arc::default();

    let mut senders = Vec::new();
    for i in 0..clients {
        let cx = SenderCtx {
            index: i,
            clients,
            as_cm: (
                Target::Relay(server.client(&cm_tokens[i % n_cm])?),
                Arc::clone(&cm_templates[i % n_cm]),
            ),
            as_provider: (
                Target::Relay(server.client(&prov_tokens[i % n_prov])?),
                Arc::clone(&prov_templates[i % n_prov]),
            ),
            seed: args.seed,
            window,
            accepted: Arc::clone(&accepted),
        };
        senders.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0.into()).await;
            sender(cx).await
        }));
    }
    let mut pollers = Vec::new();
    for token in cm_tokens.iter().chain(&prov_tokens).filter(|_| !args.no_download) {
        let (client, accepted) = (server.client(token)?, Arc::clone(&accepted));
        pollers.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0.into()).await;
            poller(client, window, accepted).await
        }));
    }

    // RSS sampling, CPU at the window's edges, and perf during the window.
    let stop = Arc::new(AtomicBool::new(false));
    let rss_max = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, rss_max) = (Arc::clone(&stop), Arc::clone(&rss_max));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kb) = status_kb(pid, "VmRSS:") {
                    rss_max.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    tokio::time::sleep_until(window.start.into()).await;
    let (server_cpu0, self_cpu0, machine0) =
        (cpu_seconds(&pid.to_string()), cpu_seconds("self"), machine_cpu());
    let perf = match &args.perf {
        Some(file) => Some(
            Command::new("perf")
                .args(["record", "-F", "499", "--call-graph", "dwarf,16384", "-o"])
                .arg(file)
                .args(["-p", &pid.to_string(), "--", "sleep", &args.seconds.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting perf record")?,
        ),
        None => None,
    };
    tokio::time::sleep_until(window.end.into()).await;
    let (server_cpu1, self_cpu1, machine1) =
        (cpu_seconds(&pid.to_string()), cpu_seconds("self"), machine_cpu());

    let mut s = SenderStats::default();
    for t in senders {
        s.merge(t.await?);
    }
    let mut p = PollerStats::default();
    for t in pollers {
        let x = t.await?;
        p.files += x.files;
        p.acks += x.acks;
        p.download.extend(x.download);
        p.ack.extend(x.ack);
        p.delivery.extend(x.delivery);
        for (k, v) in x.errors {
            *s.errors.entry(k).or_default() += v;
        }
        s.samples.extend(x.samples);
    }
    if let Some(mut perf) = perf {
        perf.wait()?;
    }
    let hwm_kb = status_kb(pid, "VmHWM:").unwrap_or(0);
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();

    let backlog = accepted.lock().unwrap().len();
    Ok(RunResult {
        db: match (&args.label, db) {
            (None, DbChoice::Postgres) => "postgres".to_string(),
            (None, _) => "sqlite".to_string(),
            (Some(l), DbChoice::Postgres) => format!("postgres {l}"),
            (Some(l), _) => format!("sqlite {l}"),
        },
        clients,
        offices: (n_cm, n_prov),
        seconds: args.seconds as f64,
        accepted: s.accepted,
        latency: percentiles(&mut s.latencies),
        errors: s.errors,
        samples: s.samples,
        bytes: s.bytes,
        files: p.files,
        acks: p.acks,
        download: percentiles(&mut p.download),
        ack: percentiles(&mut p.ack),
        delivery: (!p.delivery.is_empty()).then(|| percentiles(&mut p.delivery)),
        backlog,
        hwm_kb,
        rss_max_kb: rss_max.load(Ordering::Relaxed),
        server_cpu: server_cpu1 - server_cpu0,
        self_cpu: self_cpu1 - self_cpu0,
        other_cpu: (machine1.0 - machine0.0) - (server_cpu1 - server_cpu0) - (self_cpu1 - self_cpu0),
        steal: machine1.1 - machine0.1,
        fsync,
        validate_us,
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match load(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn load(args: Args) -> anyhow::Result<()> {
    let points = if args.sweep {
        args.sweep_clients.clone()
    } else {
        vec![args.clients]
    };
    if let Some(url) = &args.put_url {
        eprintln!(
            "load: PUT to {url}, {} s measured after {} s warm-up, seed {}",
            args.seconds, args.warmup, args.seed
        );
        println!("{ROW_HEADER}");
        let mut results = Vec::new();
        for &clients in &points {
            let r = put::run(&args, url, clients).await?;
            println!("{}", r.row());
            report_run(&r);
            results.push(r);
        }
        print_details(&results);
        return Ok(());
    }
    let bin = args.server.clone().unwrap_or_else(|| PathBuf::from(SERVER_BIN));
    if !bin.is_file() {
        bail!(
            "the server binary {} is missing: run `cargo build --release` first (or pass --server PATH)",
            bin.display()
        );
    }
    let dbs = match args.db {
        DbChoice::Both => vec![DbChoice::Sqlite, DbChoice::Postgres],
        d => vec![d],
    };
    if args.near_limit {
        println!("{}", near_limit::HEADER);
        for &db in &dbs {
            for r in near_limit::run(&args, &bin, db).await? {
                println!("{}", r.row());
            }
        }
        return Ok(());
    }
    eprintln!(
        "load: server {}, {} s measured after {} s warm-up, seed {}",
        bin.display(),
        args.seconds,
        args.warmup,
        args.seed
    );
    println!("{ROW_HEADER}");
    let mut results = Vec::new();
    for &db in &dbs {
        for &clients in &points {
            let r = run(&args, &bin, db, clients).await?;
            println!("{}", r.row());
            report_run(&r);
            results.push(r);
        }
    }
    print_details(&results);
    Ok(())
}

/// The details table after the rows.
fn print_details(results: &[RunResult]) {
    println!();
    println!("{DETAIL_HEADER}");
    for r in results {
        println!("{}", r.detail());
    }
}

/// The errors of a run and what the table does not show, on stderr.
fn report_run(r: &RunResult) {
    if r.error_count() > 0 {
        eprintln!("  errors: {:?}", r.errors);
        for s in &r.samples {
            eprintln!("    {s}");
        }
    }
    eprintln!(
        "  sampled VmRSS max {:.0} MB, {:.1} MB/s of sets accepted",
        r.rss_max_kb as f64 / 1024.0,
        r.bytes as f64 / r.seconds / 1048576.0
    );
}
