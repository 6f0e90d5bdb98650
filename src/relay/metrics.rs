//! Counters and latency histograms for `GET /metrics` (Prometheus text format), kept in memory per process.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// (outcome, kind) → count.
    submissions: BTreeMap<(String, String), u64>,
    /// code → count.
    rejections: BTreeMap<String, u64>,
    /// route → latency.
    requests: BTreeMap<String, Histogram>,
}

/// The process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// The server certificate's end of validity, Unix seconds (0 until known); kept by `server::live_tls`.
    pub tls_not_after: Arc<AtomicI64>,
}

fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// A submission's outcome (`accepted`, `replayed`, `rejected`, …) per file kind in it.
    pub fn submission(&self, outcome: &str, kinds: &[String]) {
        self.with(|m| {
            for k in kinds {
                *m.submissions.entry((outcome.to_string(), k.clone())).or_default() += 1;
            }
        });
    }

    pub fn rejection(&self, codes: &[String]) {
        self.with(|m| {
            for c in codes {
                *m.rejections.entry(c.clone()).or_default() += 1;
            }
        });
    }

    /// A request's latency by matched route.
    pub fn request(&self, route: &str, took: Duration) {
        self.with(|m| {
            m.requests
                .entry(route.to_string())
                .or_default()
                .observe(took.as_secs_f64())
        });
    }

    /// The Prometheus text, with the gauges the caller read from the database.
    pub fn render(&self, gauges: &[(&str, &str, i64)]) -> String {
        let mut out = String::new();
        self.with(|m| {
            let _ = writeln!(
                out,
                "# HELP careplan_submissions_total Submitted files by outcome and kind."
            );
            let _ = writeln!(out, "# TYPE careplan_submissions_total counter");
            for ((outcome, kind), n) in &m.submissions {
                let _ = writeln!(
                    out,
                    "careplan_submissions_total{{outcome=\"{}\",kind=\"{}\"}} {n}",
                    label(outcome),
                    label(kind)
                );
            }
            let _ = writeln!(
                out,
                "# HELP careplan_rejections_total Rejected sets by error code."
            );
            let _ = writeln!(out, "# TYPE careplan_rejections_total counter");
            for (code, n) in &m.rejections {
                let _ = writeln!(out, "careplan_rejections_total{{code=\"{}\"}} {n}", label(code));
            }
            let _ = writeln!(
                out,
                "# HELP careplan_request_duration_seconds Request latency by route."
            );
            let _ = writeln!(out, "# TYPE careplan_request_duration_seconds histogram");
            for (route, h) in &m.requests {
                let r = label(route);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "careplan_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "careplan_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "careplan_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "careplan_request_duration_seconds_count{{route=\"{r}\"}} {}",
                    h.count
                );
            }
        });
        let not_after = self.tls_not_after.load(Ordering::Relaxed);
        if not_after > 0 {
            let name = "careplan_tls_certificate_not_after_seconds";
            let _ = writeln!(
                out,
                "# HELP {name} End of validity of the server certificate, Unix seconds.\n# TYPE {name} gauge\n{name} {not_after}"
            );
        }
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        out
    }
}

/// The content type of [`crate::relay::Relay::metrics_text`] (Prometheus text exposition format).
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

impl super::Relay {
    /// The Prometheus text of `/metrics`: the counters and histograms, and gauges read now (pending deliveries,
    /// the audit chain, the database pool). Served by the admin-token route and by the metrics listener.
    pub async fn metrics_text(&self) -> super::Result<String> {
        let pending = self.store.pending_deliveries().await?;
        let (sealed, queued) = self.store.audit_counts().await?;
        let (size, idle) = self.store.pool_stats();
        Ok(self.metrics.render(&[
            (
                "careplan_deliveries_pending",
                "Deliveries not yet acknowledged.",
                pending,
            ),
            (
                "careplan_audit_sealed",
                "Audit events sealed onto the chain.",
                sealed,
            ),
            (
                "careplan_audit_queued",
                "Audit events waiting to be sealed.",
                queued,
            ),
            ("careplan_db_pool_connections", "Open database connections.", size),
            ("careplan_db_pool_idle", "Idle database connections.", idle),
        ]))
    }
}
