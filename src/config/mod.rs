//! Settings: defaults in code, then a TOML file (`--config`), then `CAREPLAN_RELAY__SECTION__KEY` variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::message::Message;

mod sections;

pub use sections::{
    AdminPageSettings, AuditSettings, AuthThrottleSettings, RelaySettings, RetentionSettings, TlsSettings,
};

/// Everything the relay can be told. `deploy/relay.example.toml` documents each key.
#[derive(Clone, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default)]
    pub tls: TlsSettings,
    #[serde(default)]
    pub database: DatabaseSettings,
    #[serde(default)]
    pub retention: RetentionSettings,
    #[serde(default)]
    pub audit: AuditSettings,
    #[serde(default)]
    pub auth_throttle: AuthThrottleSettings,
    #[serde(default)]
    pub admin_page: AdminPageSettings,
    #[serde(default)]
    pub relay: RelaySettings,
    /// The data directory (`--data-dir`); not read from the file.
    #[serde(skip)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address of the HTTPS listener.
    pub listen: String,
    /// Largest request body (one set), in bytes; larger requests get 413.
    pub max_body_bytes: usize,
    /// Most files (multipart parts of any kind) in one upload; one more gets 413.
    pub max_files_per_upload: usize,
    /// Time allowed for a whole request, in seconds (a slow client gets 408).
    pub request_timeout_secs: u64,
    /// Time allowed to send the request headers, in seconds.
    pub header_timeout_secs: u64,
    /// Time allowed for the TLS handshake, in seconds.
    pub handshake_timeout_secs: u64,
    /// A connection with no request in flight for this long is closed, in seconds (HTTP/1.1 keep-alive, HTTP/2).
    pub idle_timeout_secs: u64,
    /// Most connections open at once (0: derived from the open-file limit, which is raised to its hard limit at
    /// start). At the cap the oldest idle connection is closed to make room.
    pub max_connections: usize,
    /// Longest `wait` a client may ask of the inbox, in seconds.
    pub max_wait_secs: u64,
    /// Log as JSON lines instead of text.
    pub json_logs: bool,
    /// Address of the plain-HTTP listener that serves only `GET /metrics`, without a token (loopback by
    /// default); an empty string turns it off.
    pub metrics_listen: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:8443".into(),
            max_body_bytes: 32 * 1024 * 1024,
            max_files_per_upload: 64,
            request_timeout_secs: 120,
            header_timeout_secs: 10,
            handshake_timeout_secs: 10,
            idle_timeout_secs: 75,
            max_connections: 0,
            max_wait_secs: 60,
            json_logs: false,
            metrics_listen: "127.0.0.1:9464".into(),
        }
    }
}

impl ServerSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

/// Where the data lives. Without a URL, SQLite at `<data-dir>/relay.db`.
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`. May hold a password, so it never appears in Debug output or logs.
    pub url: Option<String>,
    /// SQLite: read-only connections (writes and checkpoints use one more each); PostgreSQL: connections in the
    /// pool.
    pub max_connections: Option<u32>,
    /// Whether `serve` and the other commands apply the schema's migrations themselves (default true). False
    /// when the relay's database role may not change the schema (PostgreSQL least privilege): the schema's
    /// owner runs `careplan-relay migrate`, and a database lacking a migration is refused.
    pub migrate_at_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: None,
            max_connections: None,
            migrate_at_start: true,
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("max_connections", &self.max_connections)
            .field("migrate_at_start", &self.migrate_at_start)
            .finish()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("tls", &self.tls)
            .field("database", &self.database)
            .field("retention", &self.retention)
            .field("audit", &self.audit)
            .field("auth_throttle", &self.auth_throttle)
            .field("admin_page", &self.admin_page)
            .field("relay", &self.relay)
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl Settings {
    /// Loads defaults, the optional TOML file and the environment, and refuses settings with a problem (the
    /// first of [`Settings::problems`]).
    ///
    /// Errors: the file cannot be read or parsed, a value has the wrong type, or a setting is unusable.
    pub fn load(data_dir: &Path, file: Option<&Path>) -> anyhow::Result<Settings> {
        let s = Self::parse(data_dir, file)?;
        if let Some(first) = s.problems().into_iter().next() {
            anyhow::bail!("{}", first.en);
        }
        Ok(s)
    }

    /// Like [`Settings::load`] without judging the values (for `check-config`, which lists every problem).
    ///
    /// Errors: the file cannot be read or parsed, or a value has the wrong type.
    pub fn parse(data_dir: &Path, file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder();
        if let Some(f) = file {
            builder = builder.add_source(
                config::File::from(f)
                    .format(config::FileFormat::Toml)
                    .required(true),
            );
        }
        builder = builder.add_source(
            config::Environment::with_prefix("CAREPLAN_RELAY")
                .prefix_separator("__")
                .separator("__"),
        );
        let mut s: Settings = builder.build()?.try_deserialize()?;
        s.data_dir = data_dir.to_path_buf();
        Ok(s)
    }

    /// Every setting that makes the relay unusable, in Japanese and English (empty when none): TLS files set
    /// alone or missing, zero timeouts and limits, a client certificate validity out of range.
    pub fn problems(&self) -> Vec<Message> {
        let mut out = Vec::new();
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            out.push(Message::new(
                "tls.cert と tls.key は両方とも指定してください",
                "tls.cert and tls.key must be set together",
            ));
        }
        for p in [
            &self.tls.cert,
            &self.tls.key,
            &self.tls.client_ca,
            &self.tls.client_ca_key,
        ]
        .into_iter()
        .flatten()
        {
            if !p.exists() {
                out.push(Message::new(
                    format!("TLSのファイル {} がありません", p.display()),
                    format!("TLS file {} does not exist", p.display()),
                ));
            }
        }
        for (key, secs) in [
            ("server.header_timeout_secs", self.server.header_timeout_secs),
            (
                "server.handshake_timeout_secs",
                self.server.handshake_timeout_secs,
            ),
            ("server.idle_timeout_secs", self.server.idle_timeout_secs),
            ("server.request_timeout_secs", self.server.request_timeout_secs),
            ("server.max_body_bytes", self.server.max_body_bytes as u64),
            (
                "server.max_files_per_upload",
                self.server.max_files_per_upload as u64,
            ),
        ] {
            if secs == 0 {
                out.push(Message::new(
                    format!("{key} は正の数にしてください"),
                    format!("{key} must be positive"),
                ));
            }
        }
        let days = self.tls.client_cert_days();
        if !(1..=crate::tls::MAX_CLIENT_CERT_DAYS).contains(&days) {
            out.push(Message::new(
                format!(
                    "tls.client_cert_days は 1 から {} までです（{days} は範囲外）",
                    crate::tls::MAX_CLIENT_CERT_DAYS
                ),
                format!(
                    "tls.client_cert_days must be 1 to {}, not {days}",
                    crate::tls::MAX_CLIENT_CERT_DAYS
                ),
            ));
        }
        out
    }

    /// The database URL: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("relay.db").display()))
    }

    /// The CA that signs client certificates: the configured client CA, or the development CA when no TLS is
    /// configured at all. A server certificate of its own (`tls.cert`) without both `tls.client_ca` and
    /// `tls.client_ca_key` is refused: a development CA's certificates would not be accepted by that server.
    pub fn client_signing_ca(&self) -> Result<(PathBuf, PathBuf), Message> {
        let tls = &self.tls;
        match (&tls.client_ca, &tls.client_ca_key) {
            (Some(ca), Some(key)) => Ok((ca.clone(), key.clone())),
            (Some(_), None) => Err(Message::new(
                "tls.client_ca が設定されていますが tls.client_ca_key がありません。クライアント証明書の発行には CA の秘密鍵が必要です。",
                "tls.client_ca is set but tls.client_ca_key is not: issuing client certificates needs the CA's private key",
            )),
            (None, Some(_)) => Err(Message::new(
                "tls.client_ca_key が設定されていますが tls.client_ca がありません。両方を設定してください。",
                "tls.client_ca_key is set but tls.client_ca is not: set both",
            )),
            (None, None) if tls.cert.is_some() => Err(Message::new(
                "サーバーは独自の証明書（tls.cert / tls.key）で動作していますが、クライアント CA（tls.client_ca と tls.client_ca_key）が設定されていません。開発用 CA の証明書はこのサーバーに受け付けられないため発行しません。tls.client_ca と tls.client_ca_key を設定してください。",
                "the server uses its own certificate (tls.cert/tls.key) but no client CA is configured (tls.client_ca and tls.client_ca_key): a development CA's certificate would be refused by this server, so none is issued. Set tls.client_ca and tls.client_ca_key",
            )),
            (None, None) => {
                let pki = crate::tls::Pki::in_dir(&self.data_dir.join("tls"));
                match pki.ensure_dev() {
                    Ok(_) => Ok((pki.ca_cert, pki.ca_key)),
                    Err(e) => Err(Message::new(
                        format!("開発用 CA を作成できません: {e}"),
                        format!("cannot create the development CA: {e}"),
                    )),
                }
            }
        }
    }

    /// The relay's policies from this configuration: inbox wait, retention, older sets, the authentication
    /// throttle, admin session length, export directory and the CA that signs client certificates from the
    /// admin page (none when [`Settings::client_signing_ca`] refuses).
    pub fn policies(&self) -> crate::relay::Policies {
        crate::relay::Policies {
            max_wait: std::time::Duration::from_secs(self.server.max_wait_secs),
            retention: self.retention.policy(),
            older_sets: self.relay.older_sets,
            throttle: self.auth_throttle.limits(),
            admin_session_ttl: std::time::Duration::from_secs(self.admin_page.session_secs.max(1)),
            export_dir: self.audit.export_dir.clone(),
            client_ca: self
                .client_signing_ca()
                .ok()
                .map(|(ca, key)| (ca, key, self.tls.client_cert_days())),
            ..crate::relay::Policies::default()
        }
    }

    /// Whether opening the store applies migrations or only requires them (`database.migrate_at_start`).
    pub fn schema(&self) -> crate::store::Schema {
        if self.database.migrate_at_start {
            crate::store::Schema::Migrate
        } else {
            crate::store::Schema::RequireCurrent
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_debug_output() {
        let mut s = Settings::load(Path::new("/tmp/x"), None).expect("defaults load");
        s.database.url = Some("postgres://relay:hunter2@db/relay".into());
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("relay:***@db"));
        assert_eq!(s.database_url(), "postgres://relay:hunter2@db/relay");
    }
}
