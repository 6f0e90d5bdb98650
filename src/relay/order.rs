//! The order of sets within a stream (one sender, one recipient, one kind of set: `spec::Unit::stream`): the
//! warning on a set accepted after a newer one, the refusal that replaces it under `relay.older_sets = "refuse"`,
//! and the answers to a set sent again under names accepted before (a replay, or a 409).

use serde_json::Value;

use super::bodies::OrderWarning;

use super::{RelayError, Result, Submitted};
use crate::message::Message;
use crate::store::{Newer, Prior};

/// The stable code of the warning on a set accepted after a newer set of its stream.
pub const W_SEQUENCE_OLDER: &str = "W_SEQUENCE_OLDER";

/// What the relay does with a set older than a set of its stream accepted before it (an older sequence from the
/// same sender to the same recipient, of the same kind of set: see `spec::Unit::stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OlderSets {
    /// Accept it (201) with the warning `W_SEQUENCE_OLDER`, and flag it in the recipient's inbox item.
    #[default]
    Warn,
    /// Refuse it (409 `sequence_older`); nothing is stored but the rejection.
    Refuse,
}

/// The warning on a set with `sequence` accepted after `newer`:
/// `{code, message_ja, message_en, newer_sequence, newer_submission_id}`.
fn older_warning(sequence: &str, newer: &Newer) -> OrderWarning {
    let n = &newer.sequence;
    OrderWarning {
        code: W_SEQUENCE_OLDER.to_string(),
        message_ja: format!(
            "連番 {sequence} のセットは、同じ送信先への同じ種類のセットで新しい連番 {n} のもの（受付番号 {}）より後に届きました。\
             受信側では古い内容として扱われます。最新の内容であれば、新しい連番で作り直して送ってください。",
            newer.submission_id
        ),
        message_en: format!(
            "this set (sequence {sequence}) arrived after a newer set of the same kind to the same recipient \
             (sequence {n}, submission {}); the recipient sees it flagged as older. If it is current, send it again \
             under a new sequence",
            newer.submission_id
        ),
        newer_sequence: n.clone(),
        newer_submission_id: newer.submission_id.clone(),
    }
}

/// Sets `warnings` of an accepted set's body (201 or its replay): the order warning when it was accepted after a
/// newer set of its stream, else an empty list.
pub(super) fn with_order_warnings(mut body: Value, older_than: Option<&Newer>) -> Value {
    let sequence = body["sequence"].as_str().unwrap_or_default().to_string();
    let warnings = order_warnings(&sequence, older_than);
    if let Some(o) = body.as_object_mut() {
        o.insert(
            "warnings".into(),
            serde_json::to_value(warnings).unwrap_or_default(),
        );
    }
    body
}

/// The order warnings of a stored delivery, as its sender sees them in the outbox.
pub(super) fn order_warnings(sequence: &str, older_than: Option<&Newer>) -> Vec<OrderWarning> {
    older_than
        .map(|n| older_warning(sequence, n))
        .into_iter()
        .collect()
}

/// The refusal of a set with `sequence` under `relay.older_sets = "refuse"`.
pub(super) fn older_refusal(sequence: &str, newer: &Newer) -> RelayError {
    let n = &newer.sequence;
    let id = &newer.submission_id;
    RelayError::OlderSet {
        message: Message::new(
            format!(
                "同じ送信先への同じ種類のセットで、新しい連番 {n} のもの（受付番号 {id}）が既に受け付けられているため、\
                 連番 {sequence} のセットは受け付けません。最新の内容であれば、新しい連番で作り直して送ってください。\
                 何も保存されていません。"
            ),
            format!(
                "a newer set of the same kind to the same recipient (sequence {n}, submission {id}) was accepted \
                 before this one (sequence {sequence}); if this set is current, send it again under a new sequence. \
                 Nothing was stored."
            ),
        ),
        newer_sequence: n.clone(),
        newer_submission_id: id.clone(),
    }
}

/// The answer to a set whose names were accepted before as `prior`: the first answer again (200) when the bytes
/// are the same, else a 409 that names the sequence and the set accepted under it.
pub(super) fn replay(prior: &Prior, digest: &str) -> Result<Submitted> {
    if prior.digest != digest {
        let (seq, id) = (&prior.sequence, &prior.id);
        return Err(RelayError::Conflict(Message::new(
            format!(
                "連番 {seq} のセットは、同じファイル名で異なる内容のものが既に受け付けられています（受付番号 {id}）。\
                 連番は送るたびに新しくします。内容を直したセットは新しい連番で作り直して送ってください。\
                 何も保存されていません。"
            ),
            format!(
                "a set with these file names (sequence {seq}) was accepted before with other bytes (submission \
                 {id}); a sequence is used once: send the corrected set under a new sequence. Nothing was stored."
            ),
        )));
    }
    let body: Value =
        serde_json::from_str(&prior.response).map_err(|e| anyhow::anyhow!("stored response: {e}"))?;
    Ok(Submitted {
        replayed: true,
        body: with_order_warnings(body, prior.older_than.as_ref()),
    })
}
