//! Paths and parameters: other offices' objects, huge ids, traversal in file paths, malformed cursors,
//! out-of-range limits and waits, bad percent encoding, and JSON bombs to the admin endpoints.

use super::Expect::{OneOf, Status};
use super::requests::*;
use super::{Case, case};

const CLAMPED_OR_REFUSED: &str =
    "a bounded answer either way: the value is clamped to the allowed range (200) or refused (400)";

fn office_json(body: &str) -> Vec<u8> {
    admin_json("POST", "/v1/admin/offices", body.as_bytes())
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "other_office_delivery",
            "a third office reading the provider's delivery",
            Status(404),
            || get("/v1/inbox/{DELIVERY}", &[&bearer("{OTHER}")]),
        ),
        case(
            "other_office_download",
            "a third office downloading the provider's file",
            Status(404),
            || {
                get(
                    &format!(
                        "/v1/inbox/{{DELIVERY}}/files/{}",
                        upplan_name().replace(super::requests::SEQ, "20250328101500")
                    ),
                    &[&bearer("{OTHER}")],
                )
            },
        ),
        case(
            "other_office_ack",
            "a third office acknowledging the provider's delivery",
            Status(404),
            || request("POST", "/v1/inbox/{DELIVERY}/ack", &[&bearer("{OTHER}")], b""),
        ),
        case(
            "sender_acks_own_delivery",
            "the sender acknowledging its own set in the recipient's name",
            Status(404),
            || request("POST", "/v1/inbox/{DELIVERY}/ack", &[&bearer("{CM}")], b""),
        ),
        case(
            "other_office_receipt",
            "a third office fetching the set's receipt",
            Status(404),
            || get("/v1/receipts/{SUBMISSION}", &[&bearer("{OTHER}")]),
        ),
        case(
            "id_10kb",
            "a 10 KB delivery id",
            OneOf(
                &[400, 404],
                "an id that long is malformed (400) or simply unknown (404)",
            ),
            || get_as_provider(&format!("/v1/inbox/{}", "7".repeat(10 * 1024))),
        ),
        case(
            "ack_id_10kb",
            "acknowledging a 10 KB delivery id",
            OneOf(
                &[400, 404],
                "an id that long is malformed (400) or simply unknown (404)",
            ),
            || {
                request(
                    "POST",
                    &format!("/v1/inbox/{}/ack", "d".repeat(10 * 1024)),
                    &[&bearer("{PROV}")],
                    b"",
                )
            },
        ),
        case(
            "encoded_traversal_file",
            "a file path of ..%2F..%2Fetc%2Fpasswd",
            Status(404),
            || get_as_provider("/v1/inbox/{DELIVERY}/files/..%2F..%2F..%2Fetc%2Fpasswd"),
        ),
        case(
            "dot_segments_file",
            "dot segments after the delivery id",
            Status(404),
            || get_as_provider("/v1/inbox/{DELIVERY}/files/../../../../etc/passwd"),
        ),
        case(
            "backslash_file",
            "a file name of ..\\..\\relay.db",
            Status(404),
            || get_as_provider("/v1/inbox/{DELIVERY}/files/..%5C..%5Crelay.db"),
        ),
        case(
            "invalid_utf8_path",
            "a delivery id that percent-decodes to invalid UTF-8",
            OneOf(
                &[400, 404],
                "undecodable ids are malformed (400) or unknown (404)",
            ),
            || get_as_provider("/v1/inbox/%FF%FE%C0/files/x"),
        ),
        case(
            "malformed_cursor",
            "an inbox cursor that is not one",
            Status(400),
            || get_as_provider("/v1/inbox?after=not-a-cursor"),
        ),
        case("cursor_10kb", "a 10 KB inbox cursor", Status(400), || {
            get_as_provider(&format!("/v1/inbox?after={}", "c".repeat(10 * 1024)))
        }),
        case(
            "outbox_cursor_text",
            "an outbox cursor that is not a number",
            Status(400),
            || get("/v1/outbox?after=abc", &[&bearer("{CM}")]),
        ),
        case("limit_not_a_number", "limit=lots", Status(400), || {
            get_as_provider("/v1/inbox?limit=lots")
        }),
        case("limit_overflow", "a limit beyond 64 bits", Status(400), || {
            get_as_provider("/v1/inbox?limit=99999999999999999999999999")
        }),
        case(
            "limit_negative",
            "limit=-5",
            OneOf(&[200, 400], CLAMPED_OR_REFUSED),
            || get_as_provider("/v1/inbox?limit=-5"),
        ),
        case(
            "limit_huge",
            "limit=1000000000",
            OneOf(&[200, 400], CLAMPED_OR_REFUSED),
            || get_as_provider("/v1/inbox?limit=1000000000"),
        ),
        case("wait_negative", "wait=-1", Status(400), || {
            get_as_provider("/v1/inbox?wait=-1")
        }),
        case(
            "wait_huge",
            "wait=10^12 seconds on an empty inbox (held at most the relay's longest wait)",
            OneOf(&[200, 400], CLAMPED_OR_REFUSED),
            || get("/v1/inbox?wait=1000000000000", &[&bearer("{OTHER}")]),
        ),
        case("status_unknown", "status=everything", Status(400), || {
            get_as_provider("/v1/inbox?status=everything")
        }),
        case(
            "bad_percent_query",
            "a query of bad percent escapes",
            Status(400),
            || get_as_provider("/v1/inbox?status=%ZZ%&after=%"),
        ),
        case(
            "admin_log_bad_time",
            "the delivery log from a time that is not one",
            Status(400),
            || get("/v1/admin/deliveries?from=yesterday", &[&bearer("{ADMIN}")]),
        ),
        case(
            "admin_audit_bad_after",
            "the audit trail after a non-number",
            Status(400),
            || get("/v1/admin/audit?after=abc", &[&bearer("{ADMIN}")]),
        ),
        case(
            "revoke_id_10kb",
            "revoking a 10 KB token id",
            OneOf(
                &[400, 404],
                "an id that long is malformed (400) or simply unknown (404)",
            ),
            || {
                request(
                    "DELETE",
                    &format!("/v1/admin/tokens/{}", "t".repeat(10 * 1024)),
                    &[&bearer("{ADMIN}")],
                    b"",
                )
            },
        ),
        case(
            "json_deep_nesting",
            "an office registration nested 100,000 arrays deep",
            Status(400),
            || {
                let mut s = "[".repeat(100_000);
                s.push_str(&"]".repeat(100_000));
                office_json(&s)
            },
        ),
        case(
            "json_deep_in_field",
            "service_types nested 10,000 objects deep",
            Status(400),
            || {
                let deep = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
                office_json(&format!(
                    r#"{{"number":"1310000009","name":"x","kind":"provider","service_types":{deep}}}"#
                ))
            },
        ),
        case(
            "json_huge_array",
            "an office with 300,000 service types",
            Status(400),
            || {
                let types = vec!["\"11\""; 300_000].join(",");
                office_json(&format!(
                    r#"{{"number":"1310000009","name":"x","kind":"provider","service_types":[{types}]}}"#
                ))
            },
        ),
        case(
            "json_wrong_types",
            "an office whose fields have the wrong JSON types",
            Status(400),
            || office_json(r#"{"number":1310000009,"name":["x"],"kind":7,"service_types":"11"}"#),
        ),
        case(
            "json_null",
            "the JSON document null as an office",
            Status(400),
            || office_json("null"),
        ),
        case(
            "json_truncated",
            "a JSON document cut in the middle",
            Status(400),
            || office_json(r#"{"number":"1310000009","name":"x","kind":"prov"#),
        ),
        case("json_huge_string", "a 1.5 MB office name", Status(400), || {
            office_json(&format!(
                r#"{{"number":"1310000009","name":"{}","kind":"provider","service_types":["11"]}}"#,
                "名".repeat(500_000)
            ))
        }),
        case(
            "patch_wrong_type",
            "enabled given as a string",
            Status(400),
            || admin_json("PATCH", "/v1/admin/offices/1310000002", br#"{"enabled":"no"}"#),
        ),
        case(
            "patch_unknown_office",
            "disabling an office that does not exist",
            Status(404),
            || admin_json("PATCH", "/v1/admin/offices/9999999999", br#"{"enabled":false}"#),
        ),
    ]
}
