//! A set's records as typed JSON: `GET /v1/inbox/{delivery_id}/records` for the recipient and
//! `GET /v1/outbox/{submission_id}/records` for the sender.

use axum::Json;
use axum::extract::{Path, State};

use super::AppState;
use super::auth::OfficeCaller;
use super::contract::params::DeliveryIdPath;
use super::contract::responses::*;
use super::error::ApiError;
use crate::records::RecordsDocument;
use crate::store::SetOf;

/// The records of a delivery, as JSON
///
/// For the recipient: every record of every file of the set, keyed by the English item names of `spec/layouts/`, in the layout's order. Dates are ISO dates, months `YYYY-MM`, times `HH:MM` (the sentinels `00000000`, `000000`, `9999` are null), integers and decimals numbers, codes `{code, meaning}`, 日割対象日 the list of days flagged; digit strings such as office and insured numbers stay strings. Reading is an audit event (`set.records_read`) and does not mark the delivery downloaded. `careplan-relay convert --to json` gives the same document offline.
#[utoipa::path(
    get,
    path = "/v1/inbox/{delivery_id}/records",
    operation_id = "getDeliveryRecords",
    tag = "inbox",
    params(DeliveryIdPath),
    responses(
        (status = 200, description = "Every record of the set as typed UTF-8 JSON.", body = RecordsDocument),
        Unauthenticated, Forbidden, NotFound, RequestTimeout, Gone, Throttled, Internal, Unavailable
    )
)]
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

/// The records of a sent set, as JSON
///
/// For the sender: the same document as `GET /v1/inbox/{delivery_id}/records` gives the recipient.
#[utoipa::path(
    get,
    path = "/v1/outbox/{submission_id}/records",
    operation_id = "getSubmissionRecords",
    tag = "outbox",
    params(("submission_id" = String, Path, format = Uuid, description = "The submission id of the 201.")),
    responses(
        (status = 200, description = "Every record of the set as typed UTF-8 JSON.", body = RecordsDocument),
        Unauthenticated, Forbidden, NotFound, RequestTimeout, Gone, Throttled, Internal, Unavailable
    )
)]
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
