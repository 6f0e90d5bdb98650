//! The folder agent's configuration: one TOML file (docs/AGENT.md).
//!
//! Relative paths are taken from the configuration file's folder, so one file describes one office's folders
//! wherever the agent is started from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::client::ClientOptions;

/// How received sets are laid out under the inbox folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Every file directly in the inbox folder under its spec name (the default).
    #[default]
    Flat,
    /// One folder per set, `<sender>_<sequence>`, holding the set's files under their spec names.
    PerSet,
}

/// The file as written (TOML). Durations are whole seconds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    url: String,
    cacert: Option<PathBuf>,
    token: Option<String>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    outbox: PathBuf,
    inbox: PathBuf,
    sent: Option<PathBuf>,
    rejected: Option<PathBuf>,
    state: Option<PathBuf>,
    log: Option<PathBuf>,
    #[serde(default)]
    layout: Layout,
    settle_secs: Option<u64>,
    incomplete_secs: Option<u64>,
    rescan_secs: Option<u64>,
    wait_secs: Option<u64>,
}

/// The folder agent's settings, paths resolved.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// How to reach the relay and authenticate (token or client certificate).
    pub client: ClientOptions,
    /// Where the office's software puts the sets to send.
    pub outbox: PathBuf,
    /// Where received sets are written.
    pub inbox: PathBuf,
    /// Where sent sets move, with `<sequence>.receipt.json` (default `<outbox>/sent`).
    pub sent: PathBuf,
    /// Where refused sets move, with `<sequence>.report.txt` and `.report.json` (default `<outbox>/rejected`).
    pub rejected: PathBuf,
    /// The journal (default `<outbox>/.careplan-relay-agent.json`).
    pub state: PathBuf,
    /// A file the one-line log is also appended to (none by default: standard output only).
    pub log: Option<PathBuf>,
    pub layout: Layout,
    /// A file is ready once it has not changed for this long (default 5 s).
    pub settle: Duration,
    /// A set still missing members of its send unit after this long is sent as it is, to be refused with a
    /// report that names what is missing (default 1 hour).
    pub incomplete: Duration,
    /// The outbox folder is rescanned this often even without a change notice (default 30 s).
    pub rescan: Duration,
    /// Long-poll time of one inbox request (default 25 s).
    pub wait: Duration,
}

impl AgentConfig {
    /// Reads and checks the configuration file.
    ///
    /// Errors: the file cannot be read, is not TOML of this shape (unknown keys are refused), or names neither
    /// a token nor a certificate and key.
    pub fn load(path: &Path) -> anyhow::Result<AgentConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let f: File = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let at = |p: &Path| base.join(p);
        if f.token.is_none() && (f.cert.is_none() || f.key.is_none()) {
            anyhow::bail!(
                "{}: give `token`, or `cert` and `key` / token か cert と key を指定してください",
                path.display()
            );
        }
        let outbox = at(&f.outbox);
        Ok(AgentConfig {
            client: ClientOptions {
                url: f.url,
                token: f.token.map(Into::into),
                cert: f.cert.as_deref().map(at),
                key: f.key.as_deref().map(at),
                cacert: f.cacert.as_deref().map(at),
            },
            sent: f.sent.as_deref().map_or_else(|| outbox.join("sent"), at),
            rejected: f.rejected.as_deref().map_or_else(|| outbox.join("rejected"), at),
            state: f
                .state
                .as_deref()
                .map_or_else(|| outbox.join(".careplan-relay-agent.json"), at),
            inbox: at(&f.inbox),
            outbox,
            log: f.log.as_deref().map(at),
            layout: f.layout,
            settle: Duration::from_secs(f.settle_secs.unwrap_or(5)),
            incomplete: Duration::from_secs(f.incomplete_secs.unwrap_or(3600)),
            rescan: Duration::from_secs(f.rescan_secs.unwrap_or(30).max(1)),
            wait: Duration::from_secs(f.wait_secs.unwrap_or(25).min(250)),
        })
    }
}
