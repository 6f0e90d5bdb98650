//! `--near-limit`: the server's memory while many senders upload sets just under its body limit at once.
//!
//! One care-manager office sends a v4 schedule set (UPPLAN + UPSIKYU + UPHOSOKU) whose multipart body is just
//! under the server's `server.max_body_bytes`: a big UPPLAN (50 records per user, built by
//! `careplan_relay::generate` as in `examples/bigfile.rs`), with the matching satellites. `--clients` senders,
//! each with its own connection, start at the same instant and each send `--rounds` such sets under fresh
//! sequence numbers. The server's peak RSS (VmHWM) is compared with the bound `clients × limit + idle RSS`:
//! every body in flight held once, plus the server at rest.
//!
//! With `--prefill-seconds S` the database is then filled with S seconds of the normal mix (64 senders,
//! submissions only), the server is restarted on the same data, and the burst is repeated: memory should not
//! depend on how many sets are stored.

use std::sync::Arc;

use anyhow::{Context, bail};
use burst::Burst;
use careplan_relay::config::ServerSettings;
use careplan_relay::generate::{Scenario, big_schedule_set};
use careplan_relay::name::Party;
use careplan_relay::spec::{Generation, Spec};

use crate::mix::{PLACEHOLDER_SEQ, ensure_valid};
use crate::server::Server;
use crate::{Args, DbChoice};

#[path = "near_limit_burst.rs"]
mod burst;

const LIMIT_ENV: &str = "CAREPLAN_RELAY__SERVER__MAX_BODY_BYTES";

/// Room left under the limit for the multipart framing (a boundary line and headers per part) and the
/// uneven size of the last user.
const MARGIN: usize = 4096;

/// The files of a set: (name, bytes).
type Files = Vec<(String, Vec<u8>)>;

pub(crate) const HEADER: &str = "| near limit | db | stored sets before | clients × rounds | limit MiB | body MiB/set \
                                 | accepted | errors | burst s | latency p50 / max s | idle RSS MB | peak RSS MB \
                                 | bound MB | peak / bound | RSS after MB |\n\
                                 |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

pub(crate) struct NearLimitResult {
    db: &'static str,
    stored_before: u64,
    clients: usize,
    rounds: usize,
    limit: usize,
    body: usize,
    accepted: u64,
    errors: u64,
    seconds: f64,
    latency: (f64, f64),
    idle_kb: u64,
    hwm_kb: u64,
    after_kb: u64,
}

impl NearLimitResult {
    pub(crate) fn row(&self) -> String {
        let mib = |b: usize| b as f64 / 1_048_576.0;
        let bound_kb = self.clients as u64 * self.limit as u64 / 1024 + self.idle_kb;
        format!(
            "| near limit | {} | {} | {} × {} | {:.1} | {:.2} | {} | {} | {:.1} | {:.1} / {:.1} | {:.0} | {:.0} \
             | {:.0} | {:.0} % | {:.0} |",
            self.db,
            self.stored_before,
            self.clients,
            self.rounds,
            mib(self.limit),
            mib(self.body),
            self.accepted,
            self.errors,
            self.seconds,
            self.latency.0 / 1e3,
            self.latency.1 / 1e3,
            self.idle_kb as f64 / 1024.0,
            self.hwm_kb as f64 / 1024.0,
            bound_kb as f64 / 1024.0,
            self.hwm_kb as f64 * 100.0 / bound_kb.max(1) as f64,
            self.after_kb as f64 / 1024.0,
        )
    }
}

/// The server's body limit: the value given to it through --server-env, else its default.
fn body_limit(args: &Args) -> anyhow::Result<usize> {
    match args.server_env.iter().rev().find(|(k, _)| k == LIMIT_ENV) {
        Some((_, v)) => v.parse().with_context(|| format!("{LIMIT_ENV}={v}")),
        None => Ok(ServerSettings::default().max_body_bytes),
    }
}

/// A v4 schedule set from `sender` to `recipient` with `users` users: UPPLAN with 50 rows per user,
/// UPSIKYU and UPHOSOKU with 2 and 1.
fn schedule_set(spec: &Spec, sender: &Party, recipient: &Party, users: usize) -> anyhow::Result<Files> {
    let base = Scenario {
        sender: sender.clone(),
        recipient: recipient.clone(),
        sequence: PLACEHOLDER_SEQ.into(),
        users,
        ..Scenario::small(Generation::V4)
    };
    let files =
        big_schedule_set(spec, &base, 50).context("no v4 schedule unit or UPPLAN layout in the spec")?;
    Ok(files.into_iter().map(|f| (f.name, f.bytes)).collect())
}

/// The multipart body of `files`, at most: a boundary line and the part headers for each file, and the
/// closing boundary.
fn body_size(files: &Files) -> usize {
    files.iter().map(|(n, b)| b.len() + n.len() + 160).sum::<usize>() + 80
}

/// The largest schedule set whose body stays under `limit − MARGIN`, checked valid, with its body size.
fn largest_set(
    spec: &Spec,
    sender: &Party,
    recipient: &Party,
    limit: usize,
) -> anyhow::Result<(Files, usize)> {
    let target = limit.saturating_sub(MARGIN);
    let size = |users: usize| -> anyhow::Result<(Files, usize)> {
        let files = schedule_set(spec, sender, recipient, users)?;
        let n = body_size(&files);
        Ok((files, n))
    };
    let (_, s20) = size(20)?;
    let (_, s40) = size(40)?;
    let per_user = ((s40 - s20) / 20).max(1);
    if s20 > target {
        bail!("a limit of {limit} bytes is too small for the near-limit set (20 users need {s20})");
    }
    let mut users = 20 + (target - s20) / per_user;
    let mut best: Option<(Files, usize)> = None;
    for _ in 0..8 {
        let (files, n) = size(users)?;
        if n > target {
            users -= (n - target).div_ceil(per_user) + 1;
            continue;
        }
        let gap = target - n;
        best = Some((files, n));
        if gap < 3 * per_user {
            break;
        }
        users += gap / per_user - 1;
    }
    let (files, n) = best.context("could not size the near-limit set")?;
    ensure_valid(spec, &files, "the near-limit set")?;
    Ok((files, n))
}

pub(crate) async fn run(
    args: &Args,
    bin: &std::path::Path,
    db: DbChoice,
) -> anyhow::Result<Vec<NearLimitResult>> {
    let mut server = Server::create(bin, db, &args.pg_admin).await?;
    let result = run_on(args, &mut server, db).await;
    server.stop().await;
    result
}

async fn run_on(args: &Args, server: &mut Server, db: DbChoice) -> anyhow::Result<Vec<NearLimitResult>> {
    let spec = Spec::get()?;
    let limit = body_limit(args)?;
    let db_name = if db == DbChoice::Postgres {
        "postgres"
    } else {
        "sqlite"
    };
    // Office numbers apart from those of the normal mix, which the prefill registers.
    let cm = Party {
        office: "1330000001".into(),
        service_type: Some("43".into()),
    };
    let provider = Party {
        office: "1340000001".into(),
        service_type: Some("11".into()),
    };
    let token = server.add_office(&cm.office, "care_manager", "43")?;
    server.add_office(&provider.office, "provider", "11")?;
    let (files, body) = largest_set(spec, &cm, &provider, limit)?;
    eprintln!(
        "near limit: limit {limit} bytes, set of {} files, {} bytes of files, body ≤ {body} bytes",
        files.len(),
        files.iter().map(|(_, b)| b.len()).sum::<usize>()
    );
    // Shared by every send without a copy: the bytes live as long as the process.
    let files: Arc<Vec<(String, &'static [u8])>> =
        Arc::new(files.into_iter().map(|(n, b)| (n, &*Vec::leak(b))).collect());
    let burst = Burst {
        args,
        token: &token,
        files,
        limit,
        body,
        db: db_name,
    };
    server.start(args.server_log.as_deref(), &args.server_env)?;
    let mut out = vec![burst.run(server, 0, 0).await?];
    if args.prefill_seconds > 0 {
        server.halt();
        let prefill = Args {
            clients: 64,
            seconds: args.prefill_seconds,
            warmup: 0,
            pollers: None,
            no_download: true,
            perf: None,
            rate: None,
            ..args.clone()
        };
        let live = crate::run::Live::default();
        let r = crate::run::run_on(&prefill, server, db, prefill.clients, &live).await?;
        eprintln!(
            "near limit: prefilled {} sets in {} s ({} errors)",
            r.accepted,
            args.prefill_seconds,
            r.error_count()
        );
        server.halt();
        server.start(args.server_log.as_deref(), &args.server_env)?;
        let stored = out[0].accepted + r.accepted;
        out.push(burst.run(server, 1, stored).await?);
    }
    Ok(out)
}
