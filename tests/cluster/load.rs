//! Load through the balancer: senders that retry a set until it is answered 201 (or 200, the first answer
//! replayed), and one recipient that long-polls, downloads and acknowledges, with what each saw and when.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use careplan_relay::client::{Client, ClientOptions};
use careplan_relay::relay::Receipt;

use crate::clients::{poll_until_stopped, schedule, send_until_stopped};

/// A set's files as (name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// The clients' side of the cluster.
pub struct Load {
    url: String,
    cacert: PathBuf,
    token: String,
    certs: PathBuf,
    shared: Arc<Shared>,
}

/// What the senders and the recipient saw, shared with the test.
#[derive(Default)]
pub struct Shared {
    pub stop_senders: AtomicBool,
    pub stop_poller: AtomicBool,
    pub accepted: Mutex<HashMap<String, Files>>,
    pub accepted_at: Mutex<Vec<Instant>>,
    pub replayed: Mutex<usize>,
    pub failed_at: Mutex<Vec<Instant>>,
    pub polled_at: Mutex<Vec<Instant>>,
    pub received: Mutex<HashMap<String, Files>>,
    pub duplicates: Mutex<usize>,
}

/// What the run saw, relative to the kill.
pub struct Figures {
    pub accepted: HashMap<String, Files>,
    pub replayed: usize,
    pub accepted_after_kill: usize,
    failed_ms: Vec<u128>,
    first_accept_after_kill_ms: Option<u128>,
}

impl Figures {
    /// The run's figures as printed lines.
    pub fn report(&self) -> String {
        let window = match (self.failed_ms.first(), self.failed_ms.last()) {
            (Some(f), Some(l)) => format!("from {f} ms to {l} ms after the kill ({} ms)", l - f),
            _ => "none".into(),
        };
        format!(
            "cluster: sets acknowledged {} ({} of them answered 200 to a retry), lost 0, duplicated 0\n\
             cluster: requests failed during the failover: {} ({window})\n\
             cluster: first 201 after the kill at {} ms; sets acknowledged after the kill {}",
            self.accepted.len(),
            self.replayed,
            self.failed_ms.len(),
            self.first_accept_after_kill_ms
                .map_or("–".into(), |m| m.to_string()),
            self.accepted_after_kill,
        )
    }
}

/// The tasks of a running load.
pub struct Running {
    shared: Arc<Shared>,
    senders: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Clients of the balancer at `url`: the sender with `token`, the recipient with the certificate in
    /// `certs` (client.pem, client.key); the server's CA is `data/tls/ca.pem`.
    pub fn new(url: &str, data: &Path, token: &str, certs: &Path) -> Load {
        Load {
            url: url.to_string(),
            cacert: data.join("tls/ca.pem"),
            token: token.to_string(),
            certs: certs.to_path_buf(),
            shared: Arc::default(),
        }
    }

    /// A new sender client (its own connections, so the balancer spreads them).
    fn sender(&self, url: &str) -> Client {
        Client::new(&ClientOptions {
            url: url.to_string(),
            token: Some(self.token.clone().into()),
            cacert: Some(self.cacert.clone()),
            ..Default::default()
        })
        .unwrap()
    }

    fn recipient(&self) -> Client {
        Client::new(&ClientOptions {
            url: self.url.clone(),
            cert: Some(self.certs.join("client.pem")),
            key: Some(self.certs.join("client.key")),
            cacert: Some(self.cacert.clone()),
            ..Default::default()
        })
        .unwrap()
    }

    /// Waits until `/healthz` answers 200 through the balancer (its first checks take a second).
    pub async fn wait_until_served(&self) {
        let client = self.sender(&self.url);
        for _ in 0..100 {
            if client.get("/healthz").await.is_ok_and(|a| a.status == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the balancer did not serve /healthz");
    }

    /// Starts `senders` senders and the recipient.
    pub fn run(&self, senders: usize) -> Running {
        let mut tasks = Vec::new();
        for worker in 0..senders {
            let (client, shared) = (self.sender(&self.url), Arc::clone(&self.shared));
            tasks.push(tokio::spawn(send_until_stopped(client, shared, worker)));
        }
        tokio::spawn(poll_until_stopped(self.recipient(), Arc::clone(&self.shared)));
        Running {
            shared: Arc::clone(&self.shared),
            senders: tasks,
        }
    }

    /// Receipts of up to `n` acknowledged sets fetched from the node at `node_url` (so signed by it).
    pub async fn receipts_from(&self, node_url: &str, n: usize) -> Vec<(String, Receipt)> {
        let ids: Vec<String> = self
            .shared
            .accepted
            .lock()
            .unwrap()
            .keys()
            .take(n)
            .cloned()
            .collect();
        let client = self.sender(node_url);
        let mut out = Vec::new();
        for sid in ids {
            let a = client.get(&format!("/v1/receipts/{sid}")).await.unwrap();
            assert_eq!(a.status, 200, "{}", a.json);
            out.push((sid, serde_json::from_value(a.json).unwrap()));
        }
        out
    }

    /// The receipt of `sid` through the balancer.
    pub async fn receipt(&self, sid: &str) -> Receipt {
        let a = self
            .sender(&self.url)
            .get(&format!("/v1/receipts/{sid}"))
            .await
            .unwrap();
        assert_eq!(a.status, 200, "{}", a.json);
        serde_json::from_value(a.json).unwrap()
    }

    /// Whether, within `within`, a new connection through the balancer reaches the node signing with `key_id`.
    pub async fn reaches_key(&self, key_id: &str, sid: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(a) = self.sender(&self.url).get(&format!("/v1/receipts/{sid}")).await
                && a.json["key_id"] == key_id
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// `GET /v1/keys` through the balancer, as (key_id, base64 public key).
    pub async fn published_keys(&self) -> Vec<(String, String)> {
        let a = self.sender(&self.url).get("/v1/keys").await.unwrap();
        assert_eq!(a.status, 200);
        let keys = a.json["keys"].as_array().unwrap();
        keys.iter()
            .map(|k| {
                let field = |f: &str| k[f].as_str().unwrap().to_string();
                (field("key_id"), field("ed25519_public_key_base64"))
            })
            .collect()
    }

    /// Waits (up to `within`) until the recipient has received every set of `accepted`; stops it; what it got.
    pub async fn drain(&self, accepted: &HashMap<String, Files>, within: Duration) -> HashMap<String, Files> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let done = {
                let received = self.shared.received.lock().unwrap();
                accepted.keys().all(|k| received.contains_key(k))
            };
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.shared.stop_poller.store(true, Ordering::SeqCst);
        assert_eq!(
            *self.shared.duplicates.lock().unwrap(),
            0,
            "no set was delivered twice"
        );
        self.shared.received.lock().unwrap().clone()
    }

    /// How many inbox polls of the recipient were answered 200 after `t`.
    pub fn polls_since(&self, t: Instant) -> usize {
        self.shared
            .polled_at
            .lock()
            .unwrap()
            .iter()
            .filter(|p| **p >= t)
            .count()
    }

    /// Every delivery in the recipient's inbox (acknowledged or not), as submission ids.
    pub async fn deliveries(&self) -> Vec<String> {
        let client = self.recipient();
        let (mut all, mut after) = (Vec::new(), String::new());
        loop {
            let q = if after.is_empty() {
                String::new()
            } else {
                format!("&after={after}")
            };
            let page = client
                .get(&format!("/v1/inbox?status=all&limit=500{q}"))
                .await
                .unwrap();
            let items = page.json["items"].as_array().unwrap();
            all.extend(
                items
                    .iter()
                    .map(|i| i["submission_id"].as_str().unwrap().to_string()),
            );
            if items.len() < 500 {
                return all;
            }
            after = page.json["next"].as_str().unwrap().to_string();
        }
    }

    /// Sends one set with `sequence` through the balancer; it must be accepted.
    pub async fn send_one(&self, sequence: &str) {
        let a = self.sender(&self.url).send(schedule(sequence, 1)).await.unwrap();
        assert_eq!(a.status, 201, "{}", a.json);
    }
}

impl Running {
    /// Stops the senders (each finishes the set it is retrying) and gathers the figures.
    pub async fn stop(self, killed_at: Instant) -> Figures {
        self.shared.stop_senders.store(true, Ordering::SeqCst);
        for t in self.senders {
            t.await.unwrap();
        }
        let s = &self.shared;
        let after = |times: &Vec<Instant>| -> Vec<u128> {
            times
                .iter()
                .filter(|t| **t >= killed_at)
                .map(|t| (*t - killed_at).as_millis())
                .collect()
        };
        let mut failed_ms = s
            .failed_at
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.saturating_duration_since(killed_at).as_millis())
            .collect::<Vec<_>>();
        failed_ms.sort_unstable();
        let accepted_after = after(&s.accepted_at.lock().unwrap());
        Figures {
            accepted: s.accepted.lock().unwrap().clone(),
            replayed: *s.replayed.lock().unwrap(),
            accepted_after_kill: accepted_after.len(),
            first_accept_after_kill_ms: accepted_after.into_iter().min(),
            failed_ms,
        }
    }
}
