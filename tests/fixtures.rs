//! The committed fixtures: each set gets the verdict its directory names, and the bytes are exactly what the
//! catalogue (tests/support/catalog.rs) generates, so fixtures and generator cannot drift apart.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests and test tools panic on failure

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use careplan_relay::spec::Spec;
use careplan_relay::validate::{InputFile, SetReport, validate_set};

fn spec() -> &'static Spec {
    Spec::get().expect("spec")
}

use support::read_set;

fn report(files: &[(String, Vec<u8>)]) -> SetReport {
    let input: Vec<InputFile<'_>> = files
        .iter()
        .map(|(n, b)| InputFile { name: n, bytes: b })
        .collect();
    validate_set(spec(), &input).report
}

fn error_codes(r: &SetReport) -> BTreeSet<&'static str> {
    r.files
        .iter()
        .flat_map(|f| &f.errors)
        .map(|f| f.code.as_str())
        .chain(r.set_errors.iter().map(|f| f.code.as_str()))
        .collect()
}

#[test]
fn committed_fixtures_match_the_catalogue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let catalogue = support::catalog::all(spec());
    for f in &catalogue {
        let mut want: Vec<(String, Vec<u8>)> = f
            .files
            .iter()
            .map(|g| (g.name.clone(), g.bytes.clone()))
            .collect();
        want.sort();
        let got = read_set(&root.join(&f.dir));
        assert!(
            got == want,
            "fixtures/{} differs from the catalogue: run `cargo run --example fixtures`",
            f.dir
        );
    }
    let dirs: usize = ["valid/v3", "valid/v4", "invalid"]
        .iter()
        .map(|d| std::fs::read_dir(root.join(d)).map(|r| r.count()).unwrap_or(0))
        .sum();
    assert_eq!(
        dirs,
        catalogue.len(),
        "every fixture directory comes from the catalogue"
    );
}

#[test]
fn valid_fixtures_are_valid() {
    for f in support::catalog::all(spec())
        .iter()
        .filter(|f| f.dir.starts_with("valid/"))
    {
        let files: Vec<(String, Vec<u8>)> = f
            .files
            .iter()
            .map(|g| (g.name.clone(), g.bytes.clone()))
            .collect();
        let r = report(&files);
        assert!(
            r.valid,
            "{}: {}",
            f.dir,
            serde_json::to_string_pretty(&r).expect("json")
        );
    }
}

/// `invalid/E_CODE-what[+E_OTHER]`: exactly the named error codes, and every finding located and bilingual.
#[test]
fn invalid_fixtures_break_exactly_their_rule() {
    for f in support::catalog::all(spec())
        .iter()
        .filter(|f| f.dir.starts_with("invalid/"))
    {
        let name = f.dir.trim_start_matches("invalid/");
        let (head, extra) = name.split_once('+').map_or((name, ""), |(h, e)| (h, e));
        let mut want: BTreeSet<&str> = [head.split('-').next().expect("code")].into();
        want.extend(extra.split('+').filter(|s| !s.is_empty()));
        let files: Vec<(String, Vec<u8>)> = f
            .files
            .iter()
            .map(|g| (g.name.clone(), g.bytes.clone()))
            .collect();
        let r = report(&files);
        assert!(!r.valid, "{name} must be invalid");
        assert_eq!(
            error_codes(&r),
            want,
            "{name}: {}",
            serde_json::to_string_pretty(&r).expect("json")
        );
        for e in r.files.iter().flat_map(|f| &f.errors) {
            assert!(
                !e.message_ja.is_empty() && !e.message_en.is_empty(),
                "{name}: {e:?}"
            );
            if e.line.is_some() && e.code.as_str() != "E_FIELD_COUNT" {
                assert!(e.item.is_some(), "{name}: a record finding names its item: {e:?}");
            }
        }
    }
}
