//! Submitting a set: authorise each name, validate, check the recipient, then store the bytes, the submission,
//! the delivery and the events in one durable transaction. A set whose names were accepted before (found at
//! the insert's conflict, or before a rejection) replays the first answer (200) or, with other bytes, is a 409.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Relay, RelayError, Result};
use crate::domain::{now_ms, rfc3339};
use crate::message::{Message, clip};
use crate::name::{FileName, canonical_name};
use crate::store::{NewEvent, NewFile, NewSubmission, Rejection, StoreError};
use crate::validate::{Code, InputFile, SetReport, validate_set};

/// Sets up to this size are validated on the request's own task (about 0.2 ms for a typical 40 KB set).
const INLINE_VALIDATION_BYTES: usize = 256 * 1024;

/// Longest file name taken, in bytes: a spec name is under 80; this bounds what a refused name can make the
/// relay store (in the `submission.rejected` event) and echo.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// One uploaded file: its spec name and its bytes.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The answer to an accepted upload.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// `false` for a new set (201), `true` for an identical retry (200).
    pub replayed: bool,
    pub body: Value,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn codes(report: &SetReport) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = report
        .files
        .iter()
        .flat_map(|f| f.errors.iter().map(|e| e.code.as_str()))
        .chain(report.set_errors.iter().map(|e| e.code.as_str()))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl Relay {
    /// Refuses an empty upload, a name given twice (in any spelling of its extension), a file whose name names
    /// another sender, or a sender service type the office is not registered for (403). Returns the names in
    /// their canonical spelling ([`canonical_name`]), in upload order.
    async fn authorise(&self, office: &str, files: &[UploadedFile]) -> Result<Vec<String>> {
        if files.is_empty() {
            return Err(RelayError::BadRequest(Message::new(
                "リクエストにファイルがありません。",
                "the request holds no files",
            )));
        }
        if let Some(f) = files.iter().find(|f| f.name.len() > MAX_FILE_NAME_BYTES) {
            return Err(RelayError::BadRequest(Message::new(
                format!(
                    "ファイル名が長すぎます（{} バイト、上限 {MAX_FILE_NAME_BYTES}）: {}",
                    f.name.len(),
                    clip(&f.name)
                ),
                format!(
                    "a file name is too long ({} bytes, at most {MAX_FILE_NAME_BYTES}): {}",
                    f.name.len(),
                    clip(&f.name)
                ),
            )));
        }
        super::bounds::refuse_control_characters(files)?;
        let canonical: Vec<String> = files.iter().map(|f| canonical_name(self.spec, &f.name)).collect();
        let mut sorted: Vec<&String> = canonical.iter().collect();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(RelayError::BadRequest(Message::new(
                "同じファイル名が2回含まれています。",
                "the same file name appears twice",
            )));
        }
        let mut registered: Option<Vec<String>> = None;
        for f in files {
            let Ok(n) = FileName::parse(self.spec, &f.name) else {
                continue;
            };
            if n.sender.office != office {
                return Err(RelayError::Forbidden(Message::new(
                    format!(
                        "{}: ファイル名の送信元 {} は、認証された事業所 {office} ではありません。",
                        clip(&f.name),
                        n.sender.office
                    ),
                    format!(
                        "{}: the sender in the file name is {}, not the authenticated office {office}",
                        clip(&f.name),
                        n.sender.office
                    ),
                )));
            }
            let Some(t) = &n.sender.service_type else { continue };
            if registered.is_none() {
                registered = Some(self.store.office(office).await?.service_types);
            }
            if !registered.iter().flatten().any(|r| r == t) {
                return Err(RelayError::Forbidden(Message::new(
                    format!(
                        "{}: ファイル名の送信元サービス種類 {t} は、事業所 {office} に登録されていません。",
                        clip(&f.name)
                    ),
                    format!(
                        "{}: the sender service type {t} is not registered for the office {office}",
                        clip(&f.name)
                    ),
                )));
            }
        }
        Ok(canonical)
    }

    /// Validates the set and checks the recipient. A large set is validated on a blocking thread; a typical
    /// one (well under a millisecond of work) in place, which spares two thread hand-offs.
    async fn judge(&self, files: Arc<Vec<UploadedFile>>) -> Result<(SetReport, Vec<FileName>)> {
        let spec = self.spec;
        let run = move |files: &[UploadedFile]| {
            let input: Vec<InputFile<'_>> = files
                .iter()
                .map(|f| InputFile {
                    name: &f.name,
                    bytes: &f.bytes,
                })
                .collect();
            validate_set(spec, &input)
        };
        let size: usize = files.iter().map(|f| f.bytes.len()).sum();
        let validated = if size <= INLINE_VALIDATION_BYTES {
            run(&files)
        } else {
            tokio::task::spawn_blocking(move || run(&files))
                .await
                .map_err(|e| anyhow::anyhow!("validation task failed: {e}"))?
        };
        let mut report = validated.report;
        super::bounds::bound_report(&mut report);
        let names: Vec<FileName> = validated.names.into_iter().flatten().collect();
        if report.valid {
            self.check_recipient(&names, &mut report).await?;
        }
        Ok((report, names))
    }

    /// `POST /v1/validate`: the checks of a submission, storing nothing.
    pub async fn check(&self, office: &str, files: Vec<UploadedFile>) -> Result<SetReport> {
        self.authorise(office, &files).await?;
        Ok(self.judge(Arc::new(files)).await?.0)
    }

    /// Judges and, if valid, stores and routes one set sent by `office`.
    pub async fn submit(
        &self,
        office: &str,
        files: Vec<UploadedFile>,
        request_id: Option<&str>,
    ) -> Result<Submitted> {
        // A set is identified by its names in their canonical spelling: the same set sent as `.csv` after
        // `.CSV` is a retry (200), other bytes under any spelling a 409, and the recipient gets one delivery.
        let canonical = self.authorise(office, &files).await?;
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by(|a, b| canonical[*a].cmp(&canonical[*b]));
        let names_sorted: Vec<String> = order.iter().map(|i| canonical[*i].clone()).collect();
        let names_key = names_sorted.join("/");
        let digests: Vec<String> = files.iter().map(|f| sha256_hex(&f.bytes)).collect();
        let mut set_digest = Sha256::new();
        for i in &order {
            set_digest.update(canonical[*i].as_bytes());
            set_digest.update([0]);
            set_digest.update(digests[*i].as_bytes());
        }
        let digest: String = set_digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
        // A retry is recognised after judging (at the insert's conflict, or here for a set judged invalid now),
        // so a new set, the common case, costs no lookup. The answers are those of looking it up first (200 or
        // 409), except that a retry is judged again, so a store failure while judging answers it with a 500.
        let files = Arc::new(files);
        let (report, names) = self.judge(Arc::clone(&files)).await?;
        if !report.valid {
            if let Some(prior) = self.store.prior_submission(office, &names_key).await? {
                return replay(prior.digest == digest, &prior.response);
            }
            let codes: Vec<String> = codes(&report).into_iter().map(str::to_string).collect();
            let rejection = Rejection {
                id: uuid::Uuid::new_v4().to_string(),
                sender: office.to_string(),
                recipient: names.first().map(|n| n.recipient.office.clone()),
                sequence: report.sequence.clone(),
                names: names_sorted.clone(),
                codes: codes.clone(),
                request_id: request_id.map(str::to_string),
            };
            let event = NewEvent::new(
                "submission.rejected",
                Some(office),
                json!({ "rejection_id": rejection.id, "files": names_sorted, "codes": codes, "sequence": report.sequence }),
            )
            .request(request_id);
            self.store.record_rejection(&rejection, event).await?;
            self.metrics.rejection(&codes);
            self.metrics.submission("rejected", &kinds_of(&names));
            return Err(RelayError::Invalid(Box::new(report)));
        }

        let first = &names[0];
        let id = uuid::Uuid::new_v4().to_string();
        let delivery_id = uuid::Uuid::new_v4().to_string();
        let accepted_at = now_ms();
        let file_views: Vec<Value> = report
            .files
            .iter()
            .zip(&digests)
            .map(|(r, sha)| {
                json!({ "name": r.name, "kind": r.kind, "csv_version": r.csv_version, "records": r.records,
                        "bytes": r.bytes, "sha256": sha, "warnings": r.warnings })
            })
            .collect();
        let body = json!({
            "submission_id": id, "delivery_id": delivery_id, "sequence": first.sequence,
            "sender": first.sender.office, "sender_service_type": first.sender.service_type,
            "recipient": first.recipient.office, "recipient_service_type": first.recipient.service_type,
            "month": report.month, "files": file_views, "set_warnings": report.set_warnings,
            "status": "queued", "accepted_at": rfc3339(accepted_at),
        });
        let event_files: Vec<Value> = report
            .files
            .iter()
            .zip(&digests)
            .map(|(r, sha)| json!({ "name": r.name, "sha256": sha, "bytes": r.bytes, "records": r.records }))
            .collect();
        let events = vec![
            NewEvent::new(
                "submission.accepted",
                Some(office),
                json!({ "files": event_files, "recipient": first.recipient.office, "sequence": first.sequence,
                        "digest": digest }),
            )
            .submission(&id)
            .request(request_id),
            NewEvent::new(
                "delivery.queued",
                Some(&first.recipient.office),
                json!({ "delivery_id": delivery_id }),
            )
            .submission(&id)
            .request(request_id),
        ];
        let files = Arc::try_unwrap(files).unwrap_or_else(|shared| (*shared).clone());
        let new_files: Vec<NewFile> = files
            .into_iter()
            .zip(&report.files)
            .zip(digests)
            .map(|((f, r), sha256)| NewFile {
                name: f.name,
                kind: r.kind.map(|k| k.prefix().to_string()).unwrap_or_default(),
                csv_version: r.csv_version.clone(),
                records: r.records as i64,
                sha256,
                body: f.bytes,
            })
            .collect();
        let submission = NewSubmission {
            id,
            delivery_id,
            sender: office.to_string(),
            sender_type: first.sender.service_type.clone(),
            recipient: first.recipient.office.clone(),
            recipient_type: first.recipient.service_type.clone(),
            sequence: first.sequence.clone(),
            month: report.month.clone(),
            names_key: names_key.clone(),
            digest: digest.clone(),
            response: body.to_string(),
            accepted_at,
            files: new_files,
            events,
        };
        match self.store.insert_submission(submission).await {
            Ok(()) => {
                self.arrivals.signal(&first.recipient.office);
                self.metrics.submission("accepted", &kinds_of(&names));
                Ok(Submitted {
                    replayed: false,
                    body,
                })
            }
            // A concurrent upload of the same names committed first.
            Err(StoreError::Conflict) => match self.store.prior_submission(office, &names_key).await? {
                Some(prior) => replay(prior.digest == digest, &prior.response),
                None => Err(RelayError::Internal(anyhow::anyhow!(
                    "conflict without a prior submission"
                ))),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// The recipient must be registered, enabled and offer the recipient service type of the names.
    async fn check_recipient(&self, names: &[FileName], report: &mut SetReport) -> Result<()> {
        let Some(first) = names.first() else { return Ok(()) };
        let r = &first.recipient;
        let problem = match self.store.office(&r.office).await {
            Err(StoreError::NotFound) => Some(("は登録されていません", "is not registered")),
            Err(e) => return Err(e.into()),
            Ok(o) if !o.enabled => Some(("は利用停止中です", "is disabled")),
            Ok(o) => match &r.service_type {
                Some(t) if !o.service_types.contains(t) => Some((
                    "はこのサービス種類を登録していません",
                    "does not offer this service type",
                )),
                _ => None,
            },
        };
        if let Some((ja, en)) = problem {
            report.set_finding(
                Code::UnknownRecipient,
                format!("送信先の事業所 {r} {ja}。"),
                format!("the recipient office {r} {en}"),
            );
            report.finish();
        }
        Ok(())
    }
}

fn kinds_of(names: &[FileName]) -> Vec<String> {
    names.iter().map(|n| n.kind.prefix().to_string()).collect()
}

fn replay(same_bytes: bool, response: &str) -> Result<Submitted> {
    if !same_bytes {
        return Err(RelayError::Conflict(Message::new(
            "同じファイル名のセットが、異なる内容で既に受け付けられています。新しい連番で送ってください。",
            "a set with these file names was accepted before with other bytes; send a new sequence number",
        )));
    }
    let body = serde_json::from_str(response).map_err(|e| anyhow::anyhow!("stored response: {e}"))?;
    Ok(Submitted { replayed: true, body })
}
