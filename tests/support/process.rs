//! The relay as a separate process, as an operator runs it: one-shot commands and `serve` nodes that can be
//! killed (SIGKILL) and restarted on the same address.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_careplan-relay");

/// Runs `careplan-relay --data-dir DATA ARGS…` on the database; its stdout. Panics when it fails.
pub fn cli(data: &Path, db_url: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("CAREPLAN_RELAY__DATABASE__URL", db_url)
        .output()
        .expect("run careplan-relay");
    assert!(out.status.success(), "{args:?}: {}", out.stderr.escape_ascii());
    String::from_utf8(out.stdout).unwrap()
}

/// One `serve` process.
pub struct Node {
    child: Option<Child>,
    dir: PathBuf,
    db_url: String,
    env: Vec<(String, String)>,
    /// `127.0.0.1:PORT` it listens on (kept across a restart).
    pub addr: String,
}

impl Node {
    /// Starts `serve` on a free port.
    pub fn start(dir: &Path, db_url: &str) -> Node {
        Node::start_env(dir, db_url, &[])
    }

    /// Starts `serve` on a free port with more environment variables (`CAREPLAN_RELAY__…` settings).
    pub fn start_env(dir: &Path, db_url: &str, env: &[(&str, &str)]) -> Node {
        let mut node = Node {
            child: None,
            dir: dir.to_path_buf(),
            db_url: db_url.to_string(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            addr: "127.0.0.1:0".into(),
        };
        node.restart();
        node
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Starts the process (again), on the address it had.
    pub fn restart(&mut self) {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["serve", "--listen", &self.addr])
            .env("CAREPLAN_RELAY__DATABASE__URL", &self.db_url)
            .env("CAREPLAN_RELAY__SERVER__METRICS_LISTEN", "")
            .env("CAREPLAN_RELAY__SERVER__JSON_LOGS", "true")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        self.addr = loop {
            let line = lines.next().expect("serve exited before listening").unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(a) = v["fields"]["address"].as_str() {
                break a.to_string();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    /// The process id (panics when it is not running).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The exit status when the process has ended (it is then no longer this node's).
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().unwrap()?;
        self.child = None;
        Some(status)
    }

    /// SIGTERM (the relay drains, seals the audit trail and closes the database), and wait for the exit.
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = c.id().to_string();
            let sent = Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("run kill");
            assert!(sent.success(), "kill -TERM {pid}");
            let status = c.wait().unwrap();
            assert!(status.success(), "serve exits 0 after SIGTERM: {status:?}");
        }
    }

    /// SIGKILL, and wait for the process to end.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().unwrap();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
