//! `POST /v1/submissions` and `POST /v1/validate`: one set as multipart parts named `file`, or one raw file
//! with `?name=`.

use axum::Json;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::OfficeCaller;
use super::error::ApiError;
use super::upload::{UploadLimits, read_upload};
use crate::message::Message;
use crate::relay::{RelayError, UploadedFile};

#[derive(Debug, Deserialize)]
pub(super) struct NameQuery {
    name: Option<String>,
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
