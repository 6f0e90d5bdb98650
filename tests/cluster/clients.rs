//! The cluster test's clients: senders that retry a set until it is acknowledged, and a recipient that
//! long-polls, downloads and acknowledges, each recording what it saw in [`Shared`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use careplan_relay::client::Client;
use careplan_relay::generate::{Scenario, unit_files};
use careplan_relay::spec::{Generation, Spec};

use crate::load::{Files, Shared};

/// A schedule set of the generator's small scenario (care manager 1310000001 to provider 1310000002) with the
/// sequence `20250328` + `seconds` as HHMMSS.
pub fn schedule(sequence: &str, seed: u64) -> Files {
    let spec = Spec::get().unwrap();
    let unit = spec.units.iter().find(|u| u.name == "schedule").unwrap();
    let mut sc = Scenario::small(Generation::V4);
    sc.sequence = sequence.to_string();
    sc.seed = seed;
    unit_files(spec, unit, &sc)
        .into_iter()
        .map(|f| (f.name, f.bytes))
        .collect()
}

fn sequence(n: usize) -> String {
    format!("20250328{:02}{:02}{:02}", n / 3600, n / 60 % 60, n % 60)
}

/// Sends sets until told to stop, each retried (after a failed request or a 5xx) until it is acknowledged.
pub async fn send_until_stopped(client: Client, shared: Arc<Shared>, worker: usize) {
    for i in 0.. {
        if shared.stop_senders.load(Ordering::SeqCst) {
            return;
        }
        let n = worker * 4000 + i;
        let files = schedule(&sequence(n), n as u64);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(
                Instant::now() < deadline,
                "a set was not acknowledged within 60 s of retries"
            );
            match client.send(files.clone()).await {
                Ok(a) if a.status == 201 || a.status == 200 => {
                    let sid = a.json["submission_id"].as_str().unwrap().to_string();
                    shared.accepted.lock().unwrap().insert(sid, files);
                    shared.accepted_at.lock().unwrap().push(Instant::now());
                    if a.status == 200 {
                        *shared.replayed.lock().unwrap() += 1;
                    }
                    break;
                }
                Ok(a) if a.status >= 500 => shared.failed_at.lock().unwrap().push(Instant::now()),
                Ok(a) => panic!("unexpected answer {}: {}", a.status, a.json),
                Err(_) => shared.failed_at.lock().unwrap().push(Instant::now()),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Long-polls the inbox, downloads every file of each new set and acknowledges it, until told to stop.
pub async fn poll_until_stopped(client: Client, shared: Arc<Shared>) {
    let mut after = String::new();
    while !shared.stop_poller.load(Ordering::SeqCst) {
        let q = if after.is_empty() {
            String::new()
        } else {
            format!("&after={after}")
        };
        let page = match client.get(&format!("/v1/inbox?wait=2&limit=100{q}")).await {
            Ok(p) if p.status == 200 => p,
            _ => {
                shared.failed_at.lock().unwrap().push(Instant::now());
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        shared.polled_at.lock().unwrap().push(Instant::now());
        if let Some(next) = page.json["next"].as_str() {
            after = next.to_string();
        }
        for item in page.json["items"].as_array().unwrap() {
            let (sid, delivery) = (
                item["submission_id"].as_str().unwrap(),
                item["delivery_id"].as_str().unwrap(),
            );
            let mut files = Vec::new();
            for f in item["files"].as_array().unwrap() {
                let name = f["name"].as_str().unwrap().to_string();
                let bytes = loop {
                    match client.download(delivery, &name).await {
                        Ok((200, bytes, _)) => break bytes,
                        _ => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                };
                files.push((name, bytes));
            }
            while !client
                .post(&format!("/v1/inbox/{delivery}/ack"))
                .await
                .is_ok_and(|a| a.status == 200)
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if shared
                .received
                .lock()
                .unwrap()
                .insert(sid.to_string(), files)
                .is_some()
            {
                *shared.duplicates.lock().unwrap() += 1;
            }
        }
    }
}
