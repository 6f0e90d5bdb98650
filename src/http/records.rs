//! A set's records as typed JSON: `GET /v1/inbox/{delivery_id}/records` for the recipient and
//! `GET /v1/outbox/{submission_id}/records` for the sender.

use axum::Json;
use axum::extract::{Path, State};

use super::AppState;
use super::auth::OfficeCaller;
use super::error::ApiError;
use crate::records::RecordsDocument;
use crate::store::SetOf;

pub(super) async fn inbox(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(delivery_id): Path<String>,
) -> Result<Json<RecordsDocument>, ApiError> {
    let set = SetOf::Delivery(&delivery_id);
    Ok(Json(
        s.relay
            .records(&caller.office, set, caller.request_id.as_deref())
            .await?,
    ))
}

pub(super) async fn outbox(
    State(s): State<AppState>,
    caller: OfficeCaller,
    Path(submission_id): Path<String>,
) -> Result<Json<RecordsDocument>, ApiError> {
    let set = SetOf::Submission(&submission_id);
    Ok(Json(
        s.relay
            .records(&caller.office, set, caller.request_id.as_deref())
            .await?,
    ))
}
