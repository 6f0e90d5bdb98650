//! The burst of `--near-limit`: every sender at once with the near-limit set, and the server's memory meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::NearLimitResult;
use crate::Args;
use crate::mix::{PLACEHOLDER_SEQ, SEQUENCE_BASE, date_time};
use crate::relay_process::percentiles;
use crate::server::{Server, status_kb};

/// Sequence offset of the burst after the prefill, so that its sets are new too.
const SECOND_BURST: i64 = 10_000_000;

/// What one send got: its latency, when it ended, and an error text unless the answer was 201.
type Sent = (Duration, Instant, Result<(), String>);

pub(super) struct Burst<'a> {
    pub(super) args: &'a Args,
    pub(super) token: &'a str,
    pub(super) files: Arc<Vec<(String, &'static [u8])>>,
    pub(super) limit: usize,
    pub(super) body: usize,
    pub(super) db: &'static str,
}

impl Burst<'_> {
    /// All senders at once against the running server; `phase` keeps the sequences of each burst apart.
    pub(super) async fn run(
        &self,
        server: &Server,
        phase: i64,
        stored_before: u64,
    ) -> anyhow::Result<NearLimitResult> {
        let (clients, rounds) = (self.args.clients, self.args.rounds);
        let pid = server.pid();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_kb = status_kb(pid, "VmRSS:").context("the server's VmRSS")?;
        let ca = std::fs::read(server.data.join("tls").join("ca.pem"))?;
        let url = format!("https://{}/v1/submissions", server.addr);
        let t0 = Instant::now() + Duration::from_millis(300);
        let mut tasks = Vec::new();
        for i in 0..clients {
            let http = reqwest::Client::builder()
                .use_rustls_tls()
                .timeout(Duration::from_secs(900))
                .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
                .build()?;
            let (files, url, token) = (Arc::clone(&self.files), url.clone(), self.token.to_string());
            let seqs: Vec<String> = (0..rounds)
                .map(|round| date_time(SEQUENCE_BASE + phase * SECOND_BURST + (round * clients + i) as i64))
                .collect();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(t0.into()).await;
                send_sets(&http, &url, &token, &files, &seqs).await
            }));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let stop = Arc::clone(&stop);
            let max = Arc::new(AtomicU64::new(0));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kb) = status_kb(pid, "VmRSS:") {
                        max.fetch_max(kb, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                max.load(Ordering::Relaxed)
            })
        };
        let (mut latencies, mut accepted, mut errors, mut end) = (Vec::new(), 0, 0, t0);
        for t in tasks {
            for (latency, done, status) in t.await? {
                end = end.max(done);
                match status {
                    Ok(()) => {
                        accepted += 1;
                        latencies.push(latency);
                    }
                    Err(e) => {
                        if errors < 3 {
                            eprintln!("  near limit: {e}");
                        }
                        errors += 1;
                    }
                }
            }
        }
        let hwm_kb = status_kb(pid, "VmHWM:").unwrap_or(0);
        stop.store(true, Ordering::Relaxed);
        let sampled = sampler.join().unwrap_or(0);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after_kb = status_kb(pid, "VmRSS:").unwrap_or(0);
        eprintln!(
            "near limit: {} burst: sampled VmRSS max {:.0} MB",
            if phase == 0 { "first" } else { "second" },
            sampled as f64 / 1024.0
        );
        let (p50, _, max) = percentiles(&mut latencies);
        Ok(NearLimitResult {
            db: self.db,
            stored_before,
            clients,
            rounds,
            limit: self.limit,
            body: self.body,
            accepted,
            errors,
            seconds: (end - t0).as_secs_f64(),
            latency: (p50, max),
            idle_kb,
            hwm_kb,
            after_kb,
        })
    }
}

/// Sends the set under each sequence in turn, as the relay's client does (multipart parts named `file`).
async fn send_sets(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    files: &[(String, &'static [u8])],
    seqs: &[String],
) -> Vec<Sent> {
    let mut out = Vec::new();
    for seq in seqs {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            let part = reqwest::multipart::Part::bytes(*bytes).file_name(name.replace(PLACEHOLDER_SEQ, seq));
            form = form.part("file", part);
        }
        let start = Instant::now();
        let status = match http.post(url).bearer_auth(token).multipart(form).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                if status == 201 {
                    Ok(())
                } else {
                    Err(format!(
                        "HTTP {status}: {}",
                        text.chars().take(300).collect::<String>()
                    ))
                }
            }
            Err(e) => Err(format!("transport: {e:#}")),
        };
        out.push((start.elapsed(), Instant::now(), status));
    }
    out
}
