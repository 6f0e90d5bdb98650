//! In: the office's inbox on the relay. Each pending delivery's files are downloaded, checked against their
//! SHA-256, written atomically under the inbox folder with their spec names, and only then acknowledged. A file
//! already on disk with the same digest is not written again; a delivery the journal holds as written is
//! acknowledged without writing anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::config::Layout;
use super::journal::{Done, FileDigest, Incoming, JournalFile};
use super::{Agent, fsio};

/// What one inbox request and its deliveries came to.
#[derive(Debug, Default, Clone)]
pub struct InPass {
    pub received: usize,
    pub failed: usize,
    /// Items in the answer.
    pub items: usize,
    /// The answer's cursor (`next`), when it gave one.
    pub next: Option<String>,
}

/// A name from the relay used as a file name: one plain component, nothing else.
fn plain(name: &str) -> anyhow::Result<&str> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && Path::new(name).file_name().and_then(|n| n.to_str()) == Some(name)
        && !name.contains(['/', '\\', ':']);
    if ok {
        Ok(name)
    } else {
        anyhow::bail!("the relay listed an unusable file name")
    }
}

impl Agent {
    fn inbox_dir(&self, sender: &str, sequence: &str) -> anyhow::Result<PathBuf> {
        Ok(match self.cfg.layout {
            Layout::Flat => self.cfg.inbox.clone(),
            Layout::PerSet => self.cfg.inbox.join(plain(&format!("{sender}_{sequence}"))?),
        })
    }

    /// Acknowledges the deliveries the journal holds as written; returns how many could not be.
    async fn finish_incoming(&self) -> usize {
        let entries: Vec<(String, Incoming)> =
            self.with_journal(|j| j.incoming.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        let mut failed = 0;
        for (id, entry) in entries {
            if let Err(e) = self.acknowledge(&id, &entry).await {
                failed += 1;
                self.incoming_failed(&id, &entry.sequence, &e);
            }
        }
        failed
    }

    fn incoming_failed(&self, id: &str, sequence: &str, e: &anyhow::Error) {
        let en = super::one_line(e);
        self.log.line(
            &format!("受信できませんでした（再試行します）: {sequence}"),
            &format!("not received, will retry: {sequence} ({en})"),
        );
        let _ = self
            .update_journal(|j| JournalFile::fail(j, &format!("in:{id}"), "受信できませんでした".into(), en));
    }

    async fn acknowledge(&self, id: &str, entry: &Incoming) -> anyhow::Result<()> {
        let a = self.client.post(&format!("/v1/inbox/{id}/ack")).await?;
        if a.status == 404 {
            // No longer this office's to acknowledge (withdrawn by an admin): nothing is left to do.
            self.log.line(
                &format!("受領確認できない配信です（記録から外します）: {}", entry.sequence),
                &format!("delivery {id} is gone at the relay; dropped from the journal"),
            );
            return self.update_journal(|j| {
                j.incoming.remove(id);
                j.failures.remove(&format!("in:{id}"));
            });
        }
        if a.status != 200 {
            anyhow::bail!("acknowledgement: HTTP {} {}", a.status, a.json["message_en"]);
        }
        let n = entry.files.len();
        self.log.line(
            &format!(
                "受信しました: {} ← {}（{n} ファイル）",
                entry.sequence, entry.sender
            ),
            &format!(
                "received: {} from {} ({n} files in {})",
                entry.sequence,
                entry.sender,
                entry.dir.display()
            ),
        );
        self.update_journal(|j| {
            j.incoming.remove(id);
            JournalFile::finish(
                j,
                &format!("in:{id}"),
                Done {
                    at: super::journal::now(),
                    outcome: "received".into(),
                    sequence: entry.sequence.clone(),
                    detail: id.to_string(),
                },
            );
        })
    }

    /// Writes one delivery's files (each checked against its digest), records it, then acknowledges it.
    async fn receive(&self, item: &Value) -> anyhow::Result<()> {
        let id = item["delivery_id"]
            .as_str()
            .context("an item without delivery_id")?;
        let sequence = item["sequence"].as_str().unwrap_or_default().to_string();
        let sender = item["sender"].as_str().unwrap_or_default().to_string();
        let dir = self.inbox_dir(&sender, &sequence)?;
        let mut files = Vec::new();
        for f in item["files"].as_array().into_iter().flatten() {
            let name = plain(f["name"].as_str().unwrap_or_default())?;
            let sha256 = f["sha256"].as_str().unwrap_or_default().to_string();
            let to = dir.join(name);
            match fsio::file_sha256(&to)? {
                Some(on_disk) if on_disk == sha256 => {} // already there: not written twice
                Some(_) => anyhow::bail!(
                    "{name}: another file with this name is already in {} / 同じ名前の別のファイルがあります",
                    dir.display()
                ),
                None => {
                    let (status, bytes, _) = self.client.download(id, name).await?;
                    if status != 200 {
                        anyhow::bail!("{name}: HTTP {status}");
                    }
                    if crate::relay::sha256_hex(&bytes) != sha256 {
                        anyhow::bail!("{name}: the downloaded bytes do not match the announced SHA-256");
                    }
                    fsio::write_atomic(&dir, name, &bytes)?;
                }
            }
            files.push(FileDigest {
                name: name.to_string(),
                sha256,
            });
        }
        let entry = Incoming {
            sequence,
            sender,
            dir,
            files,
        };
        self.update_journal(|j| {
            j.incoming.insert(id.to_string(), entry.clone());
        })?;
        self.acknowledge(id, &entry).await
    }

    /// Acknowledges what the journal holds, then asks for the pending inbox (long-polling up to `wait`, after
    /// `after` when given) and receives every delivery in the answer.
    ///
    /// Errors: the relay cannot be reached or does not answer 200 (a delivery's own failure is counted instead).
    pub(super) async fn inbox_pass(&self, wait: Duration, after: Option<&str>) -> anyhow::Result<InPass> {
        let mut pass = InPass {
            failed: self.finish_incoming().await,
            ..InPass::default()
        };
        let mut path = format!("/v1/inbox?status=pending&limit=100&wait={}", wait.as_secs());
        if let Some(a) = after {
            path.push_str("&after=");
            path.push_str(a);
        }
        let a = self.client.get(&path).await?;
        if a.status != 200 {
            anyhow::bail!(
                "inbox: HTTP {} {} / {}",
                a.status,
                a.json["message_en"].as_str().unwrap_or_default(),
                a.json["message_ja"].as_str().unwrap_or_default()
            );
        }
        pass.next = a.json["next"].as_str().map(str::to_string);
        let held: Vec<String> = self.with_journal(|j| j.incoming.keys().cloned().collect());
        for item in a.json["items"].as_array().into_iter().flatten() {
            pass.items += 1;
            let id = item["delivery_id"].as_str().unwrap_or_default();
            if held.iter().any(|h| h == id) {
                continue; // written; its acknowledgement failed above and is retried
            }
            match self.receive(item).await {
                Ok(()) => pass.received += 1,
                Err(e) => {
                    pass.failed += 1;
                    self.incoming_failed(id, item["sequence"].as_str().unwrap_or_default(), &e);
                }
            }
        }
        Ok(pass)
    }

    /// Receives every pending delivery, page by page (a `--once` pass).
    ///
    /// Errors: as [`Agent::inbox_pass`].
    pub(super) async fn drain_inbox(&self) -> anyhow::Result<InPass> {
        let mut total = InPass::default();
        let mut after: Option<String> = None;
        loop {
            let p = self.inbox_pass(Duration::ZERO, after.as_deref()).await?;
            total.received += p.received;
            total.failed += p.failed;
            total.items += p.items;
            // A full page may have more behind it: go on after it (every item on it was handled or failed).
            match p.next {
                Some(n) if p.items >= 100 => after = Some(n),
                _ => return Ok(total),
            }
        }
    }
}
