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
//!
//! And a long one: `--soak --seconds 3600 --clients 8 --rate 150 --pollers 8` (load/soak.rs): the normal mix at a
//! bounded rate, the server's RSS, peak RSS and open files sampled every `--sample-seconds`, a table and a
//! verdict (RSS and open files flat after the warm-up, no errors); the exit status is 1 when it fails.
//!
//! Modules in load/: run.rs (a relay run), server.rs, mix.rs (the sets), clients.rs, report.rs (the tables),
//! soak.rs and soak_verdict.rs.

// A bench binary: a failed setup step should stop it loudly, and nothing here is a public API.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::path::PathBuf;

use anyhow::bail;
use clap::Parser;
use report::{ROW_HEADER, print_details, report_run};

#[path = "load/clients.rs"]
mod clients;
#[path = "load/mix.rs"]
mod mix;
#[path = "load/near_limit.rs"]
mod near_limit;
#[path = "load/put.rs"]
mod put;
#[path = "support/relay.rs"]
mod relay_process;
#[path = "load/report.rs"]
mod report;
#[path = "load/run.rs"]
mod run;
#[path = "load/server.rs"]
mod server;
#[path = "load/soak.rs"]
mod soak;

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
    /// At most this many sets per second in total, shared evenly by the senders (default: each sender sends its
    /// next set as soon as the last is answered). Applies to every mode but --near-limit.
    #[arg(long, value_name = "SETS_PER_SEC")]
    rate: Option<f64>,
    /// Soak: one long run of the normal mix (--seconds, e.g. 3600; best with --rate) that samples the server's
    /// RSS, peak RSS and open files every --sample-seconds and judges whether they stay flat after the warm-up
    /// (the first 10 % of the time).
    #[arg(long, conflicts_with_all = ["sweep", "near_limit", "put_url", "perf"])]
    soak: bool,
    /// --soak: seconds between samples (a line each).
    #[arg(long, default_value_t = 10)]
    sample_seconds: u64,
    /// --soak: seconds between the rows of the summary table.
    #[arg(long, default_value_t = 300)]
    table_seconds: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
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
    if args.soak {
        let mut passed = true;
        for &db in &dbs {
            eprintln!(
                "load: soak, server {}, {} senders at {}, {} s",
                bin.display(),
                args.clients,
                args.rate
                    .map_or_else(|| "full speed".into(), |r| format!("{r} sets/s")),
                args.seconds
            );
            passed &= soak::run(&args, &bin, db).await?;
        }
        if !passed {
            bail!("the soak failed (see its verdict)");
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
            let r = run::run(&args, &bin, db, clients).await?;
            println!("{}", r.row());
            report_run(&r);
            results.push(r);
        }
    }
    print_details(&results);
    Ok(())
}
