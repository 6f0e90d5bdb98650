//! `POST /v1/submissions` and `POST /v1/validate`: one set as multipart parts named `file`, or one raw file
//! with `?name=`.

use axum::Json;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::OfficeCaller;
use super::bodies::InvalidSet;
use super::contract::responses::*;
use super::error::ApiError;
use super::upload::{UploadLimits, read_upload};
use crate::message::Message;
use crate::relay::{Accepted, RelayError, UploadedFile};
use crate::validate::SetReport;

/// The name of a raw upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct NameQuery {
    /// The spec file name of a raw (non-multipart) body; required then, ignored for multipart.
    #[param(example = "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV")]
    name: Option<String>,
}

/// The files of one set as `multipart/form-data`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the parts that `read_upload` reads
pub(super) struct UploadForm {
    /// One part per file, every part named `file`; the part's filename is the spec file name (a name given twice
    /// is refused with 400).
    #[schema(schema_with = file_parts)]
    file: Vec<Vec<u8>>,
}

/// An array of at least one part, each the file's bytes, whatever they hold (no JSON type: the standard, not a
/// schema, says what they must be).
fn file_parts() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
                .content_media_type("application/octet-stream"),
        )
        .min_items(Some(1))
        .build()
}

/// The files of one set, read from the request (multipart parts named `file`, or a raw body with `?name=`).
/// Extracted last, after authentication; a refused body is answered directly (400, 413). The parsing and its
/// bounds are [`read_upload`]'s.
pub(super) struct SetUpload(pub(super) Vec<UploadedFile>);

impl FromRequest<AppState> for SetUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let name = Query::<NameQuery>::try_from_uri(req.uri())
            .ok()
            .and_then(|q| q.0.name);
        let (parts, body) = req.into_parts();
        // Content-Type is a singleton field: a body announced as two media types is not read as either.
        if parts
            .headers
            .get_all(header::CONTENT_TYPE)
            .iter()
            .nth(1)
            .is_some()
        {
            return Err(ApiError(RelayError::BadRequest(Message::new(
                "Content-Type ヘッダーが複数あります。",
                "the request has more than one Content-Type header",
            )))
            .into_response());
        }
        let header = |h| parts.headers.get(h).and_then(|v| v.to_str().ok());
        let content_type = header(header::CONTENT_TYPE);
        let content_length = header(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        let limits = UploadLimits::new(state.max_body_bytes, state.max_files_per_upload);
        read_upload(content_type, content_length, body, name, &limits)
            .await
            .map(SetUpload)
            .map_err(|e| ApiError(e).into_response())
    }
}

/// Send a set
///
/// Validates the set and, if it is valid and the recipient is a registered, enabled office that offers the recipient service type, stores it durably and queues it in the recipient's inbox.
///
/// Retrying is safe: the same names with the same bytes answer 200 with the body of the first acceptance (its `status` stays as it was then; use the outbox for the current one). The same names with other bytes answer 409: send a new sequence number. An invalid set answers 422 with every finding; nothing is stored and nothing is routed. Warnings (`W_…`) never reject a set.
#[utoipa::path(
    post,
    path = "/v1/submissions",
    operation_id = "submitSet",
    tag = "submissions",
    params(NameQuery),
    request_body(description = "The files of one set (送信単位): all files one sender sends to one recipient under one sequence number.\n\n* `multipart/form-data`: one part per file, every part named `file`, its `filename` the spec file name.\n* Any other content type: the body is one raw file and the query parameter `name` gives its spec file name.\n\nThe bytes are kept exactly as sent (Shift_JIS CSV, JPEG). The whole request may hold at most `server.max_body_bytes` (default 32 MiB).", content((UploadForm = "multipart/form-data"), (String = "application/octet-stream"), (String = "text/csv"), (String = "image/jpeg"))),
    responses(
        (status = 201, description = "Accepted, stored and queued for the recipient.", body = Accepted, example = json!({"submission_id": "0b9f3c52-6a43-4c0e-9a52-8d4f0a1e2b3c", "delivery_id": "5e1d7a90-2c4b-4f6e-8a1d-3b2c9e0f4a51", "sequence": "20250328101500", "sender": "1310000001", "sender_service_type": "43", "recipient": "1310000002", "recipient_service_type": "11", "month": "202504", "files": [{"name": "UPHOSOKU_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPHOSOKU", "csv_version": "202407", "records": 2, "bytes": 807, "sha256": "314c8dc04e971ce85ccd0b2faab66de078c8e02b6529143312fd3c25e36b3980", "warnings": []}, {"name": "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPPLAN", "csv_version": "202407", "records": 6, "bytes": 1548, "sha256": "4e5aecf00b0ac58a0889e883d2fae0fd204d7f08b5f287cf2ee20fc83a68cf82", "warnings": []}, {"name": "UPSIKYU_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPSIKYU", "csv_version": "202407", "records": 6, "bytes": 1426, "sha256": "ef60e30bdf688ec87e510e5f7485024cd3432e4d0233cbc4532d1ddf77f1f784", "warnings": []}], "set_warnings": [], "status": "queued", "accepted_at": "2025-03-28T10:15:00.123Z", "warnings": []})),
        (status = 200, description = "This exact set (same names, same bytes) was accepted before (idempotent retry): the same body as its 201.", body = Accepted),
        BadRequest, Unauthenticated, Forbidden, RequestTimeout, Conflict, TooLarge,
        (status = 422, description = "The set is invalid (or the recipient unknown): the validation report lists every error and warning. Nothing was stored.", body = InvalidSet, example = json!({"error": "invalid", "valid": false, "sequence": "20250328101500", "sender": "1310000001/43", "recipient": "1310000002/11", "month": "202504", "files": [{"name": "UPHOSOKU_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPHOSOKU", "csv_version": "202407", "records": 2, "bytes": 807, "errors": [], "warnings": []}, {"name": "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPPLAN", "csv_version": "202407", "records": 6, "bytes": 1550, "errors": [{"line": 1, "physical_line": 1, "item": 14, "item_name": "サービス回数", "code": "E_LENGTH", "message_ja": "長さ 3 文字は項目長 2 を超えています。", "message_en": "length 3 exceeds the item length 2"}], "warnings": []}, {"name": "UPSIKYU_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPSIKYU", "csv_version": "202407", "records": 6, "bytes": 1426, "errors": [], "warnings": []}], "set_errors": [], "set_warnings": [], "code": "invalid_set", "message_ja": "セットが標準仕様に適合していません。詳細は各ファイルの指摘を参照してください。何も保存されていません。", "message_en": "the set does not conform to the standard; see the findings of each file. Nothing was stored."})),
        Throttled, Internal, Unavailable
    )
)]
pub(super) async fn submit(
    State(state): State<AppState>,
    caller: OfficeCaller,
    SetUpload(files): SetUpload,
) -> Response {
    let count = files.len();
    match state
        .relay
        .submit(&caller.office, files, caller.request_id.as_deref())
        .await
    {
        Ok(s) => {
            tracing::info!(office = %caller.office, files = count, replayed = s.replayed, "submission accepted");
            let status = if s.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, Json(s.body)).into_response()
        }
        Err(e) => {
            tracing::info!(office = %caller.office, files = count, outcome = %e, "submission refused");
            ApiError(e).into_response()
        }
    }
}

/// Check a set without sending it
///
/// Runs every check of `POST /v1/submissions` (including the recipient check) and answers the report, valid or not. Stores nothing, routes nothing, records no event.
#[utoipa::path(
    post,
    path = "/v1/validate",
    operation_id = "validateSet",
    tag = "submissions",
    params(NameQuery),
    request_body(description = "The files of one set (送信単位): all files one sender sends to one recipient under one sequence number.\n\n* `multipart/form-data`: one part per file, every part named `file`, its `filename` the spec file name.\n* Any other content type: the body is one raw file and the query parameter `name` gives its spec file name.\n\nThe bytes are kept exactly as sent (Shift_JIS CSV, JPEG). The whole request may hold at most `server.max_body_bytes` (default 32 MiB).", content((UploadForm = "multipart/form-data"), (String = "application/octet-stream"), (String = "text/csv"), (String = "image/jpeg"))),
    responses(
        (status = 200, description = "The validation report: `valid` tells the outcome.", body = SetReport, example = json!({"error": "invalid", "valid": false, "sequence": "20250328101500", "sender": "1310000001/43", "recipient": "1310000002/11", "month": "202504", "files": [{"name": "UPHOSOKU_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPHOSOKU", "csv_version": "202407", "records": 2, "bytes": 807, "errors": [], "warnings": []}, {"name": "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPPLAN", "csv_version": "202407", "records": 6, "bytes": 1550, "errors": [{"line": 1, "physical_line": 1, "item": 14, "item_name": "サービス回数", "code": "E_LENGTH", "message_ja": "長さ 3 文字は項目長 2 を超えています。", "message_en": "length 3 exceeds the item length 2"}], "warnings": []}, {"name": "UPSIKYU_202504_1310000001_43_1310000002_11_20250328101500.CSV", "kind": "UPSIKYU", "csv_version": "202407", "records": 6, "bytes": 1426, "errors": [], "warnings": []}], "set_errors": [], "set_warnings": []})),
        BadRequest, Unauthenticated, Forbidden, RequestTimeout, TooLarge, Throttled, Internal, Unavailable
    )
)]
pub(super) async fn validate(
    State(state): State<AppState>,
    caller: OfficeCaller,
    SetUpload(files): SetUpload,
) -> Response {
    match state.relay.check(&caller.office, files).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}
