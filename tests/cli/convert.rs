//! `careplan-relay convert --to json` as a vendor runs it: typed records of any spec-named file, and exit 1
//! with the file and record named when one cannot be read.

use std::process::Command;

use super::fixtures;

fn convert(files: &[std::path::PathBuf]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .args(["convert", "--to", "json"])
        .args(files)
        .output()
        .expect("run careplan-relay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 JSON"),
        String::from_utf8(out.stderr).expect("UTF-8 messages"),
    )
}

#[test]
fn a_care_plan_set_becomes_typed_json() {
    let files = fixtures("valid/v4/plan");
    let (code, out, err) = convert(&files);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(doc["format"], careplan_relay::records::FORMAT);
    assert_eq!(doc["files"].as_array().expect("files").len(), files.len());
    let first = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["kind"] == "UP1KYO")
        .expect("UP1KYO");
    assert_eq!(first["csv_version"], "202407");
    let items = &first["records"][0]["items"];
    assert_eq!(items["plan_created_or_changed_date"], "2025-03-15");
    assert!(items["insured_number"].is_string());
}

#[test]
fn an_unreadable_file_is_named_with_its_record() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir
        .path()
        .join("UPJSK_202503_1310000001_43_1310000002_11_20250328101500.CSV");
    std::fs::write(&path, b"202407,\"never closed\r\n").expect("write");
    let (code, out, err) = convert(&[path]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("UPJSK_202503") && err.contains("record 1"), "{err}");
    assert!(err.contains("レコード"), "Japanese first: {err}");
}
