//! `POST /v1/submissions` and `POST /v1/validate`: one set as multipart parts named `file`, or one raw file
//! with `?name=`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::OfficeCaller;
use super::error::{ApiError, too_large};
use crate::message::{Message, clip};
use crate::relay::{RelayError, UploadedFile};

#[derive(Debug, Deserialize)]
pub(super) struct NameQuery {
    name: Option<String>,
}

fn bad(ja: &str, en: &str) -> Response {
    ApiError(RelayError::BadRequest(Message::new(ja, en))).into_response()
}

/// Reads the files of a set from the request; the body limit answers 413.
async fn read_files(
    state: &AppState,
    name: Option<String>,
    req: Request,
) -> Result<Vec<UploadedFile>, Response> {
    // Content-Type is a singleton field: a body announced as two media types is not read as either.
    if req
        .headers()
        .get_all(header::CONTENT_TYPE)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(bad(
            "Content-Type ヘッダーが複数あります。",
            "the request has more than one Content-Type header",
        ));
    }
    // Media types are case-insensitive (RFC 9110 8.3.1).
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..19))
        .is_some_and(|v| v.eq_ignore_ascii_case("multipart/form-data"));
    if !multipart {
        let Some(name) = name else {
            return Err(bad(
                "multipart/form-data の `file` という名前のパートで送るか、1ファイルを ?name=<ファイル名> 付きで送ってください。",
                "send multipart/form-data parts named `file`, or one raw file with ?name=<file name>",
            ));
        };
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => too_large(),
                _ => bad("リクエスト本文を読めません。", &clip(&e.body_text())),
            })?;
        // Takes over the collected buffer when it can, rather than copying it.
        return Ok(vec![UploadedFile {
            name,
            bytes: Vec::from(bytes),
        }]);
    }
    // The request's length bounds what is left to read: each part's buffer is sized from it once, instead of
    // doubling as it grows (which would hold up to three times a large file at once).
    let mut left = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .unwrap_or(0)
        .min(state.max_body_bytes);
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|e| bad("multipart の形式が正しくありません。", &clip(&e.body_text())))?;
    let mut files = Vec::new();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(bad("multipart の形式が正しくありません。", &clip(&e.body_text()))),
        };
        if field.name() != Some("file") {
            return Err(bad(
                "パートの名前はすべて `file` にしてください。",
                "every part must be named `file`",
            ));
        }
        let Some(name) = field.file_name().map(str::to_string) else {
            return Err(bad(
                "各パートに filename（標準仕様のファイル名）が必要です。",
                "every part needs a filename: the spec file name",
            ));
        };
        let mut bytes: Vec<u8> = Vec::with_capacity(left);
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => return Err(bad("multipart の形式が正しくありません。", &clip(&e.body_text()))),
            }
        }
        left = left.saturating_sub(bytes.len());
        if bytes.capacity() - bytes.len() > 64 * 1024 {
            bytes.shrink_to_fit();
        }
        files.push(UploadedFile { name, bytes });
    }
    Ok(files)
}

/// The files of one set, read from the request (multipart parts named `file`, or a raw body with `?name=`).
/// Extracted last, after authentication; a refused body is answered directly (400, 413).
pub(super) struct SetUpload(Vec<UploadedFile>);

impl FromRequest<AppState> for SetUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let name = Query::<NameQuery>::try_from_uri(req.uri())
            .ok()
            .and_then(|q| q.0.name);
        Ok(SetUpload(read_files(state, name, req).await?))
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
