//! The folder agent (`careplan-relay client sync`) as an office runs it: the binary against the real relay over
//! HTTPS on SQLite and PostgreSQL, with real folders. Crash windows are reconstructed on disk (the relay's state,
//! the folders and the journal as a kill at that point leaves them) and the next `--once` pass must converge;
//! running agents are also killed with SIGKILL, once at a known point and again and again at any (kills.rs).
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

#[path = "support/mod.rs"]
mod support;

#[allow(dead_code)] // the API tests' helpers; this binary uses a few
#[path = "api/helpers.rs"]
mod helpers;

#[path = "agent/exchange.rs"]
mod exchange;
#[path = "agent/kills.rs"]
mod kills;
#[path = "agent/recovery.rs"]
mod recovery;
#[path = "agent/watch.rs"]
mod watch;

use std::path::{Path, PathBuf};

use careplan_relay::generate::{Scenario, unit_files};
use careplan_relay::spec::{Generation, Spec};

const BIN: &str = env!("CARGO_BIN_EXE_careplan-relay");

/// One office's folders and its agent configuration.
#[derive(Debug)]
pub struct Office {
    pub root: PathBuf,
    pub outbox: PathBuf,
    pub inbox: PathBuf,
    pub config: PathBuf,
}

impl Office {
    /// Creates `<root>/<name>/{outbox,inbox}` and `<name>.toml` for the relay at `url` (settle time 0).
    pub fn new(root: &Path, name: &str, url: &str, ca: &Path, token: &str, extra: &str) -> Office {
        let dir = root.join(name);
        let office = Office {
            outbox: dir.join("outbox"),
            inbox: dir.join("inbox"),
            config: dir.join("agent.toml"),
            root: dir,
        };
        std::fs::create_dir_all(&office.outbox).unwrap();
        office.configure(url, ca, token, extra);
        office
    }

    /// (Re)writes the configuration, e.g. for a relay restarted on another port.
    pub fn configure(&self, url: &str, ca: &Path, token: &str, extra: &str) {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let text = format!(
            "url = {}\ncacert = {}\ntoken = {}\noutbox = \"outbox\"\ninbox = \"inbox\"\nsettle_secs = 0\n{extra}\n",
            q(url),
            q(&ca.display().to_string()),
            q(token),
        );
        std::fs::write(&self.config, text).unwrap();
    }

    /// Runs `client sync --config FILE ARGS…`; returns (exit code, stdout, stderr).
    pub async fn sync(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(BIN)
            .args(["client", "sync", "--config"])
            .arg(&self.config)
            .args(args)
            .env_remove("CAREPLAN_RELAY_TOKEN")
            .output()
            .await
            .expect("run careplan-relay");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).expect("UTF-8 log"),
            String::from_utf8(out.stderr).expect("UTF-8 messages"),
        )
    }

    /// `--once`, which must exit 0.
    pub async fn once_ok(&self) -> String {
        let (code, out, err) = self.sync(&["--once"]).await;
        assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
        out
    }

    /// Puts a set's files into the outbox.
    pub fn drop_set(&self, files: &[(String, Vec<u8>)]) {
        for (name, bytes) in files {
            std::fs::write(self.outbox.join(name), bytes).unwrap();
        }
    }
}

/// The regular files directly in `dir` (name → bytes), dot files left out.
pub fn files_in(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().unwrap().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .map(|n| {
                    let bytes = std::fs::read(dir.join(&n)).unwrap();
                    (n, bytes)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every path under `dir` whose name starts with the agent's temporary prefix.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_name()
            .to_string_lossy()
            .starts_with(careplan_relay::agent::fsio::TEMP_PREFIX)
        {
            found.push(p);
        } else if p.is_dir() {
            found.extend(temp_files(&p));
        }
    }
    found
}

/// A valid v4 set of the send unit `unit` with this sequence, from the care manager to the provider, or the
/// other way round (`from_provider`, for the actuals).
pub fn set(unit: &str, sequence: &str, from_provider: bool) -> Vec<(String, Vec<u8>)> {
    let spec = Spec::get().unwrap();
    let unit = spec.units.iter().find(|u| u.name == unit).unwrap();
    let mut sc = Scenario::small(Generation::V4);
    sc.sequence = sequence.into();
    if from_provider {
        std::mem::swap(&mut sc.sender, &mut sc.recipient);
    }
    unit_files(spec, unit, &sc)
        .into_iter()
        .map(|f| (f.name, f.bytes))
        .collect()
}

/// A committed fixture set under another sequence.
pub fn fixture_as(dir: &str, sequence: &str) -> Vec<(String, Vec<u8>)> {
    helpers::fixture_set(dir)
        .into_iter()
        .map(|(n, b)| (support::with_sequence(&n, sequence), b))
        .collect()
}
