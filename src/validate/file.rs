//! Checks of one CSV file: encoding of the whole, CSV syntax, one CSV version, every record against the
//! layout, and the items that must repeat the file name. Collects the keys the set check needs.

use std::collections::{HashMap, HashSet};

use crate::csvread::{CsvError, Reader, Record};
use crate::name::FileName;
use crate::sjis;
use crate::spec::{Kind, Layout, Rule, Spec};

use super::annex::Annex;
use super::content::Content;
use super::field::{self, Issue};
use super::report::{Code, FileReport, Finding};
use super::rules::{Equipment, bind_issue, first_version, hosoku_plan_date};
use super::shapes;
use super::totals::{Schedule, TotalsFacts};

/// What the set check needs from a file, gathered while its records stream past.
#[derive(Debug, Default)]
pub(super) struct Facts {
    /// Key tuples (joined with 0x1F) per link index where this file is the parent.
    pub parent_keys: HashMap<usize, HashSet<Vec<u8>>>,
    /// Key tuples per link index where this file is the child, with the first record that used each.
    pub child_keys: HashMap<usize, HashMap<Vec<u8>, (u64, u64)>>,
    /// Family-image file names named by UPKIHON records (No.62), with their record and line.
    pub image_refs: Vec<(u64, u64, String)>,
    /// Some records were skipped (syntax, version or item count), so the parent keys are incomplete and
    /// missing parents would only echo those errors.
    pub incomplete: bool,
    /// 第6表's services and 第7表's rows, for the totals of the set.
    pub totals: TotalsFacts,
}

/// Collects one link's key tuples (items joined with 0x1F) as records stream past. A user's records are
/// consecutive, so a key equal to the previous record's is skipped without hashing or allocating.
struct LinkKeys {
    link: usize,
    is_parent: bool,
    items: Vec<usize>,
    last: Vec<u8>,
    scratch: Vec<u8>,
}

impl LinkKeys {
    fn for_layout(spec: &Spec, kind: Kind, layout: &Layout) -> Vec<LinkKeys> {
        let index = |nos: &[u32]| -> Option<Vec<usize>> {
            nos.iter()
                .map(|n| layout.by_v4_no(*n).map(|i| i.no as usize - 1))
                .collect()
        };
        let mut out = Vec::new();
        for (link, l) in spec.links.iter().enumerate() {
            let (is_parent, nos) = match (l.parent == kind, l.child == kind) {
                (true, _) => (true, &l.parent_keys),
                (_, true) => (false, &l.child_keys),
                _ => continue,
            };
            if let Some(items) = index(nos) {
                out.push(LinkKeys {
                    link,
                    is_parent,
                    items,
                    last: Vec::new(),
                    scratch: Vec::new(),
                });
            }
        }
        out
    }

    fn record(&mut self, rec: &Record, at: (u64, u64), facts: &mut Facts) {
        self.scratch.clear();
        for i in &self.items {
            self.scratch.extend_from_slice(rec.get(*i));
            self.scratch.push(0x1F);
        }
        if self.scratch == self.last && !self.last.is_empty() {
            return;
        }
        self.last.clone_from(&self.scratch);
        if self.is_parent {
            facts
                .parent_keys
                .entry(self.link)
                .or_default()
                .insert(self.scratch.clone());
        } else {
            facts
                .child_keys
                .entry(self.link)
                .or_default()
                .entry(self.scratch.clone())
                .or_insert(at);
        }
    }
}

fn syntax(e: CsvError) -> (usize, &'static str, &'static str) {
    match e {
        CsvError::StrayQuote { item } => (
            item,
            "引用符（\"）で始まらない項目の中に \" があります。",
            "a `\"` inside an item that is not quoted",
        ),
        CsvError::AfterQuote { item } => (
            item,
            "閉じ引用符の後にカンマ・改行以外の文字があります。",
            "text after a closing quote",
        ),
        CsvError::BareCr { item } => (
            item,
            "引用符の外に CR だけの改行があります（CRLF か LF にしてください）。",
            "a bare CR outside quotes (use CRLF or LF)",
        ),
        CsvError::Unterminated { item } => (
            item,
            "引用符が閉じられないままファイルが終わっています。",
            "a quoted item is not closed before the end of the file",
        ),
    }
}

/// Validates the records of a CSV file named `name`.
pub(super) fn check(spec: &Spec, name: &FileName, bytes: &[u8], report: &mut FileReport) -> Facts {
    let mut facts = Facts::default();
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        report.file_level(
            Code::Encoding,
            "UTF-8 の BOM があります。ファイルは Shift_JIS（MS932）で、BOM なしにしてください。".into(),
            "the file starts with a UTF-8 BOM; files must be Shift_JIS (MS932) without a BOM".into(),
        );
        facts.incomplete = true;
        return facts;
    }
    if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
        report.file_level(
            Code::Encoding,
            "ファイルが UTF-8 で書かれています。Shift_JIS（MS932）にしてください。".into(),
            "the file is UTF-8; files must be Shift_JIS (MS932)".into(),
        );
        facts.incomplete = true;
        return facts;
    }
    let bytes = shapes::eof_marker(bytes, report);
    let mut reader = Reader::new(bytes);
    let mut rec = Record::default();
    let mut issues: Vec<Issue> = Vec::new();
    let mut layout: Option<&Layout> = None;
    let mut version: Option<Vec<u8>> = None;
    let mut links: Vec<LinkKeys> = Vec::new();
    let mut equipment: Option<Equipment> = None;
    let mut content: Option<Content<'_>> = None;
    let mut content_issues = Vec::new();
    let mut schedule: Option<Schedule> = None;
    let mut annex: Option<Annex> = None;
    let mut annex_findings = Vec::new();
    let mut n: u64 = 0;
    while let Some(res) = reader.read(&mut rec) {
        n += 1;
        let at = |item: Option<(u32, &str)>, (code, ja, en): Issue| Finding {
            line: Some(n),
            physical_line: Some(rec.line),
            item: item.map(|i| i.0),
            item_name: item.map(|i| i.1.to_string()),
            code,
            message_ja: ja,
            message_en: en,
        };
        if n == 1 && res.is_ok() && shapes::is_header(spec, name.kind, &rec) {
            shapes::report_header(report);
            facts.incomplete = true;
            continue;
        }
        if let Err(e) = res {
            let (item, ja, en) = syntax(e);
            let named = layout
                .and_then(|l| l.items.get(item - 1))
                .map(|i| (i.no, i.name_ja.as_str()));
            let f = at(named, (Code::CsvSyntax, ja.into(), en.into()));
            let f = Finding {
                item: Some(item as u32),
                ..f
            };
            report.push(f);
            facts.incomplete = true;
            continue;
        }
        let v = rec.get(0);
        let layout_now = match &version {
            Some(first) if first.as_slice() != v => {
                let (shown, first) = (sjis::shown(v, 8), sjis::shown(first, 8));
                report.push(at(
                    Some((1, "CSVバージョン")),
                    (
                        Code::CsvVersion,
                        format!("CSVバージョン「{shown}」が1件目のレコードの「{first}」と違います。1ファイルに複数のバージョンは混在できません。"),
                        format!("CSV version `{shown}` differs from the first record's `{first}`; one file holds one version"),
                    ),
                ));
                facts.incomplete = true;
                continue;
            }
            Some(_) => layout,
            None => {
                let (l, issue) = first_version(spec, name, v);
                if let Some(issue) = issue {
                    report.push(at(Some((1, "CSVバージョン")), issue));
                }
                version = Some(v.to_vec());
                report.csv_version = Some(sjis::shown(v, 8));
                if let Some(l) = l {
                    links = LinkKeys::for_layout(spec, name.kind, l);
                    equipment = Equipment::of(l);
                    content = Content::of(name, l);
                    schedule = Schedule::of(name.kind, l);
                    annex = Annex::of(name.kind, l);
                }
                layout = l;
                l
            }
        };
        let Some(layout) = layout_now else {
            facts.incomplete = true;
            continue;
        };
        if rec.len() != layout.items.len() {
            facts.incomplete = true;
            report.push(at(
                None,
                (
                    Code::FieldCount,
                    format!(
                        "項目数が {} です。{} {}版のレイアウトは {} 項目です。",
                        rec.len(),
                        name.kind,
                        layout.generation.label(),
                        layout.items.len()
                    ),
                    format!(
                        "{} items; the {} {} layout has {} items",
                        rec.len(),
                        name.kind,
                        layout.generation.label(),
                        layout.items.len()
                    ),
                ),
            ));
            continue;
        }
        for (i, item) in layout.items.iter().enumerate() {
            let value = rec.get(i);
            field::check(spec, item, value, &mut issues);
            if let (Some(bind), false) = (item.bind, value.is_empty())
                && let Some(issue) = bind_issue(name, bind.target, bind.is_error, value)
            {
                issues.push(issue);
            }
            if item.rule == Some(Rule::DateOrZeros) && issues.is_empty() {
                issues.extend(hosoku_plan_date(name, value));
            }
            if !issues.is_empty() {
                for issue in issues.drain(..) {
                    report.push(at(Some((item.no, &item.name_ja)), issue));
                }
            }
        }
        if let Some((item, issue)) = equipment.as_ref().and_then(|e| e.issue(layout, &rec)) {
            report.push(at(Some(item), issue));
        }
        if let Some(c) = &content {
            c.issues(&rec, &mut content_issues);
            for (item, issue) in content_issues.drain(..) {
                report.push(at(Some(item), issue));
            }
        }
        if let Some(s) = &mut schedule {
            s.record(&rec, (n, rec.line), &mut facts.totals);
        }
        if let Some(a) = &mut annex {
            a.record(&rec, (n, rec.line), &mut facts.totals, &mut annex_findings);
            annex_findings.drain(..).for_each(|f| report.push(f));
        }
        if name.kind == Kind::Upkihon
            && let Some(item) = layout.by_v4_no(62)
        {
            let v = rec.get(item.no as usize - 1);
            if !v.is_empty() {
                facts.image_refs.push((n, rec.line, sjis::shown(v, 300)));
            }
        }
        for l in &mut links {
            l.record(&rec, (n, rec.line), &mut facts);
        }
    }
    if let Some(s) = schedule {
        s.finish(&mut facts.totals);
    }
    if let Some(a) = annex {
        a.finish(&mut facts.totals, &mut annex_findings);
        annex_findings.drain(..).for_each(|f| report.push(f));
    }
    report.records = n;
    if n == 0 && !spec.kind(name.kind).empty_ok {
        report.file_level(
            Code::EmptyFile,
            "レコードがありません。".into(),
            format!(
                "the file holds no records; a {} file needs at least one",
                name.kind
            ),
        );
    }
    facts
}
