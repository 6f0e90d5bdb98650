//! How a request body becomes the files of a set: multipart parts named `file`, or one raw file with `?name=`.
//!
//! [`read_upload`] is the one entry point, used by the `SetUpload` extractor of `POST /v1/submissions` and
//! `POST /v1/validate` and callable without a server or a database (the `upload` fuzz target). Everything a
//! client controls is bounded: the body's bytes, the number of parts, each file name's length and each part's
//! headers. The parts are parsed by `multer` (the parser under axum's `Multipart`), with the body limit as its
//! whole-stream constraint.

use axum::body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::message::{Message, clip};
use crate::relay::{RelayError, UploadedFile};

/// Longest file name of a part (its `filename`) or of `?name=`, in bytes (the relay's own bound, checked here
/// while reading so that a longer name is refused before its bytes are read).
pub use crate::relay::MAX_FILE_NAME_BYTES;
use crate::relay::file_name_too_long;

/// Most header bytes of one part (names and values added up). A part needs one `Content-Disposition` and
/// perhaps a `Content-Type`; `multer` also refuses more than 32 headers.
pub const MAX_PART_HEADER_BYTES: usize = 8 * 1024;

/// The bounds of one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Most bytes of the whole body (`server.max_body_bytes`); more is 413.
    pub max_body_bytes: usize,
    /// Most parts of a multipart body, of any kind (`server.max_files_per_upload`); one more is 413.
    pub max_files: usize,
    /// Longest file name, in bytes; longer is 400. [`MAX_FILE_NAME_BYTES`] by default.
    pub max_name_bytes: usize,
    /// Most header bytes of one part; more is 400. [`MAX_PART_HEADER_BYTES`] by default.
    pub max_part_header_bytes: usize,
}

impl UploadLimits {
    /// The limits for a body of at most `max_body_bytes` bytes and `max_files` parts, with the default
    /// name and part header bounds.
    pub fn new(max_body_bytes: usize, max_files: usize) -> UploadLimits {
        UploadLimits {
            max_body_bytes,
            max_files,
            max_name_bytes: MAX_FILE_NAME_BYTES,
            max_part_header_bytes: MAX_PART_HEADER_BYTES,
        }
    }
}

fn bad(ja: &str, en: &str) -> RelayError {
    RelayError::BadRequest(Message::new(ja, en))
}

fn malformed(detail: &str) -> RelayError {
    RelayError::BadRequest(Message::new(
        format!("multipart の形式が正しくありません（{}）。", clip(detail)),
        format!("malformed multipart body: {}", clip(detail)),
    ))
}

/// The answer to a body over `server.max_body_bytes`.
pub(crate) fn body_too_large() -> RelayError {
    RelayError::TooLarge(Message::new(
        "リクエストの大きさが中継サーバーの上限を超えています。",
        "the request body is larger than the relay accepts",
    ))
}

fn too_many_parts(max: usize) -> RelayError {
    RelayError::TooLarge(Message::new(
        format!("1回の送信で送れるファイル（パート）は {max} 個までです。セットを分けて送ってください。"),
        format!("at most {max} files (parts) per upload; send the sets separately"),
    ))
}

/// Reads the files of one set from a request body.
///
/// * `content_type`: the request's `Content-Type`. `multipart/form-data; boundary=…` is read as parts, each
///   named `file` with a `filename`; anything else is one raw file named `raw_name` (`?name=`).
/// * `content_length`: the request's `Content-Length`, if any. Over `limits.max_body_bytes` it is refused
///   before a byte is read; it also sizes each part's buffer once (capped at the limit).
/// * `body`: the request body; at most `limits.max_body_bytes` bytes of it are read, whatever it claims.
///
/// Errors: [`RelayError::TooLarge`] (413) for a body over the limit or more than `limits.max_files` parts (the
/// rest is not read); [`RelayError::BadRequest`] (400) for a malformed body, a part not named `file` or
/// without a file name, a file name over `limits.max_name_bytes` bytes, a part's headers over
/// `limits.max_part_header_bytes`, or a raw body without `?name=`. Client text in messages is clipped.
pub async fn read_upload(
    content_type: Option<&str>,
    content_length: Option<u64>,
    body: Body,
    raw_name: Option<String>,
    limits: &UploadLimits,
) -> Result<Vec<UploadedFile>, RelayError> {
    if content_length.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(body_too_large());
    }
    // Media types are case-insensitive (RFC 9110 8.3.1).
    let multipart = content_type.filter(|v| {
        v.get(..19)
            .is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data"))
    });
    let Some(content_type) = multipart else {
        let Some(name) = raw_name else {
            return Err(bad(
                "multipart/form-data の `file` という名前のパートで送るか、1ファイルを ?name=<ファイル名> 付きで送ってください。",
                "send multipart/form-data parts named `file`, or one raw file with ?name=<file name>",
            ));
        };
        if name.len() > limits.max_name_bytes {
            return Err(file_name_too_long(&name, limits.max_name_bytes));
        }
        let bytes = Limited::new(body, limits.max_body_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<LengthLimitError>() {
                    body_too_large()
                } else {
                    bad("リクエスト本文を読めません。", &clip(&e.to_string()))
                }
            })?
            .to_bytes();
        // Takes over the collected buffer when it can, rather than copying it.
        return Ok(vec![UploadedFile {
            name,
            bytes: Vec::from(bytes),
        }]);
    };
    let boundary = multer::parse_boundary(content_type).map_err(|e| malformed(&e.to_string()))?;
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limits.max_body_bytes as u64));
    let mut form = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    // The request's length bounds what is left to read: each part's buffer is sized from it once, instead of
    // doubling as it grows (which would hold up to three times a large file at once).
    let mut left = content_length
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(limits.max_body_bytes);
    let mut files = Vec::new();
    let mut parts = 0usize;
    while let Some(mut field) = form.next_field().await.map_err(multer_error)? {
        parts += 1;
        if parts > limits.max_files {
            return Err(too_many_parts(limits.max_files));
        }
        let header_bytes: usize = field
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        if header_bytes > limits.max_part_header_bytes {
            return Err(RelayError::BadRequest(Message::new(
                format!(
                    "パートのヘッダーが大きすぎます（上限 {} バイト）。",
                    limits.max_part_header_bytes
                ),
                format!(
                    "the headers of a part are too large (at most {} bytes)",
                    limits.max_part_header_bytes
                ),
            )));
        }
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
        if name.len() > limits.max_name_bytes {
            return Err(file_name_too_long(&name, limits.max_name_bytes));
        }
        let mut bytes: Vec<u8> = Vec::with_capacity(left);
        while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
            bytes.extend_from_slice(&chunk);
        }
        left = left.saturating_sub(bytes.len());
        if bytes.capacity() - bytes.len() > 64 * 1024 {
            bytes.shrink_to_fit();
        }
        files.push(UploadedFile { name, bytes });
    }
    Ok(files)
}

/// 413 for the body limit, 400 for everything else `multer` refuses.
fn multer_error(e: multer::Error) -> RelayError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            body_too_large()
        }
        e => malformed(&e.to_string()),
    }
}

/// A router layer: a request whose `Content-Length` is over `max_body_bytes` is answered 413 before its body
/// is polled and before authentication, on every route. As hyper sends `100 Continue` only when the body is
/// first polled, a client that sent `Expect: 100-continue` gets the 413 instead and never sends the body.
/// The connection is closed after the answer (the unread body cannot be skipped). Bodies without a length
/// (chunked) are bounded while they are read.
pub(super) async fn refuse_oversized(
    axum::extract::State(max_body_bytes): axum::extract::State<usize>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body_bytes as u64) {
        let mut r = super::ApiError(body_too_large()).into_response();
        r.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return r;
    }
    next.run(req).await
}

#[cfg(test)]
#[path = "upload_tests.rs"]
mod tests;
