//! The sets: the mix of send units, the templates each sending office sends (built and validated before the
//! clock starts), the offices of a run, and the sequence (a date-time) of each send.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use careplan_relay::generate::{Rng, Scenario, unit_files};
use careplan_relay::name::Party;
use careplan_relay::spec::{Generation, Spec};
use careplan_relay::validate::{InputFile, validate_set};

use crate::Args;

/// The send units and their share of the sets; `true` when a care manager sends them.
pub(crate) const MIX: &[(&str, u64, bool)] = &[
    ("schedule", 60, true),
    ("actual", 30, false),
    ("schedule_delete", 5, true),
    ("actual_delete", 5, false),
];

pub(crate) const PLACEHOLDER_SEQ: &str = "20250101000000";

/// A valid set with a placeholder sequence, which each send replaces.
pub(crate) struct Template {
    files: Vec<(String, Vec<u8>)>,
}

impl Template {
    pub(crate) fn with_sequence(&self, seq: &str) -> Vec<(String, Vec<u8>)> {
        self.files
            .iter()
            .map(|(n, b)| (n.replace(PLACEHOLDER_SEQ, seq), b.clone()))
            .collect()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.files.iter().map(|(_, b)| b.len()).sum()
    }
}

/// Templates of one sending office, per unit of [`MIX`] (empty for units the office does not send).
pub(crate) type OfficeTemplates = Vec<Vec<Template>>;

fn templates_for(
    spec: &Spec,
    sender: &Party,
    recipients: &[Party],
    sends_as_care_manager: bool,
    n: usize,
    rng: &mut Rng,
) -> anyhow::Result<OfficeTemplates> {
    let mut out = Vec::new();
    for &(unit_name, _, cm) in MIX {
        let mut v = Vec::new();
        if cm == sends_as_care_manager {
            let unit = spec
                .units
                .iter()
                .find(|u| u.name == unit_name)
                .with_context(|| format!("unit {unit_name}"))?;
            for _ in 0..n {
                let sc = Scenario {
                    generation: Generation::V4,
                    sender: sender.clone(),
                    recipient: recipients[rng.below(recipients.len() as u64) as usize].clone(),
                    sequence: PLACEHOLDER_SEQ.into(),
                    month: format!("2025{:02}", 1 + rng.below(12)),
                    users: 2 + rng.below(39) as usize,
                    rows_per_user: 2 + rng.below(5) as usize,
                    seed: rng.next_u64(),
                };
                let files: Vec<(String, Vec<u8>)> = unit_files(spec, unit, &sc)
                    .into_iter()
                    .map(|f| (f.name, f.bytes))
                    .collect();
                ensure_valid(spec, &files, &format!("a generated {unit_name} set"))?;
                v.push(Template { files });
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// Fails with the report when the generated `files` (`what`) are not a valid set: a bench must only send sets
/// that the relay has to accept.
pub(crate) fn ensure_valid(spec: &Spec, files: &[(String, Vec<u8>)], what: &str) -> anyhow::Result<()> {
    let input: Vec<InputFile<'_>> = files
        .iter()
        .map(|(name, bytes)| InputFile { name, bytes })
        .collect();
    let checked = validate_set(spec, &input);
    if !checked.report.valid {
        bail!(
            "{what} is invalid: {}",
            serde_json::to_string_pretty(&checked.report)?
        );
    }
    Ok(())
}

/// CPU cost of `validate_set` alone for a set of the mix, in µs: the mean over the templates of each unit,
/// weighted by the unit's share of [`MIX`] (a lower bound of the server's work per set).
pub(crate) fn validation_cost(spec: &Spec, offices: &[Arc<OfficeTemplates>]) -> f64 {
    let mut weighted = 0.0;
    for (unit, &(_, share, _)) in MIX.iter().enumerate() {
        let sets: Vec<&Template> = offices.iter().flat_map(|o| &o[unit]).collect();
        if sets.is_empty() {
            continue;
        }
        let t = Instant::now();
        let rounds = 3;
        for _ in 0..rounds {
            for set in &sets {
                let input: Vec<InputFile<'_>> = set
                    .files
                    .iter()
                    .map(|(name, bytes)| InputFile { name, bytes })
                    .collect();
                std::hint::black_box(validate_set(spec, &input));
            }
        }
        let mean = t.elapsed().as_secs_f64() * 1e6 / (rounds * sets.len()) as f64;
        weighted += mean * share as f64 / 100.0;
    }
    weighted
}

/// Seconds since 1970-01-01 → `YYYYMMDDHHMMSS` (UTC, proleptic Gregorian).
pub(crate) fn date_time(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// 2025-04-01 00:00:00 UTC.
pub(crate) const SEQUENCE_BASE: i64 = 1_743_465_600;

/// The offices of a run and the sets each sends, built before the clock starts. The same arguments give the
/// same offices and the same bytes, whatever receives them (the relay or a --put-url server).
pub(crate) struct Plan {
    pub(crate) cms: Vec<Party>,
    pub(crate) provs: Vec<Party>,
    pub(crate) cm_templates: Vec<Arc<OfficeTemplates>>,
    pub(crate) prov_templates: Vec<Arc<OfficeTemplates>>,
}

impl Plan {
    pub(crate) fn new(args: &Args, clients: usize) -> anyhow::Result<Plan> {
        let spec = Spec::get()?;
        let offices = args.pollers.unwrap_or(clients / 8).max(2);
        let n_cm = (offices / 4).max(1);
        let n_prov = offices - n_cm;
        let cms: Vec<Party> = (0..n_cm)
            .map(|i| Party {
                office: format!("1310{:06}", i + 1),
                service_type: Some("43".into()),
            })
            .collect();
        let provs: Vec<Party> = (0..n_prov)
            .map(|i| Party {
                office: format!("1320{:06}", i + 1),
                service_type: Some("11".into()),
            })
            .collect();
        let mut rng = Rng::new(args.seed);
        let cm_templates = cms
            .iter()
            .map(|p| templates_for(spec, p, &provs, true, args.templates, &mut rng).map(Arc::new))
            .collect::<anyhow::Result<_>>()?;
        let prov_templates = provs
            .iter()
            .map(|p| templates_for(spec, p, &cms, false, args.templates, &mut rng).map(Arc::new))
            .collect::<anyhow::Result<_>>()?;
        Ok(Plan {
            cms,
            provs,
            cm_templates,
            prov_templates,
        })
    }

    pub(crate) fn all_templates(&self) -> Vec<Arc<OfficeTemplates>> {
        self.cm_templates
            .iter()
            .chain(&self.prov_templates)
            .cloned()
            .collect()
    }
}
