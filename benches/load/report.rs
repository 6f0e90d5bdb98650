//! The result of a run and the two tables: one row per run, then the details.

use std::collections::BTreeMap;

use crate::clients::SenderStats;
use crate::relay_process::percentiles;
use crate::server::CpuUse;

pub(crate) struct RunResult {
    pub(crate) db: String,
    pub(crate) clients: usize,
    pub(crate) offices: (usize, usize),
    pub(crate) seconds: f64,
    pub(crate) accepted: u64,
    pub(crate) latency: (f64, f64, f64),
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) samples: Vec<String>,
    pub(crate) bytes: u64,
    pub(crate) files: u64,
    pub(crate) acks: u64,
    pub(crate) download: (f64, f64, f64),
    pub(crate) ack: (f64, f64, f64),
    /// `None` when no delivery sent inside the window was acknowledged inside it.
    pub(crate) delivery: Option<(f64, f64, f64)>,
    pub(crate) backlog: usize,
    pub(crate) hwm_kb: u64,
    pub(crate) rss_max_kb: u64,
    /// CPU seconds used during the window.
    pub(crate) cpu: CpuUse,
    /// fdatasync latency in the data directory just before the run (p50, p99 ms).
    pub(crate) fsync: (f64, f64),
    /// `validate_set` alone, µs per set of the mix.
    pub(crate) validate_us: f64,
}

impl RunResult {
    /// A run's result from what its senders counted and the CPU it used; the recipients' and the server's other
    /// figures start empty, for a relay run to fill in.
    pub(crate) fn new(
        db: String,
        clients: usize,
        offices: (usize, usize),
        seconds: f64,
        mut s: SenderStats,
        cpu: CpuUse,
    ) -> RunResult {
        RunResult {
            db,
            clients,
            offices,
            seconds,
            accepted: s.accepted,
            latency: percentiles(&mut s.latencies),
            errors: s.errors,
            samples: s.samples,
            bytes: s.bytes,
            files: 0,
            acks: 0,
            download: (0.0, 0.0, 0.0),
            ack: (0.0, 0.0, 0.0),
            delivery: None,
            backlog: 0,
            hwm_kb: 0,
            rss_max_kb: 0,
            cpu,
            fsync: (0.0, 0.0),
            validate_us: 0.0,
        }
    }

    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub(crate) fn row(&self) -> String {
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
            self.cpu.server / self.seconds * 100.0,
            per_set(self.cpu.server),
            self.validate_us / 1e3,
            self.cpu.load / self.seconds * 100.0,
            (self.cpu.other + self.cpu.steal) / self.seconds * 100.0,
            self.fsync.0,
            self.fsync.1,
        )
    }
}

pub(crate) const ROW_HEADER: &str = "| db | clients | accepted sets/s | p50 ms | p99 ms | errors | downloads/s | peak RSS MB |\n\
                          |---|---:|---:|---:|---:|---:|---:|---:|";
const DETAIL_HEADER: &str = "| db | clients | offices cm+prov | accepted | KB/set | max ms | download p50 / p99 ms | \
                             ack p50 / p99 ms | delivery p50 / p99 ms | acked | backlog | server CPU | \
                             server CPU ms/set | validate_set ms/set | loadgen CPU | other CPU | fdatasync p50 / p99 ms |\n\
                             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

/// The details table after the rows.
pub(crate) fn print_details(results: &[RunResult]) {
    println!();
    println!("{DETAIL_HEADER}");
    for r in results {
        println!("{}", r.detail());
    }
}

/// The errors of a run and what the table does not show, on stderr.
pub(crate) fn report_run(r: &RunResult) {
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
