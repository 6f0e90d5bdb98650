//! The load: sender tasks (a closed loop of sets to the relay or a --put-url server) and recipient tasks
//! (long-poll, download, acknowledge), with what each counts inside the measured window.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use careplan_relay::client::{Answer, Client};
use careplan_relay::generate::Rng;

use crate::mix::{MIX, OfficeTemplates, SEQUENCE_BASE, date_time};
use crate::put;

#[derive(Default)]
pub(crate) struct SenderStats {
    pub(crate) accepted: u64,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) samples: Vec<String>,
    pub(crate) bytes: u64,
}

impl SenderStats {
    pub(crate) fn merge(&mut self, x: SenderStats) {
        self.accepted += x.accepted;
        self.latencies.extend(x.latencies);
        self.bytes += x.bytes;
        for (k, v) in x.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.samples.extend(x.samples);
    }
}

#[derive(Default)]
pub(crate) struct PollerStats {
    pub(crate) files: u64,
    pub(crate) acks: u64,
    pub(crate) download: Vec<Duration>,
    pub(crate) ack: Vec<Duration>,
    pub(crate) delivery: Vec<Duration>,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) samples: Vec<String>,
}

impl PollerStats {
    fn fail(&mut self, progress: &Progress, key: String, detail: String) {
        Progress::add(&progress.errors);
        error(&mut self.errors, &mut self.samples, key, detail);
    }
}

fn error(errors: &mut BTreeMap<String, u64>, samples: &mut Vec<String>, key: String, detail: String) {
    *errors.entry(key).or_default() += 1;
    if samples.len() < 3 {
        samples.push(detail);
    }
}

/// What the senders and recipients of a run have done so far, from the start of the load (warm-up included),
/// readable while the run goes on (the soak's samples).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Sets answered 201.
    pub(crate) accepted: AtomicU64,
    /// Sends, downloads, polls and acknowledgements that failed.
    pub(crate) errors: AtomicU64,
    /// Files downloaded with the right digest.
    pub(crate) files: AtomicU64,
    /// Deliveries acknowledged.
    pub(crate) acks: AtomicU64,
}

impl Progress {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (accepted, errors, files, acks) now.
    pub(crate) fn read(&self) -> (u64, u64, u64, u64) {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        (r(&self.accepted), r(&self.errors), r(&self.files), r(&self.acks))
    }
}

/// When each accepted submission was acknowledged by the sender's 201, for the delivery latency.
pub(crate) type Accepted = Arc<Mutex<HashMap<String, Instant>>>;

#[derive(Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
}

impl Window {
    pub(crate) fn counts(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

/// Where a sender's sets go: the relay's `POST /v1/submissions`, or a PUT of the same body elsewhere.
pub(crate) enum Target {
    Relay(Client),
    Put(put::PutTarget),
}

impl Target {
    async fn send(&self, seq: &str, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Answer> {
        match self {
            Target::Relay(client) => client.send(files).await,
            Target::Put(put) => put.send(seq, files).await,
        }
    }
}

pub(crate) struct SenderCtx {
    pub(crate) index: usize,
    pub(crate) clients: usize,
    pub(crate) as_cm: (Target, Arc<OfficeTemplates>),
    pub(crate) as_provider: (Target, Arc<OfficeTemplates>),
    pub(crate) seed: u64,
    pub(crate) window: Window,
    pub(crate) accepted: Accepted,
    pub(crate) progress: Arc<Progress>,
    /// `Some(period)`: at most one send per period (the run's `--rate` shared by its senders), each sender's
    /// slots offset by `index / clients` of a period; `None`: the next send as soon as the last is answered.
    pub(crate) pace: Option<Duration>,
}

/// The period between the sends of one sender when `rate` sets/s are shared by `clients` senders.
pub(crate) fn pace(rate: Option<f64>, clients: usize) -> Option<Duration> {
    rate.filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(clients as f64 / r))
}

pub(crate) async fn sender(cx: SenderCtx) -> SenderStats {
    let mut st = SenderStats::default();
    let mut rng = Rng::new(cx.seed ^ (cx.index as u64).wrapping_mul(0x0100_0000_01b3));
    let total: u64 = MIX.iter().map(|m| m.1).sum();
    let mut slot = Instant::now()
        + cx.pace
            .map_or(Duration::ZERO, |p| p.mul_f64(cx.index as f64 / cx.clients as f64));
    for n in 0u64.. {
        if let Some(period) = cx.pace {
            tokio::time::sleep_until(slot.into()).await;
            // A late answer moves the next slot instead of sending a burst to catch up.
            slot = (slot + period).max(Instant::now());
        }
        if Instant::now() >= cx.window.end {
            break;
        }
        let mut pick = rng.below(total);
        let unit = MIX
            .iter()
            .position(|m| {
                let hit = pick < m.1;
                pick = pick.saturating_sub(m.1);
                hit
            })
            .unwrap_or(0);
        let (client, templates) = if MIX[unit].2 { &cx.as_cm } else { &cx.as_provider };
        let choices = &templates[unit];
        let template = &choices[rng.below(choices.len() as u64) as usize];
        let seq = date_time(SEQUENCE_BASE + (n * cx.clients as u64 + cx.index as u64) as i64);
        let files = template.with_sequence(&seq);
        let t0 = Instant::now();
        let answer = client.send(&seq, files).await;
        let t1 = Instant::now();
        let counted = cx.window.counts(t0) && t1 < cx.window.end;
        match answer {
            Ok(a) if a.status == 201 => {
                Progress::add(&cx.progress.accepted);
                if let Some(id) = a.json["submission_id"].as_str() {
                    cx.accepted.lock().unwrap().insert(id.to_string(), t1);
                }
                if counted {
                    st.accepted += 1;
                    st.latencies.push(t1 - t0);
                    st.bytes += template.bytes() as u64;
                }
            }
            Ok(a) => {
                Progress::add(&cx.progress.errors);
                error(
                    &mut st.errors,
                    &mut st.samples,
                    format!("HTTP {}", a.status),
                    format!("{seq} {}: {}", MIX[unit].0, a.json),
                );
            }
            Err(e) => {
                Progress::add(&cx.progress.errors);
                error(
                    &mut st.errors,
                    &mut st.samples,
                    "transport".into(),
                    format!("{seq}: {e:#}"),
                );
            }
        }
    }
    st
}

pub(crate) async fn poller(
    client: Client,
    window: Window,
    accepted: Accepted,
    progress: Arc<Progress>,
) -> PollerStats {
    let mut st = PollerStats::default();
    'poll: while Instant::now() < window.end {
        let page = match client.get("/v1/inbox?wait=1&limit=100").await {
            Ok(a) if a.status == 200 => a.json,
            Ok(a) => {
                let key = format!("inbox HTTP {}", a.status);
                st.fail(&progress, key, a.json.to_string());
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) => {
                st.fail(&progress, "inbox transport".into(), format!("{e:#}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        for item in page["items"].as_array().cloned().unwrap_or_default() {
            if Instant::now() >= window.end {
                break 'poll;
            }
            let delivery = item["delivery_id"].as_str().unwrap_or_default();
            for f in item["files"].as_array().cloned().unwrap_or_default() {
                let name = f["name"].as_str().unwrap_or_default();
                let t0 = Instant::now();
                match client.download(delivery, name).await {
                    Ok((200, bytes, _))
                        if Some(careplan_relay::relay::sha256_hex(&bytes).as_str())
                            == f["sha256"].as_str() =>
                    {
                        let t1 = Instant::now();
                        Progress::add(&progress.files);
                        if window.counts(t0) && t1 < window.end {
                            st.files += 1;
                            st.download.push(t1 - t0);
                        }
                    }
                    Ok((status, _, _)) => st.fail(
                        &progress,
                        format!("download HTTP {status} or digest"),
                        format!("{delivery}/{name}"),
                    ),
                    Err(e) => st.fail(&progress, "download transport".into(), format!("{e:#}")),
                }
            }
            let t0 = Instant::now();
            match client.post(&format!("/v1/inbox/{delivery}/ack")).await {
                Ok(a) if a.status == 200 => {
                    let t1 = Instant::now();
                    Progress::add(&progress.acks);
                    let sent = item["submission_id"]
                        .as_str()
                        .and_then(|s| accepted.lock().unwrap().remove(s));
                    if window.counts(t0) && t1 < window.end {
                        st.acks += 1;
                        st.ack.push(t1 - t0);
                        if let Some(sent) = sent.filter(|s| *s >= window.start) {
                            st.delivery.push(t1 - sent);
                        }
                    }
                }
                Ok(a) => st.fail(&progress, format!("ack HTTP {}", a.status), a.json.to_string()),
                Err(e) => st.fail(&progress, "ack transport".into(), format!("{e:#}")),
            }
        }
    }
    st
}
