//! The field cases of fixtures/external (cases.json): each set gets the verdict the case expects, with the
//! error codes named here (the case's indicative codes, or this relay's more precise ones that spec/README.md
//! documents). The two cases that are about sending order run against the server in tests/api.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod support;

use careplan_relay::spec::Spec;
use careplan_relay::validate::{InputFile, SetReport, validate_set};
use serde_json::Value;
use support::read_set;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/external")
}

fn report(files: &[(String, Vec<u8>)]) -> SetReport {
    let input: Vec<InputFile<'_>> = files
        .iter()
        .map(|(n, b)| InputFile { name: n, bytes: b })
        .collect();
    validate_set(Spec::get().expect("spec"), &input).report
}

fn codes(r: &SetReport, warnings: bool) -> BTreeSet<String> {
    r.files
        .iter()
        .flat_map(|f| if warnings { &f.warnings } else { &f.errors })
        .map(|f| f.code.as_str().to_string())
        .chain(
            r.set_errors
                .iter()
                .chain(&r.set_warnings)
                .filter(|f| f.code.is_warning() == warnings)
                .map(|f| f.code.as_str().to_string()),
        )
        .collect()
}

/// The error codes each invalid case gets here; valid cases get none.
const ERRORS: &[(&str, &[&str])] = &[
    ("excel_leading_zeros_stripped", &["E_FORMAT"]),
    ("excel_scientific_office_number", &["E_LENGTH"]),
    ("fullwidth_digits_insured_number", &["E_FORMAT"]),
    ("trailing_comma_every_record", &["E_FIELD_COUNT"]),
    ("header_row_present", &["E_HEADER_LINE"]),
    ("dos_eof_0x1a", &["E_EOF_MARKER"]),
    ("service_date_outside_target_month", &["E_DATE_MONTH"]),
    ("browser_duplicate_suffix_in_name", &["E_FILENAME"]),
    ("sjis2004_bytes_undefined_in_ms932", &["E_ENCODING"]),
    ("jpeg_trailing_bytes_after_eoi", &["E_IMAGE"]),
];

/// Cases expected valid that are refused here, and why. The family images of `jpeg_trailing_bytes_after_eoi`
/// are markers with no picture (SOI, APP0, EOI: no frame, no scan), which no decoder reads as an image; the
/// bytes after the end marker, the fault the case is about, are accepted
/// (`trailing_bytes_after_a_real_picture_are_accepted`).
const REFUSED_THOUGH_EXPECTED_VALID: &[&str] = &["jpeg_trailing_bytes_after_eoi"];

#[test]
fn every_field_case_gets_its_verdict() {
    let cases: Value =
        serde_json::from_slice(&std::fs::read(root().join("cases.json")).expect("cases.json")).expect("JSON");
    let mut judged = 0;
    for case in cases.as_array().expect("a list") {
        let name = case["case"].as_str().expect("case");
        let dir = root().join(name);
        if !std::fs::read_dir(&dir)
            .expect("dir")
            .any(|e| e.expect("entry").path().is_file())
        {
            continue; // a case of two sets sent in order: tests/api
        }
        let r = report(&read_set(&dir));
        let got = codes(&r, false);
        let want: BTreeSet<String> = ERRORS
            .iter()
            .find(|(c, _)| *c == name)
            .map(|(_, codes)| codes.iter().map(|c| c.to_string()).collect())
            .unwrap_or_default();
        match case["expect"].as_str() {
            Some("valid") if !REFUSED_THOUGH_EXPECTED_VALID.contains(&name) => {
                assert!(r.valid, "{name} should be valid: {got:?}")
            }
            _ => assert!(!r.valid, "{name} should be refused"),
        }
        assert_eq!(got, want, "{name}: error codes");
        judged += 1;
    }
    assert_eq!(judged, 17, "every one-set case is judged");
}

#[test]
fn an_overnight_service_is_not_a_time_fault() {
    let r = report(&read_set(&root().join("overnight_service_2330_0030")));
    let first_record = r
        .files
        .iter()
        .flat_map(|f| &f.warnings)
        .filter(|w| w.code.as_str() == "W_TIME_ORDER")
        .find(|w| w.line == Some(1));
    assert!(
        first_record.is_none(),
        "23:30 to 00:30 crosses midnight: {first_record:?}"
    );
}

#[test]
fn trailing_bytes_after_a_real_picture_are_accepted() {
    let mut files = read_set(&root().join("jpeg_trailing_bytes_after_eoi"));
    let mut with_trailing = 0;
    for (name, bytes) in &mut files {
        if name.ends_with(".jpg") {
            let end = bytes
                .windows(2)
                .position(|w| w == [0xFF, 0xD9])
                .expect("an end marker")
                + 2;
            let trailing = bytes[end..].to_vec();
            with_trailing += usize::from(!trailing.is_empty());
            *bytes = careplan_relay::generate::tiny_jpeg();
            bytes.extend_from_slice(&trailing);
        }
    }
    assert!(with_trailing > 0, "the case has bytes after an end marker");
    let r = report(&files);
    assert!(r.valid, "{:?}", codes(&r, false));
}
