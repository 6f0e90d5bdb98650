//! A set's records as typed JSON (`crate::records`) for its recipient or its sender.

use serde_json::json;

use super::{Relay, RelayError, Result};
use crate::records::{RecordsDocument, document};
use crate::store::{NewEvent, SetOf};
use crate::validate::InputFile;

impl Relay {
    /// Every record of a set: a delivery read by its recipient or a submission read by its sender. The read is
    /// an audit event (`set.records_read`), as a download is; it does not mark the delivery downloaded.
    /// `NotFound` for another office's set, `Gone` once purged.
    pub async fn records(
        &self,
        office: &str,
        set: SetOf<'_>,
        request_id: Option<&str>,
    ) -> Result<RecordsDocument> {
        let bodies = self.store.set_bodies(office, set).await?;
        let files: Vec<InputFile<'_>> = bodies
            .iter()
            .map(|(name, bytes)| InputFile { name, bytes })
            .collect();
        // Stored sets passed validation, so their records read; anything else is the relay's own fault.
        let doc = document(self.spec, &files).map_err(|e| RelayError::Internal(e.into()))?;
        let detail = match set {
            SetOf::Delivery(id) => json!({ "delivery_id": id }),
            SetOf::Submission(id) => json!({ "submission_id": id }),
        };
        let event = NewEvent::new("set.records_read", Some(office), detail).request(request_id);
        self.store.record(&[event]).await?;
        Ok(doc)
    }
}
