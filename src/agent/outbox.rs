//! Out: the sets in the outbox folder. Files are grouped by sequence; a set is taken once its files have
//! stopped changing and its kinds form a send unit (or it can never become one, or waited too long); it is
//! checked by the same validator as the relay, sent, and moved to `sent/` with its receipt or to `rejected/`
//! with its report. Network errors, 5xx, 401 and 429 leave it in place to be retried.

use std::collections::BTreeSet;

use anyhow::Context;
use serde_json::Value;

use super::journal::{Done, FileDigest, JournalFile, Outgoing};
use super::scan::{Found, Readiness, scan};
use super::{Agent, fsio, report};
use crate::validate::{InputFile, validate_set};

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy)]
pub struct OutPass {
    pub sent: usize,
    pub refused: usize,
    pub failed: usize,
    /// Sets not taken yet (settling or incomplete).
    pub waiting: usize,
}

/// How the relay answered a set.
enum Answer {
    Accepted(String),
    Refused(Value),
    Retry(String, String),
}

fn classify(result: anyhow::Result<crate::client::Answer>) -> Answer {
    let a = match result {
        Ok(a) => a,
        Err(e) => {
            return Answer::Retry(
                "中継サーバに接続できません".into(),
                format!("cannot reach the relay: {}", super::one_line(&e)),
            );
        }
    };
    match a.status {
        200 | 201 => Answer::Accepted(a.json["submission_id"].as_str().unwrap_or_default().to_string()),
        400 | 403 | 409 | 413 | 415 | 422 => Answer::Refused(a.json),
        s => Answer::Retry(
            format!(
                "中継サーバの応答 HTTP {s}: {}",
                a.json["message_ja"].as_str().unwrap_or_default()
            ),
            format!(
                "relay answered HTTP {s}: {}",
                a.json["message_en"].as_str().unwrap_or_default()
            ),
        ),
    }
}

impl Agent {
    /// Finishes the sets the journal says were sent or refused (receipt or report, then the move).
    async fn finish_outgoing(&self) -> usize {
        let entries: Vec<(String, Outgoing)> = self.with_journal(|j| {
            j.outgoing
                .iter()
                .filter(|(_, o)| !matches!(o, Outgoing::Sending { .. }))
                .map(|(k, o)| (k.clone(), o.clone()))
                .collect()
        });
        let mut failed = 0;
        for (key, entry) in entries {
            if let Err(e) = self.finish_one(&key, &entry).await {
                failed += 1;
                let en = format!("set {key} not finished: {}", super::one_line(&e));
                self.log.line(
                    &format!("セット {key} の後処理に失敗しました（再試行します）"),
                    &en,
                );
                let _ = self.update_journal(|j| {
                    JournalFile::fail(j, &format!("out:{key}"), "後処理に失敗しました".into(), en)
                });
            }
        }
        failed
    }

    async fn finish_one(&self, key: &str, entry: &Outgoing) -> anyhow::Result<()> {
        let (dir, done) = match entry {
            Outgoing::Sent { submission_id, .. } => {
                let receipt = self.cfg.sent.join(format!("{key}.receipt.json"));
                if !receipt.exists() {
                    let a = self.client.get(&format!("/v1/receipts/{submission_id}")).await?;
                    if a.status != 200 {
                        anyhow::bail!("receipt: HTTP {}", a.status);
                    }
                    let bytes = serde_json::to_vec_pretty(&a.json)?;
                    fsio::write_atomic(&self.cfg.sent, &format!("{key}.receipt.json"), &bytes)?;
                }
                (&self.cfg.sent, ("sent", submission_id.clone()))
            }
            Outgoing::Refused { report, by_relay, .. } => {
                let text = report::text(key, *by_relay, report);
                fsio::write_atomic(&self.cfg.rejected, &format!("{key}.report.txt"), text.as_bytes())?;
                let json = serde_json::to_vec_pretty(report)?;
                fsio::write_atomic(&self.cfg.rejected, &format!("{key}.report.json"), &json)?;
                (&self.cfg.rejected, ("refused", report::summary(report)))
            }
            Outgoing::Sending { .. } => return Ok(()),
        };
        for f in entry.files() {
            let from = self.cfg.outbox.join(&f.name);
            if fsio::file_sha256(&from)?.as_deref() == Some(f.sha256.as_str()) {
                fsio::move_into(&from, dir)?;
            }
        }
        self.update_journal(|j| {
            j.outgoing.remove(key);
            JournalFile::finish(
                j,
                &format!("out:{key}"),
                Done {
                    at: super::journal::now(),
                    outcome: done.0.into(),
                    sequence: key.into(),
                    detail: done.1,
                },
            );
        })
    }

    /// One pass over the outbox folder: finish what the journal holds, then take every ready set.
    /// `force` ignores the retry backoff (a `--once` pass tries everything once).
    pub(super) async fn outbox_pass(&self, force: bool) -> anyhow::Result<OutPass> {
        let mut pass = OutPass {
            failed: self.finish_outgoing().await,
            ..OutPass::default()
        };
        fsio::remove_leftovers(&self.cfg.sent)?;
        fsio::remove_leftovers(&self.cfg.rejected)?;
        let found = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            scan(
                self.spec,
                &self.cfg.outbox,
                self.cfg.settle,
                self.cfg.incomplete,
                &mut seen,
            )?
        };
        let unfinished: BTreeSet<String> = self.with_journal(|j| {
            j.outgoing
                .iter()
                .filter(|(_, o)| !matches!(o, Outgoing::Sending { .. }))
                .map(|(k, _)| k.clone())
                .collect()
        });
        let present: BTreeSet<String> = found.iter().map(|f| f.key.clone()).collect();
        self.update_journal(|j| {
            // A set taken away from the outbox before it was sent is no longer pending.
            j.outgoing
                .retain(|k, o| present.contains(k) || !matches!(o, Outgoing::Sending { .. }));
            j.failures.retain(|k, _| {
                k.strip_prefix("out:")
                    .is_none_or(|s| present.contains(s) || unfinished.contains(s))
            });
        })?;
        for set in found {
            if unfinished.contains(&set.key) {
                continue;
            }
            if set.readiness != Readiness::Ready {
                pass.waiting += 1;
                continue;
            }
            if !force && !self.backoff_due(&format!("out:{}", set.key)) {
                pass.failed += 1;
                continue;
            }
            match self.send_set(&set).await {
                Ok(Some(true)) => pass.sent += 1,
                Ok(Some(false)) => pass.refused += 1,
                Ok(None) => pass.waiting += 1,
                Err(e) => {
                    pass.failed += 1;
                    let key = format!("out:{}", set.key);
                    let en = super::one_line(&e);
                    self.log.line(
                        &format!("送信できませんでした（再試行します）: {}", set.key),
                        &format!("not sent, will retry: {} ({en})", set.key),
                    );
                    self.backoff_failed(&key);
                    self.update_journal(|j| JournalFile::fail(j, &key, "送信できませんでした".into(), en))?;
                }
            }
        }
        Ok(pass)
    }

    /// Validates and sends one set. `Some(true)`: sent; `Some(false)`: refused; `None`: changed while read.
    async fn send_set(&self, set: &Found) -> anyhow::Result<Option<bool>> {
        let mut files = Vec::with_capacity(set.paths.len());
        for p in &set.paths {
            let before = std::fs::metadata(p)?;
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let after = std::fs::metadata(p)?;
            if before.len() != after.len() || before.modified()? != after.modified()? {
                return Ok(None);
            }
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, bytes));
        }
        let digests: Vec<FileDigest> = files
            .iter()
            .map(|(name, bytes)| FileDigest {
                name: name.clone(),
                sha256: crate::relay::sha256_hex(bytes),
            })
            .collect();
        let inputs: Vec<InputFile<'_>> = files
            .iter()
            .map(|(name, bytes)| InputFile { name, bytes })
            .collect();
        let local = validate_set(self.spec, &inputs).report;
        let recipient = local.recipient.clone().unwrap_or_else(|| "?".into());
        if !local.valid {
            let report = serde_json::to_value(&local)?;
            self.refuse(&set.key, digests, report, false).await?;
            return Ok(Some(false));
        }
        self.update_journal(|j| {
            j.outgoing.insert(
                set.key.clone(),
                Outgoing::Sending {
                    files: digests.clone(),
                },
            );
        })?;
        let n = files.len();
        match classify(self.client.send(files).await) {
            Answer::Accepted(submission_id) => {
                let entry = Outgoing::Sent {
                    files: digests,
                    submission_id: submission_id.clone(),
                };
                self.update_journal(|j| {
                    j.outgoing.insert(set.key.clone(), entry.clone());
                })?;
                self.log.line(
                    &format!("送信しました: {} → {recipient}（{n} ファイル）", set.key),
                    &format!(
                        "sent: {} to {recipient} ({n} files, submission {submission_id})",
                        set.key
                    ),
                );
                self.backoff_clear(&format!("out:{}", set.key));
                self.finish_one(&set.key, &entry).await?;
                Ok(Some(true))
            }
            Answer::Refused(report) => {
                self.refuse(&set.key, digests, report, true).await?;
                Ok(Some(false))
            }
            Answer::Retry(ja, en) => {
                anyhow::bail!("{en} / {ja}")
            }
        }
    }

    async fn refuse(
        &self,
        key: &str,
        files: Vec<FileDigest>,
        report: Value,
        by_relay: bool,
    ) -> anyhow::Result<()> {
        self.log.line(
            &format!(
                "送信できないセットです（{} に報告）: {key}",
                self.cfg.rejected.display()
            ),
            &format!("refused: {key}: {}", report::summary(&report)),
        );
        let entry = Outgoing::Refused {
            files,
            report,
            by_relay,
        };
        self.update_journal(|j| {
            j.outgoing.insert(key.to_string(), entry.clone());
        })?;
        self.backoff_clear(&format!("out:{key}"));
        self.finish_one(key, &entry).await
    }
}
