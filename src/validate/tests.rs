use super::*;
use crate::generate::{Scenario, unit_files};
use crate::spec::Generation;

fn spec() -> &'static Spec {
    Spec::get().expect("spec loads")
}

fn run(files: &[crate::generate::GenFile]) -> SetReport {
    let input: Vec<InputFile<'_>> = files
        .iter()
        .map(|f| InputFile {
            name: &f.name,
            bytes: &f.bytes,
        })
        .collect();
    validate_set(spec(), &input).report
}

fn codes(r: &SetReport) -> Vec<&'static str> {
    let mut v: Vec<&str> = r
        .files
        .iter()
        .flat_map(|f| f.errors.iter().chain(&f.warnings))
        .map(|f| f.code.as_str())
        .chain(
            r.set_errors
                .iter()
                .chain(&r.set_warnings)
                .map(|f| f.code.as_str()),
        )
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn every_generated_unit_is_valid_and_clean() {
    for g in [Generation::V3, Generation::V4] {
        for unit in spec().units.iter().filter(|u| u.generations.contains(&g)) {
            let files = unit_files(spec(), unit, &Scenario::small(g));
            let r = run(&files);
            assert!(
                r.valid,
                "{} {}: {}",
                unit.name,
                g.label(),
                serde_json::to_string_pretty(&r).unwrap()
            );
            assert!(
                codes(&r).is_empty(),
                "{} {}: {:?}",
                unit.name,
                g.label(),
                codes(&r)
            );
        }
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn scenario(g: Generation, users: usize, rows: usize, seed: u64, month: u32, rental: bool) -> Scenario {
        let mut sc = Scenario::small(g);
        sc.users = users;
        sc.rows_per_user = rows;
        sc.seed = seed;
        sc.month = format!("2025{month:02}");
        if rental && g == Generation::V4 {
            sc.recipient.service_type = Some("17".into());
        }
        sc
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any generated set of any unit is valid: the generator, the writer and the validator agree.
        #[test]
        fn generated_sets_round_trip(
            v4 in any::<bool>(), unit in 0usize..12, users in 1usize..6, rows in 1usize..5,
            seed in any::<u64>(), month in 1u32..13, rental in any::<bool>(),
        ) {
            let g = if v4 { Generation::V4 } else { Generation::V3 };
            let units: Vec<_> = spec().units.iter().filter(|u| u.generations.contains(&g)).collect();
            let unit = units[unit % units.len()];
            let files = unit_files(spec(), unit, &scenario(g, users, rows, seed, month, rental));
            let r = run(&files);
            prop_assert!(r.valid, "{}", serde_json::to_string(&r).unwrap());
        }

        /// No bytes under any name panic the validator, and every finding is serialisable.
        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..600), kind in 0usize..6) {
            let names = [
                "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV",
                "UPSIKYU_202504_1310000001_43_1310000002_11_20250328101500.CSV",
                "UPHOSOKU_000000_1310000001_43_1310000002_11_20250328101500.CSV",
                "UPKIHON_1310000001_46_1310000002_A1_20250328101500.CSV",
                "UPKIHON_IMAGE_1310000001_46_1310000002_A1_20250328101500_0001.jpg",
                "UPJSK_202504_1310000002_1310000001_20250328101500.CSV",
            ];
            let files = [InputFile { name: names[kind], bytes: &body }];
            let r = validate_set(spec(), &files).report;
            prop_assert!(serde_json::to_string(&r).is_ok());
        }

        /// Mutating one byte of a valid file never panics and never yields a report without a finding
        /// when the set is invalid.
        #[test]
        fn mutated_files_are_judged(seed in any::<u64>(), at in any::<usize>(), byte in any::<u8>()) {
            let unit = spec().units.iter().find(|u| u.name == "schedule").unwrap();
            let mut files = unit_files(spec(), unit, &scenario(Generation::V4, 2, 2, seed, 4, false));
            let f = &mut files[0];
            let i = at % f.bytes.len();
            f.bytes[i] = byte;
            let r = run(&files);
            if !r.valid {
                prop_assert!(!codes(&r).is_empty());
            }
        }
    }
}

#[test]
fn a_report_lists_at_most_the_set_cap_and_counts_the_rest_by_code() {
    // 40 files of 3,000 broken lines each: 120,000 findings, of which each file keeps 1,000 and the set 1,000.
    let mut body = Vec::new();
    for _ in 0..3000 {
        body.extend_from_slice(b"x,y\r\n");
    }
    let files: Vec<crate::generate::GenFile> = (0..40)
        .map(|i| crate::generate::GenFile {
            name: format!("UPPLAN_202504_1310000001_43_1310000002_11_202503281{i:05}.CSV"),
            bytes: body.clone(),
        })
        .collect();
    let r = run(&files);
    assert!(!r.valid);
    let listed: usize = r
        .files
        .iter()
        .map(|f| f.errors.len() + f.warnings.len())
        .sum::<usize>()
        + r.set_errors.len()
        + r.set_warnings.len();
    assert!(listed <= report::MAX_FINDINGS_PER_SET, "{listed} findings listed");
    let omitted = r.omitted.as_ref().expect("a closing summary");
    assert!(omitted.count >= 100_000, "{}", omitted.count);
    assert_eq!(omitted.by_code.values().sum::<u64>(), omitted.count);
    assert!(omitted.message_en.contains(&omitted.count.to_string()));
    // Files whose findings were all left out are still invalid.
    assert!(r.files.iter().all(|f| !f.is_valid()));
    let size = serde_json::to_vec(&r).expect("json").len();
    assert!(size < 1_000_000, "{size} bytes");
}

#[test]
fn every_file_keeps_its_first_finding_when_others_fill_the_cap() {
    // Found by fuzzing: a file named wrongly after files that filled the cap lost its E_FILENAME to the summary.
    let mut body = Vec::new();
    for _ in 0..3000 {
        body.extend_from_slice(b"x,y\r\n");
    }
    let mut files: Vec<crate::generate::GenFile> = (0..3)
        .map(|i| crate::generate::GenFile {
            name: format!("UPPLAN_202504_1310000001_43_1310000002_11_202503281{i:05}.CSV"),
            bytes: body.clone(),
        })
        .collect();
    files.push(crate::generate::GenFile {
        name: "UPHOSOKU_000000_1310000001_1310000002_2025032810\u{1}\u{1f}00.CSV".into(),
        bytes: b"x".to_vec(),
    });
    let r = run(&files);
    let last = r.files.last().expect("four files");
    assert!(
        last.errors.iter().any(|f| f.code == Code::FileName),
        "{:?}",
        last.errors
    );
    assert!(
        r.files.iter().all(|f| !f.errors.is_empty()),
        "every file lists an error"
    );
    let listed: usize = r
        .files
        .iter()
        .map(|f| f.errors.len() + f.warnings.len())
        .sum::<usize>()
        + r.set_errors.len()
        + r.set_warnings.len();
    assert!(listed <= report::MAX_FINDINGS_PER_SET, "{listed} findings listed");
}

/// A change to a generated set: kind, record index, v4 item number, new value.
type Change<'a> = (Kind, usize, u32, &'a str);

/// The files of `unit` for the small v4 scenario with item `v4_no` of record `rec` of `kind` set to `value`.
fn changed(unit: &str, changes: &[Change<'_>]) -> Vec<crate::generate::GenFile> {
    let sc = Scenario::small(Generation::V4);
    let unit = spec()
        .units
        .iter()
        .find(|u| u.name == unit && u.generations.contains(&Generation::V4));
    let mut files = unit_files(spec(), unit.expect("unit"), &sc);
    for f in &mut files {
        let Ok(name) = crate::name::FileName::parse(spec(), &f.name) else {
            continue;
        };
        let Some(layout) = spec().layout(name.kind, Generation::V4) else {
            continue;
        };
        if !changes.iter().any(|c| c.0 == name.kind) {
            continue;
        }
        let month = name.month.clone().unwrap_or_default();
        let of_month = Scenario {
            month: Some(month.clone())
                .filter(|m| m != "000000")
                .unwrap_or(sc.month.clone()),
            ..sc.clone()
        };
        let mut records = crate::generate::records(spec(), name.kind, &of_month, &month);
        for (_, rec, no, value) in changes.iter().filter(|c| c.0 == name.kind) {
            let i = layout.by_v4_no(*no).expect("item").no as usize - 1;
            records[*rec][i] = value.to_string();
        }
        f.bytes.clear();
        for r in &records {
            crate::generate::write_record(&mut f.bytes, layout, r);
        }
    }
    files
}

/// The codes and item numbers of every finding of a report.
fn findings(r: &SetReport) -> Vec<(&'static str, Option<u32>, String)> {
    r.files
        .iter()
        .flat_map(|f| f.errors.iter().chain(&f.warnings))
        .map(|f| (f.code.as_str(), f.item, f.message_en.clone()))
        .collect()
}

#[test]
fn dates_outside_the_month_are_errors_and_doubtful_orders_warnings() {
    let cases: &[(&str, &[Change<'_>], &str, u32)] = &[
        (
            "schedule",
            &[(Kind::Upplan, 0, 10, "20250501")],
            "E_DATE_MONTH",
            10,
        ),
        (
            "schedule",
            &[(Kind::Upplan, 0, 10, "20250331")],
            "E_DATE_MONTH",
            10,
        ),
        (
            "schedule",
            &[(Kind::Upplan, 0, 11, "0000000000000000000000000000001")],
            "E_DATE_MONTH",
            11,
        ),
        ("schedule", &[(Kind::Upplan, 0, 4, "20250329")], "W_DATE_ORDER", 4),
        (
            "schedule",
            &[(Kind::Upplan, 0, 12, "1400"), (Kind::Upplan, 0, 13, "1000")],
            "W_TIME_ORDER",
            13,
        ),
        ("schedule", &[(Kind::Upplan, 0, 12, "9999")], "W_TIME_ORDER", 13),
        ("schedule", &[(Kind::Upplan, 0, 13, "0800")], "W_TIME_ORDER", 13),
        (
            "schedule",
            &[(Kind::Uphosoku, 0, 14, "20250501")],
            "W_DATE_ORDER",
            14,
        ),
        (
            "schedule",
            &[(Kind::Uphosoku, 0, 15, "20250331")],
            "W_DATE_ORDER",
            14,
        ),
        (
            "plan",
            &[
                (Kind::Up1kyo, 0, 19, "20260401"),
                (Kind::Up1kyo, 0, 20, "20250331"),
            ],
            "W_DATE_ORDER",
            20,
        ),
        ("plan", &[(Kind::Up1kyo, 1, 15, "20250320")], "W_DATE_ORDER", 14),
        ("plan", &[(Kind::Up1kyo, 0, 4, "20250401")], "W_DATE_ORDER", 4),
        ("actual", &[(Kind::Upjsk, 0, 4, "20250228")], "W_DATE_ORDER", 4),
        ("actual", &[(Kind::Upjsk, 0, 10, "20250329")], "W_DATE_ORDER", 10),
    ];
    for (unit, change, code, item) in cases {
        let r = run(&changed(unit, change));
        let got = findings(&r);
        assert!(
            got.iter().any(|(c, i, _)| c == code && *i == Some(*item)),
            "{unit} {change:?}: want {code} on No.{item}, got {got:?}"
        );
        assert_eq!(r.valid, !code.starts_with("E_"), "{unit} {change:?}: {got:?}");
        assert!(
            got.iter().all(|(c, ..)| c == code),
            "{unit} {change:?}: only {code}: {got:?}"
        );
    }
}

#[test]
fn a_service_across_midnight_is_no_fault() {
    let r = run(&changed(
        "schedule",
        &[(Kind::Upplan, 0, 12, "2330"), (Kind::Upplan, 0, 13, "0030")],
    ));
    assert!(r.valid && findings(&r).is_empty(), "{:?}", findings(&r));
    let r = run(&changed(
        "schedule",
        &[(Kind::Upplan, 0, 12, "2200"), (Kind::Upplan, 0, 13, "2400")],
    ));
    assert!(findings(&r).is_empty(), "{:?}", findings(&r));
}

#[test]
fn table_7_figures_that_do_not_add_up_are_warned() {
    // Scenario::small: 2 persons × 3 services; each person's 第7表 is 3 detail rows, 11AAAA and 999999.
    let cases: &[(&[Change<'_>], u32, &str)] = &[
        // 回数／日数 of the first service differs from 第6表 (and its amount no longer adds up).
        (
            &[(Kind::Upsikyu, 0, 16, "7")],
            16,
            "number of this service in table 6",
        ),
        (&[(Kind::Upsikyu, 0, 17, "1")], 17, "is not (discounted) units"),
        (
            &[(Kind::Upsikyu, 3, 17, "1")],
            17,
            "is not the sum of the type's rows",
        ),
        (&[(Kind::Upsikyu, 3, 9, "111009")], 9, "no subtotal row"),
        (&[(Kind::Upsikyu, 4, 9, "111009")], 9, "no grand-total row"),
        (&[(Kind::Upplan, 2, 15, "111007")], 15, "in no row of table 7"),
    ];
    for (change, item, text) in cases {
        let r = run(&changed("schedule", change));
        let got = findings(&r);
        assert!(r.valid, "{change:?}: {got:?}");
        assert!(
            got.iter()
                .any(|(c, i, m)| *c == "W_TOTALS" && *i == Some(*item) && m.contains(text)),
            "{change:?}: want W_TOTALS on No.{item} ({text}), got {got:?}"
        );
    }
}

#[test]
fn table_7_arithmetic_on_oversized_values_does_not_overflow() {
    // Found by fuzzing: units × count overflowed i64 while the message was written. Oversized values are
    // refused (E_LENGTH); the arithmetic that judges them must not panic or wrap.
    let huge = "9000000000000000000";
    let r = run(&changed(
        "schedule",
        &[
            (Kind::Upsikyu, 0, 16, huge),
            (Kind::Upsikyu, 0, 17, huge),
            (Kind::Upsikyu, 1, 17, huge),
            (Kind::Upsikyu, 2, 17, huge),
        ],
    ));
    assert!(!r.valid);
    assert!(
        findings(&r)
            .iter()
            .any(|(c, _, m)| *c == "W_TOTALS" && m.contains("= 54000000000000000000")),
        "the product is shown whole: {:?}",
        findings(&r)
    );
}
