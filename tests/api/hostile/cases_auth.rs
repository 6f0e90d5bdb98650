//! Authentication: missing, wrong, malformed and huge credentials, admin tokens on office routes and the
//! reverse, forged cookies, and the throttle after repeated failures.

use super::Expect::{OneOf, Status};
use super::requests::*;
use super::{Case, case};

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "no_credential",
            "the inbox without any credential",
            Status(401),
            || get("/v1/inbox", &[]),
        ),
        case(
            "unknown_token",
            "a well-formed token that was never issued",
            Status(401),
            || {
                get(
                    "/v1/inbox",
                    &[&bearer("crt_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG")],
                )
            },
        ),
        case(
            "basic_scheme",
            "HTTP Basic credentials instead of a bearer token",
            Status(401),
            || get("/v1/inbox", &["Authorization: Basic dXNlcjpwYXNzd29yZA=="]),
        ),
        case(
            "empty_bearer",
            "the Bearer scheme with no token",
            Status(401),
            || get("/v1/inbox", &["Authorization: Bearer "]),
        ),
        case(
            "bare_scheme",
            "the word Bearer alone, no separator",
            Status(401),
            || get("/v1/inbox", &["Authorization: Bearer"]),
        ),
        case(
            "lowercase_scheme",
            "a valid token under `bearer` (schemes are case-insensitive): served",
            Status(200),
            || get("/v1/inbox", &["Authorization: bearer {PROV}"]),
        ),
        case(
            "scheme_only_spaces",
            "Bearer followed by spaces and no token",
            Status(401),
            || get("/v1/inbox", &["Authorization: Bearer      x"]),
        ),
        case("huge_token", "a 16 KB bearer token", Status(401), || {
            get("/v1/inbox", &[&bearer(&"A".repeat(16 * 1024))])
        }),
        case(
            "non_ascii_token",
            "a token of obs-text bytes (not visible ASCII)",
            Status(401),
            || {
                let mut r = b"GET /v1/inbox HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ".to_vec();
                r.extend_from_slice(&[0xE3, 0x83, 0x88, 0xFF, 0xFE]);
                r.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
                r
            },
        ),
        case(
            "token_in_query",
            "a valid token in the query string instead of a header",
            Status(401),
            || get("/v1/inbox?access_token={PROV}&token={PROV}", &[]),
        ),
        case(
            "two_authorizations",
            "a valid token and a wrong one in two Authorization headers",
            OneOf(
                &[400, 401],
                "Authorization is a singleton field: an ambiguous credential is refused, as malformed or as unauthenticated",
            ),
            || get("/v1/inbox", &[&bearer("{PROV}"), &bearer("not-a-token")]),
        ),
        case(
            "admin_token_on_inbox",
            "an admin token reading an office inbox",
            Status(403),
            || get("/v1/inbox", &[&bearer("{ADMIN}")]),
        ),
        case(
            "admin_token_uploads",
            "an admin token sending a valid set",
            Status(403),
            || {
                let body = multipart(BOUNDARY, &parts(valid_set()));
                let ct = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}");
                request("POST", "/v1/submissions", &[&bearer("{ADMIN}"), &ct], &body)
            },
        ),
        case(
            "admin_token_downloads",
            "an admin token downloading a delivered file",
            Status(403),
            || get("/v1/inbox/{DELIVERY}/files/x.CSV", &[&bearer("{ADMIN}")]),
        ),
        case(
            "office_token_on_admin_list",
            "an office token listing offices",
            Status(403),
            || get("/v1/admin/offices", &[&bearer("{CM}")]),
        ),
        case(
            "office_token_adds_office",
            "an office token registering an office",
            Status(403),
            || {
                let body = br#"{"number":"1310000009","name":"x","kind":"provider","service_types":["11"]}"#;
                request(
                    "POST",
                    "/v1/admin/offices",
                    &[&bearer("{PROV}"), "Content-Type: application/json"],
                    body,
                )
            },
        ),
        case(
            "office_token_issues_token",
            "an office token issuing itself another token",
            Status(403),
            || {
                request(
                    "POST",
                    "/v1/admin/offices/1310000002/tokens",
                    &[&bearer("{PROV}")],
                    b"",
                )
            },
        ),
        case(
            "forged_cookie",
            "a made-up admin session cookie",
            Status(401),
            || {
                get(
                    "/v1/admin/offices",
                    &["Cookie: careplan_admin=forged-session-value"],
                )
            },
        ),
        case(
            "office_token_as_cookie",
            "an office token put in the admin cookie",
            OneOf(
                &[401, 403],
                "where the cookie carries an opaque admin session, a token there is no session (401); where it \
                 carries the admin token, an office token there is a credential acting outside its office (403)",
            ),
            || get("/v1/admin/offices", &["Cookie: careplan_admin={CM}"]),
        ),
        case(
            "unauthenticated_upload",
            "a full-size upload without a credential",
            Status(401),
            || {
                let body = multipart(BOUNDARY, &[file(&upplan_name(), noise(2 * 1024 * 1024 - 400, 1))]);
                let ct = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}");
                request("POST", "/v1/submissions", &[&ct], &body)
            },
        ),
        case(
            "unauthenticated_admin_json",
            "registering an office without a credential",
            Status(401),
            || {
                let body = br#"{"number":"1310000009","name":"x","kind":"provider","service_types":["11"]}"#;
                request(
                    "POST",
                    "/v1/admin/offices",
                    &["Content-Type: application/json"],
                    body,
                )
            },
        ),
        case(
            "unauthenticated_metrics",
            "the metrics without a credential",
            Status(401),
            || get("/metrics", &[]),
        ),
        Case {
            times: 20,
            ..case(
                "throttled_after_failures",
                "20 wrong tokens in a row from one address",
                Status(429),
                || get("/v1/inbox", &[&bearer("wrong-token-guess")]),
            )
        },
    ]
}
