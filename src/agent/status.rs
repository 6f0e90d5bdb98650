//! `client sync --status`: what the agent has pending, what failed and why, and what it did last; read from
//! the outbox folder and the journal without taking the lock, so it works while the agent runs.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::config::AgentConfig;
use super::journal::{JournalFile, Outgoing};
use super::scan::{Readiness, scan};
use crate::spec::Spec;

/// The status report as text (Japanese and English).
///
/// Errors: the outbox folder or the journal cannot be read.
pub fn status(cfg: &AgentConfig, spec: &Spec) -> anyhow::Result<String> {
    let journal = JournalFile::open(&cfg.state)?.data;
    let found = scan(
        spec,
        &cfg.outbox,
        cfg.settle,
        cfg.incomplete,
        &mut BTreeMap::new(),
    )?;
    let mut out = String::new();
    let _ = writeln!(out, "送信待ち / waiting to be sent ({}):", found.len());
    for f in &found {
        let state = match (&f.readiness, journal.outgoing.get(&f.key)) {
            (_, Some(Outgoing::Sent { .. })) => "送信済み、移動待ち / sent, being moved".to_string(),
            (_, Some(Outgoing::Refused { .. })) => "不受理、移動待ち / refused, being moved".to_string(),
            (_, Some(Outgoing::Sending { .. })) => {
                "送信中または再試行待ち / sending or to be retried".to_string()
            }
            (Readiness::Ready, None) => "送信できます / ready".to_string(),
            (Readiness::Settling, None) => "書き込み中 / files still changing".to_string(),
            (Readiness::Incomplete(m), None) => {
                format!("ファイル不足 / incomplete, missing {}", m.join(", "))
            }
        };
        let _ = writeln!(out, "  {}  {} files  {state}", f.key, f.paths.len());
    }
    let _ = writeln!(
        out,
        "受信済み・受領確認待ち / received, not yet acknowledged ({}):",
        journal.incoming.len()
    );
    for (id, i) in &journal.incoming {
        let _ = writeln!(out, "  {}  from {}  delivery {id}", i.sequence, i.sender);
    }
    let _ = writeln!(
        out,
        "失敗（再試行します） / failures being retried ({}):",
        journal.failures.len()
    );
    for (key, f) in &journal.failures {
        let _ = writeln!(
            out,
            "  {key}  {} attempts, last {}\n      {}\n      {}",
            f.attempts, f.at, f.message_ja, f.message_en
        );
    }
    let recent: Vec<_> = journal.history.iter().rev().take(20).collect();
    let _ = writeln!(out, "最近の結果 / recent outcomes ({}):", recent.len());
    for d in recent {
        let _ = writeln!(out, "  {}  {:8}  {}  {}", d.at, d.outcome, d.sequence, d.detail);
    }
    Ok(out)
}
