//! The error answers that many operations share, as `components.responses`, and one marker type per answer for
//! the `responses(…)` of a `#[utoipa::path]` (each stands for its status and a reference to its component).
//! Every error body is an [`ErrorBody`](crate::http::bodies::ErrorBody), the schema `Error`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Components, ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// One shared answer: (component name, status, description, example body or none for an empty body).
type Shared = (&'static str, &'static str, &'static str, Option<fn() -> Value>);

const SHARED: &[Shared] = &[
    (
        "BadRequest",
        "400",
        "The request is malformed: no files, a name given twice, a part not named `file` or without a filename, \
         a raw body without `?name=`, a query parameter out of its range or pattern, an unknown `status`, a \
         malformed cursor, or a JSON body that cannot be read.",
        Some(|| error_example("bad_request", "the same file name appears twice")),
    ),
    (
        "Unauthenticated",
        "401",
        "No credential, or an unknown or revoked one. After a few failures from one source address the answer is \
         delayed (0.25 s, doubling, at most 2 s); after `auth_throttle.max_failures` the source is locked out (429).",
        Some(|| {
            error_example(
                "unauthenticated",
                "a valid bearer token or client certificate is required",
            )
        }),
    ),
    (
        "Forbidden",
        "403",
        "A valid credential acting outside its office: an admin token, a disabled office, or a file whose name \
         gives another sender.",
        Some(|| error_example("forbidden", "admin tokens cannot send or read office files")),
    ),
    (
        "AdminForbidden",
        "403",
        "A valid credential that is not an admin's: an office token, or an office's client certificate (or the \
         admin cookie holding an office token); or a change through the admin cookie instead of a bearer admin token.",
        Some(|| error_example("forbidden", "an admin token is required")),
    ),
    (
        "NotFound",
        "404",
        "Unknown, or belonging to another office (never said which).",
        Some(|| error_example("not_found", "no such object")),
    ),
    (
        "RequestTimeout",
        "408",
        "The request took longer than `server.request_timeout_secs` (default 120). No body.",
        None,
    ),
    (
        "Conflict",
        "409",
        "`conflict`: a set with the same names (the same sequence) but other bytes was accepted before; the message \
         names the sequence and that submission: send the corrected set under a new sequence. `sequence_older` \
         (only with `relay.older_sets = \"refuse\"`): a set of the same stream with a later sequence was accepted \
         before; `newer_sequence` and `newer_submission_id` name it. Nothing was stored but the rejection.",
        Some(|| {
            error_example(
                "conflict",
                "a set with these file names (sequence 20250328101500) was accepted before with other bytes",
            )
        }),
    ),
    (
        "Gone",
        "410",
        "The set's bytes were purged (by retention after acknowledgement, or by an admin); its metadata, digests, \
         events and receipt remain.",
        Some(|| {
            error_example(
                "purged",
                "the bytes of this set were purged (retention after acknowledgement, or by an admin); its metadata and receipt remain",
            )
        }),
    ),
    (
        "TooLarge",
        "413",
        "The request body is larger than `server.max_body_bytes` (default 32 MiB).",
        Some(|| error_example("too_large", "the request body is larger than the relay accepts")),
    ),
    (
        "UnsupportedMediaType",
        "415",
        "The JSON body is not sent as `Content-Type: application/json`.",
        Some(|| {
            error_example(
                "unsupported_media_type",
                "Expected request with `Content-Type: application/json`",
            )
        }),
    ),
    (
        "Throttled",
        "429",
        "Too many failed authentications from this source address (IPv6: its /64) or with this token: locked out \
         until `Retry-After` has passed or an admin clears it (`DELETE /v1/admin/lockouts/{key}`). While locked, \
         even a correct credential from that address is refused. Counted per relay process.",
        Some(|| {
            error_example(
                "throttled",
                "too many failed authentications: this source or credential is locked out; retry in 900 s",
            )
        }),
    ),
    (
        "Internal",
        "500",
        "An unexpected failure; the details are in the relay's log under the request id.",
        Some(|| error_example("internal", "internal error")),
    ),
    (
        "Unavailable",
        "503",
        "The database is unavailable; retry later (`Retry-After: 1`).",
        Some(|| error_example("unavailable", "the database is unavailable; retry later")),
    ),
];

/// An example error body of `code` saying `message` (in English; the Japanese text is elided), for the shared
/// answers here and the `example = json!(error_example(…))` of an operation's own error answers.
pub(crate) fn error_example(code: &str, message: &str) -> Value {
    json!({ "error": code, "code": code, "message": message, "message_ja": "…", "message_en": message })
}

fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)),
        ))
        .description(Some(description))
        .build()
}

/// The component of one shared answer.
fn response(&(name, _, description, example): &Shared) -> Response {
    let mut r = ResponseBuilder::new().description(description);
    if let Some(example) = example {
        r = r.content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .example(Some(example()))
                .build(),
        );
    }
    match name {
        "Unauthenticated" => {
            r = r.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some("`Bearer`."))
                    .build(),
            )
        }
        "Throttled" => r = r.header("Retry-After", integer_header("Seconds until the lockout ends.")),
        "Unavailable" => {
            r = r.header(
                "Retry-After",
                integer_header("Seconds to wait before retrying (1)."),
            )
        }
        _ => {}
    }
    r.build()
}

/// Adds every shared answer to `components.responses`.
pub(super) fn add(components: &mut Components) {
    for shared in SHARED {
        components
            .responses
            .insert(shared.0.to_string(), RefOr::T(response(shared)));
    }
}

/// `status → reference` of the shared answer `name`.
fn reference(name: &str) -> BTreeMap<String, RefOr<Response>> {
    SHARED
        .iter()
        .filter(|s| s.0 == name)
        .map(|s| (s.1.to_string(), RefOr::Ref(Ref::from_response_name(s.0))))
        .collect()
}

macro_rules! shared {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The shared answer `", stringify!($name), "` in a `#[utoipa::path]`'s `responses(…)`.")]
        #[derive(Debug)]
        pub(crate) struct $name;
        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                reference(stringify!($name))
            }
        }
    )*};
}

shared!(
    BadRequest,
    Unauthenticated,
    Forbidden,
    AdminForbidden,
    NotFound,
    RequestTimeout,
    Conflict,
    Gone,
    TooLarge,
    UnsupportedMediaType,
    Throttled,
    Internal,
    Unavailable,
);
