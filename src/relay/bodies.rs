//! The JSON bodies that the relay builds for the API: the answer to an accepted set, a delivery's files, the
//! order warning, an acknowledgement, what a receipt attests, and an export's manifest. Each carries its schema
//! (`utoipa::ToSchema`) for docs/openapi.json.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Receipt;
use crate::domain::Status;
use crate::spec::Kind;
use crate::validate::SetFinding;

/// The answer to an accepted set (201, and 200 for an identical retry).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Submission)]
pub struct Accepted {
    /// The set as the sender sent it; names its receipt.
    #[schema(format = Uuid)]
    pub submission_id: String,
    /// The set in the recipient's inbox.
    #[schema(format = Uuid)]
    pub delivery_id: String,
    /// The 14-digit sequence number (ファイル連番, `YYYYMMDDHHMMSS`) that ends every name of the set.
    #[schema(pattern = r"^[0-9]{14}$", example = "20250328101500")]
    pub sequence: String,
    /// The sender's office number (送信元事業所番号).
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000001")]
    pub sender: String,
    /// The sender's 2-character service-type code (サービス種類コード) from a v4 file name; null for v3 names.
    #[schema(pattern = "^[0-9A-Z]{2}$", example = "43")]
    pub sender_service_type: Option<String>,
    /// The recipient's office number (送信先事業所番号).
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000002")]
    pub recipient: String,
    /// The recipient's service-type code from a v4 file name; null for v3 names.
    #[schema(pattern = "^[0-9A-Z]{2}$", example = "11")]
    pub recipient_service_type: Option<String>,
    /// The service month (サービス提供年月, `YYYYMM`) of the set's names, if they carry one other than `000000`.
    #[schema(pattern = r"^[0-9]{6}$", example = "202504")]
    pub month: Option<String>,
    pub files: Vec<SubmittedFile>,
    pub set_warnings: Vec<SetFinding>,
    /// `queued` at acceptance (an idempotent retry answers the body of the first acceptance unchanged).
    pub status: Status,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub accepted_at: String,
    /// Warnings on the set as a whole that concern its order: `W_SEQUENCE_OLDER` when a newer set of its stream
    /// was accepted before it; empty otherwise.
    pub warnings: Vec<OrderWarning>,
}

/// A file of an accepted set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmittedFile {
    /// The spec file name (ファイル名).
    #[schema(example = "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV")]
    pub name: String,
    pub kind: Option<Kind>,
    /// The CSV version (CSVバージョン); null for the image.
    pub csv_version: Option<String>,
    pub records: u64,
    pub bytes: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    pub warnings: Vec<crate::validate::Finding>,
}

/// A file of a delivery.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryFile {
    /// The spec file name (ファイル名).
    #[schema(example = "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV")]
    pub name: String,
    /// The file kind (see `FileKind`).
    pub kind: String,
    pub bytes: i64,
    /// SHA-256 of the file's bytes, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
}

/// The warning on a set accepted after a set of the same stream (same sender, same recipient, same kind of set)
/// with a later sequence. The recipient's inbox item carries `older_than`. With `relay.older_sets = "refuse"`
/// such a set is refused with 409 `sequence_older` instead.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderWarning {
    /// `W_SEQUENCE_OLDER`.
    #[schema(pattern = "^W_SEQUENCE_OLDER$")]
    pub code: String,
    pub message_ja: String,
    pub message_en: String,
    /// The sequence of the newest set of the stream accepted before this one.
    #[schema(pattern = r"^[0-9]{14}$")]
    pub newer_sequence: String,
    /// That set's submission.
    #[schema(format = Uuid)]
    pub newer_submission_id: String,
}

/// An acknowledged delivery and its receipt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Acknowledgement {
    #[schema(format = Uuid)]
    pub delivery_id: String,
    /// When the delivery was first acknowledged.
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub acknowledged_at: String,
    pub receipt: Receipt,
}

/// What a receipt attests, as things stood when it was issued. Its fields are in alphabetical order: the
/// signed text keeps the same bytes for the same state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptPayload {
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub accepted_at: String,
    #[schema(format = DateTime)]
    pub acknowledged_at: Option<String>,
    #[schema(format = Uuid)]
    pub delivery_id: String,
    #[schema(format = DateTime)]
    pub downloaded_at: Option<String>,
    pub files: Vec<ReceiptFile>,
    /// The time of the state the receipt attests (the latest of accepted_at, downloaded_at, acknowledged_at), so
    /// the same state always gives the same receipt.
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub issued_at: String,
    #[schema(pattern = r"^[0-9]{6}$", example = "202504")]
    pub month: Option<String>,
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000002")]
    pub recipient: String,
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000001")]
    pub sender: String,
    #[schema(pattern = "^[0-9A-Z]{2}$", example = "43")]
    pub sender_service_type: Option<String>,
    #[schema(pattern = r"^[0-9]{14}$", example = "20250328101500")]
    pub sequence: String,
    pub status: Status,
    #[schema(format = Uuid)]
    pub submission_id: String,
    /// `careplan-relay receipt`.
    #[serde(rename = "type")]
    #[schema(pattern = "^careplan-relay receipt$")]
    pub kind: String,
}

/// A file a receipt attests (fields in alphabetical order, as signed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptFile {
    pub bytes: i64,
    #[schema(example = "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV")]
    pub name: String,
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
}

/// The manifest of an export batch (`audit-<first>-<last>.manifest.json`). `signed` is the JSON text `{first,
/// last, count, sha256, chain_head}`; `signature` is the base64 Ed25519 signature over its UTF-8 bytes by the key
/// `key_id` of `GET /v1/keys`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportManifest {
    /// The chain hash at `last`.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub chain_head: String,
    /// Events in the batch (`last - first + 1`).
    #[schema(minimum = 1)]
    pub count: i64,
    /// The first chain position in the batch.
    #[schema(minimum = 1)]
    pub first: i64,
    /// The signing key (see `GET /v1/keys`).
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub key_id: String,
    /// The last chain position in the batch.
    #[schema(minimum = 1)]
    pub last: i64,
    /// SHA-256 of the ndjson file's bytes.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// Base64 (standard, padded) of the 64-byte Ed25519 signature over `signed`.
    pub signature: String,
    /// The signed JSON text; verify its bytes exactly as received.
    pub signed: String,
}
