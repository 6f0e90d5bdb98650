//! The use cases: the only place that composes the pure core with the store.
//!
//! Submit (authorise → validate → route → store durably), the inbox (list, wait, download, acknowledge), the
//! outbox, receipts, the office and credential administration used by the CLI and the admin API, and the
//! office users of the portal (`users`).

mod accept;
mod access;
mod admin;
mod arrivals;
pub mod audit;
mod authorise;
mod bodies;
mod bounds;
mod certificates;
mod inbox;
mod keys;
mod metrics;
mod order;
mod overview;
pub mod portal;
mod receipt;
mod records;
pub mod retention;
pub mod sessions;
mod submit;
pub mod throttle;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use crate::files::write_private;
/// SHA-256 of a file's bytes as 64 lowercase hex digits (the digest recorded, shown and signed for each file).
pub use crate::store::sha256_hex;
pub use admin::{IssuedToken, MAX_OFFICE_NAME_CHARS, MAX_SERVICE_TYPES, token_hash};
pub use bodies::{
    Accepted, Acknowledgement, DeliveryFile, ExportManifest, OrderWarning, ReceiptFile, ReceiptPayload,
    SubmittedFile,
};
pub use bounds::file_name_too_long;
pub use certificates::parse_serial;
pub use inbox::{DeliveryView, InboxRequest, OlderThan};
pub use keys::PublishedKey;
pub use metrics::{METRICS_CONTENT_TYPE, Metrics};
pub use order::{OlderSets, W_SEQUENCE_OLDER};
pub use overview::{Overview, TokenInfo};
pub use receipt::{CURRENT_FILE, LocalKey, Receipt, ReceiptKeys, verify_receipt};
pub use sessions::{AdminSession, DEFAULT_SESSION_SECS, NewAdminSession, NewSession};
pub use submit::{MAX_FILE_NAME_BYTES, Submitted, UploadedFile};
pub use users::OfficeSession;

use crate::message::Message;
use crate::spec::Spec;
use crate::store::{Store, StoreError};
use crate::validate::SetReport;

/// What can go wrong in a use case; `http::error` maps each to a status code in one place.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// No credential, or one that is unknown or revoked.
    #[error("unauthenticated")]
    Unauthenticated,
    /// A valid credential acting outside its office.
    #[error("forbidden: {0}")]
    Forbidden(Message),
    /// Unknown, or belonging to another office (never say which).
    #[error("not found")]
    NotFound,
    /// The set's bytes were purged (retention after acknowledgement, or an admin); metadata and receipt remain.
    #[error("purged")]
    Gone,
    /// The set (or the recipient) is invalid: the report says why. Nothing was stored.
    #[error("invalid set")]
    Invalid(Box<SetReport>),
    /// The same names were accepted before with other bytes.
    #[error("conflict: {0}")]
    Conflict(Message),
    /// Refused by `relay.older_sets = "refuse"`: a set of the same stream with a later sequence was accepted
    /// before. Nothing was stored but the rejection.
    #[error("older set: {message}")]
    OlderSet {
        message: Message,
        newer_sequence: String,
        newer_submission_id: String,
    },
    /// A request the API does not take (malformed parameters, an empty upload…).
    #[error("bad request: {0}")]
    BadRequest(Message),
    /// More than the relay accepts in one request (bytes, files).
    #[error("too large: {0}")]
    TooLarge(Message),
    /// Too many failures from this source or for this credential: refused until `retry_after` has passed.
    #[error("throttled: {message}")]
    Throttled { retry_after: Duration, message: Message },
    #[error(transparent)]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for RelayError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => RelayError::NotFound,
            StoreError::Gone => RelayError::Gone,
            other => RelayError::Store(other),
        }
    }
}

pub type Result<T, E = RelayError> = std::result::Result<T, E>;

/// What a relay is allowed and bound to do: built by `config::Settings::policies` from the configuration file, or
/// [`Policies::default`] (the configuration's defaults) with the fields a caller needs changed.
#[derive(Debug, Clone)]
pub struct Policies {
    /// Longest inbox wait granted.
    pub max_wait: Duration,
    /// Retention of set bytes (`[retention]`).
    pub retention: retention::Policy,
    /// Whether a set older than one of its stream accepted before is accepted with a warning or refused.
    pub older_sets: OlderSets,
    /// Failed-authentication limits (`[auth_throttle]`).
    pub throttle: throttle::Limits,
    /// How long an admin page session lasts.
    pub admin_session_ttl: Duration,
    /// How long an office portal session lasts.
    pub office_session_ttl: Duration,
    /// Where the admin export endpoint writes; `None`: `<data-dir>/export`.
    pub export_dir: Option<PathBuf>,
    /// The CA (certificate, key: PEM files) that signs client certificates issued from the admin page, and their
    /// validity in days; `None` where none may be issued (a server certificate of its own without a client CA).
    pub client_ca: Option<(PathBuf, PathBuf, u32)>,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            max_wait: Duration::ZERO,
            retention: retention::Policy::default(),
            older_sets: OlderSets::default(),
            throttle: throttle::Limits::default(),
            admin_session_ttl: Duration::from_secs(sessions::DEFAULT_SESSION_SECS),
            office_session_ttl: Duration::from_secs(sessions::DEFAULT_SESSION_SECS),
            export_dir: None,
            client_ca: None,
        }
    }
}

/// The relay: the one door to the store (every read and every change, with its audit event, goes through a
/// method here), the spec, receipt keys and the signal that wakes long-polling inboxes.
#[derive(Debug)]
pub struct Relay {
    store: Store,
    pub spec: &'static Spec,
    pub keys: ReceiptKeys,
    arrivals: arrivals::Arrivals,
    /// What this relay is allowed and bound to do, as `open` was given it.
    pub policies: Policies,
    /// Where the admin export endpoint writes: `policies.export_dir`, or `<data-dir>/export` when that is `None`.
    pub export_dir: PathBuf,
    /// Counters and histograms for `/metrics`.
    pub metrics: Metrics,
    /// Failed-authentication counters and lockouts of this process, under `policies.throttle`.
    pub throttle: throttle::Throttle,
}

impl Relay {
    /// The relay on a connected store, with receipt keys under `data_dir/keys` (created when there are none) and
    /// the given policies.
    ///
    /// Errors: the keys directory cannot be read or created.
    pub fn open(store: Store, spec: &'static Spec, data_dir: &Path, p: Policies) -> anyhow::Result<Relay> {
        let keys = ReceiptKeys::load_or_create(&data_dir.join("keys"))?;
        Ok(Relay {
            store,
            spec,
            keys,
            arrivals: arrivals::Arrivals::default(),
            export_dir: p.export_dir.clone().unwrap_or_else(|| data_dir.join("export")),
            metrics: Metrics::default(),
            throttle: throttle::Throttle::new(p.throttle),
            policies: p,
        })
    }

    /// [`Relay::open`] in an `Arc`, as the server and its handlers share it.
    pub fn new(
        store: Store,
        spec: &'static Spec,
        data_dir: &Path,
        p: Policies,
    ) -> anyhow::Result<Arc<Relay>> {
        Ok(Arc::new(Self::open(store, spec, data_dir, p)?))
    }

    /// The database's backend (`"sqlite"` or `"postgres"`) and whether it answers now (`/healthz`).
    ///
    /// Errors: the store's, e.g. `StoreError::WriterStopped` when the SQLite writer is gone.
    pub async fn health(&self) -> Result<&'static str, StoreError> {
        self.store.ping().await?;
        Ok(self.store.backend())
    }

    /// Every registered office, by number.
    pub async fn offices(&self) -> Result<Vec<crate::domain::Office>> {
        Ok(self.store.offices().await?)
    }

    /// One registered office; `NotFound` otherwise.
    pub async fn office(&self, number: &str) -> Result<crate::domain::Office> {
        Ok(self.store.office(number).await?)
    }

    /// The deliveries matching an admin's query (`GET /v1/admin/log`, the admin page's log), newest first.
    pub async fn delivery_log(&self, q: &crate::store::LogQuery) -> Result<Vec<crate::store::LogEntry>> {
        Ok(self.store.delivery_log(q).await?)
    }

    /// One delivery and every event of its submission, oldest first (the admin page's detail).
    pub async fn delivery_events(
        &self,
        id: &str,
    ) -> Result<(crate::store::DeliveryRow, Vec<crate::store::EventRow>)> {
        let d = self.store.delivery_by_id(id).await?;
        let events = self.store.events_for_submission(&d.submission_id).await?;
        Ok((d, events))
    }

    /// Ends every inbox long-poll of this node now, and makes later ones answer at once: the first step of a
    /// graceful stop, so the drain does not wait for polls that could hold their connections for `max_wait`.
    pub fn stop_waiting(&self) {
        self.arrivals.close();
    }

    /// Closes the store: waits for the SQLite writer and checkpointer to finish (the last step of a graceful stop
    /// and of every command).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
