//! The smaller sections of the settings: TLS files, retention, the audit export, the authentication throttle and
//! the admin page. Each key is documented in `deploy/relay.example.toml`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::relay::OlderSets;

/// TLS files. With none set, a development CA and server certificate are created under `<data-dir>/tls/`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TlsSettings {
    /// Server certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Server private key (PEM).
    pub key: Option<PathBuf>,
    /// CA whose client certificates authenticate offices (PEM). Defaults to the development CA.
    pub client_ca: Option<PathBuf>,
    /// Private key of the client CA, needed by `cert issue` (PEM).
    pub client_ca_key: Option<PathBuf>,
    /// Validity of the client certificates `cert issue` makes, in days (default 730; `--days` overrides).
    pub client_cert_days: Option<u32>,
    /// Also accept TLS 1.2 (for old clients); TLS 1.3 only by default.
    pub allow_tls12: bool,
    /// How often `serve` looks whether the certificate, key or client CA files changed, in seconds (default
    /// 10); a change (or SIGHUP) reloads them without a restart.
    pub reload_check_secs: Option<u64>,
    /// Warn in the log when the server certificate ends within this many days (default 28).
    pub expiry_warning_days: Option<u32>,
}

impl TlsSettings {
    /// The validity of issued client certificates in days: `client_cert_days`, or 730.
    pub fn client_cert_days(&self) -> u32 {
        self.client_cert_days
            .unwrap_or(crate::tls::DEFAULT_CLIENT_CERT_DAYS)
    }
}

/// How long set bytes are kept (see `relay::retention`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Purge an acknowledged set's bytes this many days after acknowledgement.
    pub acknowledged_days: u64,
    /// Flag a set to admins when it is still unacknowledged this many days after it arrived.
    pub flag_unacknowledged_days: u64,
    /// How often the server runs the purge, in seconds (0: never; `careplan-relay purge` runs it by hand).
    pub interval_secs: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        let p = crate::relay::retention::Policy::default();
        RetentionSettings {
            acknowledged_days: p.acknowledged_days,
            flag_unacknowledged_days: p.flag_unacknowledged_days,
            interval_secs: 3600,
        }
    }
}

impl RetentionSettings {
    pub fn policy(&self) -> crate::relay::retention::Policy {
        crate::relay::retention::Policy {
            acknowledged_days: self.acknowledged_days,
            flag_unacknowledged_days: self.flag_unacknowledged_days,
        }
    }
}

/// The audit export.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// Directory that `POST /v1/admin/audit/export` writes to (default `<data-dir>/export`).
    pub export_dir: Option<PathBuf>,
}

/// Throttling and lockout of failed authentication (see `relay::throttle`). Counted per process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthThrottleSettings {
    /// Count, slow down and lock out failed authentication.
    pub enabled: bool,
    /// Failures within the window that lock a source address or a credential out.
    pub max_failures: u32,
    /// The window failures are counted in, in seconds.
    pub window_secs: u64,
    /// How long a lockout lasts, in seconds (an admin may clear it sooner).
    pub lockout_secs: u64,
    /// Failures answered at once; later ones wait 0.25 s, doubling, at most 2 s.
    pub slowdown_after: u32,
    /// Most source addresses and credentials counted at once; the least recently seen is forgotten beyond it.
    pub max_entries: usize,
}

impl Default for AuthThrottleSettings {
    fn default() -> Self {
        let l = crate::relay::throttle::Limits::default();
        AuthThrottleSettings {
            enabled: l.enabled,
            max_failures: l.max_failures,
            window_secs: l.window.as_secs(),
            lockout_secs: l.lockout.as_secs(),
            slowdown_after: l.slowdown_after,
            max_entries: l.max_entries,
        }
    }
}

impl AuthThrottleSettings {
    pub fn limits(&self) -> crate::relay::throttle::Limits {
        crate::relay::throttle::Limits {
            enabled: self.enabled,
            max_failures: self.max_failures.max(1),
            window: Duration::from_secs(self.window_secs),
            lockout: Duration::from_secs(self.lockout_secs),
            slowdown_after: self.slowdown_after,
            max_entries: self.max_entries.max(1),
        }
    }
}

/// The admin web page (`/admin/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AdminPageSettings {
    /// How long an admin page session lasts after login, in seconds (logout ends it sooner).
    pub session_secs: u64,
}

impl Default for AdminPageSettings {
    fn default() -> Self {
        AdminPageSettings {
            session_secs: crate::relay::DEFAULT_SESSION_SECS,
        }
    }
}

/// `[relay]`: how sets are accepted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RelaySettings {
    /// `warn` (default) or `refuse`.
    pub older_sets: OlderSets,
}
