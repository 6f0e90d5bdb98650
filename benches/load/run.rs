//! One run of the mix against the relay: offices and tokens, senders and pollers, and the server's memory
//! and CPU over the measured window.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use careplan_relay::spec::Spec;

use crate::clients::{
    Accepted, PollerStats, Progress, SenderCtx, SenderStats, Target, Window, pace, poller, sender,
};
use crate::mix::{Plan, validation_cost};
use crate::relay_process::percentiles;
use crate::report::RunResult;
use crate::server::{CpuClock, Server, fsync_probe, status_kb};
use crate::{Args, DbChoice};

/// A run as it goes, for a reader beside it (the soak's sampler): what its clients have done so far, and the
/// server once it listens.
#[derive(Debug, Default)]
pub(crate) struct Live {
    pub(crate) progress: Arc<Progress>,
    pub(crate) started: OnceLock<Started>,
}

/// The running server of a [`Live`] run.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    pub(crate) pid: u32,
    /// `host:port` of its HTTPS listener.
    pub(crate) addr: String,
    /// When the senders and recipients start.
    pub(crate) load_start: Instant,
}

pub(crate) async fn run(args: &Args, bin: &Path, db: DbChoice, clients: usize) -> anyhow::Result<RunResult> {
    let mut server = Server::create(bin, db, &args.pg_admin).await?;
    let result = run_on(args, &mut server, db, clients, &Live::default()).await;
    server.stop().await;
    result
}

pub(crate) async fn run_on(
    args: &Args,
    server: &mut Server,
    db: DbChoice,
    clients: usize,
    live: &Live,
) -> anyhow::Result<RunResult> {
    let spec = Spec::get()?;
    let plan = Plan::new(args, clients)?;
    let (n_cm, n_prov) = (plan.cms.len(), plan.provs.len());
    let mut cm_tokens = Vec::new();
    let mut prov_tokens = Vec::new();
    for p in &plan.cms {
        cm_tokens.push(server.add_office(&p.office, "care_manager", "43")?);
    }
    for p in &plan.provs {
        prov_tokens.push(server.add_office(&p.office, "provider", "11")?);
    }
    let (cm_templates, prov_templates) = (&plan.cm_templates, &plan.prov_templates);

    let validate_us = validation_cost(spec, &plan.all_templates());
    let fsync = fsync_probe(&server.data)?;
    server.start(args.server_log.as_deref(), &args.server_env)?;
    let pid = server.pid();
    let t0 = Instant::now() + Duration::from_millis(200);
    let window = Window {
        start: t0 + Duration::from_secs(args.warmup),
        end: t0 + Duration::from_secs(args.warmup + args.seconds),
    };
    let accepted: Accepted = Arc::default();
    let _ = live.started.set(Started {
        pid,
        addr: server.addr.clone(),
        load_start: t0,
    });

    let mut senders = Vec::new();
    for i in 0..clients {
        let cx = SenderCtx {
            index: i,
            clients,
            as_cm: (
                Target::Relay(server.client(&cm_tokens[i % n_cm])?),
                Arc::clone(&cm_templates[i % n_cm]),
            ),
            as_provider: (
                Target::Relay(server.client(&prov_tokens[i % n_prov])?),
                Arc::clone(&prov_templates[i % n_prov]),
            ),
            seed: args.seed,
            window,
            accepted: Arc::clone(&accepted),
            progress: Arc::clone(&live.progress),
            pace: pace(args.rate, clients),
        };
        senders.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0.into()).await;
            sender(cx).await
        }));
    }
    let mut pollers = Vec::new();
    for token in cm_tokens.iter().chain(&prov_tokens).filter(|_| !args.no_download) {
        let (client, accepted) = (server.client(token)?, Arc::clone(&accepted));
        let progress = Arc::clone(&live.progress);
        pollers.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0.into()).await;
            poller(client, window, accepted, progress).await
        }));
    }

    // RSS sampling, CPU at the window's edges, and perf during the window.
    let stop = Arc::new(AtomicBool::new(false));
    let rss_max = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, rss_max) = (Arc::clone(&stop), Arc::clone(&rss_max));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kb) = status_kb(pid, "VmRSS:") {
                    rss_max.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    tokio::time::sleep_until(window.start.into()).await;
    let start = CpuClock::read(&[pid]);
    let perf = match &args.perf {
        Some(file) => Some(
            Command::new("perf")
                .args(["record", "-F", "499", "--call-graph", "dwarf,16384", "-o"])
                .arg(file)
                .args(["-p", &pid.to_string(), "--", "sleep", &args.seconds.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting perf record")?,
        ),
        None => None,
    };
    tokio::time::sleep_until(window.end.into()).await;
    let cpu = CpuClock::read(&[pid]).since(start);

    let mut s = SenderStats::default();
    for t in senders {
        s.merge(t.await?);
    }
    let mut p = PollerStats::default();
    for t in pollers {
        let x = t.await?;
        p.files += x.files;
        p.acks += x.acks;
        p.download.extend(x.download);
        p.ack.extend(x.ack);
        p.delivery.extend(x.delivery);
        for (k, v) in x.errors {
            *s.errors.entry(k).or_default() += v;
        }
        s.samples.extend(x.samples);
    }
    if let Some(mut perf) = perf {
        perf.wait()?;
    }
    let hwm_kb = status_kb(pid, "VmHWM:").unwrap_or(0);
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();

    let backlog = accepted.lock().unwrap().len();
    let label = match (&args.label, db) {
        (None, DbChoice::Postgres) => "postgres".to_string(),
        (None, _) => "sqlite".to_string(),
        (Some(l), DbChoice::Postgres) => format!("postgres {l}"),
        (Some(l), _) => format!("sqlite {l}"),
    };
    Ok(RunResult {
        files: p.files,
        acks: p.acks,
        download: percentiles(&mut p.download),
        ack: percentiles(&mut p.ack),
        delivery: (!p.delivery.is_empty()).then(|| percentiles(&mut p.delivery)),
        backlog,
        hwm_kb,
        rss_max_kb: rss_max.load(Ordering::Relaxed),
        fsync,
        validate_us,
        ..RunResult::new(label, clients, (n_cm, n_prov), args.seconds as f64, s, cpu)
    })
}
