//! `--put-url`: the senders, mix and bytes of a relay run, PUT to a plain HTTPS upload server instead (for
//! example nginx with `dav_methods PUT`), as a baseline for the relay's intake.
//!
//! Each set goes as one body, the `multipart/form-data` body the relay's client sends (one part named `file`
//! per file), to a path no other set uses. The server only writes the body to a file: no validation, no
//! database and, for nginx, no fsync.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use careplan_relay::client::Answer;

use crate::Args;
use crate::clients::{SenderCtx, SenderStats, Target, Window, pace, sender};
use crate::mix::Plan;
use crate::report::RunResult;
use crate::server::{CpuClock, status_kb};

/// One sender's connection to the upload server.
pub(crate) struct PutTarget {
    http: reqwest::Client,
    /// Each set goes to this prefix followed by its sequence.
    prefix: String,
}

impl PutTarget {
    fn new(args: &Args, url: &str, clients: usize) -> anyhow::Result<PutTarget> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(300));
        if let Some(ca) = &args.cacert {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
        }
        if args.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        Ok(PutTarget {
            http: b.build()?,
            // The process id keeps paths unique across runs into the same directory.
            prefix: format!("{}/{}-{clients}-", url.trim_end_matches('/'), std::process::id()),
        })
    }

    /// PUTs the set as the multipart body the relay would get. A stored set is 201 (nginx: Created).
    pub(crate) async fn send(&self, seq: &str, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Answer> {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        }
        let r = self
            .http
            .put(format!("{}{seq}", self.prefix))
            .multipart(form)
            .send()
            .await?;
        let status = r.status().as_u16();
        let text = r.text().await?;
        Ok(Answer {
            status,
            json: serde_json::Value::String(text),
        })
    }
}

/// `pid` and its children (nginx: the master and its workers), from `/proc/<pid>/task/<pid>/children`.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    out.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
    out
}

/// One run of `clients` senders against the upload server at `url`.
pub(crate) async fn run(args: &Args, url: &str, clients: usize) -> anyhow::Result<RunResult> {
    let plan = Plan::new(args, clients)?;
    let (n_cm, n_prov) = (plan.cms.len(), plan.provs.len());
    let server_pids = args.put_pid.map(process_tree).unwrap_or_default();
    let t0 = Instant::now() + Duration::from_millis(200);
    let window = Window {
        start: t0 + Duration::from_secs(args.warmup),
        end: t0 + Duration::from_secs(args.warmup + args.seconds),
    };
    let mut senders = Vec::new();
    for i in 0..clients {
        let cx = SenderCtx {
            index: i,
            clients,
            as_cm: (
                Target::Put(PutTarget::new(args, url, clients)?),
                Arc::clone(&plan.cm_templates[i % n_cm]),
            ),
            as_provider: (
                Target::Put(PutTarget::new(args, url, clients)?),
                Arc::clone(&plan.prov_templates[i % n_prov]),
            ),
            seed: args.seed,
            window,
            accepted: Arc::default(),
            progress: Arc::default(),
            pace: pace(args.rate, clients),
        };
        senders.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0.into()).await;
            sender(cx).await
        }));
    }
    tokio::time::sleep_until(window.start.into()).await;
    let start = CpuClock::read(&server_pids);
    tokio::time::sleep_until(window.end.into()).await;
    let cpu = CpuClock::read(&server_pids).since(start);
    let mut s = SenderStats::default();
    for t in senders {
        s.merge(t.await?);
    }
    let hwm_kb = server_pids.iter().filter_map(|&p| status_kb(p, "VmHWM:")).sum();
    let db = args.label.clone().unwrap_or_else(|| "nginx PUT".into());
    Ok(RunResult {
        hwm_kb,
        ..RunResult::new(db, clients, (n_cm, n_prov), args.seconds as f64, s, cpu)
    })
}
