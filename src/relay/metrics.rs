//! The process's metrics for `GET /metrics` (Prometheus text format), kept with the `metrics` crate in a
//! recorder of this relay's own (`metrics-exporter-prometheus`), so that two relays in one process (the tests)
//! never mix their counts.
//!
//! Counters: `careplan_submissions_total{outcome,kind}`, `careplan_rejections_total{code}`,
//! `careplan_requests_total{route,status}`, `careplan_auth_failures_total`, `careplan_lockouts_total`.
//! SQLite's group commit: `careplan_group_commit_batches_total`, `…_jobs_total`, `…_fsync_microseconds_total`.
//! Histogram: `careplan_request_duration_seconds{route}`. Gauges read at each scrape: pending deliveries and
//! the age of the oldest, the audit chain (sealed, queued, age of the oldest queued event), the database pool,
//! the server certificate's end of validity.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The content type of [`crate::relay::Relay::metrics_text`] (Prometheus text exposition format).
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The process's metrics: a Prometheus recorder and its handle.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// The server certificate's end of validity, Unix seconds (0 until known); kept by `server::live_tls`.
    pub tls_not_after: Arc<AtomicI64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
            .map_or_else(
                |_| PrometheusBuilder::new().build_recorder(),
                |b| b.build_recorder(),
            );
        let handle = recorder.handle();
        let m = Metrics {
            recorder,
            handle,
            tls_not_after: Arc::new(AtomicI64::new(0)),
        };
        m.with(describe);
        m
    }
}

fn describe() {
    describe_counter!(
        "careplan_submissions_total",
        "Submitted sets by outcome, counted per file kind in them."
    );
    describe_counter!("careplan_rejections_total", "Findings of refused sets by code.");
    describe_counter!(
        "careplan_requests_total",
        "HTTP requests by matched route and status."
    );
    describe_histogram!(
        "careplan_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by matched route."
    );
    describe_counter!(
        "careplan_auth_failures_total",
        "Failed authentications (bearer tokens, certificates, page logins)."
    );
    describe_counter!(
        "careplan_lockouts_total",
        "Sources or credentials locked out after repeated failures."
    );
    describe_gauge!("careplan_deliveries_pending", "Deliveries not yet acknowledged.");
    describe_gauge!(
        "careplan_deliveries_pending_oldest_age_seconds",
        Unit::Seconds,
        "Age of the oldest delivery not yet acknowledged."
    );
    describe_gauge!("careplan_audit_sealed", "Audit events sealed onto the chain.");
    describe_gauge!(
        "careplan_inbox_long_polls",
        "Inbox requests waiting (long-polling) on this node now."
    );
    describe_gauge!("careplan_audit_queued", "Audit events waiting to be sealed.");
    describe_gauge!("careplan_db_pool_connections", "Open database connections.");
    describe_gauge!("careplan_db_pool_idle", "Idle database connections.");
    describe_counter!(
        "careplan_group_commit_batches_total",
        "SQLite group commits (one transaction and one WAL fsync each)."
    );
    describe_counter!(
        "careplan_group_commit_jobs_total",
        "Writes carried by SQLite group commits (mean batch size: its rate over the batches' rate)."
    );
    describe_counter!(
        "careplan_group_commit_fsync_microseconds_total",
        Unit::Microseconds,
        "Time SQLite group commits spent in COMMIT, the WAL's fsync (mean latency: its rate over the batches')."
    );
    describe_gauge!(
        "careplan_tls_certificate_not_after_seconds",
        Unit::Seconds,
        "End of validity of the server certificate, Unix seconds."
    );
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// A submission's outcome (`accepted`, `replayed`, `rejected`, …) per file kind in it.
    pub fn submission(&self, outcome: &str, kinds: &[String]) {
        self.with(|| {
            for k in kinds {
                counter!("careplan_submissions_total", "outcome" => outcome.to_string(), "kind" => k.clone())
                    .increment(1);
            }
        });
    }

    /// The codes of a refused set's findings.
    pub fn rejection(&self, codes: &[String]) {
        self.with(|| {
            for c in codes {
                counter!("careplan_rejections_total", "code" => c.clone()).increment(1);
            }
        });
    }

    /// A request's status and latency by matched route.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        self.with(|| {
            counter!("careplan_requests_total", "route" => route.to_string(), "status" => status.to_string())
                .increment(1);
            histogram!("careplan_request_duration_seconds", "route" => route.to_string()).record(took);
        });
    }

    /// A failed authentication, and how many keys it locked out.
    pub fn auth_failure(&self, locked: usize) {
        self.with(|| {
            counter!("careplan_auth_failures_total").increment(1);
            counter!("careplan_lockouts_total").increment(locked as u64);
        });
    }

    /// Folds recorded histogram samples into their buckets, so memory stays bounded between scrapes; run it
    /// every few seconds.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The Prometheus text, with the gauges and the totals the caller read now.
    pub fn render(&self, gauges: &[(&'static str, f64)], totals: &[(&'static str, u64)]) -> String {
        self.with(|| {
            for (name, value) in gauges {
                gauge!(*name).set(*value);
            }
            for (name, value) in totals {
                counter!(*name).absolute(*value);
            }
            let not_after = self.tls_not_after.load(Ordering::Relaxed);
            if not_after > 0 {
                gauge!("careplan_tls_certificate_not_after_seconds").set(not_after as f64);
            }
        });
        self.handle.render()
    }
}

impl super::Relay {
    /// The Prometheus text of `/metrics`: the counters and histograms, and gauges read now (pending deliveries,
    /// the audit chain, the database pool). Served by the admin-token route and by the metrics listener.
    pub async fn metrics_text(&self) -> super::Result<String> {
        let pending = self.store.pending_deliveries().await?;
        let audit = self.store.audit_counts().await?;
        let (size, idle) = self.store.pool_stats();
        let now = crate::domain::now_ms();
        let oldest_age = pending.oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
        let gauges = [
            ("careplan_deliveries_pending", pending.count as f64),
            ("careplan_deliveries_pending_oldest_age_seconds", oldest_age),
            ("careplan_audit_sealed", audit.sealed as f64),
            ("careplan_inbox_long_polls", self.arrivals.waiters() as f64),
            ("careplan_audit_queued", audit.queued as f64),
            ("careplan_db_pool_connections", size as f64),
            ("careplan_db_pool_idle", idle as f64),
        ];
        let totals = match self.store.group_commit_stats() {
            Some((batches, jobs, micros)) => vec![
                ("careplan_group_commit_batches_total", batches),
                ("careplan_group_commit_jobs_total", jobs),
                ("careplan_group_commit_fsync_microseconds_total", micros),
            ],
            None => Vec::new(),
        };
        Ok(self.metrics.render(&gauges, &totals))
    }
}
