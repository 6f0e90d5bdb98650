//! The pieces of an accepted set, built before it is stored: its identity (the canonical names and the digest
//! that tells a retry from other bytes), the 201's body, its events and its files as the store takes them.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::bodies::{Accepted, SubmittedFile};
use super::sha256_hex;
use super::submit::UploadedFile;
use crate::domain::{Status, now_ms, rfc3339};
use crate::name::FileName;
use crate::store::{NewEvent, NewFile, NewSubmission};
use crate::validate::SetReport;

/// What identifies a set: its names in canonical spelling, sorted, and the SHA-256 of each file and of the whole.
#[derive(Debug, Clone)]
pub(super) struct SetIdentity {
    /// The canonical names, sorted.
    pub(super) names_sorted: Vec<String>,
    /// `names_sorted` joined by `/`: the key a retry is found by.
    pub(super) names_key: String,
    /// Each file's SHA-256 (hex), in upload order.
    pub(super) digests: Vec<String>,
    /// SHA-256 (hex) over each sorted name, a NUL and its file's digest: equal for a retry with the same bytes.
    pub(super) digest: String,
}

impl SetIdentity {
    /// `canonical[i]` is the canonical spelling of `files[i].name` (from `Relay::authorise`).
    pub(super) fn of(canonical: &[String], files: &[UploadedFile]) -> SetIdentity {
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by(|a, b| canonical[*a].cmp(&canonical[*b]));
        let names_sorted: Vec<String> = order.iter().map(|i| canonical[*i].clone()).collect();
        let digests: Vec<String> = files.iter().map(|f| sha256_hex(&f.bytes)).collect();
        let mut set_digest = Sha256::new();
        for i in &order {
            set_digest.update(canonical[*i].as_bytes());
            set_digest.update([0]);
            set_digest.update(digests[*i].as_bytes());
        }
        SetIdentity {
            names_key: names_sorted.join("/"),
            names_sorted,
            digests,
            digest: set_digest.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// How the accepted set is to be stored, beside what it is.
pub(super) struct Routing<'a> {
    pub(super) office: &'a str,
    pub(super) request_id: Option<&'a str>,
    /// The send unit's stream (sender, recipient, kind of set), for the order of sequences.
    pub(super) stream: Option<String>,
    /// Refuse the set when a later sequence of its stream was accepted before.
    pub(super) refuse_older: bool,
}

/// The stored form of a valid set (submission, delivery, files, the `submission.accepted` and `delivery.queued`
/// events) and the 201's body, which is also stored to answer retries. `names` are the parsed names (at least
/// one), `files` the uploaded files in upload order, as `report.files` and `id.digests`. The identity is only
/// read: the caller keeps it to answer a retry found at the insert's conflict.
pub(super) fn accepted(
    files: Vec<UploadedFile>,
    report: &SetReport,
    names: &[FileName],
    id: &SetIdentity,
    r: Routing<'_>,
) -> (NewSubmission, Value) {
    let first = &names[0];
    let submission_id = uuid::Uuid::new_v4().to_string();
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let accepted_at = now_ms();
    let files_accepted: Vec<SubmittedFile> = report
        .files
        .iter()
        .zip(&id.digests)
        .map(|(f, sha)| SubmittedFile {
            name: f.name.clone(),
            kind: f.kind,
            csv_version: f.csv_version.clone(),
            records: f.records,
            bytes: f.bytes,
            sha256: sha.clone(),
            warnings: f.warnings.clone(),
        })
        .collect();
    let body = Accepted {
        submission_id: submission_id.clone(),
        delivery_id: delivery_id.clone(),
        sequence: first.sequence.clone(),
        sender: first.sender.office.clone(),
        sender_service_type: first.sender.service_type.clone(),
        recipient: first.recipient.office.clone(),
        recipient_service_type: first.recipient.service_type.clone(),
        month: report.month.clone(),
        files: files_accepted,
        set_warnings: report.set_warnings.clone(),
        status: Status::Queued,
        accepted_at: rfc3339(accepted_at),
        warnings: Vec::new(),
    };
    let body = serde_json::to_value(&body).unwrap_or_default();
    let event_files: Vec<Value> = report
        .files
        .iter()
        .zip(&id.digests)
        .map(|(f, sha)| json!({ "name": f.name, "sha256": sha, "bytes": f.bytes, "records": f.records }))
        .collect();
    let events = vec![
        NewEvent::new(
            "submission.accepted",
            Some(r.office),
            json!({ "files": event_files, "recipient": first.recipient.office, "sequence": first.sequence,
                    "digest": id.digest }),
        )
        .submission(&submission_id)
        .request(r.request_id),
        NewEvent::new(
            "delivery.queued",
            Some(&first.recipient.office),
            json!({ "delivery_id": delivery_id }),
        )
        .submission(&submission_id)
        .request(r.request_id),
    ];
    let new_files: Vec<NewFile> = files
        .into_iter()
        .zip(&report.files)
        .zip(&id.digests)
        .map(|((f, judged), sha256)| NewFile {
            name: f.name,
            kind: judged.kind.map(|k| k.prefix().to_string()).unwrap_or_default(),
            csv_version: judged.csv_version.clone(),
            records: judged.records as i64,
            sha256: sha256.clone(),
            body: f.bytes,
        })
        .collect();
    let submission = NewSubmission {
        id: submission_id,
        delivery_id,
        sender: r.office.to_string(),
        sender_type: first.sender.service_type.clone(),
        recipient: first.recipient.office.clone(),
        recipient_type: first.recipient.service_type.clone(),
        sequence: first.sequence.clone(),
        month: report.month.clone(),
        names_key: id.names_key.clone(),
        digest: id.digest.clone(),
        response: body.to_string(),
        accepted_at,
        stream: r.stream,
        refuse_older: r.refuse_older,
        files: new_files,
        events,
    };
    (submission, body)
}
