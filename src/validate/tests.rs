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
