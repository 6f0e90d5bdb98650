//! The bodies of the admin API: offices and tokens, the delivery log, the audit trail, retention, certificates
//! and lockouts.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{Office, rfc3339};
use crate::relay::ExportManifest;
use crate::relay::retention::Policy;
use crate::store::{CertificateRow, LogEntry};

/// Every registered office.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OfficeList {
    /// Every registered office, by number.
    pub items: Vec<Office>,
}

/// A freshly issued office token. `token` is shown this once: only its hash is stored, so it cannot be shown
/// again (issue a new one if it is lost).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedToken {
    /// The token's id, for listing and `DELETE /v1/admin/tokens/{id}`.
    #[schema(format = Uuid)]
    pub id: String,
    /// The office the token acts for.
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000001")]
    pub office: String,
    /// The bearer token (`cpr_` and 32 random bytes, base64url). Shown once.
    #[schema(
        pattern = r"^cpr_[A-Za-z0-9_-]{43}$",
        example = "cpr_q3Vw9Jd0fR2mXc7LpT4sYb8nKe1HgZa6UiO5tWx0rBs"
    )]
    pub token: String,
}

/// An office's tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// The office's tokens, oldest first (never the tokens themselves).
    pub items: Vec<TokenEntry>,
}

/// One token of an office, without the token itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenEntry {
    #[schema(format = Uuid)]
    pub id: String,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub created_at: String,
    /// When the token was revoked; null while it is valid.
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// A revoked token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevokedToken {
    #[schema(format = Uuid)]
    pub id: String,
    /// Always true.
    pub revoked: bool,
}

/// A file of a log entry. For a rejection only `name` is known (as sent): `kind` and `sha256` are empty and
/// `size` is 0; nothing of a rejected set is stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogFile {
    /// The file name (ファイル名).
    pub name: String,
    /// The file kind (see `FileKind`); empty for a rejection.
    #[schema(example = "UPPLAN")]
    pub kind: String,
    /// Bytes; 0 for a rejection.
    #[schema(minimum = 0)]
    pub size: i64,
    /// SHA-256 of the file's bytes, lowercase hex; empty for a rejection. Kept after a purge.
    #[schema(pattern = "^([0-9a-f]{64})?$")]
    pub sha256: String,
}

/// One line of the delivery log (送受信履歴): a delivered set or a rejected submission. Names, digests, codes,
/// parties and times; never contents.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = LogEntry)]
pub struct LogLine {
    /// `delivery` or `rejection`.
    #[schema(pattern = "^(delivery|rejection)$")]
    pub entry: String,
    /// The `delivery_id` of a delivery, or the id of a rejection (the `rejection_id` of its `submission.rejected`
    /// audit event).
    #[schema(format = Uuid)]
    pub id: String,
    /// When the relay accepted the set (a delivery) or refused it (a rejection). RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub at: String,
    /// The sender's office number (送信元事業所番号); for a rejection, the authenticated office.
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000001")]
    pub sender: String,
    /// The recipient's office number (送信先事業所番号); null for a rejection whose names could not be read.
    #[schema(example = "1310000002")]
    pub recipient: Option<String>,
    /// The 14-digit sequence number (ファイル連番); null for a rejection whose names could not be read.
    #[schema(example = "20250328101500")]
    pub sequence: Option<String>,
    /// A delivery's `Status` (`queued`, `downloaded`, `acknowledged`), or `rejected`.
    #[schema(pattern = "^(queued|downloaded|acknowledged|rejected)$")]
    pub status: String,
    /// The distinct error codes that rejected the set; empty for a delivery.
    #[schema(value_type = Vec<crate::validate::Code>)]
    pub codes: Vec<String>,
    /// The submission of a delivery; null for a rejection.
    #[schema(format = Uuid)]
    pub submission_id: Option<String>,
    /// When the recipient first downloaded a file; null until then (always null for a rejection).
    #[schema(format = DateTime)]
    pub downloaded_at: Option<String>,
    /// When the recipient acknowledged (受領確認); null until then.
    #[schema(format = DateTime)]
    pub acknowledged_at: Option<String>,
    /// When the set's bytes were purged (retention or an admin); null while they are kept.
    #[schema(format = DateTime)]
    pub purged_at: Option<String>,
    pub files: Vec<LogFile>,
}

impl From<&LogEntry> for LogLine {
    fn from(e: &LogEntry) -> Self {
        LogLine {
            entry: e.entry.clone(),
            id: e.id.clone(),
            at: rfc3339(e.at),
            sender: e.sender.clone(),
            recipient: e.recipient.clone(),
            sequence: e.sequence.clone(),
            status: e.status.clone(),
            codes: e.codes.clone(),
            submission_id: e.submission_id.clone(),
            downloaded_at: e.downloaded_at.map(rfc3339),
            acknowledged_at: e.acknowledged_at.map(rfc3339),
            purged_at: e.purged_at.map(rfc3339),
            files: e
                .files
                .iter()
                .map(|f| LogFile {
                    name: f.name.clone(),
                    kind: f.kind.clone(),
                    size: f.size,
                    sha256: f.sha256.clone(),
                })
                .collect(),
        }
    }
}

/// A page of the delivery log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogPage {
    /// Newest first.
    pub items: Vec<LogLine>,
    /// Pass as `after` for the next (older) page; null on the last page.
    #[schema(example = "1743156900123_5e1d7a90-2c4b-4f6e-8a1d-3b2c9e0f4a51")]
    pub next: Option<String>,
}

/// One sealed event of the audit trail (監査ログ) at its chain position. `hash` is the SHA-256 of `prev_hash`
/// and the event's canonical content, so removing, reordering or editing any event breaks the chain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    /// The position in the chain, from 1, without gaps.
    #[schema(minimum = 1)]
    pub position: i64,
    /// The event's own sequence number (the order it was written in).
    #[schema(minimum = 1)]
    pub seq: i64,
    /// When the event happened. RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub at: String,
    /// What happened, e.g. `submission.accepted`, `delivery.acknowledged`, `office.added`, `token.revoked`.
    #[schema(example = "delivery.acknowledged")]
    pub kind: String,
    /// The office the event concerns, if one.
    #[schema(example = "1310000002")]
    pub office: Option<String>,
    #[schema(format = Uuid)]
    pub submission_id: Option<String>,
    /// The `x-request-id` of the request that caused it, if any.
    pub request_id: Option<String>,
    /// Kind-specific facts (names, digests, counts, codes, the actor `admin:<token id>`, …), never record
    /// contents. Null if the stored detail is not JSON.
    pub detail: Value,
    /// The hash of the previous position (64 zeros before position 1).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub prev_hash: String,
    /// This position's hash, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
}

/// A page of the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    /// Pass as `after` for the next page; null when this page is the last.
    pub next: Option<i64>,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportResult {
    /// The batch written; null when there was nothing new to export, or another exporter won a concurrent run.
    pub batch: Option<ExportManifest>,
    /// The paths written on the relay's host (the ndjson, then the manifest) under `audit.export_dir`; empty when
    /// `batch` is null.
    #[schema(example = json!([
        "/var/lib/careplan-relay/export/audit-1-42.ndjson",
        "/var/lib/careplan-relay/export/audit-1-42.manifest.json"
    ]))]
    pub files: Vec<String>,
}

/// The retention policy and the sets it flags.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Retention {
    pub policy: Policy,
    /// Ids of deliveries still unacknowledged past `flag_unacknowledged_days` whose bytes are still kept, oldest
    /// first (at most 500). Purge one with `POST /v1/admin/deliveries/{id}/purge`.
    #[schema(max_items = 500)]
    pub flagged: Vec<String>,
}

/// A purged delivery.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Purged {
    #[schema(format = Uuid)]
    pub delivery_id: String,
    /// Always true.
    pub purged: bool,
}

/// Where a certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateState {
    Valid,
    Expired,
    Revoked,
}

/// An office client certificate issued by the relay.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Certificate {
    /// Serial number, lower-case hexadecimal without leading zero octets.
    pub serial: String,
    /// The office number in the certificate's subject (CN).
    pub office: String,
    #[schema(format = DateTime)]
    pub not_before: String,
    #[schema(format = DateTime)]
    pub not_after: String,
    #[schema(format = DateTime)]
    pub issued_at: String,
    pub revoked: bool,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
    pub state: CertificateState,
}

impl Certificate {
    /// The certificate `c` as it stands at `now` (Unix ms).
    pub fn of(c: &CertificateRow, now: i64) -> Self {
        let state = match c.revoked_at {
            Some(_) => CertificateState::Revoked,
            None if c.not_after <= now => CertificateState::Expired,
            None => CertificateState::Valid,
        };
        Certificate {
            serial: c.serial.clone(),
            office: c.office.clone(),
            not_before: rfc3339(c.not_before),
            not_after: rfc3339(c.not_after),
            issued_at: rfc3339(c.issued_at),
            revoked: c.revoked_at.is_some(),
            revoked_at: c.revoked_at.map(rfc3339),
            state,
        }
    }
}

/// Issued certificates, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CertificateList {
    pub items: Vec<Certificate>,
}

/// A source address or a token locked out after too many failed authentications.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Lockout {
    /// `address:<IP address>` (an IPv6 address stands for its /64) or `token:<16 hex digits>`: the key to clear.
    pub key: String,
    /// `address` or `token`.
    #[schema(pattern = "^(address|token)$")]
    pub kind: String,
    /// Failures counted when it was locked (and since).
    #[schema(minimum = 1)]
    pub failures: u32,
    /// When the lockout began. RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub locked_at: String,
    /// Seconds until it ends by itself.
    #[schema(minimum = 1)]
    pub retry_after_secs: u64,
}

/// The lockouts in force on this relay process.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LockoutList {
    pub items: Vec<Lockout>,
}
