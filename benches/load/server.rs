//! The relay under test (a `careplan-relay serve` child process and its data) and what the bench reads from
//! /proc: the server's memory, CPU seconds of processes and of the machine, and the disk's fdatasync latency.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::DbChoice;
use crate::relay_process::{RelayProcess, create_pg_database, drop_pg_database, percentiles};

/// The relay under test: its process, its temporary data directory and, on PostgreSQL, the database to drop.
pub(crate) struct Server {
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
    pub(crate) async fn create(bin: &Path, db: DbChoice, pg_admin: &str) -> anyhow::Result<Server> {
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
            bail!("careplan-relay {args:?}: {}", out.stderr.escape_ascii());
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    pub(crate) fn add_office(&self, number: &str, kind: &str, service_type: &str) -> anyhow::Result<String> {
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

    /// Issues an admin token (for `GET /metrics`).
    pub(crate) fn admin_token(&self) -> anyhow::Result<String> {
        let out = self.cli(&["token", "issue", "--admin"])?;
        Ok(out.lines().last().context("a token line")?.trim().to_string())
    }

    /// Starts `serve` with `RUST_LOG=log` (if given) and the extra environment.
    pub(crate) fn start(&mut self, log: Option<&str>, env: &[(String, String)]) -> anyhow::Result<()> {
        let mut env = env.to_vec();
        if let Some(l) = log {
            env.push(("RUST_LOG".into(), l.into()));
        }
        self.process.start(&env)
    }

    pub(crate) async fn stop(mut self) {
        self.halt();
        if let Some((admin, name)) = &self.pg {
            drop_pg_database(admin, name).await;
        }
    }
}

/// Latency of `write 4 KiB + fdatasync` in `dir`, 200 times: (p50, p99) in ms. A durable commit waits for at
/// least one of these (SQLite WAL with synchronous=FULL: one per commit).
pub(crate) fn fsync_probe(dir: &Path) -> anyhow::Result<(f64, f64)> {
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
pub(crate) fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Open file descriptors of a process (entries of /proc/<pid>/fd).
pub(crate) fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// CPU seconds used so far by the server's processes, by this load generator, and by the whole machine (busy,
/// stolen by the host). Two readings bound a measured window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuClock {
    server: f64,
    load: f64,
    machine: (f64, f64),
}

/// CPU seconds used between two readings of a [`CpuClock`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuUse {
    pub(crate) server: f64,
    pub(crate) load: f64,
    /// Every other process on the machine.
    pub(crate) other: f64,
    pub(crate) steal: f64,
}

impl CpuClock {
    pub(crate) fn read(server_pids: &[u32]) -> CpuClock {
        CpuClock {
            server: server_pids.iter().map(|p| cpu_seconds(&p.to_string())).sum(),
            load: cpu_seconds("self"),
            machine: machine_cpu(),
        }
    }

    /// What was used from `start` to this reading.
    pub(crate) fn since(self, start: CpuClock) -> CpuUse {
        let (server, load) = (self.server - start.server, self.load - start.load);
        CpuUse {
            server,
            load,
            other: (self.machine.0 - start.machine.0) - server - load,
            steal: self.machine.1 - start.machine.1,
        }
    }
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
