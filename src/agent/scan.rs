//! The outbox folder as sets: files grouped by sequence, each set ready, still settling, or missing members of
//! its send unit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::name::FileName;
use crate::spec::{Kind, Spec};

/// A set found in the outbox folder.
#[derive(Debug, Clone)]
pub struct Found {
    /// The sequence, or the file name for a file whose name does not parse.
    pub key: String,
    pub paths: Vec<PathBuf>,
    pub readiness: Readiness,
}

/// Whether a found set can be taken now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// A file changed less than `settle` ago (or since the last look).
    Settling,
    /// Members of its send unit are missing (their prefixes).
    Incomplete(Vec<&'static str>),
}

fn ignored(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with('~')
        || [".tmp", ".part", ".partial", ".crdownload"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// The missing members of the closest send unit when the kinds are a part of one but not a whole one; empty
/// when they form a unit or can never form one (the validator then says why).
fn missing_members(spec: &Spec, names: &[FileName]) -> Vec<&'static str> {
    let Some(first) = names.first() else {
        return Vec::new();
    };
    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    for n in names {
        *kinds.entry(n.kind).or_default() += 1;
    }
    let units: Vec<_> = spec
        .units
        .iter()
        .filter(|u| u.generations.contains(&first.generation))
        .collect();
    let is_unit = units.iter().any(|u| {
        u.members.iter().all(|m| kinds.get(m) == Some(&1))
            && kinds
                .keys()
                .all(|k| u.members.contains(k) || u.repeated.contains(k))
    });
    if is_unit || kinds.iter().any(|(k, n)| *n > 1 && !k.is_image()) {
        return Vec::new();
    }
    units
        .iter()
        .filter(|u| {
            kinds
                .keys()
                .all(|k| u.members.contains(k) || u.repeated.contains(k))
        })
        .min_by_key(|u| u.members.len())
        .map(|u| {
            u.members
                .iter()
                .filter(|m| !kinds.contains_key(m))
                .map(|k| k.prefix())
                .collect()
        })
        .unwrap_or_default()
}

/// Lists the sets in `outbox`. `seen` holds each file's (size, modified) from the previous look; a file that
/// differs from it, or was modified less than `settle` ago, is still settling.
pub fn scan(
    spec: &Spec,
    outbox: &Path,
    settle: Duration,
    incomplete: Duration,
    seen: &mut BTreeMap<PathBuf, (u64, SystemTime)>,
) -> anyhow::Result<Vec<Found>> {
    let now = SystemTime::now();
    // (path, parsed name, modified, still settling) by sequence
    type Seen = (PathBuf, Option<FileName>, SystemTime, bool);
    let mut groups: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    let mut current = BTreeMap::new();
    for e in std::fs::read_dir(outbox).with_context(|| format!("reading {}", outbox.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let meta = match e.metadata() {
            Ok(m) if m.is_file() && !ignored(&name) => m,
            _ => continue,
        };
        let modified = meta.modified().unwrap_or(now);
        let sig = (meta.len(), modified);
        let path = e.path();
        let changed = seen.get(&path).is_some_and(|s| *s != sig);
        let young = now.duration_since(modified).unwrap_or_default() < settle;
        current.insert(path.clone(), sig);
        let parsed = FileName::parse(spec, &name).ok();
        let key = parsed
            .as_ref()
            .map_or_else(|| name.clone(), |n| n.sequence.clone());
        groups
            .entry(key)
            .or_default()
            .push((path, parsed, modified, changed || young));
    }
    *seen = current;
    Ok(groups
        .into_iter()
        .map(|(key, files)| {
            let names: Vec<FileName> = files.iter().filter_map(|f| f.1.clone()).collect();
            let newest = files.iter().map(|f| f.2).max().unwrap_or(now);
            let missing = missing_members(spec, &names);
            let readiness = if files.iter().any(|f| f.3) {
                Readiness::Settling
            } else if !missing.is_empty() && now.duration_since(newest).unwrap_or_default() < incomplete {
                Readiness::Incomplete(missing)
            } else {
                Readiness::Ready
            };
            Found {
                key,
                paths: files.into_iter().map(|f| f.0).collect(),
                readiness,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &Spec, kinds: &[&str]) -> Vec<FileName> {
        kinds
            .iter()
            .map(|k| {
                let n = format!("{k}_202504_1310000001_43_1310000002_11_20250328101500.CSV");
                FileName::parse(spec, &n).unwrap_or_else(|e| panic!("{n}: {e:?}"))
            })
            .collect()
    }

    #[test]
    fn a_part_of_a_send_unit_waits_for_the_rest() {
        let spec = Spec::get().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            missing_members(spec, &names(spec, &["UPPLAN"])),
            vec!["UPSIKYU", "UPHOSOKU"]
        );
        assert!(missing_members(spec, &names(spec, &["UPPLAN", "UPSIKYU", "UPHOSOKU"])).is_empty());
        assert!(missing_members(spec, &names(spec, &["UPJSK"])).is_empty());
        // Never a unit: nothing to wait for, the validator says why.
        assert!(missing_members(spec, &names(spec, &["UPJSK", "UPPLAN"])).is_empty());
    }

    #[test]
    fn temporary_and_hidden_files_are_not_part_of_a_set() {
        assert!(ignored(".careplan-relay-agent.json"));
        assert!(ignored("UPPLAN_X.CSV.tmp"));
        assert!(ignored("~$UPPLAN.CSV"));
        assert!(!ignored(
            "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV"
        ));
    }
}
