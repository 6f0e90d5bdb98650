//! The folder agent (`client sync`): an office's outbox and inbox folders kept in step with the relay.
//!
//! Out: sets that appear in the outbox folder are validated locally, sent, and moved to `sent/` with their
//! receipt or to `rejected/` with a report (`outbox`). In: pending deliveries are written into the inbox folder
//! atomically and acknowledged after they are on disk (`inbox`). A journal (`journal`) makes every step
//! resumable after a crash; a lock on each folder (`fsio::lock_folder`) keeps a second agent out. The agent logs
//! one line per set in Japanese and English and never logs record contents.

pub mod config;
pub mod fsio;
pub mod inbox;
pub mod journal;
pub mod outbox;
pub mod report;
pub mod scan;
mod status;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

pub use config::{AgentConfig, Layout};
pub use status::status;

use crate::client::Client;
use crate::spec::Spec;
use journal::{Journal, JournalFile};

/// The one-line log: standard output, and the configured log file when there is one.
#[derive(Debug)]
pub struct Log {
    file: Option<PathBuf>,
}

impl Log {
    /// Writes `time  ja / en` as one line. Lines name sets by sequence and office numbers, never contents.
    pub fn line(&self, ja: &str, en: &str) {
        let line = format!(
            "{}  {ja} / {en}\n",
            crate::domain::japan_time(crate::domain::now_ms())
        );
        let _ = std::io::stdout().write_all(line.as_bytes());
        if let Some(path) = &self.file
            && let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// The whole chain of an error on one line.
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

/// A running agent: its settings, the relay client, the journal and what it remembers between passes.
#[derive(Debug)]
pub struct Agent {
    cfg: AgentConfig,
    client: Client,
    spec: &'static Spec,
    log: Log,
    journal: Mutex<JournalFile>,
    /// Each outbox file's (size, modified) at the previous look.
    seen: Mutex<BTreeMap<PathBuf, (u64, SystemTime)>>,
    /// Retry times by journal key: (failures in a row, not before).
    backoff: Mutex<BTreeMap<String, (u32, Instant)>>,
    _locks: Vec<fsio::FolderLock>,
}

/// Retry delay after `n` failures in a row: 5 s doubling up to 5 minutes.
fn delay(n: u32) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << n.min(6)).min(300))
}

impl Agent {
    /// Locks the outbox and inbox folders, opens the journal and removes leftovers of interrupted writes.
    ///
    /// Errors: another agent holds a folder, a folder or the journal cannot be opened, or the client cannot be
    /// built (an unreadable CA or certificate file).
    pub fn open(cfg: AgentConfig, spec: &'static Spec) -> anyhow::Result<Agent> {
        let locks = vec![fsio::lock_folder(&cfg.outbox)?, fsio::lock_folder(&cfg.inbox)?];
        let client = Client::new(&cfg.client)?;
        let state_dir = cfg.state.parent().map(PathBuf::from).unwrap_or_default();
        for dir in [&cfg.inbox, &cfg.sent, &cfg.rejected, &state_dir] {
            fsio::remove_leftovers(dir)?;
        }
        let journal = JournalFile::open(&cfg.state)?;
        Ok(Agent {
            log: Log {
                file: cfg.log.clone(),
            },
            cfg,
            client,
            spec,
            journal: Mutex::new(journal),
            seen: Mutex::new(BTreeMap::new()),
            backoff: Mutex::new(BTreeMap::new()),
            _locks: locks,
        })
    }

    fn with_journal<T>(&self, f: impl FnOnce(&Journal) -> T) -> T {
        f(&self.journal.lock().unwrap_or_else(|e| e.into_inner()).data)
    }

    fn update_journal(&self, f: impl FnOnce(&mut Journal)) -> anyhow::Result<()> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner()).update(f)
    }

    fn backoff_due(&self, key: &str) -> bool {
        let b = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        b.get(key).is_none_or(|(_, at)| Instant::now() >= *at)
    }

    fn backoff_failed(&self, key: &str) {
        let mut b = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        let n = b.get(key).map_or(0, |(n, _)| *n);
        b.insert(key.to_string(), (n + 1, Instant::now() + delay(n)));
    }

    fn backoff_clear(&self, key: &str) {
        self.backoff.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// One pass in each direction. Returns whether something failed (and stays to be retried).
    pub async fn once(&self) -> bool {
        let mut failed = match self.outbox_pass(true).await {
            Ok(p) => p.failed > 0,
            Err(e) => {
                self.log.line("送信フォルダを処理できません", &one_line(&e));
                true
            }
        };
        match self.drain_inbox().await {
            Ok(p) => failed |= p.failed > 0,
            Err(e) => {
                self.log.line(
                    "受信箱を読めませんでした（再試行します）",
                    &format!("cannot read the inbox, will retry: {}", one_line(&e)),
                );
                failed = true;
            }
        }
        failed
    }

    /// Runs until SIGINT/SIGTERM (Ctrl+C on Windows): watches the outbox folder (with a periodic rescan) and
    /// long-polls the inbox.
    ///
    /// Errors: the folder watcher cannot start (the rescan alone would still work; the error says why).
    pub async fn run(&self) -> anyhow::Result<()> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
            let _ = tx.send(());
        })?;
        notify::Watcher::watch(
            &mut watcher,
            &self.cfg.outbox,
            notify::RecursiveMode::NonRecursive,
        )?;
        self.log.line(
            &format!(
                "開始しました: 送信 {} / 受信 {}",
                self.cfg.outbox.display(),
                self.cfg.inbox.display()
            ),
            &format!(
                "started: outbox {}, inbox {}",
                self.cfg.outbox.display(),
                self.cfg.inbox.display()
            ),
        );
        let out = async {
            loop {
                let next = match self.outbox_pass(false).await {
                    Ok(p) if p.waiting > 0 || p.failed > 0 => self.cfg.settle.max(Duration::from_secs(1)),
                    Ok(_) => self.cfg.rescan,
                    Err(e) => {
                        self.log.line("送信フォルダを処理できません", &one_line(&e));
                        self.cfg.rescan
                    }
                };
                // A change notice, or the rescan (or the settle time of a set being written) is due.
                let _ = tokio::time::timeout(next.min(self.cfg.rescan), rx.recv()).await;
                while rx.try_recv().is_ok() {}
            }
        };
        let inbox = async {
            let mut after: Option<String> = None;
            let mut errors = 0;
            let mut from_start = Instant::now();
            loop {
                if from_start.elapsed() >= self.cfg.rescan {
                    after = None; // retry deliveries that failed
                    from_start = Instant::now();
                }
                match self.inbox_pass(self.cfg.wait, after.as_deref()).await {
                    Ok(p) => {
                        errors = 0;
                        if p.failed > 0 {
                            // Wait for what arrives after them; without a cursor, wait before asking again.
                            match p.next {
                                Some(n) => after = Some(n),
                                None => tokio::time::sleep(delay(0)).await,
                            }
                        } else {
                            after = None;
                        }
                    }
                    Err(e) => {
                        if errors == 0 {
                            self.log.line(
                                "受信箱を読めませんでした（再試行します）",
                                &format!("cannot read the inbox, will retry: {}", one_line(&e)),
                            );
                        }
                        tokio::time::sleep(delay(errors)).await;
                        errors += 1;
                    }
                }
            }
        };
        tokio::select! {
            () = out => {}
            () = inbox => {}
            () = shutdown() => {}
        }
        drop(watcher);
        self.log.line("停止しました", "stopped");
        Ok(())
    }
}

async fn shutdown() {
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
