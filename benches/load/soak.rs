//! `--soak`: the normal mix (senders and polling recipients, as a relay run) for a long time, typically
//! `--seconds 3600` at a bounded `--rate`, with the server process sampled every `--sample-seconds`: VmRSS and
//! VmHWM from /proc/PID/status, open files (entries of /proc/PID/fd), the size of the data directory's files,
//! the clients' counters so far, the CPU of the server and of the load generator over the interval, and the
//! pending deliveries and database connections from the server's `GET /metrics`. One line per sample as it is
//! taken, then the usual run row, a table of the samples every `--table-seconds`, and the verdict
//! (soak_verdict.rs): RSS and open files flat after the warm-up, no errors.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;

use crate::report::{ROW_HEADER, print_details, report_run};
use crate::run::{Live, run_on};
use crate::server::{CpuClock, Server, open_fds, status_kb};
use crate::{Args, DbChoice};

#[path = "soak_verdict.rs"]
mod verdict;

/// The server and the clients at one moment of the soak.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Seconds since the load started.
    pub(crate) t: f64,
    pub(crate) rss_kb: u64,
    pub(crate) hwm_kb: u64,
    pub(crate) fds: u64,
    /// Bytes of the files in the data directory (SQLite: the database, its WAL and shared memory), in MB.
    pub(crate) data_mb: f64,
    /// Sets accepted (201) since the load started.
    pub(crate) accepted: u64,
    pub(crate) errors: u64,
    /// Files downloaded and deliveries acknowledged since the load started.
    pub(crate) files: u64,
    pub(crate) acks: u64,
    /// `careplan_deliveries_pending` and `careplan_db_pool_connections` from `/metrics` (`None`: not read).
    pub(crate) pending: Option<i64>,
    pub(crate) pool: Option<i64>,
    /// CPU seconds of the server and of the load generator since the first sample.
    pub(crate) server_cpu_s: f64,
    pub(crate) load_cpu_s: f64,
}

impl Sample {
    /// Sets accepted per second and CPU of the server and of the load generator (% of one core) since `prev`.
    pub(crate) fn since(&self, prev: &Sample) -> (f64, f64, f64) {
        let secs = (self.t - prev.t).max(1e-3);
        (
            (self.accepted - prev.accepted) as f64 / secs,
            (self.server_cpu_s - prev.server_cpu_s) / secs * 100.0,
            (self.load_cpu_s - prev.load_cpu_s) / secs * 100.0,
        )
    }

    /// The line printed when the sample is taken; rates since `prev`.
    fn line(&self, prev: Option<&Sample>) -> String {
        let opt = |v: Option<i64>| v.map_or_else(|| "–".to_string(), |v| v.to_string());
        let (rate, server_cpu, load_cpu) = prev.map_or((0.0, 0.0, 0.0), |p| self.since(p));
        format!(
            "soak t={:>5.0} s  RSS {:.1} MB  HWM {:.1} MB  fds {}  data {:.0} MB  accepted {} ({rate:.1}/s)  files {}  acked {}  \
             pending {}  db connections {}  server CPU {:.0} %  loadgen CPU {:.0} %  errors {}",
            self.t,
            mb(self.rss_kb),
            mb(self.hwm_kb),
            self.fds,
            self.data_mb,
            self.accepted,
            self.files,
            self.acks,
            opt(self.pending),
            opt(self.pool),
            server_cpu,
            load_cpu,
            self.errors,
        )
    }
}

pub(crate) fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// One soak on a fresh server; `Ok(false)` when the verdict is a failure (the report is printed either way).
pub(crate) async fn run(args: &Args, bin: &Path, db: DbChoice) -> anyhow::Result<bool> {
    let mut server = Server::create(bin, db, &args.pg_admin).await?;
    let result = soak_on(args, &mut server, db).await;
    server.stop().await;
    result
}

async fn soak_on(args: &Args, server: &mut Server, db: DbChoice) -> anyhow::Result<bool> {
    let admin = server.admin_token()?;
    let live = Arc::new(Live::default());
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (live, done) = (Arc::clone(&live), Arc::clone(&done));
        let every = Duration::from_secs(args.sample_seconds.max(1));
        let total = Duration::from_secs(args.warmup + args.seconds);
        let data = server.data.clone();
        tokio::spawn(async move { sample_loop(&live, &done, every, total, &data, &admin).await })
    };
    let result = run_on(args, server, db, args.clients, &live).await;
    done.store(true, Ordering::Relaxed);
    let samples = sampler.await??;
    let r = result?;
    println!();
    println!("{ROW_HEADER}");
    println!("{}", r.row());
    report_run(&r);
    print_details(std::slice::from_ref(&r));
    println!();
    Ok(verdict::report(args, &samples, &r))
}

/// Samples the server from the start of the load until `total` has passed (or `done`); prints each sample.
async fn sample_loop(
    live: &Live,
    done: &AtomicBool,
    every: Duration,
    total: Duration,
    data: &Path,
    admin: &str,
) -> anyhow::Result<Vec<Sample>> {
    let started = loop {
        if let Some(s) = live.started.get() {
            break s.clone();
        }
        if done.load(Ordering::Relaxed) {
            return Ok(Vec::new());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let metrics = Metrics::new(&data.join("tls").join("ca.pem"), &started.addr, admin)?;
    let mut samples = Vec::new();
    let cpu = CpuClock::read(&[started.pid]);
    for k in 0u32.. {
        let at = started.load_start + every * k;
        if at > started.load_start + total || done.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let (accepted, errors, files, acks) = live.progress.read();
        let used = CpuClock::read(&[started.pid]).since(cpu);
        let t = started.load_start.elapsed().as_secs_f64();
        let (pending, pool) = metrics.read().await;
        let s = Sample {
            t,
            rss_kb: status_kb(started.pid, "VmRSS:").unwrap_or(0),
            hwm_kb: status_kb(started.pid, "VmHWM:").unwrap_or(0),
            fds: open_fds(started.pid).unwrap_or(0),
            data_mb: dir_bytes(data) as f64 / 1_048_576.0,
            accepted,
            errors,
            files,
            acks,
            pending,
            pool,
            server_cpu_s: used.server,
            load_cpu_s: used.load,
        };
        println!("{}", s.line(samples.last()));
        samples.push(s);
    }
    Ok(samples)
}

/// Bytes of the regular files directly in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// The server's `GET /metrics` with an admin token, for two gauges.
struct Metrics {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Metrics {
    fn new(ca: &Path, addr: &str, token: &str) -> anyhow::Result<Metrics> {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Metrics {
            http,
            url: format!("https://{addr}/metrics"),
            token: token.to_string(),
        })
    }

    /// (pending deliveries, database connections); `None` for what could not be read.
    async fn read(&self) -> (Option<i64>, Option<i64>) {
        let text = match self.http.get(&self.url).bearer_auth(&self.token).send().await {
            Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
            _ => String::new(),
        };
        let gauge = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        };
        (
            gauge("careplan_deliveries_pending"),
            gauge("careplan_db_pool_connections"),
        )
    }
}
