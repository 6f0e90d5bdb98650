//! The inbox at scale: one office polls, downloads and acknowledges over HTTPS while the database holds millions
//! of deliveries for tens of thousands of offices (docs/PERFORMANCE.md; targets: poll p99 ≤ 10 ms, download
//! p99 ≤ 20 ms).
//!
//! ```text
//! cargo build --release --features tools                            # the server the bench starts (`seed`)
//! cargo bench --bench inbox -- --db both                            # 40,000 offices, 10,000,000 deliveries
//! cargo bench --bench inbox -- --db sqlite --deliveries 100000 --offices 1000 --requests 500
//! cargo bench --bench inbox -- --db both --keep /var/tmp/inbox      # seed once, measure again later
//! ```
//!
//! For each database: a fresh SQLite data directory, or a fresh PostgreSQL database `relay_inbox_<uuid>` created
//! through `--pg-admin` and dropped at the end; `careplan-relay seed` fills it (timed; with `--keep DIR` the data
//! directory and database stay in `DIR/<db>-<offices>-<deliveries>` and are reused while they hold enough
//! pending deliveries); `careplan-relay serve --listen 127.0.0.1:0` starts on it with the retention purge off
//! (so that only the measured requests run). Then the seeded office with the backlog, after 20 untimed polls,
//! repeats `--requests` times: poll its pending inbox (`GET /v1/inbox`, the first page of 100, no wait),
//! download the first file of the first delivery (SHA-256 checked) and acknowledge that delivery, so every
//! delivery is acknowledged once and every poll sees the inbox as the previous acknowledgement left it.
//!
//! Output: `| inbox at scale | db | deliveries | offices | poll p50/p99 ms | download p50/p99 ms | ack p50/p99 ms |`
//! on stdout; seed time, database size and maxima on stderr.

// A bench binary: a failed setup step should stop it loudly, and nothing here is a public API.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use careplan_relay::client::Client;
use clap::Parser;
use relay_process::{RelayProcess, create_pg_database, drop_pg_database, percentiles};
use sqlx::Connection;

#[path = "support/relay.rs"]
mod relay_process;

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_careplan-relay");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DbChoice {
    Sqlite,
    Postgres,
    Both,
}

/// The inbox at scale (see the header of benches/inbox.rs).
#[derive(Debug, Parser)]
struct Args {
    #[arg(long, value_enum, default_value = "both")]
    db: DbChoice,
    #[arg(long, default_value_t = 40_000)]
    offices: u64,
    #[arg(long, default_value_t = 10_000_000)]
    deliveries: u64,
    /// Polls, downloads and acknowledgements measured (each delivery acknowledged once).
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    #[arg(long, default_value_t = 1)]
    seed: u32,
    /// PostgreSQL URL with the right to create and drop databases.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pg_admin: String,
    /// The server binary, built with `--features tools` (default: the one `cargo bench` built).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Keep the seeded data in this directory and reuse it in later runs.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// A seeded relay: its data directory, its database and, once started, the serving child process.
/// The relay under test on a seeded database: its process, a temporary data directory unless `--keep`, and the
/// PostgreSQL database to drop when it is not kept.
struct Relay {
    process: RelayProcess,
    _tmp: Option<tempfile::TempDir>,
    /// (admin URL, database) to drop at the end.
    drop_pg: Option<(String, String)>,
}

impl Relay {
    async fn create(args: &Args, bin: &Path, postgres: bool) -> anyhow::Result<Relay> {
        let db = if postgres { "postgres" } else { "sqlite" };
        let (data, tmp) = match &args.keep {
            Some(k) => {
                let d = k.join(format!("{db}-{}-{}", args.offices, args.deliveries));
                std::fs::create_dir_all(&d)?;
                (d, None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("relay-inbox-").tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let (mut db_url, mut drop_pg) = (None, None);
        if postgres {
            let kept = data.join("db.url");
            if let (Some(_), Ok(url)) = (&args.keep, std::fs::read_to_string(&kept)) {
                db_url = Some(url.trim().to_string());
            } else {
                let (url, name) = create_pg_database(&args.pg_admin, "relay_inbox").await?;
                if args.keep.is_some() {
                    std::fs::write(&kept, &url)?;
                } else {
                    drop_pg = Some((args.pg_admin.clone(), name));
                }
                db_url = Some(url);
            }
        }
        Ok(Relay {
            process: RelayProcess::new(bin, &data, db_url),
            _tmp: tmp,
            drop_pg,
        })
    }

    /// Runs `seed` unless kept data is there; returns (seconds the seed took, office, token).
    fn seed(&self, args: &Args) -> anyhow::Result<(f64, String, String)> {
        let (out, log) = (
            self.process.data.join("seed.out"),
            self.process.data.join("seed.log"),
        );
        if !(args.keep.is_some() && out.exists()) {
            let backlog = args.requests.max(5_000).to_string();
            let t = Instant::now();
            let o = self
                .process
                .command()
                .args(["seed", "--offices", &args.offices.to_string()])
                .args(["--deliveries", &args.deliveries.to_string()])
                .args(["--seed", &args.seed.to_string(), "--backlog", &backlog])
                .stderr(std::fs::File::create(&log)?)
                .output()?;
            if !o.status.success() {
                bail!(
                    "seed failed (a server built with `--features tools`?): {}",
                    std::fs::read_to_string(&log)?
                );
            }
            std::fs::write(&out, &o.stdout)?;
            eprintln!("seeded in {:.1} s", t.elapsed().as_secs_f64());
        }
        let text = std::fs::read_to_string(&out)?;
        let mut lines = text.lines();
        let office = lines
            .next()
            .and_then(|l| l.strip_prefix("office "))
            .context("office line")?;
        let token = lines.next().context("token line")?;
        let secs = std::fs::read_to_string(&log)?
            .lines()
            .find_map(|l| l.strip_prefix("seeded in ")?.split(' ').next()?.parse().ok())
            .unwrap_or(f64::NAN);
        Ok((secs, office.to_string(), token.trim().to_string()))
    }

    /// Bytes on disk: the SQLite files, or the PostgreSQL database.
    async fn size(&self) -> anyhow::Result<u64> {
        if let Some(url) = &self.process.db_url {
            let mut c = sqlx::PgConnection::connect(url).await?;
            let (n,): (i64,) = sqlx::query_as("select pg_database_size(current_database())")
                .fetch_one(&mut c)
                .await?;
            return Ok(n as u64);
        }
        let file = |s: &str| std::fs::metadata(self.process.data.join(s)).map_or(0, |m| m.len());
        Ok(file("relay.db") + file("relay.db-wal") + file("relay.db-shm"))
    }

    /// Starts `serve` with the retention purge off, so that only the measured requests run.
    fn start(&mut self) -> anyhow::Result<()> {
        let env = [(
            "CAREPLAN_RELAY__RETENTION__INTERVAL_SECS".to_string(),
            "0".to_string(),
        )];
        self.process.start(&env)
    }

    async fn stop(mut self) {
        self.process.halt();
        if let Some((admin, name)) = &self.drop_pg {
            drop_pg_database(admin, name).await;
        }
    }
}

/// The measured loop: poll, download the head delivery's first file, acknowledge it.
async fn measure(client: &Client, requests: usize) -> anyhow::Result<[Vec<Duration>; 3]> {
    for _ in 0..20 {
        client.get("/v1/inbox").await?;
    }
    let (mut poll, mut download, mut ack) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..requests {
        let t = Instant::now();
        let page = client.get("/v1/inbox").await?;
        poll.push(t.elapsed());
        let item = &page.json["items"][0];
        let (Some(id), Some(file)) = (item["delivery_id"].as_str(), item["files"][0].as_object()) else {
            bail!(
                "poll: HTTP {}, no pending delivery left: {}",
                page.status,
                page.json
            );
        };
        let name = file["name"].as_str().context("file name")?;
        let t = Instant::now();
        let (status, bytes, _) = client.download(id, name).await?;
        download.push(t.elapsed());
        let sha = careplan_relay::relay::sha256_hex(&bytes);
        if status != 200 || Some(sha.as_str()) != file["sha256"].as_str() {
            bail!("download {id}/{name}: HTTP {status}, or the bytes do not match their SHA-256");
        }
        let t = Instant::now();
        let a = client.post(&format!("/v1/inbox/{id}/ack")).await?;
        ack.push(t.elapsed());
        if a.status != 200 {
            bail!("ack {id}: HTTP {} {}", a.status, a.json);
        }
    }
    Ok([poll, download, ack])
}

async fn run(args: &Args, bin: &Path, postgres: bool) -> anyhow::Result<String> {
    let db = if postgres { "postgres" } else { "sqlite" };
    let mut relay = Relay::create(args, bin, postgres).await?;
    let result = async {
        let (seed_secs, office, token) = relay.seed(args)?;
        let size = relay.size().await?;
        relay.start()?;
        let client = relay.process.client(&token)?;
        let [mut poll, mut download, mut ack] = measure(&client, args.requests).await?;
        let (p, d, a) = (
            percentiles(&mut poll),
            percentiles(&mut download),
            percentiles(&mut ack),
        );
        eprintln!(
            "{db}: {} deliveries, {} offices; seed {seed_secs:.0} s; database {:.2} GB; office {office}; \
             {} rounds; max ms: poll {:.1}, download {:.1}, ack {:.1}",
            args.deliveries,
            args.offices,
            size as f64 / 1e9,
            args.requests,
            p.2,
            d.2,
            a.2
        );
        Ok(format!(
            "| inbox at scale | {db} | {} | {} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} |",
            args.deliveries, args.offices, p.0, p.1, d.0, d.1, a.0, a.1
        ))
    }
    .await;
    relay.stop().await;
    result
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let bin = args.server.clone().unwrap_or_else(|| PathBuf::from(SERVER_BIN));
    let dbs: &[bool] = match args.db {
        DbChoice::Sqlite => &[false],
        DbChoice::Postgres => &[true],
        DbChoice::Both => &[false, true],
    };
    println!(
        "| bench | db | deliveries | offices | poll p50/p99 ms | download p50/p99 ms | ack p50/p99 ms |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for &pg in dbs {
        match run(&args, &bin, pg).await {
            Ok(row) => println!("{row}"),
            Err(e) => {
                eprintln!("inbox bench: {e:#}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
