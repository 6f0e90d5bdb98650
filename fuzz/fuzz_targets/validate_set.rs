//! Fuzzes `validate::validate_set` on 1–4 files decoded from the input (see `src/lib.rs`), then checks
//! the report's invariants and serializes it with serde_json. Names are mostly realistic and valid so
//! that the fuzzer spends its time in the encoding, CSV, record, field and set checks.
#![no_main]

use careplan_relay::name::FileName;
use careplan_relay::spec::Spec;
use careplan_relay::validate::{self, Code, InputFile, report::MAX_FINDINGS_PER_FILE};
use careplan_relay_fuzz::{decode, spec};
use libfuzzer_sys::fuzz_target;

/// A parsed name must render back to exactly the stem it was parsed from (no lost or extra segments).
fn check_name_roundtrip(spec: &Spec, name: &str, parsed: &FileName) {
    let mut s = parsed.kind.prefix().to_string();
    if let Some(m) = &parsed.month {
        s.push('_');
        s.push_str(m);
    }
    for p in [&parsed.sender, &parsed.recipient] {
        s.push('_');
        s.push_str(&p.office);
        if let Some(t) = &p.service_type {
            s.push('_');
            s.push_str(t);
            assert!(
                spec.service_type(t).is_some(),
                "{name}: unknown service type {t} accepted"
            );
        }
    }
    s.push('_');
    s.push_str(&parsed.sequence);
    if let Some(b) = &parsed.branch {
        s.push('_');
        s.push_str(b);
    }
    let (stem, _ext) = name.rsplit_once('.').expect("a parsed name has an extension");
    assert_eq!(
        stem, s,
        "name `{name}` parsed into parts that do not render back to its stem"
    );
    assert_eq!(
        parsed.month.is_some(),
        spec.kind(parsed.kind).has_month,
        "{name}: month segment"
    );
    assert_eq!(
        parsed.branch.is_some(),
        parsed.kind.is_image(),
        "{name}: branch segment"
    );
}

fuzz_target!(|data: &[u8]| {
    let spec = spec();
    let decoded = decode(data);
    let inputs: Vec<InputFile<'_>> = decoded
        .iter()
        .map(|(n, b)| InputFile { name: n, bytes: b })
        .collect();
    let v = validate::validate_set(spec, &inputs);
    let r = &v.report;

    assert_eq!(r.files.len(), inputs.len());
    assert_eq!(v.names.len(), inputs.len());
    for ((fr, parsed), input) in r.files.iter().zip(&v.names).zip(&inputs) {
        assert_eq!(fr.name, input.name);
        assert_eq!(fr.bytes, input.bytes.len() as u64);
        assert_eq!(fr.kind, parsed.as_ref().map(|n| n.kind));
        match parsed {
            Some(p) => check_name_roundtrip(spec, input.name, p),
            None => {
                assert_eq!(fr.records, 0);
                assert!(fr.errors.iter().any(|f| f.code == Code::FileName));
            }
        }
        assert!(fr.errors.len() <= MAX_FINDINGS_PER_FILE);
        assert!(fr.warnings.len() <= MAX_FINDINGS_PER_FILE);
        assert!(fr.errors.iter().all(|f| !f.code.is_warning()));
        assert!(fr.warnings.iter().all(|f| f.code.is_warning()));
        for f in fr.errors.iter().chain(&fr.warnings) {
            // A record starts on a physical line at or after its record number.
            if let (Some(line), Some(phys)) = (f.line, f.physical_line) {
                assert!(line >= 1 && phys >= line, "{f:?}");
                assert!(
                    line <= fr.records.max(1),
                    "finding on record {line} of {}",
                    fr.records
                );
            }
            assert!(!f.message_ja.is_empty() && !f.message_en.is_empty());
        }
    }
    let all_clean = r.set_errors.is_empty() && r.files.iter().all(|f| f.errors.is_empty());
    assert_eq!(r.valid, all_clean);
    assert_eq!(r.error.is_some(), !r.valid);
    assert!(r.set_errors.iter().all(|f| !f.code.is_warning()));
    assert!(r.set_warnings.iter().all(|f| f.code.is_warning()));

    let json = serde_json::to_string(r).expect("report serializes");
    let back: serde_json::Value = serde_json::from_str(&json).expect("report JSON parses");
    assert_eq!(back["valid"], serde_json::Value::Bool(r.valid));

    // Grouping by sequence puts every file in exactly one group.
    let names: Vec<&str> = inputs.iter().map(|f| f.name).collect();
    let mut seen: Vec<usize> = validate::group_by_sequence(spec, &names)
        .into_iter()
        .flatten()
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..names.len()).collect::<Vec<_>>());
});
