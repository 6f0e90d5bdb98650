//! Out: the sets in the outbox folder. Files are grouped by sequence; a set is taken once its files have
//! stopped changing and its kinds form a send unit (or it can never become one, or waited too long); it is
//! checked by the same validator as the relay, sent, and moved to `sent/` with its receipt or to `rejected/`
//! with its report. Network errors, 5xx, 401 and 429 leave it in place to be retried.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde_json::Value;

use super::journal::{Done, FileDigest, JournalFile, Outgoing};
use super::{Agent, fsio, report};
use crate::name::FileName;
use crate::spec::{Kind, Spec};
use crate::validate::{InputFile, validate_set};

/// A set found in the outbox folder.
#[derive(Debug, Clone)]
pub struct Found {
    /// The sequence, or the file name for a file whose name does not parse.
    pub key: String,
    pub paths: Vec<PathBuf>,
    pub readiness: Readiness,
}

/// Whether a found set can be taken now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// A file changed less than `settle` ago (or since the last look).
    Settling,
    /// Members of its send unit are missing (their prefixes).
    Incomplete(Vec<&'static str>),
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy)]
pub struct OutPass {
    pub sent: usize,
    pub refused: usize,
    pub failed: usize,
    /// Sets not taken yet (settling or incomplete).
    pub waiting: usize,
}

fn ignored(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with('~')
        || [".tmp", ".part", ".partial", ".crdownload"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// The missing members of the closest send unit when the kinds are a part of one but not a whole one; empty
/// when they form a unit or can never form one (the validator then says why).
fn missing_members(spec: &Spec, names: &[FileName]) -> Vec<&'static str> {
    let Some(first) = names.first() else {
        return Vec::new();
    };
    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    for n in names {
        *kinds.entry(n.kind).or_default() += 1;
    }
    let units: Vec<_> = spec
        .units
        .iter()
        .filter(|u| u.generations.contains(&first.generation))
        .collect();
    let is_unit = units.iter().any(|u| {
        u.members.iter().all(|m| kinds.get(m) == Some(&1))
            && kinds
                .keys()
                .all(|k| u.members.contains(k) || u.repeated.contains(k))
    });
    if is_unit || kinds.iter().any(|(k, n)| *n > 1 && !k.is_image()) {
        return Vec::new();
    }
    units
        .iter()
        .filter(|u| {
            kinds
                .keys()
                .all(|k| u.members.contains(k) || u.repeated.contains(k))
        })
        .min_by_key(|u| u.members.len())
        .map(|u| {
            u.members
                .iter()
                .filter(|m| !kinds.contains_key(m))
                .map(|k| k.prefix())
                .collect()
        })
        .unwrap_or_default()
}

/// Lists the sets in `outbox`. `seen` holds each file's (size, modified) from the previous look; a file that
/// differs from it, or was modified less than `settle` ago, is still settling.
pub fn scan(
    spec: &Spec,
    outbox: &Path,
    settle: Duration,
    incomplete: Duration,
    seen: &mut BTreeMap<PathBuf, (u64, SystemTime)>,
) -> anyhow::Result<Vec<Found>> {
    let now = SystemTime::now();
    // (path, parsed name, modified, still settling) by sequence
    type Seen = (PathBuf, Option<FileName>, SystemTime, bool);
    let mut groups: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    let mut current = BTreeMap::new();
    for e in std::fs::read_dir(outbox).with_context(|| format!("reading {}", outbox.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let meta = match e.metadata() {
            Ok(m) if m.is_file() && !ignored(&name) => m,
            _ => continue,
        };
        let modified = meta.modified().unwrap_or(now);
        let sig = (meta.len(), modified);
        let path = e.path();
        let changed = seen.get(&path).is_some_and(|s| *s != sig);
        let young = now.duration_since(modified).unwrap_or_default() < settle;
        current.insert(path.clone(), sig);
        let parsed = FileName::parse(spec, &name).ok();
        let key = parsed
            .as_ref()
            .map_or_else(|| name.clone(), |n| n.sequence.clone());
        groups
            .entry(key)
            .or_default()
            .push((path, parsed, modified, changed || young));
    }
    *seen = current;
    Ok(groups
        .into_iter()
        .map(|(key, files)| {
            let names: Vec<FileName> = files.iter().filter_map(|f| f.1.clone()).collect();
            let newest = files.iter().map(|f| f.2).max().unwrap_or(now);
            let missing = missing_members(spec, &names);
            let readiness = if files.iter().any(|f| f.3) {
                Readiness::Settling
            } else if !missing.is_empty() && now.duration_since(newest).unwrap_or_default() < incomplete {
                Readiness::Incomplete(missing)
            } else {
                Readiness::Ready
            };
            Found {
                key,
                paths: files.into_iter().map(|f| f.0).collect(),
                readiness,
            }
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &Spec, kinds: &[&str]) -> Vec<FileName> {
        kinds
            .iter()
            .map(|k| {
                let n = format!("{k}_202504_1310000001_43_1310000002_11_20250328101500.CSV");
                FileName::parse(spec, &n).unwrap_or_else(|e| panic!("{n}: {e:?}"))
            })
            .collect()
    }

    #[test]
    fn a_part_of_a_send_unit_waits_for_the_rest() {
        let spec = Spec::get().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            missing_members(spec, &names(spec, &["UPPLAN"])),
            vec!["UPSIKYU", "UPHOSOKU"]
        );
        assert!(missing_members(spec, &names(spec, &["UPPLAN", "UPSIKYU", "UPHOSOKU"])).is_empty());
        assert!(missing_members(spec, &names(spec, &["UPJSK"])).is_empty());
        // Never a unit: nothing to wait for, the validator says why.
        assert!(missing_members(spec, &names(spec, &["UPJSK", "UPPLAN"])).is_empty());
    }

    #[test]
    fn temporary_and_hidden_files_are_not_part_of_a_set() {
        assert!(ignored(".careplan-relay-agent.json"));
        assert!(ignored("UPPLAN_X.CSV.tmp"));
        assert!(ignored("~$UPPLAN.CSV"));
        assert!(!ignored(
            "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV"
        ));
    }
}
