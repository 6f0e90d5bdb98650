//! File names: traversal, control characters, backslashes, empty and over-long names, another sender, a service
//! type the sender does not hold, an unknown recipient.

use super::Expect::{OneOf, Status};
use super::requests::*;
use super::{Case, case};

/// The invalid set plus one more part named `name` (the extra name decides the answer).
fn plus(name: &str) -> Vec<u8> {
    let mut set = invalid_set();
    set.push((name.to_string(), b"1,2,3\r\n".to_vec()));
    upload_files(set)
}

/// The invalid set with its UPPLAN part's Content-Disposition value replaced.
fn disposition(value: &[u8]) -> Vec<u8> {
    let mut body = multipart(BOUNDARY, &parts(invalid_set()));
    let needle = format!("filename=\"{}\"", upplan_name());
    let at = body
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap();
    body.splice(at..at + needle.len(), value.iter().copied());
    upload_body_to("/v1/submissions", &body)
}

const NAME_400_OR_422: &str = "a name with control characters is either refused before validation (400) or reported as E_FILENAME (422)";

pub fn cases() -> Vec<Case> {
    vec![
        case("traversal", "a part named ../../etc/passwd", Status(422), || {
            plus("../../etc/passwd")
        }),
        case(
            "traversal_in_spec_name",
            "a spec name prefixed by ../",
            Status(422),
            || plus(&format!("../{}", upplan_name())),
        ),
        case("absolute_path", "a part named /etc/passwd", Status(422), || {
            plus("/etc/passwd")
        }),
        case(
            "backslash_traversal",
            "a part named ..\\..\\windows\\win.ini",
            Status(422),
            || plus("..\\..\\windows\\win.ini"),
        ),
        case(
            "nul_in_name",
            "a spec name with a NUL byte before the extension",
            OneOf(&[400, 422], NAME_400_OR_422),
            || {
                let name = upplan_name();
                disposition(format!("filename=\"{}\0.CSV\"", &name[..name.len() - 4]).as_bytes())
            },
        ),
        case(
            "crlf_in_name",
            "a filename with CR LF inside its quotes",
            OneOf(&[400, 422], NAME_400_OR_422),
            || disposition(b"filename=\"UPPLAN\r\nX-Injected: 1.CSV\""),
        ),
        case(
            "control_chars_in_name",
            "a filename with ESC and BEL characters",
            OneOf(&[400, 422], NAME_400_OR_422),
            || plus("UPPLAN_\u{1b}[31m\u{7}.CSV"),
        ),
        case(
            "empty_name",
            "a part with filename=\"\"",
            OneOf(
                &[400, 422],
                "an empty name is either no filename (400) or a name that is not a spec name (422)",
            ),
            || plus(""),
        ),
        case(
            "name_300_bytes",
            "a 300-byte spec-shaped name",
            Status(400),
            || {
                plus(&format!(
                    "UPPLAN_202504_1310000001_43_1310000002_11_{}.CSV",
                    "9".repeat(256)
                ))
            },
        ),
        case(
            "name_256_bytes",
            "a 256-byte name, one over the limit",
            Status(400),
            || plus(&format!("{}.CSV", "U".repeat(252))),
        ),
        case(
            "name_255_bytes",
            "a 255-byte name, at the limit (not a spec name)",
            Status(422),
            || plus(&format!("{}.CSV", "U".repeat(251))),
        ),
        case(
            "another_sender",
            "the care manager sending a set named from the third office",
            Status(403),
            || upload_files(renamed(|n| n.replace("_1310000001_43_", "_1310000003_15_"))),
        ),
        case(
            "foreign_service_type",
            "a sender naming a service type it does not hold (46)",
            Status(403),
            || upload_files(renamed(|n| n.replace("_1310000001_43_", "_1310000001_46_"))),
        ),
        case(
            "unknown_recipient",
            "a set addressed to an office that is not registered",
            Status(422),
            || upload_files(renamed(|n| n.replace("_1310000002_11_", "_1319999999_11_"))),
        ),
        case("japanese_name", "a part named 計画書.CSV", Status(422), || {
            plus("計画書.CSV")
        }),
        case(
            "bidi_override_name",
            "a name with a right-to-left override hiding its extension",
            Status(422),
            || plus("UPPLAN_\u{202e}VSC.exe"),
        ),
        case(
            "raw_traversal_name",
            "a raw upload with ?name=../../etc/passwd",
            Status(422),
            || upload_raw("..%2F..%2Fetc%2Fpasswd", b"1,2,3\r\n"),
        ),
        case(
            "raw_name_10kb",
            "a raw upload with a 10 KB ?name=",
            Status(400),
            || upload_raw(&"N".repeat(10 * 1024), b"1,2,3\r\n"),
        ),
        case(
            "raw_name_nul",
            "a raw upload whose ?name= decodes to a NUL",
            OneOf(&[400, 422], NAME_400_OR_422),
            || upload_raw(&format!("{}%00", upplan_name()), b"1,2,3\r\n"),
        ),
        case(
            "raw_name_bad_percent",
            "a raw upload whose ?name= has a bad percent escape",
            OneOf(
                &[400, 422],
                "the escape is refused (400) or kept literally as a name that is not a spec name (422)",
            ),
            || upload_raw("UPPLAN%ZZ%C3.CSV", b"1,2,3\r\n"),
        ),
    ]
}
