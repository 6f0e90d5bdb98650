//! The recipient's inbox (list, long-poll, download, acknowledge), the sender's outbox, and receipts.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::bodies::{Acknowledgement, DeliveryFile, OrderWarning, ReceiptFile, ReceiptPayload};
use super::{Receipt, Relay, RelayError, Result};
use crate::domain::{Status, rfc3339};
use crate::message::{Message, clip};
use crate::store::{DeliveryRow, FileBody, InboxQuery, NewEvent};

/// An inbox request from `recipient`.
#[derive(Debug, Clone)]
pub struct InboxRequest {
    pub recipient: String,
    pub pending_only: bool,
    /// Opaque cursor from a previous page's `next`.
    pub after: Option<String>,
    pub limit: i64,
    pub wait: Duration,
}

/// A delivered set, as its recipient (inbox) or its sender (outbox) sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Delivery)]
pub struct DeliveryView {
    #[schema(format = Uuid)]
    pub delivery_id: String,
    #[schema(format = Uuid)]
    pub submission_id: String,
    /// The sender's office number (送信元事業所番号).
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000001")]
    pub sender: String,
    /// The sender's 2-character service-type code from a v4 file name; null for v3 names, which carry none.
    #[schema(pattern = "^[0-9A-Z]{2}$", example = "43")]
    pub sender_service_type: Option<String>,
    /// The recipient's office number (送信先事業所番号).
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000002")]
    pub recipient: String,
    /// The 14-digit sequence number (ファイル連番, `YYYYMMDDHHMMSS`) that ends every name of the set.
    #[schema(pattern = r"^[0-9]{14}$", example = "20250328101500")]
    pub sequence: String,
    /// The service month (サービス提供年月, `YYYYMM`) of the set's names, if they carry one other than `000000`.
    #[schema(pattern = r"^[0-9]{6}$", example = "202504")]
    pub month: Option<String>,
    pub files: Vec<DeliveryFile>,
    /// When the relay accepted the set. RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime, example = "2025-03-28T10:15:00.123Z")]
    pub received_at: String,
    /// When the recipient first downloaded a file; null until then.
    #[schema(format = DateTime)]
    pub downloaded_at: Option<String>,
    /// When the recipient acknowledged; null until then.
    #[schema(format = DateTime)]
    pub acknowledged_at: Option<String>,
    pub status: Status,
    /// Set when a set of the same stream (sender, recipient, kind of set) with a later sequence was accepted
    /// before this one: `{sequence, delivery_id, submission_id}` of the newest such set.
    pub older_than: Option<OlderThan>,
    /// The sender's warnings on its set (outbox items only; absent from inbox items).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub warnings: Option<Vec<OrderWarning>>,
}

/// The newer set of the same stream that a delivery was accepted after.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OlderThan {
    pub sequence: String,
    pub delivery_id: String,
    pub submission_id: String,
}

impl From<&DeliveryRow> for DeliveryView {
    fn from(d: &DeliveryRow) -> Self {
        DeliveryView {
            delivery_id: d.id.clone(),
            submission_id: d.submission_id.clone(),
            sender: d.sender.clone(),
            sender_service_type: d.sender_type.clone(),
            recipient: d.recipient.clone(),
            sequence: d.sequence.clone(),
            month: d.month.clone(),
            files: d
                .files
                .iter()
                .map(|f| DeliveryFile {
                    name: f.name.clone(),
                    kind: f.kind.clone(),
                    bytes: f.size,
                    sha256: f.sha256.clone(),
                })
                .collect(),
            received_at: rfc3339(d.received_at),
            downloaded_at: d.downloaded_at.map(rfc3339),
            acknowledged_at: d.acknowledged_at.map(rfc3339),
            status: d.status,
            older_than: d.older_than.as_ref().map(|n| OlderThan {
                sequence: n.sequence.clone(),
                delivery_id: n.delivery_id.clone(),
                submission_id: n.submission_id.clone(),
            }),
            warnings: None,
        }
    }
}

fn malformed_cursor(s: &str) -> RelayError {
    RelayError::BadRequest(Message::new(
        format!("カーソル「{}」の形式が正しくありません。", clip(s)),
        format!("malformed cursor `{}`", clip(s)),
    ))
}

/// An inbox cursor as a client sent it.
enum Cursor {
    /// An arrival number (`next` of this relay).
    Arrival(i64),
    /// `SEQUENCE-N`, a cursor of the earlier (sequence, seq) order, still taken from clients that kept one.
    Sequence(String, i64),
}

fn parse_inbox_cursor(s: &str) -> Result<Cursor> {
    let bad = || malformed_cursor(s);
    let number = |t: &str| {
        t.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0 && t.bytes().all(|b| b.is_ascii_digit()))
    };
    match s.split_once('-') {
        None => number(s).map(Cursor::Arrival).ok_or_else(bad),
        Some((seq, n)) if seq.len() == 14 && seq.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Cursor::Sequence(seq.to_string(), number(n).ok_or_else(bad)?))
        }
        Some(_) => Err(bad()),
    }
}

impl Relay {
    /// Lists the inbox in the order the relay accepted the sets; with `wait`, holds the request until something
    /// arrives or the time is up. Returns the items and the cursor to continue from, on every answer: the last
    /// item's arrival number, or, with no item, the cursor given (or the recipient's last arrival number when none
    /// was given). Passed back as `after`, it returns exactly what was accepted since. A wait in progress when the
    /// relay shuts down ([`Relay::stop_waiting`]) ends at once with what there is.
    pub async fn inbox(&self, req: &InboxRequest) -> Result<(Vec<DeliveryView>, String)> {
        let after = match req.after.as_deref().map(parse_inbox_cursor).transpose()? {
            None => None,
            Some(Cursor::Arrival(n)) => Some(n),
            Some(Cursor::Sequence(sequence, seq)) => Some(
                self.store
                    .arrival_for_sequence_cursor(&req.recipient, &sequence, seq)
                    .await?,
            ),
        };
        let mut query = InboxQuery {
            recipient: req.recipient.clone(),
            pending_only: req.pending_only,
            after,
            limit: req.limit.clamp(1, 500),
        };
        let deadline = Instant::now() + req.wait.min(self.policies.max_wait);
        let watch = self.arrivals.watch(&req.recipient);
        loop {
            // Register interest before querying, so an arrival between the query and the wait is not missed.
            let arrival = watch.notify.notified();
            // Without a cursor, an empty answer continues from the last arrival committed before the query:
            // everything up to it was visible to the query.
            let start = match query.after {
                Some(n) => n,
                None => self.store.last_arrival(&req.recipient).await?,
            };
            let rows = self.store.inbox(&query).await?;
            let now = Instant::now();
            if !rows.is_empty() || now >= deadline || self.arrivals.closed() {
                let next = rows.last().map_or(start, |d| d.arrival).to_string();
                return Ok((rows.iter().map(DeliveryView::from).collect(), next));
            }
            // Nothing yet: keep waiting from where this query stopped.
            query.after = Some(start);
            // Other relay nodes commit too: look again at least every second.
            let _ = tokio::time::timeout((deadline - now).min(Duration::from_secs(1)), arrival).await;
        }
    }

    /// One delivery in the recipient's inbox.
    pub async fn delivery(&self, recipient: &str, delivery_id: &str) -> Result<DeliveryView> {
        let d = self.store.delivery_for(recipient, delivery_id).await?;
        if d.recipient != recipient {
            return Err(RelayError::NotFound);
        }
        Ok(DeliveryView::from(&d))
    }

    /// The original bytes of one file for its recipient, with their digest and the file's kind.
    pub async fn download(
        &self,
        recipient: &str,
        delivery_id: &str,
        name: &str,
        request_id: Option<&str>,
    ) -> Result<FileBody> {
        let event = NewEvent::new(
            "delivery.downloaded",
            Some(recipient),
            json!({ "delivery_id": delivery_id, "name": name }),
        )
        .request(request_id);
        Ok(self.store.download(recipient, delivery_id, name, event).await?)
    }

    /// Acknowledges a delivery (idempotent) and returns the receipt.
    pub async fn acknowledge(
        &self,
        recipient: &str,
        delivery_id: &str,
        request_id: Option<&str>,
    ) -> Result<Acknowledgement> {
        let d = self.store.delivery_for(recipient, delivery_id).await?;
        if d.recipient != recipient {
            return Err(RelayError::NotFound);
        }
        let event = NewEvent::new(
            "delivery.acknowledged",
            Some(recipient),
            json!({ "delivery_id": delivery_id }),
        )
        .submission(&d.submission_id)
        .request(request_id);
        let at = self.store.acknowledge(recipient, delivery_id, event).await?;
        let receipt = self.receipt(recipient, &d.submission_id).await?;
        Ok(Acknowledgement {
            delivery_id: delivery_id.to_string(),
            acknowledged_at: rfc3339(at),
            receipt,
        })
    }

    /// The sender's submissions in arrival order.
    pub async fn outbox(
        &self,
        sender: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<DeliveryView>, Option<String>)> {
        let after = match after {
            Some(s) => s.parse().map_err(|_| malformed_cursor(s))?,
            None => 0,
        };
        let limit = limit.clamp(1, 500);
        let rows = self.store.outbox(sender, after, limit).await?;
        let next = (rows.len() as i64 == limit)
            .then(|| rows.last().map(|d| d.seq.to_string()))
            .flatten();
        let items = rows
            .iter()
            .map(|d| DeliveryView {
                warnings: Some(super::order::order_warnings(&d.sequence, d.older_than.as_ref())),
                ..DeliveryView::from(d)
            })
            .collect();
        Ok((items, next))
    }

    /// A signed receipt for the sender or the recipient of a submission, as things stand now.
    pub async fn receipt(&self, office: &str, submission_id: &str) -> Result<Receipt> {
        let d = self.store.delivery_of_submission(office, submission_id).await?;
        self.sign_receipt(&d).await
    }

    /// The receipt of a delivery as an admin sees it (the same signed payload the offices get).
    pub async fn receipt_for_admin(&self, delivery_id: &str) -> Result<Receipt> {
        let d = self.store.delivery_by_id(delivery_id).await?;
        self.sign_receipt(&d).await
    }

    async fn sign_receipt(&self, d: &DeliveryRow) -> Result<Receipt> {
        let payload = ReceiptPayload {
            kind: "careplan-relay receipt".to_string(),
            submission_id: d.submission_id.clone(),
            delivery_id: d.id.clone(),
            sender: d.sender.clone(),
            sender_service_type: d.sender_type.clone(),
            recipient: d.recipient.clone(),
            sequence: d.sequence.clone(),
            month: d.month.clone(),
            files: d
                .files
                .iter()
                .map(|f| ReceiptFile {
                    name: f.name.clone(),
                    sha256: f.sha256.clone(),
                    bytes: f.size,
                })
                .collect(),
            accepted_at: rfc3339(d.received_at),
            downloaded_at: d.downloaded_at.map(rfc3339),
            acknowledged_at: d.acknowledged_at.map(rfc3339),
            status: d.status,
            // The time of the state the receipt attests, not of the request: the same state gives the same receipt.
            issued_at: rfc3339(
                d.received_at
                    .max(d.downloaded_at.unwrap_or(0))
                    .max(d.acknowledged_at.unwrap_or(0)),
            ),
        };
        let text = serde_json::to_string(&payload).map_err(anyhow::Error::from)?;
        self.sign(text).await
    }
}
