//! Accepted sets built by hand, for the tests that call the store directly.

use careplan_relay::store::{NewEvent, NewFile, NewSubmission};
use serde_json::json;

/// A set of one UPJSK file from `sender` (service type 11) to `recipient` (43) with the given sequence and bytes,
/// in the stream `actual`; its delivery id is `d-<id>`.
pub fn submission(id: &str, sender: &str, recipient: &str, sequence: &str, body: &[u8]) -> NewSubmission {
    let name = format!("UPJSK_202504_{sender}_11_{recipient}_43_{sequence}.CSV");
    NewSubmission {
        id: id.into(),
        delivery_id: format!("d-{id}"),
        sender: sender.into(),
        sender_type: Some("11".into()),
        recipient: recipient.into(),
        recipient_type: Some("43".into()),
        sequence: sequence.into(),
        month: Some("202504".into()),
        names_key: name.clone(),
        digest: format!("digest-{}", body.len()),
        response: "{}".into(),
        accepted_at: 1_000,
        stream: Some("actual".into()),
        refuse_older: false,
        files: vec![NewFile {
            name,
            kind: "UPJSK".into(),
            csv_version: Some("202407".into()),
            records: 1,
            sha256: careplan_relay::relay::sha256_hex(body),
            body: body.to_vec(),
        }],
        events: vec![NewEvent::new("submission.accepted", Some(sender), json!({})).submission(id)],
    }
}
