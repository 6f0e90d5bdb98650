//! Content types other than the two the API takes (multipart/form-data, or a raw file with `?name=`).

use super::Expect::{OneOf, Status};
use super::requests::*;
use super::{Case, case};

const NOT_AN_UPLOAD: &str = "the API names no status for a body that is neither multipart nor a named raw file: 400 and 415 both say so";

fn typed(content_type: &str, body: &[u8]) -> Vec<u8> {
    let ct = format!("Content-Type: {content_type}");
    request("POST", "/v1/submissions", &[&bearer("{CM}"), &ct], body)
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "json_upload",
            "a JSON document posted as a submission",
            OneOf(&[400, 415], NOT_AN_UPLOAD),
            || {
                typed(
                    "application/json",
                    br#"{"files":[{"name":"UPPLAN.CSV","bytes":"MQ=="}]}"#,
                )
            },
        ),
        case(
            "text_plain_upload",
            "a CSV posted as text/plain without ?name=",
            OneOf(&[400, 415], NOT_AN_UPLOAD),
            || typed("text/plain", &invalid_set()[0].1),
        ),
        case(
            "urlencoded_upload",
            "a urlencoded form instead of multipart",
            OneOf(&[400, 415], NOT_AN_UPLOAD),
            || {
                typed(
                    "application/x-www-form-urlencoded",
                    b"file=UPPLAN.CSV&bytes=1%2C2%2C3",
                )
            },
        ),
        case(
            "multipart_mixed",
            "a valid set as multipart/mixed",
            OneOf(&[400, 415], NOT_AN_UPLOAD),
            || {
                typed(
                    &format!("multipart/mixed; boundary={BOUNDARY}"),
                    &multipart(BOUNDARY, &parts(valid_set())),
                )
            },
        ),
        case(
            "no_content_type",
            "a multipart body without a Content-Type",
            OneOf(&[400, 415], NOT_AN_UPLOAD),
            || {
                request(
                    "POST",
                    "/v1/submissions",
                    &[&bearer("{CM}")],
                    &multipart(BOUNDARY, &parts(valid_set())),
                )
            },
        ),
        case(
            "multipart_type_json_body",
            "multipart/form-data announced, JSON sent",
            Status(400),
            || {
                typed(
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                    br#"{"a":1}"#,
                )
            },
        ),
        case(
            "uppercase_media_type",
            "MULTIPART/FORM-DATA (media types are case-insensitive) with an invalid set",
            Status(422),
            || {
                typed(
                    &format!("MULTIPART/FORM-DATA; boundary={BOUNDARY}"),
                    &multipart(BOUNDARY, &parts(invalid_set())),
                )
            },
        ),
        case(
            "huge_content_type",
            "a 10 KB Content-Type header",
            Status(400),
            || {
                typed(
                    &format!(
                        "multipart/form-data; boundary={BOUNDARY}; x={}",
                        "y".repeat(10 * 1024)
                    ),
                    b"--x--\r\n",
                )
            },
        ),
        case(
            "two_content_types",
            "multipart and JSON Content-Type headers at once (an invalid set)",
            OneOf(
                &[400, 415],
                "two media types for one body are either malformed (400) or not a type the API takes (415)",
            ),
            || {
                let ct = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}");
                request(
                    "POST",
                    "/v1/submissions",
                    &[&bearer("{CM}"), &ct, "Content-Type: application/json"],
                    &multipart(BOUNDARY, &parts(invalid_set())),
                )
            },
        ),
        case(
            "admin_json_as_text",
            "an office registration sent as text/plain",
            OneOf(
                &[400, 415],
                "the admin API takes application/json only: refused as malformed or as the wrong media type",
            ),
            || {
                request(
                    "POST",
                    "/v1/admin/offices",
                    &[&bearer("{ADMIN}"), "Content-Type: text/plain"],
                    br#"{"number":"1310000009","name":"x","kind":"provider","service_types":["11"]}"#,
                )
            },
        ),
        case(
            "admin_json_without_type",
            "an office registration without a Content-Type",
            OneOf(
                &[400, 415],
                "the admin API takes application/json only: refused as malformed or as the wrong media type",
            ),
            || {
                request(
                    "POST",
                    "/v1/admin/offices",
                    &[&bearer("{ADMIN}")],
                    br#"{"number":"1310000009","name":"x","kind":"provider","service_types":["11"]}"#,
                )
            },
        ),
        case(
            "validate_as_json",
            "/v1/validate with a JSON body",
            OneOf(&[400, 415], NOT_AN_UPLOAD),
            || {
                request(
                    "POST",
                    "/v1/validate",
                    &[&bearer("{CM}"), "Content-Type: application/json"],
                    b"{}",
                )
            },
        ),
    ]
}
