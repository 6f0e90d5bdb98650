//! The folder agent's journal: what it is in the middle of, so that a pass after a crash at any point finishes
//! the work instead of repeating or losing it. One JSON file, rewritten atomically after every change.
//!
//! Outgoing: `sending` (written before the request; a resend after a crash is answered 200 by the relay and
//! counts as sent), `sent` (the relay accepted it; the receipt and the move to `sent/` may be unfinished),
//! `refused` (the report and the move to `rejected/` may be unfinished). Incoming: `written` (every file is on
//! disk; the acknowledgement may be unfinished). Finished work leaves the journal for `history`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fsio;

/// How many finished outcomes the journal keeps for `--status`.
const HISTORY: usize = 200;

/// One file of a set: its spec name and SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub name: String,
    pub sha256: String,
}

/// Where an outgoing set stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outgoing {
    /// A request was (or was about to be) made; its answer is unknown.
    Sending { files: Vec<FileDigest> },
    /// Accepted by the relay (201, or 200 for a retry).
    Sent {
        files: Vec<FileDigest>,
        submission_id: String,
    },
    /// Refused (locally or by the relay); `report` is the JSON report written beside the files.
    Refused {
        files: Vec<FileDigest>,
        report: Value,
        #[serde(default)]
        by_relay: bool,
    },
}

impl Outgoing {
    /// The files the entry speaks of.
    pub fn files(&self) -> &[FileDigest] {
        match self {
            Outgoing::Sending { files } | Outgoing::Sent { files, .. } | Outgoing::Refused { files, .. } => {
                files
            }
        }
    }
}

/// A delivery whose files are all on disk, not yet known to be acknowledged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Incoming {
    pub sequence: String,
    pub sender: String,
    /// The folder the files were written in.
    pub dir: PathBuf,
    pub files: Vec<FileDigest>,
}

/// A failure that will be retried (network, relay unavailable, throttled, a bad download).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub at: String,
    pub attempts: u32,
    pub message_ja: String,
    pub message_en: String,
}

/// A finished outcome, for `--status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Done {
    pub at: String,
    /// `sent`, `refused` or `received`.
    pub outcome: String,
    pub sequence: String,
    /// The submission id (sent), the delivery id (received), or the first line of the report (refused).
    pub detail: String,
}

/// The whole journal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Journal {
    /// Outgoing sets in progress, by sequence.
    #[serde(default)]
    pub outgoing: BTreeMap<String, Outgoing>,
    /// Deliveries written but not yet acknowledged, by delivery id.
    #[serde(default)]
    pub incoming: BTreeMap<String, Incoming>,
    /// Failures to be retried, by `out:<sequence>` or `in:<delivery id>`.
    #[serde(default)]
    pub failures: BTreeMap<String, Failure>,
    /// Finished outcomes, newest last.
    #[serde(default)]
    pub history: Vec<Done>,
}

/// The journal and the file it lives in.
#[derive(Debug)]
pub struct JournalFile {
    path: PathBuf,
    pub data: Journal,
}

/// Now, as RFC 3339 (UTC) with seconds.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl JournalFile {
    /// Reads the journal at `path` (empty when it does not exist).
    ///
    /// Errors: the file cannot be read or is not a journal.
    pub fn open(path: &Path) -> anyhow::Result<JournalFile> {
        let data = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Journal::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(JournalFile {
            path: path.to_path_buf(),
            data,
        })
    }

    /// Rewrites the file atomically with the current state.
    ///
    /// Errors: the file cannot be written.
    pub fn save(&self) -> anyhow::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .with_context(|| format!("{} has no file name", self.path.display()))?;
        let bytes = serde_json::to_vec_pretty(&self.data)?;
        fsio::write_atomic(dir, &name.to_string_lossy(), &bytes)?;
        Ok(())
    }

    /// Changes the state with `f` and saves it.
    ///
    /// Errors: as [`JournalFile::save`].
    pub fn update(&mut self, f: impl FnOnce(&mut Journal)) -> anyhow::Result<()> {
        f(&mut self.data);
        self.save()
    }

    /// Records a finished outcome (and clears the failure of the same key), keeping the last few hundred.
    pub fn finish(j: &mut Journal, key: &str, done: Done) {
        j.failures.remove(key);
        j.history.push(done);
        if j.history.len() > HISTORY {
            let extra = j.history.len() - HISTORY;
            j.history.drain(..extra);
        }
    }

    /// Records a failure to be retried, counting attempts.
    pub fn fail(j: &mut Journal, key: &str, message_ja: String, message_en: String) {
        let attempts = j.failures.get(key).map_or(0, |f| f.attempts) + 1;
        j.failures.insert(
            key.to_string(),
            Failure {
                at: now(),
                attempts,
                message_ja,
                message_en,
            },
        );
    }
}
