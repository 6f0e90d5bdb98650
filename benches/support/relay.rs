//! The relay as a child process of a benchmark (shared by `benches/load.rs` and `benches/inbox.rs`): the release
//! binary run on a data directory and a database (SQLite in the data directory, or a PostgreSQL database created
//! for the run), `serve` on port 0 with its address read from the JSON log, and HTTPS clients that trust the
//! generated development CA.

// Each bench uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use careplan_relay::client::{Client, ClientOptions};
use sqlx::Connection;

/// A relay binary bound to one data directory and database; running once `start`ed.
pub struct RelayProcess {
    bin: PathBuf,
    pub data: PathBuf,
    /// `None`: SQLite in `data`.
    pub db_url: Option<String>,
    child: Option<Child>,
    /// `host:port` of the running server.
    pub addr: String,
}

impl RelayProcess {
    pub fn new(bin: &Path, data: &Path, db_url: Option<String>) -> RelayProcess {
        RelayProcess {
            bin: bin.to_path_buf(),
            data: data.to_path_buf(),
            db_url,
            child: None,
            addr: String::new(),
        }
    }

    /// `careplan-relay --data-dir <data>` with the database URL (or none) in its environment.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--data-dir").arg(&self.data);
        match &self.db_url {
            Some(u) => c.env("CAREPLAN_RELAY__DATABASE__URL", u),
            None => c.env_remove("CAREPLAN_RELAY__DATABASE__URL"),
        };
        c
    }

    /// Starts `serve` on port 0 with `env` added, and reads the address from its JSON log.
    pub fn start(&mut self, env: &[(String, String)]) -> anyhow::Result<()> {
        let mut c = self.command();
        c.envs(env.iter().map(|(k, v)| (k, v)));
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .env("CAREPLAN_RELAY__SERVER__JSON_LOGS", "true")
            .env("CAREPLAN_RELAY__SERVER__METRICS_LISTEN", "")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        let mut child = c.spawn().context("spawning serve")?;
        let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
        let addr = loop {
            let Some(line) = lines.next() else {
                bail!("serve exited before listening");
            };
            let v: serde_json::Value = serde_json::from_str(&line?).unwrap_or_default();
            if let Some(a) = v["fields"]["address"].as_str() {
                break a.to_string();
            }
        };
        // Keep draining the log so that the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
        self.addr = addr;
        Ok(())
    }

    /// The server's process id (0 when not running).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// A reference client with `token`, trusting the data directory's development CA.
    pub fn client(&self, token: &str) -> anyhow::Result<Client> {
        Client::new(&ClientOptions {
            url: format!("https://{}", self.addr),
            token: Some(token.to_string().into()),
            cacert: Some(self.data.join("tls").join("ca.pem")),
            ..Default::default()
        })
    }

    /// Kills the server process, keeping its data for another `start`.
    pub fn halt(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Creates a fresh PostgreSQL database `<prefix>_<uuid>` through the admin URL: (its URL, its name).
pub async fn create_pg_database(admin: &str, prefix: &str) -> anyhow::Result<(String, String)> {
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {admin}"))?;
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await?;
    let (base, _) = admin.rsplit_once('/').context("the admin URL names a database")?;
    Ok((format!("{base}/{name}"), name))
}

/// Drops a database made by [`create_pg_database`]; a failure is only noted.
pub async fn drop_pg_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let drop = format!("drop database if exists {name} with (force)");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await {
            eprintln!("note: could not drop database {name}: {e}");
        }
    }
}

/// (p50, p99, max) in milliseconds; zeros when empty.
pub fn percentiles(v: &mut [Duration]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    v.sort_unstable();
    let at = |p: f64| {
        let i = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[i].as_secs_f64() * 1e3
    };
    (at(0.50), at(0.99), v[v.len() - 1].as_secs_f64() * 1e3)
}
