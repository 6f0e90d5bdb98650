//! The soak's table and verdict. The first 10 % of the time is warm-up and left out; the samples after it are
//! split into fifths. RSS is flat when the mean of the last fifth exceeds the mean of the first fifth by at most
//! max(5 %, 2 MB), and the least-squares slope over the samples after the warm-up, times their span, does too.
//! Open files are judged the same way with max(10 %, 4 files). The soak passes when both are flat and no send,
//! poll, download or acknowledgement failed.

use super::{Sample, mb};
use crate::Args;
use crate::report::RunResult;

/// Share of the soak's time counted as warm-up.
const WARMUP_SHARE: f64 = 0.10;

/// A quantity after the warm-up: the means of its first and last fifth, and the least-squares slope.
#[derive(Debug)]
struct Trend {
    first: f64,
    last: f64,
    /// Units per hour.
    slope_h: f64,
    /// Hours from the first to the last point.
    span_h: f64,
}

impl Trend {
    /// `None` with fewer than 5 points.
    fn of(points: &[(f64, f64)]) -> Option<Trend> {
        if points.len() < 5 {
            return None;
        }
        let n = points.len();
        let fifth = n / 5;
        let mean = |p: &[(f64, f64)]| p.iter().map(|x| x.1).sum::<f64>() / p.len() as f64;
        let mt = points.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let mv = mean(points);
        let sxy: f64 = points.iter().map(|p| (p.0 - mt) * (p.1 - mv)).sum();
        let sxx: f64 = points.iter().map(|p| (p.0 - mt).powi(2)).sum();
        let slope_s = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        Some(Trend {
            first: mean(&points[..fifth]),
            last: mean(&points[n - fifth..]),
            slope_h: slope_s * 3600.0,
            span_h: (points[n - 1].0 - points[0].0) / 3600.0,
        })
    }

    /// Neither the change between the fifths nor the fitted rise over the span exceeds `tolerance`.
    fn flat(&self, tolerance: f64) -> bool {
        self.last - self.first <= tolerance && self.slope_h * self.span_h <= tolerance
    }

    fn describe(&self, unit: &str, tolerance: f64) -> String {
        format!(
            "first fifth {:.1}{unit}, last fifth {:.1}{unit} ({:+.1}{unit}, {:+.1} %), slope {:+.2}{unit}/h \
             over {:.2} h; allowed rise {:.1}{unit} → {}",
            self.first,
            self.last,
            self.last - self.first,
            (self.last - self.first) * 100.0 / self.first.max(1e-9),
            self.slope_h,
            self.span_h,
            tolerance,
            if self.flat(tolerance) { "flat" } else { "GROWS" },
        )
    }
}

const TABLE_HEADER: &str = "| t min | RSS MB | HWM MB | open files | data MB | sets accepted | sets/s | files downloaded | acknowledged \
                            | pending deliveries | db connections | server CPU | loadgen CPU | errors |\n\
                            |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

/// The samples closest to every `every` seconds, and the last one.
fn table_rows(samples: &[Sample], every: f64) -> Vec<&Sample> {
    let Some(last) = samples.last() else {
        return Vec::new();
    };
    let mut rows: Vec<&Sample> = Vec::new();
    let mut target = 0.0;
    while target <= last.t + every / 2.0 {
        let near = samples
            .iter()
            .min_by(|a, b| (a.t - target).abs().total_cmp(&(b.t - target).abs()));
        if let Some(s) = near.filter(|s| rows.last().is_none_or(|r| r.t < s.t)) {
            rows.push(s);
        }
        target += every;
    }
    if rows.last().is_none_or(|r| r.t < last.t) {
        rows.push(last);
    }
    rows
}

/// Prints the table, the figures and the verdict; `true` when the soak passes.
pub(crate) fn report(args: &Args, samples: &[Sample], r: &RunResult) -> bool {
    let opt = |v: Option<i64>| v.map_or_else(|| "–".to_string(), |v| v.to_string());
    println!("{TABLE_HEADER}");
    let rows = table_rows(samples, args.table_seconds.max(1) as f64);
    for (i, s) in rows.iter().enumerate() {
        let (rate, server_cpu, load_cpu) = if i == 0 {
            (0.0, 0.0, 0.0)
        } else {
            s.since(rows[i - 1])
        };
        println!(
            "| {:.1} | {:.1} | {:.1} | {} | {:.0} | {} | {:.1} | {} | {} | {} | {} | {:.0} % | {:.0} % | {} |",
            s.t / 60.0,
            mb(s.rss_kb),
            mb(s.hwm_kb),
            s.fds,
            s.data_mb,
            s.accepted,
            rate,
            s.files,
            s.acks,
            opt(s.pending),
            opt(s.pool),
            server_cpu,
            load_cpu,
            s.errors,
        );
    }
    println!();
    let total = (args.warmup + args.seconds) as f64;
    let after: Vec<&Sample> = samples.iter().filter(|s| s.t >= WARMUP_SHARE * total).collect();
    let points = |f: fn(&Sample) -> f64| after.iter().map(|s| (s.t, f(s))).collect::<Vec<_>>();
    let rss = Trend::of(&points(|s| mb(s.rss_kb)));
    let fds = Trend::of(&points(|s| s.fds as f64));
    let errors = r.error_count().max(samples.last().map_or(0, |s| s.errors));
    let target = args
        .rate
        .map_or_else(|| "unbounded".to_string(), |v| format!("{v} sets/s"));
    println!(
        "soak: {}, {} senders, rate {target}: achieved {:.1} sets/s over the measured {} s ({} sets); errors {errors}",
        r.db,
        r.clients,
        r.accepted as f64 / r.seconds,
        args.seconds,
        r.accepted,
    );
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        let (_, server_cpu, load_cpu) = last.since(first);
        println!("soak: mean CPU, % of one core: server {server_cpu:.0} %, load generator {load_cpu:.0} %");
    }
    println!(
        "soak: warm-up {:.0} s left out; {} samples after it",
        WARMUP_SHARE * total,
        after.len()
    );
    let (Some(rss), Some(fds)) = (rss, fds) else {
        println!(
            "soak verdict: FAIL: fewer than 5 samples after the warm-up (raise --seconds or lower --sample-seconds)"
        );
        return false;
    };
    let rss_tol = (rss.first * 0.05).max(2.0);
    let fds_tol = (fds.first * 0.10).max(4.0);
    let hwm = samples.last().map_or(0, |s| s.hwm_kb);
    println!(
        "soak: RSS {}; peak (VmHWM) {:.1} MB",
        rss.describe(" MB", rss_tol),
        mb(hwm)
    );
    println!("soak: open files {}", fds.describe("", fds_tol));
    let mut fails = Vec::new();
    if !rss.flat(rss_tol) {
        fails.push("RSS grows");
    }
    if !fds.flat(fds_tol) {
        fails.push("open files grow");
    }
    if errors > 0 {
        fails.push("errors");
    }
    if fails.is_empty() {
        println!("soak verdict: PASS (RSS and open files flat after the warm-up, no errors)");
    } else {
        println!("soak verdict: FAIL: {}", fails.join(", "));
    }
    fails.is_empty()
}
