//! The JSON bodies of the API that the handlers build, each a type with its schema (`utoipa::ToSchema`): the
//! error body, health, the receipt keys and the pages of the office endpoints here; the admin API's in
//! [`admin`]. Bodies that the relay builds (deliveries, receipts, the 201 of a set) and those of the pure core
//! (the validation report, offices, records) carry their schema where they are defined.

pub mod admin;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::message::Message;
use crate::relay::DeliveryView;
use crate::validate::SetReport;

/// A stable identifier of an error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    Purged,
    TooLarge,
    UnsupportedMediaType,
    Unavailable,
    Internal,
    Throttled,
    SequenceOlder,
    /// Any other refusal of the framework (a 4xx without a code of its own).
    Refused,
}

/// Every error answer except the 422 validation report: what went wrong, in English and Japanese.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A stable identifier.
    pub error: ErrorCode,
    /// The same identifier as `error`.
    pub code: ErrorCode,
    /// A human-readable explanation (English).
    pub message: String,
    /// The explanation in Japanese.
    pub message_ja: String,
    /// The explanation in English.
    pub message_en: String,
    /// `sequence_older` only: the sequence of the newer set of the stream accepted before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9]{14}$")]
    pub newer_sequence: Option<String>,
    /// `sequence_older` only: that set's submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub newer_submission_id: Option<String>,
}

impl ErrorBody {
    /// The body of an error `code` saying `m`.
    pub fn new(code: ErrorCode, m: &Message) -> Self {
        ErrorBody {
            error: code,
            code,
            message: m.en.clone(),
            message_ja: m.ja.clone(),
            message_en: m.en.clone(),
            newer_sequence: None,
            newer_submission_id: None,
        }
    }
}

/// The 422 body of `POST /v1/submissions`: the validation report with `code` `invalid_set` and what it means.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvalidSet {
    #[serde(flatten)]
    pub report: SetReport,
    /// `invalid_set`.
    #[schema(pattern = "^invalid_set$")]
    pub code: &'static str,
    /// What it means, in Japanese.
    pub message_ja: &'static str,
    /// What it means, in English.
    pub message_en: &'static str,
}

/// Whether the relay runs and its database answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

/// Liveness and the database's state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
    /// `sqlite` or `postgres` when reachable; `unreachable` when the database does not answer; `writer stopped`
    /// when the SQLite writer task has ended (the relay must be restarted).
    #[schema(pattern = "^(sqlite|postgres|unreachable|writer stopped)$")]
    pub database: String,
}

/// The public keys that verify receipts and export manifests.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Keys {
    pub keys: Vec<PublicKey>,
}

/// One receipt-signing public key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicKey {
    /// The first 8 bytes of the SHA-256 of the public key, hex.
    #[schema(pattern = r"^[0-9a-f]{16}$")]
    pub key_id: String,
    /// Base64 (standard, padded) of the 32-byte Ed25519 public key.
    pub ed25519_public_key_base64: String,
    /// When the key was made (RFC 3339, UTC, milliseconds).
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A page of the inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxPage {
    /// In the order the relay accepted the sets (for one sender that is sequence order, except a set flagged
    /// with `older_than`).
    pub items: Vec<DeliveryView>,
    /// The cursor to continue from, on every answer (the last page and an empty long-poll too): passed as
    /// `after`, it returns exactly what the relay accepted since, and a long-poll with it wakes for that.
    pub next: String,
}

/// A page of the outbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DeliveryPage)]
pub struct OutboxPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `after` for the next page; null when this page is the last.
    pub next: Option<String>,
}
