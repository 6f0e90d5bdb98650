//! `careplan-relay validate` as a vendor runs it: exit codes, the readable report and the JSON report; and
//! `careplan-relay cert` as an operator runs it: issue, list, revoke, and the refusal without a client CA; and
//! `careplan-relay convert --to json`; `careplan-relay check-config`; and `careplan-relay user`: office users of
//! the portal; and `careplan-relay migrate` with PostgreSQL roles of least privilege.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests and test tools panic on failure

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "cli/cert.rs"]
mod cert;
#[path = "cli/check_config.rs"]
mod check_config;
#[path = "cli/convert.rs"]
mod convert;
#[path = "cli/postgres_roles.rs"]
mod postgres_roles;
#[path = "support/mod.rs"]
mod support;
#[path = "cli/user.rs"]
mod user;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

fn validate(args: &[&str], files: &[PathBuf]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .arg("validate")
        .args(args)
        .args(files)
        .output()
        .expect("run careplan-relay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 report"),
    )
}

#[test]
fn valid_set_exits_0() {
    let (code, out) = validate(&[], &fixtures("valid/v4/schedule"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VALID"), "{out}");
}

#[test]
fn invalid_set_exits_1_and_says_where_and_why() {
    let (code, out) = validate(&[], &fixtures("invalid/E_LENGTH-service_count_3_digits"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("E_LENGTH"), "{out}");
    assert!(
        out.contains(":1 No.14 サービス回数"),
        "file:record No.item name: {out}"
    );
    assert!(
        out.contains("exceeds the item length 2") && out.contains("項目長 2"),
        "{out}"
    );
}

#[test]
fn json_report_has_the_api_shape_and_groups_sets_by_sequence() {
    let mut files = fixtures("valid/v4/schedule");
    files.extend(fixtures("invalid/E_CODE-sex_3").into_iter().map(|p| {
        // Same names as the valid set would collide: copy under another sequence.
        let dir = std::env::temp_dir().join(format!("cprelay-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let name = support::with_sequence(&p.file_name().expect("name").to_string_lossy(), "20250328111500");
        let to = dir.join(name);
        std::fs::copy(&p, &to).expect("copy");
        to
    }));
    let (code, out) = validate(&["--json"], &files);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let sets = v["sets"].as_array().expect("sets");
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0]["valid"], true);
    let bad = &sets[1];
    assert_eq!(bad["error"], "invalid");
    let err = bad["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["errors"].as_array().expect("errors").clone())
        .next()
        .expect("one error");
    for key in ["line", "item", "item_name", "code", "message_ja", "message_en"] {
        assert!(err.get(key).is_some(), "{key} in {err}");
    }
    assert_eq!(err["code"], "E_CODE");
    assert_eq!(err["item_name"], "利用者性別");
    assert!(bad["set_errors"].is_array());
}

#[test]
fn unreadable_file_exits_2() {
    let (code, _) = validate(&[], &[PathBuf::from("/nonexistent/UPPLAN.CSV")]);
    assert_eq!(code, 2);
}

#[test]
fn receipt_verify_outside_a_data_directory_creates_no_key_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let receipt = dir.path().join("receipt.json");
    std::fs::write(&receipt, br#"{"payload":"e30","signature":"AA","key_id":"k"}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .current_dir(dir.path())
        .args(["receipt", "verify", "receipt.json"])
        .output()
        .expect("run careplan-relay");
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--keys") && err.contains("/v1/keys"), "{err}");
    assert!(
        !dir.path().join("data").exists(),
        "a data directory (and a private key) was created"
    );
}

#[tokio::test]
async fn a_missing_postgresql_database_is_one_line_that_says_to_create_it() {
    // Only where PostgreSQL answers (required by .ci/run).
    let Some(db) = support::db::postgres().await else {
        return;
    };
    let (base, _) = db.url.rsplit_once('/').unwrap();
    let missing = format!("{base}/relay_missing_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .current_dir(dir.path())
        .env("CAREPLAN_RELAY__DATABASE__URL", &missing)
        .args(["office", "list"])
        .output()
        .expect("run careplan-relay");
    db.cleanup().await;
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("does not exist") && err.contains("createdb"),
        "{err}"
    );
    assert_eq!(err.matches("does not exist").count(), 1, "{err}");
}

#[test]
fn offices_are_disabled_and_enabled_and_tokens_listed_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .expect("run careplan-relay");
        (out.status.success(), String::from_utf8(out.stdout).unwrap())
    };
    let (ok, _) = run(&[
        "office",
        "add",
        "1310000002",
        "--name",
        "訪問介護B",
        "--kind",
        "provider",
        "--service-type",
        "11",
    ]);
    assert!(ok);
    let (ok, issued) = run(&["token", "issue", "--office", "1310000002"]);
    assert!(ok);
    let id = issued
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("token id: ")
        .to_string();
    let secret = issued.lines().last().unwrap().to_string();
    let (ok, listed) = run(&["token", "list", "--office", "1310000002"]);
    assert!(
        ok && listed.contains(&id) && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "a token list never shows the token");
    let (ok, _) = run(&["office", "disable", "1310000002"]);
    assert!(ok);
    let (_, offices) = run(&["office", "list"]);
    assert!(offices.contains("disabled"), "{offices}");
    let (ok, _) = run(&["office", "enable", "1310000002"]);
    assert!(ok);
    let (_, offices) = run(&["office", "list"]);
    assert!(
        offices.contains("enabled") && !offices.contains("disabled"),
        "{offices}"
    );
    let (ok, _) = run(&["office", "disable", "1310000099"]);
    assert!(!ok, "an unregistered office cannot be disabled");
    // An office with a service type outside the code table is refused.
    let (ok, _) = run(&[
        "office",
        "add",
        "1310000003",
        "--name",
        "X",
        "--kind",
        "provider",
        "--service-type",
        "2P",
    ]);
    assert!(!ok);
    // A kind that does not fit its service types is refused: a care-manager office offers 43.
    let (ok, _) = run(&[
        "office",
        "add",
        "1310000003",
        "--name",
        "X",
        "--kind",
        "care_manager",
        "--service-type",
        "11",
    ]);
    assert!(!ok);
    // `office edit`: a new name and service types, under the same rules.
    let (ok, edited) = run(&[
        "office",
        "edit",
        "1310000002",
        "--name",
        "訪問介護B（本店）",
        "--service-type",
        "11",
        "--service-type",
        "12",
    ]);
    assert!(ok, "{edited}");
    let (_, offices) = run(&["office", "list"]);
    assert!(
        offices.contains("訪問介護B（本店）") && offices.contains("11,12"),
        "{offices}"
    );
    let (ok, _) = run(&["office", "edit", "1310000002", "--service-type", "43"]);
    assert!(!ok, "a provider must offer a service other than care management");
}
