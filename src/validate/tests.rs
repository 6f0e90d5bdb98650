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
