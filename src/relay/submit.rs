//! Submitting a set: authorise each name, validate, check the recipient, then store the bytes, the submission,
//! the delivery and the events in one durable transaction. A set whose names were accepted before (found at
//! the insert's conflict, or before a rejection) replays the first answer (200) or, with other bytes, is a 409.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::order::{older_refusal, replay, with_order_warnings};
use super::{Relay, RelayError, Result};
use crate::domain::{now_ms, rfc3339};
use crate::name::FileName;
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
                return replay(&prior, &digest);
            }
            let codes: Vec<String> = codes(&report).into_iter().map(str::to_string).collect();
            let refused = Refused {
                office,
                names: &names,
                names_sorted: &names_sorted,
                sequence: report.sequence.clone(),
                request_id,
            };
            self.record_refusal(refused, codes).await?;
            return Err(RelayError::Invalid(Box::new(report)));
        }
        let stream = crate::validate::send_unit(self.spec, &names).map(|u| u.stream().to_string());

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
            stream,
            refuse_older: self.older_sets == super::OlderSets::Refuse,
            files: new_files,
            events,
        };
        match self.store.insert_submission(submission).await {
            Ok(stored) => {
                self.arrivals.signal(&first.recipient.office);
                self.metrics.submission("accepted", &kinds_of(&names));
                Ok(Submitted {
                    replayed: false,
                    body: with_order_warnings(body, stored.older_than.as_ref()),
                })
            }
            // Names accepted before (a retry, possibly concurrent): the first answer, or a 409.
            Err(StoreError::Conflict) => match self.store.prior_submission(office, &names_key).await? {
                Some(prior) => replay(&prior, &digest),
                None => Err(RelayError::Internal(anyhow::anyhow!(
                    "conflict without a prior submission"
                ))),
            },
            Err(StoreError::OlderSet(newer)) => {
                let refused = Refused {
                    office,
                    names: &names,
                    names_sorted: &names_sorted,
                    sequence: Some(first.sequence.clone()),
                    request_id,
                };
                self.record_refusal(refused, vec!["sequence_older".to_string()])
                    .await?;
                Err(older_refusal(&first.sequence, &newer))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records a refused set: a rejection row and its `submission.rejected` event (nothing else is stored).
    async fn record_refusal(&self, r: Refused<'_>, codes: Vec<String>) -> Result<()> {
        let rejection = Rejection {
            id: uuid::Uuid::new_v4().to_string(),
            sender: r.office.to_string(),
            recipient: r.names.first().map(|n| n.recipient.office.clone()),
            sequence: r.sequence.clone(),
            names: r.names_sorted.to_vec(),
            codes: codes.clone(),
            request_id: r.request_id.map(str::to_string),
        };
        let event = NewEvent::new(
            "submission.rejected",
            Some(r.office),
            json!({ "rejection_id": rejection.id, "files": r.names_sorted, "codes": codes, "sequence": r.sequence }),
        )
        .request(r.request_id);
        self.store.record_rejection(&rejection, event).await?;
        self.metrics.rejection(&codes);
        self.metrics.submission("rejected", &kinds_of(r.names));
        Ok(())
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

/// A set refused before it was stored, for its rejection record.
struct Refused<'a> {
    office: &'a str,
    names: &'a [FileName],
    names_sorted: &'a [String],
    sequence: Option<String>,
    request_id: Option<&'a str>,
}
