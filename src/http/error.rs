//! The one place where errors become HTTP status codes. 5xx details are logged, never sent.
//!
//! Every error body carries `code` (stable, snake_case), `message_ja` and `message_en`; `error` and `message`
//! repeat the code and the English text for clients written before the Japanese text was added. A 422 keeps the
//! report's shape and adds the same three fields.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::bodies::{ErrorBody, ErrorCode, InvalidSet};
use crate::message::Message;
use crate::relay::RelayError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub RelayError);

impl From<RelayError> for ApiError {
    fn from(e: RelayError) -> Self {
        ApiError(e)
    }
}

/// An error body: `{error, code, message, message_ja, message_en}`.
pub(super) fn body(status: StatusCode, code: ErrorCode, m: &Message) -> Response {
    (status, Json(ErrorBody::new(code, m))).into_response()
}

fn fixed(status: StatusCode, code: ErrorCode, ja: &str, en: &str) -> Response {
    body(status, code, &Message::new(ja, en))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            RelayError::Unauthenticated => {
                let mut r = fixed(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthenticated,
                    "有効なトークン（Bearer）またはクライアント証明書が必要です。",
                    "a valid bearer token or client certificate is required",
                );
                r.headers_mut()
                    .insert("www-authenticate", HeaderValue::from_static("Bearer"));
                r
            }
            RelayError::Forbidden(m) => body(StatusCode::FORBIDDEN, ErrorCode::Forbidden, &m),
            RelayError::NotFound => fixed(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "該当するものはありません。",
                "no such object",
            ),
            RelayError::Gone => fixed(
                StatusCode::GONE,
                ErrorCode::Purged,
                "このセットのファイルは削除済みです（受領確認後の保存期間経過、または管理者による削除）。記録と受領証は残っています。",
                "the bytes of this set were purged (retention after acknowledgement, or by an admin); its metadata and receipt remain",
            ),
            RelayError::Invalid(report) => {
                let body = InvalidSet {
                    report: *report,
                    code: "invalid_set",
                    message_ja: "セットが標準仕様に適合していません。詳細は各ファイルの指摘を参照してください。何も保存されていません。",
                    message_en: "the set does not conform to the standard; see the findings of each file. Nothing was stored.",
                };
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
            RelayError::Conflict(m) => body(StatusCode::CONFLICT, ErrorCode::Conflict, &m),
            RelayError::OlderSet {
                message,
                newer_sequence,
                newer_submission_id,
            } => {
                let body = ErrorBody {
                    newer_sequence: Some(newer_sequence),
                    newer_submission_id: Some(newer_submission_id),
                    ..ErrorBody::new(ErrorCode::SequenceOlder, &message)
                };
                (StatusCode::CONFLICT, Json(body)).into_response()
            }
            RelayError::BadRequest(m) => body(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, &m),
            RelayError::TooLarge(m) => body(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge, &m),
            RelayError::Throttled { retry_after, message } => {
                let mut r = body(StatusCode::TOO_MANY_REQUESTS, ErrorCode::Throttled, &message);
                let secs = retry_after.as_secs().max(1);
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert("retry-after", v);
                }
                r
            }
            RelayError::Store(e) if e.is_transient() => {
                tracing::error!(error = %e, "store error (transient)");
                let mut r = fixed(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "データベースに接続できません。しばらくしてから再送してください。",
                    "the database is unavailable; retry later",
                );
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
                r
            }
            RelayError::Store(e) => {
                tracing::error!(error = %e, "store error");
                fixed(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "内部エラーが発生しました。",
                    "internal error",
                )
            }
            RelayError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                fixed(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "内部エラーが発生しました。",
                    "internal error",
                )
            }
        }
    }
}

/// Gives an error answer whose body is plain text (the framework's own refusals: an unparsable query, path or
/// JSON body, a JSON body of the wrong shape or media type) the JSON error body of every other error, its text
/// clipped and quoted in English. A JSON body of the wrong shape is a 400 here: 422 means an invalid set.
pub(super) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !plain || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, text) = response.into_parts();
    let text = axum::body::to_bytes(text, 4096).await.unwrap_or_default();
    let detail = crate::message::clip(String::from_utf8(text.to_vec()).unwrap_or_default().trim());
    let status = match status {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        s => s,
    };
    let (code, ja) = match status {
        StatusCode::BAD_REQUEST => (ErrorCode::BadRequest, "リクエストの形式が正しくありません"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "Content-Type が正しくありません（JSON は application/json で送ってください）",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::TooLarge,
            "リクエストの大きさが中継サーバーの上限を超えています",
        ),
        s if s.is_server_error() => (ErrorCode::Internal, "内部エラーが発生しました"),
        _ => (ErrorCode::Refused, "リクエストを処理できません"),
    };
    let mut r = body(status, code, &Message::new(format!("{ja}: {detail}"), detail));
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            r.headers_mut().append(name.clone(), value.clone());
        }
    }
    r
}
