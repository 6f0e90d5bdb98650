//! The server's TLS configuration, live: re-read from its files on SIGHUP or when one of them changes, so that a
//! renewed certificate, key or client CA is served without a restart (connections already open keep theirs);
//! and the server certificate's expiry, in the log some weeks ahead and in `/metrics`.
//!
//! A configuration that does not load (a key that does not match, a file half-written) is refused with an
//! error in the log, and the one in use stays.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use rustls::ServerConfig;

/// The files a TLS configuration is read from (`[tls]`; `app::tls_files`).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
    pub allow_tls12: bool,
    /// Warn when the server certificate ends within this many days.
    pub warn_days: u32,
}

impl TlsFiles {
    fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        [&self.cert, &self.key].into_iter().chain(self.client_ca.as_ref())
    }

    fn stamps(&self) -> Vec<Option<SystemTime>> {
        self.paths()
            .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .collect()
    }
}

/// The configuration in use and what it was read from.
#[derive(Debug)]
pub struct LiveTls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    stamps: Mutex<Vec<Option<SystemTime>>>,
    /// The server certificate's end of validity, Unix seconds (0 when unknown).
    not_after: Arc<AtomicI64>,
}

/// The end of validity (Unix seconds) of the first certificate in a PEM file.
pub fn not_after(cert: &std::path::Path) -> anyhow::Result<i64> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let der = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .next()
        .context("no certificate in the file")??;
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).context("parsing the certificate")?;
    Ok(parsed.validity().not_after.timestamp())
}

impl LiveTls {
    /// Loads the configuration; `not_after` receives the server certificate's end of validity (for metrics).
    pub fn load(files: TlsFiles, not_after: Arc<AtomicI64>) -> anyhow::Result<LiveTls> {
        let config = Self::build(&files)?;
        let live = LiveTls {
            stamps: Mutex::new(files.stamps()),
            files,
            current: RwLock::new(config),
            not_after,
        };
        live.note_expiry();
        Ok(live)
    }

    fn build(files: &TlsFiles) -> anyhow::Result<Arc<ServerConfig>> {
        crate::tls::server_config(
            &files.cert,
            &files.key,
            files.client_ca.as_deref(),
            files.allow_tls12,
        )
    }

    /// The configuration for a new connection.
    pub fn current(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reads the files again and, if they load, serves them to new connections. Either way the files as read
    /// now count as seen, so a configuration that does not load is not tried again until a file changes.
    pub fn reload(&self) -> anyhow::Result<()> {
        let stamps = self.files.stamps();
        let built = Self::build(&self.files);
        if let Ok(mut s) = self.stamps.lock() {
            *s = stamps;
        }
        let config = built?;
        match self.current.write() {
            Ok(mut c) => *c = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
        tracing::info!(cert = %self.files.cert.display(), "TLS certificate and key reloaded / TLS 証明書を読み直しました");
        self.note_expiry();
        Ok(())
    }

    /// Whether a file changed (or appeared, or went) since it was last read.
    fn changed(&self) -> bool {
        let now = self.files.stamps();
        self.stamps.lock().map(|s| *s != now).unwrap_or(true)
    }

    /// Records the server certificate's end of validity and warns when it is near or past.
    fn note_expiry(&self) {
        let end = match not_after(&self.files.cert) {
            Ok(end) => end,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the server certificate's validity");
                return;
            }
        };
        self.not_after.store(end, Ordering::Relaxed);
        let now = crate::domain::now_ms() / 1000;
        let days = (end - now).div_euclid(86_400);
        if end <= now {
            tracing::error!(cert = %self.files.cert.display(), "the server certificate has expired: renew it / サーバー証明書の有効期限が切れています");
        } else if days < i64::from(self.files.warn_days) {
            tracing::warn!(cert = %self.files.cert.display(), days, "the server certificate expires soon: renew it / サーバー証明書の有効期限が近づいています");
        }
    }

    /// Reloads on SIGHUP and when a file changes (checked every `poll`), and repeats the expiry warning daily.
    /// Runs until the task is dropped.
    pub async fn watch(self: Arc<Self>, poll: Duration) {
        let mut hangup = hangup_signal();
        let mut last_warning = tokio::time::Instant::now();
        loop {
            let signalled = tokio::select! {
                () = tokio::time::sleep(poll) => false,
                () = next_hangup(&mut hangup) => true,
            };
            if (signalled || self.changed())
                && let Err(e) = self.reload()
            {
                tracing::error!(error = %format!("{e:#}"), "the new TLS files do not load; still serving the previous ones / 新しい TLS ファイルを読み込めません（前の設定のまま）");
            }
            if last_warning.elapsed() >= Duration::from_secs(86_400) {
                last_warning = tokio::time::Instant::now();
                self.note_expiry();
            }
        }
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangup_signal() -> Hangup {}

#[cfg(unix)]
async fn next_hangup(h: &mut Hangup) {
    match h {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}
#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending().await
}
