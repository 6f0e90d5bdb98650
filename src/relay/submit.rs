//! Submitting a set: authorise each name, validate, check the recipient, then store the bytes, the submission,
//! the delivery and the events in one durable transaction. A set whose names were accepted before (found at
//! the insert's conflict, or before a rejection) replays the first answer (200) or, with other bytes, is a 409.

use std::sync::Arc;

use serde_json::{Value, json};

use super::accept::{self, Routing, SetIdentity};
use super::order::{older_refusal, replay, with_order_warnings};
use super::{Relay, RelayError, Result};
use crate::name::FileName;
use crate::store::{NewEvent, Rejection, StoreError};
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

    /// Judges and, if valid, stores and routes one set sent by `office`: authorise the names, identify the set,
    /// judge it (validation and the recipient), then refuse it (422, a rejection recorded) or store it durably.
    pub async fn submit(
        &self,
        office: &str,
        files: Vec<UploadedFile>,
        request_id: Option<&str>,
    ) -> Result<Submitted> {
        // A set is identified by its names in their canonical spelling: the same set sent as `.csv` after
        // `.CSV` is a retry (200), other bytes under any spelling a 409, and the recipient gets one delivery.
        let canonical = self.authorise(office, &files).await?;
        let id = SetIdentity::of(&canonical, &files);
        // A retry is recognised after judging (at the insert's conflict, or here for a set judged invalid now),
        // so a new set, the common case, costs no lookup. The answers are those of looking it up first (200 or
        // 409), except that a retry is judged again, so a store failure while judging answers it with a 500.
        let files = Arc::new(files);
        let (report, names) = self.judge(Arc::clone(&files)).await?;
        if !report.valid {
            return self.refuse_invalid(office, report, &names, &id, request_id).await;
        }
        let routing = Routing {
            office,
            request_id,
            stream: crate::validate::send_unit(self.spec, &names).map(|u| u.stream().to_string()),
            refuse_older: self.policies.older_sets == super::OlderSets::Refuse,
        };
        let files = Arc::try_unwrap(files).unwrap_or_else(|shared| (*shared).clone());
        let (submission, body) = accept::accepted(files, &report, &names, &id, routing);
        let first = &names[0];
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
            Err(StoreError::Conflict) => match self.store.prior_submission(office, &id.names_key).await? {
                Some(prior) => replay(&prior, &id.digest),
                None => Err(RelayError::Internal(anyhow::anyhow!(
                    "conflict without a prior submission"
                ))),
            },
            Err(StoreError::OlderSet(newer)) => {
                let refused = Refused {
                    office,
                    names: &names,
                    names_sorted: &id.names_sorted,
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

    /// An invalid set: the first answer when its names were accepted before (a retry judged invalid now: 200 or
    /// 409), otherwise its rejection is recorded and the report returned as `Invalid` (422).
    async fn refuse_invalid(
        &self,
        office: &str,
        report: SetReport,
        names: &[FileName],
        id: &SetIdentity,
        request_id: Option<&str>,
    ) -> Result<Submitted> {
        if let Some(prior) = self.store.prior_submission(office, &id.names_key).await? {
            return replay(&prior, &id.digest);
        }
        let codes: Vec<String> = codes(&report).into_iter().map(str::to_string).collect();
        let refused = Refused {
            office,
            names,
            names_sorted: &id.names_sorted,
            sequence: report.sequence.clone(),
            request_id,
        };
        self.record_refusal(refused, codes).await?;
        Err(RelayError::Invalid(Box::new(report)))
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
