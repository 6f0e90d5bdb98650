//! The composition root: settings → store → relay → router → TLS listener. Tests build the same `App`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{Settings, redact_url};
use crate::http::{AppState, router};
use crate::metrics_listener::serve_metrics;
use crate::relay::Relay;
use crate::server::live_tls::{LiveTls, TlsFiles};
use crate::server::{Limits, serve};
use crate::spec::Spec;
use crate::store::Store;
use crate::tls::Pki;

/// A relay bound to its address, ready to run.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    /// The plain-HTTP `/metrics` listener (`server.metrics_listen`), unless turned off.
    metrics_listener: Option<TcpListener>,
    tls: Arc<LiveTls>,
    state: AppState,
    settings: Settings,
    /// The relay's store, kept for [`App::store`] only.
    store: Store,
    /// Held while the relay runs on a SQLite store: a second `serve` on the same data directory is refused.
    _lock: Option<std::fs::File>,
}

/// The TLS files in use: configured ones, or the development PKI in `<data-dir>/tls/`.
pub fn tls_files(settings: &Settings) -> anyhow::Result<(PathBuf, PathBuf, Option<PathBuf>)> {
    match (&settings.tls.cert, &settings.tls.key) {
        (Some(c), Some(k)) => Ok((c.clone(), k.clone(), settings.tls.client_ca.clone())),
        _ => {
            let pki = Pki::in_dir(&settings.data_dir.join("tls"));
            if pki.ensure_dev()? {
                tracing::warn!(
                    ca = %pki.ca_cert.display(), cert = %pki.server_cert.display(), key = %pki.server_key.display(),
                    "no TLS configured: created a development CA and a server certificate for localhost/127.0.0.1"
                );
            } else {
                tracing::info!(ca = %pki.ca_cert.display(), "no TLS configured: using the development certificates");
            }
            let client_ca = settings.tls.client_ca.clone().unwrap_or(pki.ca_cert.clone());
            Ok((pki.server_cert, pki.server_key, Some(client_ca)))
        }
    }
}

impl App {
    /// Connects the database (applying migrations), loads TLS and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let spec = Spec::get().map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::files::private_dir(&settings.data_dir)
            .with_context(|| format!("creating {} (mode 0700)", settings.data_dir.display()))?;
        let sqlite = settings.database_url().starts_with("sqlite:");
        let lock = if sqlite {
            Some(crate::files::lock_data_dir(&settings.data_dir)?)
        } else {
            None
        };
        let url = settings.database_url();
        let (store, _) = Store::open(&url, settings.database.max_connections, settings.schema())
            .await
            .with_context(|| format!("opening the database {}", redact_url(&url)))?;
        tracing::info!(database = %redact_url(&url), backend = store.backend(), "database ready");
        let relay = Relay::open(store.clone(), spec, &settings.data_dir, settings.policies())?;
        relay
            .publish_keys()
            .await
            .context("publishing the receipt keys in the database")?;
        let relay = Arc::new(relay);
        let (cert, key, client_ca) = tls_files(&settings)?;
        let files = TlsFiles {
            cert,
            key,
            client_ca,
            allow_tls12: settings.tls.allow_tls12,
            warn_days: settings.tls.expiry_warning_days.unwrap_or(28),
        };
        let tls = Arc::new(LiveTls::load(files, Arc::clone(&relay.metrics.tls_not_after))?);
        let listener = TcpListener::bind(&settings.server.listen)
            .await
            .with_context(|| format!("binding {}", settings.server.listen))?;
        let metrics_listener = match settings.server.metrics_listen.trim() {
            "" => None,
            addr => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the metrics listener {addr}"))?,
            ),
        };
        Ok(App {
            listener,
            metrics_listener,
            tls,
            state: AppState {
                relay,
                max_body_bytes: settings.server.max_body_bytes,
                max_files_per_upload: settings.server.max_files_per_upload,
            },
            settings,
            store,
            _lock: lock,
        })
    }

    /// The bound address (port 0 becomes a real port).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The bound address of the plain-HTTP `/metrics` listener; `None` when `server.metrics_listen` is empty.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn relay(&self) -> &Arc<Relay> {
        &self.state.relay
    }

    /// The database as it is, for tests and tools that inspect what was stored (row counts, the audit chain);
    /// every use case goes through [`App::relay`].
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` completes, then drains and closes the database.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let s = &self.settings.server;
        let router = router(self.state.clone(), s.max_body_bytes, s.request_timeout());
        let limits = Limits {
            handshake: Duration::from_secs(s.handshake_timeout_secs),
            header: Duration::from_secs(s.header_timeout_secs),
            idle: Duration::from_secs(s.idle_timeout_secs),
            drain: Duration::from_secs(30),
            max_connections: connection_cap(s.max_connections),
        };
        tracing::info!(address = %self.local_addr()?, max_connections = limits.max_connections, "careplan-relay listening (HTTPS)");
        let sealer = tokio::spawn(seal_forever(Arc::clone(&self.state.relay)));
        let reload_check = Duration::from_secs(self.settings.tls.reload_check_secs.unwrap_or(10).max(1));
        let tls_watch = tokio::spawn(Arc::clone(&self.tls).watch(reload_check));
        let metrics_upkeep = tokio::spawn(upkeep_forever(Arc::clone(&self.state.relay)));
        let purger = tokio::spawn(purge_forever(
            Arc::clone(&self.state.relay),
            self.settings.retention.interval_secs,
        ));
        let (stop_metrics, metrics) = match self.metrics_listener {
            Some(listener) => {
                tracing::info!(
                    metrics_address = %listener.local_addr()?,
                    "metrics listening (plain HTTP, GET /metrics only)"
                );
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(serve_metrics(
                    listener,
                    Arc::clone(&self.state.relay),
                    limits.header,
                    async move {
                        let _ = stopped.await;
                    },
                ));
                (Some(stop), Some(task))
            }
            None => (None, None),
        };
        // Once the signal comes, waiting long-polls answer at once, so the drain is not spent waiting for them.
        let relay = Arc::clone(&self.state.relay);
        let shutdown = async move {
            shutdown.await;
            relay.stop_waiting();
        };
        let served = serve(self.listener, self.tls, router, limits, shutdown).await;
        if let (Some(stop), Some(task)) = (stop_metrics, metrics) {
            let _ = stop.send(());
            let _ = task.await;
        }
        served?;
        sealer.abort();
        purger.abort();
        tls_watch.abort();
        metrics_upkeep.abort();
        let _ = self.state.relay.seal_all().await;
        self.state.relay.close().await;
        Ok(())
    }
}

/// Open files kept out of the connection cap: the database, its WAL, readers, logs, certificates.
const RESERVED_FILES: u64 = 128;

/// The connection cap: raises the soft open-file limit to the hard limit, then takes `configured` (0: derived)
/// bounded by what the limit leaves after `RESERVED_FILES` (128), so that accepting never runs out of descriptors.
pub fn connection_cap(configured: usize) -> usize {
    let files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not read or raise the open-file limit; assuming 1024");
            1024
        }
    };
    let room = usize::try_from(files.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(usize::MAX);
    match configured {
        0 => room.min(100_000),
        n if n > room => {
            tracing::warn!(
                configured = n,
                open_file_limit = files,
                cap = room,
                "server.max_connections is above what the open-file limit allows; capped"
            );
            room
        }
        n => n,
    }
}

/// Seals queued audit events onto the chain, continuously.
async fn seal_forever(relay: Arc<Relay>) {
    loop {
        match relay.seal_some().await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sealing the audit chain failed; retrying"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs the retention purge every `interval` seconds (never with 0).
/// Folds the histograms' samples into their buckets every 5 seconds, so that metrics memory stays bounded
/// however long nobody scrapes.
async fn upkeep_forever(relay: Arc<Relay>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        relay.metrics.upkeep();
    }
}

async fn purge_forever(relay: Arc<Relay>, interval: u64) {
    if interval == 0 {
        return;
    }
    loop {
        match relay.purge_expired(relay.policies.retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "retention: purged the bytes of acknowledged sets"),
            Err(e) => tracing::warn!(error = %e, "retention purge failed; retrying at the next interval"),
        }
        tokio::time::sleep(Duration::from_secs(interval)).await;
    }
}
