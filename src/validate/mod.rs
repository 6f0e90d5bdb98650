//! Validation of files and sets against the standard: names, bytes, records, composition.
//!
//! `validate_set` is the whole judgement on one set; `group_by_sequence` forms sets from loose files.
//! Nothing here performs I/O: callers hand in names and bytes and get a `SetReport`.

mod annex;
mod content;
mod field;
mod file;
mod image;
pub mod report;
mod rules;
mod set;
mod shapes;
mod totals;
mod walk;

use std::collections::BTreeMap;

pub use report::{Code, FileReport, Finding, Omitted, SetFinding, SetReport};

use crate::name::FileName;
use crate::spec::{Kind, Spec};

/// One file as received: its spec name and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct InputFile<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// A set's report together with the parsed names (`None` where a name was refused).
#[derive(Debug)]
pub struct Validated {
    pub report: SetReport,
    pub names: Vec<Option<FileName>>,
}

/// Groups file names into sets by their 14-digit sequence; names that do not parse form one group each.
pub fn group_by_sequence(spec: &Spec, names: &[&str]) -> Vec<Vec<usize>> {
    let mut by_seq: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut loose = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match FileName::parse(spec, n) {
            Ok(f) => by_seq.entry(f.sequence).or_default().push(i),
            Err(_) => loose.push(vec![i]),
        }
    }
    by_seq.into_values().chain(loose).collect()
}

/// The send unit formed by the kinds of `names` (their generation is the first name's), if they form one.
pub fn send_unit<'s>(spec: &'s Spec, names: &[FileName]) -> Option<&'s crate::spec::Unit> {
    let first = names.first()?;
    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    for n in names {
        *kinds.entry(n.kind).or_default() += 1;
    }
    set::find_unit(spec, first.generation, &kinds)
}

/// Validates one set: every file, then the set as a whole. All findings are reported, not only the first.
pub fn validate_set(spec: &Spec, files: &[InputFile<'_>]) -> Validated {
    let mut report = SetReport::new(files.len());
    let mut names = Vec::with_capacity(files.len());
    for f in files {
        let mut fr = FileReport::new(f.name, f.bytes.len() as u64);
        match FileName::parse(spec, f.name) {
            Ok(n) => {
                fr.kind = Some(n.kind);
                names.push(Some(n));
            }
            Err(e) => {
                fr.file_level(Code::FileName, e.message_ja, e.message_en);
                names.push(None);
            }
        }
        report.files.push(fr);
    }
    if files.is_empty() {
        report.set_finding(
            Code::SetComposition,
            "ファイルがありません。".into(),
            "the set holds no files".into(),
        );
    }
    let parsed: Vec<(usize, &FileName)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((i, n.as_ref()?)))
        .collect();
    let only_names: Vec<&FileName> = parsed.iter().map(|(_, n)| *n).collect();
    set::check_names(spec, &only_names, &mut report);
    if let Some(first) = only_names.first() {
        report.sequence = Some(first.sequence.clone());
        report.sender = Some(first.sender.to_string());
        report.recipient = Some(first.recipient.to_string());
        report.month = only_names
            .iter()
            .filter_map(|n| n.month.clone())
            .find(|m| m != "000000");
    }
    let mut facts = Vec::with_capacity(parsed.len());
    for (i, name) in &parsed {
        let fr = &mut report.files[*i];
        if name.kind == Kind::UpkihonImage {
            if let Err((ja, en)) = image::check(files[*i].bytes) {
                fr.file_level(Code::Image, ja, en);
            }
            facts.push(Default::default());
            continue;
        }
        facts.push(walk::check(spec, name, files[*i].bytes, fr));
    }
    set::check_links(spec, &parsed, &facts, &mut report);
    set::check_totals(&parsed, &facts, &mut report);
    report.finish();
    Validated { report, names }
}

impl utoipa::PartialSchema for Code {
    /// A string schema listing every code, described by `codes.md`.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(include_str!("codes.md").trim_end()))
            .enum_values(Some(Code::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for Code {}

#[cfg(test)]
mod tests;
