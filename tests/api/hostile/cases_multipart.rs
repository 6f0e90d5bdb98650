//! Malformed multipart bodies: missing or wrong boundaries, unterminated bodies, parts without a name or a
//! filename or with other names, nesting, huge part heads, and more parts than a set can have.

use super::Expect::{OneOf, Status};
use super::requests::*;
use super::{Case, case};

fn with_type(content_type: &str, body: &[u8]) -> Vec<u8> {
    let ct = format!("Content-Type: {content_type}");
    request("POST", "/v1/submissions", &[&bearer("{CM}"), &ct], body)
}

fn named(disposition: &str) -> Vec<u8> {
    let mut set = parts(invalid_set());
    set[0].disposition = disposition.to_string();
    upload(&set)
}

/// `n` parts named `file` with distinct names that are not spec names.
fn many(n: usize) -> Vec<u8> {
    let files: Vec<(String, Vec<u8>)> = (0..n).map(|i| (format!("x{i}.CSV"), b"1".to_vec())).collect();
    upload_files(files)
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "no_boundary",
            "multipart/form-data without a boundary parameter",
            Status(400),
            || with_type("multipart/form-data", &multipart(BOUNDARY, &parts(valid_set()))),
        ),
        case(
            "wrong_boundary",
            "a body delimited by another boundary than the header names",
            Status(400),
            || {
                with_type(
                    "multipart/form-data; boundary=elsewhere",
                    &multipart(BOUNDARY, &parts(valid_set())),
                )
            },
        ),
        case(
            "empty_boundary",
            "an empty boundary parameter, the body delimited by bare `--`",
            OneOf(
                &[400, 422],
                "RFC 2046 boundaries have 1 to 70 characters: refused as malformed (400), or read by the delimiter \
             the body uses and then judged (the set is invalid: 422)",
            ),
            || {
                with_type(
                    "multipart/form-data; boundary=",
                    &multipart("", &parts(invalid_set())),
                )
            },
        ),
        case(
            "unterminated",
            "a body that ends inside a part, without the closing delimiter",
            Status(400),
            || {
                let mut body = multipart(BOUNDARY, &parts(valid_set()));
                body.truncate(body.len() - 200);
                upload_body_to("/v1/submissions", &body)
            },
        ),
        case(
            "no_closing_delimiter",
            "every part complete but no closing `--boundary--`",
            Status(400),
            || {
                let mut body = multipart(BOUNDARY, &parts(valid_set()));
                body.truncate(body.len() - (BOUNDARY.len() + 6));
                upload_body_to("/v1/submissions", &body)
            },
        ),
        case(
            "empty_form",
            "a form with the closing delimiter only",
            Status(400),
            || upload(&[]),
        ),
        case(
            "part_without_name",
            "a part with a filename but no name",
            Status(400),
            || named("form-data; filename=\"UPPLAN.CSV\""),
        ),
        case(
            "part_without_filename",
            "a part named file without a filename",
            Status(400),
            || named("form-data; name=\"file\""),
        ),
        case(
            "other_part_name",
            "a part named `document` next to the files",
            Status(400),
            || {
                let mut set = parts(invalid_set());
                set.push(Part {
                    disposition: "form-data; name=\"document\"".into(),
                    headers: vec![],
                    bytes: b"x".to_vec(),
                });
                upload(&set)
            },
        ),
        case(
            "no_disposition",
            "a part without Content-Disposition",
            Status(400),
            || {
                let mut body =
                    format!("--{BOUNDARY}\r\nContent-Type: text/csv\r\n\r\n1,2,3\r\n").into_bytes();
                body.extend_from_slice(&multipart(BOUNDARY, &parts(invalid_set())));
                upload_body_to("/v1/submissions", &body)
            },
        ),
        case(
            "nested_multipart",
            "a file part that is itself a multipart/mixed body",
            Status(422),
            || {
                let inner = multipart("inner", &parts(valid_set()));
                let mut set = parts(invalid_set());
                set[0]
                    .headers
                    .push("Content-Type: multipart/mixed; boundary=inner".into());
                set[0].bytes = inner;
                upload(&set)
            },
        ),
        case(
            "huge_part_header",
            "a part head carrying one 100 KB header",
            OneOf(
                &[400, 422],
                "part heads count against the body limit: refused as malformed (400), or read and the set judged (422)",
            ),
            || {
                let mut set = parts(invalid_set());
                set[0]
                    .headers
                    .push(format!("X-Padding: {}", "p".repeat(100 * 1024)));
                upload(&set)
            },
        ),
        case(
            "many_part_headers",
            "a part head of 500 headers",
            Status(400),
            || {
                let mut set = parts(invalid_set());
                set[0].headers = (0..500).map(|i| format!("X-H{i}: v")).collect();
                upload(&set)
            },
        ),
        case(
            "lf_only_delimiters",
            "parts delimited by bare LF instead of CRLF",
            Status(400),
            || {
                let body = String::from_utf8_lossy(&multipart(BOUNDARY, &parts(invalid_set())))
                    .replace("\r\n", "\n");
                upload_body_to("/v1/submissions", body.as_bytes())
            },
        ),
        case(
            "same_name_twice",
            "one file name in two parts",
            Status(400),
            || {
                let mut set = invalid_set();
                set.push(set[0].clone());
                upload_files(set)
            },
        ),
        case(
            "sixty_four_parts",
            "64 parts, the most a set may have (all misnamed)",
            Status(422),
            || many(64),
        ),
        case(
            "sixty_five_parts",
            "65 parts, one more than a set may have",
            Status(413),
            || many(65),
        ),
        case("thousands_of_parts", "5,000 tiny parts", Status(413), || {
            many(5000)
        }),
        case(
            "validate_empty_form",
            "/v1/validate with no parts",
            Status(400),
            || upload_body_to("/v1/validate", &multipart(BOUNDARY, &[])),
        ),
        case(
            "boundary_in_quotes_mismatch",
            "a quoted boundary that differs from the body's by case",
            Status(400),
            || {
                // Boundaries are case-sensitive (RFC 2046): the body has no part of this boundary.
                let ct = format!("multipart/form-data; boundary=\"{}\"", BOUNDARY.to_uppercase());
                with_type(&ct, &multipart(BOUNDARY, &parts(valid_set())))
            },
        ),
    ]
}
