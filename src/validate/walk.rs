//! One CSV file's records, in named steps: refuse a wrong encoding of the whole, then for each record its CSV
//! syntax, its CSV version (which picks the layout), its item count, every item, and the rules across items
//! (rental equipment, dates against the month, 第6表/第7表 totals, image references, the keys the set check
//! links). [`check`] is the entry point.

use crate::csvread::{CsvError, Reader, Record};
use crate::name::FileName;
use crate::sjis;
use crate::spec::{Kind, Layout, Rule, Spec};

use super::annex::Annex;
use super::content::Content;
use super::field::{self, Issue};
use super::file::{Facts, LinkKeys, syntax};
use super::report::{Code, FileReport, Finding};
use super::rules::{Equipment, bind_issue, first_version, hosoku_plan_date};
use super::shapes;
use super::totals::Schedule;

/// Validates the records of a CSV file named `name`, adding its findings to `report`; answers what the set check
/// needs from it.
pub(super) fn check(spec: &Spec, name: &FileName, bytes: &[u8], report: &mut FileReport) -> Facts {
    let mut facts = Facts::default();
    if wrong_encoding(bytes, report) {
        facts.incomplete = true;
        return facts;
    }
    let bytes = shapes::eof_marker(bytes, report);
    let mut walk = Walk::new(spec, name);
    let mut reader = Reader::new(bytes);
    let mut rec = Record::default();
    let mut n: u64 = 0;
    while let Some(res) = reader.read(&mut rec) {
        n += 1;
        walk.record(res, &rec, n, report, &mut facts);
    }
    walk.finish(report, &mut facts);
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

/// A UTF-8 BOM, or a whole file that is UTF-8 rather than MS932: one finding for the file, nothing else read.
fn wrong_encoding(bytes: &[u8], report: &mut FileReport) -> bool {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        report.file_level(
            Code::Encoding,
            "UTF-8 の BOM があります。ファイルは Shift_JIS（MS932）で、BOM なしにしてください。".into(),
            "the file starts with a UTF-8 BOM; files must be Shift_JIS (MS932) without a BOM".into(),
        );
        return true;
    }
    if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
        report.file_level(
            Code::Encoding,
            "ファイルが UTF-8 で書かれています。Shift_JIS（MS932）にしてください。".into(),
            "the file is UTF-8; files must be Shift_JIS (MS932)".into(),
        );
        return true;
    }
    false
}

/// A finding at record `n` (physical line `line`), at an item (number, Japanese name) or for the whole record.
fn at(n: u64, line: u64, item: Option<(u32, &str)>, (code, ja, en): Issue) -> Finding {
    Finding {
        line: Some(n),
        physical_line: Some(line),
        item: item.map(|i| i.0),
        item_name: item.map(|i| i.1.to_string()),
        code,
        message_ja: ja,
        message_en: en,
    }
}

/// What a file's walk knows after its first record: the CSV version and layout, and the rules the layout
/// carries; and the scratch lists reused for every record.
struct Walk<'a> {
    spec: &'a Spec,
    name: &'a FileName,
    /// The first record's CSV version, and its layout when the version is known for this kind and generation.
    version: Option<Vec<u8>>,
    layout: Option<&'a Layout>,
    links: Vec<LinkKeys>,
    equipment: Option<Equipment>,
    content: Option<Content<'a>>,
    schedule: Option<Schedule>,
    annex: Option<Annex>,
    issues: Vec<Issue>,
    content_issues: Vec<((u32, &'a str), Issue)>,
    annex_findings: Vec<Finding>,
}

impl<'a> Walk<'a> {
    fn new(spec: &'a Spec, name: &'a FileName) -> Walk<'a> {
        Walk {
            spec,
            name,
            version: None,
            layout: None,
            links: Vec::new(),
            equipment: None,
            content: None,
            schedule: None,
            annex: None,
            issues: Vec::new(),
            content_issues: Vec::new(),
            annex_findings: Vec::new(),
        }
    }

    /// One record: a header line of item names, a syntax error, a version other than the first's or a wrong
    /// item count each end the record's checks (and make the file's keys incomplete).
    fn record(
        &mut self,
        res: Result<(), CsvError>,
        rec: &Record,
        n: u64,
        report: &mut FileReport,
        facts: &mut Facts,
    ) {
        if n == 1 && res.is_ok() && shapes::is_header(self.spec, self.name.kind, rec) {
            shapes::report_header(report);
            facts.incomplete = true;
            return;
        }
        if let Err(e) = res {
            let (item, ja, en) = syntax(e);
            let named = self
                .layout
                .and_then(|l| l.items.get(item - 1))
                .map(|i| (i.no, i.name_ja.as_str()));
            let f = Finding {
                item: Some(item as u32),
                ..at(n, rec.line, named, (Code::CsvSyntax, ja.into(), en.into()))
            };
            report.push(f);
            facts.incomplete = true;
            return;
        }
        let Some(layout) = self.version_layout(rec, n, report) else {
            facts.incomplete = true;
            return;
        };
        if rec.len() != layout.items.len() {
            facts.incomplete = true;
            report.push(at(n, rec.line, None, self.field_count(rec, layout)));
            return;
        }
        self.items(layout, rec, n, report);
        self.across_items(layout, rec, n, report, facts);
    }

    /// The layout of this record: the first record's version picks it (and the rules it carries); a later
    /// record with another version is refused (`None`), as is every record when the version is unknown.
    fn version_layout(&mut self, rec: &Record, n: u64, report: &mut FileReport) -> Option<&'a Layout> {
        let v = rec.get(0);
        match &self.version {
            Some(first) if first.as_slice() != v => {
                let (shown, first) = (sjis::shown(v, 8), sjis::shown(first, 8));
                report.push(at(
                    n,
                    rec.line,
                    Some((1, "CSVバージョン")),
                    (
                        Code::CsvVersion,
                        format!("CSVバージョン「{shown}」が1件目のレコードの「{first}」と違います。1ファイルに複数のバージョンは混在できません。"),
                        format!("CSV version `{shown}` differs from the first record's `{first}`; one file holds one version"),
                    ),
                ));
                None
            }
            Some(_) => self.layout,
            None => {
                let (l, issue) = first_version(self.spec, self.name, v);
                if let Some(issue) = issue {
                    report.push(at(n, rec.line, Some((1, "CSVバージョン")), issue));
                }
                self.version = Some(v.to_vec());
                report.csv_version = Some(sjis::shown(v, 8));
                if let Some(l) = l {
                    self.links = LinkKeys::for_layout(self.spec, self.name.kind, l);
                    self.equipment = Equipment::of(l);
                    self.content = Content::of(self.name, l);
                    self.schedule = Schedule::of(self.name.kind, l);
                    self.annex = Annex::of(self.name.kind, l);
                }
                self.layout = l;
                l
            }
        }
    }

    fn field_count(&self, rec: &Record, layout: &Layout) -> Issue {
        let (kind, generation, expected) = (self.name.kind, layout.generation.label(), layout.items.len());
        (
            Code::FieldCount,
            format!(
                "項目数が {} です。{kind} {generation}版のレイアウトは {expected} 項目です。",
                rec.len()
            ),
            format!(
                "{} items; the {kind} {generation} layout has {expected} items",
                rec.len()
            ),
        )
    }

    /// Every item against its layout entry, the items that must repeat the file name, and 補足's plan date.
    fn items(&mut self, layout: &'a Layout, rec: &Record, n: u64, report: &mut FileReport) {
        for (i, item) in layout.items.iter().enumerate() {
            let value = rec.get(i);
            field::check(self.spec, item, value, &mut self.issues);
            if let (Some(bind), false) = (item.bind, value.is_empty())
                && let Some(issue) = bind_issue(self.name, bind.target, bind.is_error, value)
            {
                self.issues.push(issue);
            }
            if item.rule == Some(Rule::DateOrZeros) && self.issues.is_empty() {
                self.issues.extend(hosoku_plan_date(self.name, value));
            }
            if self.issues.is_empty() {
                continue;
            }
            for issue in self.issues.drain(..) {
                report.push(at(n, rec.line, Some((item.no, &item.name_ja)), issue));
            }
        }
    }

    /// The rules across a record's items, and what the set check gathers from it.
    fn across_items(
        &mut self,
        layout: &Layout,
        rec: &Record,
        n: u64,
        report: &mut FileReport,
        facts: &mut Facts,
    ) {
        if let Some((item, issue)) = self.equipment.as_ref().and_then(|e| e.issue(layout, rec)) {
            report.push(at(n, rec.line, Some(item), issue));
        }
        if let Some(c) = &self.content {
            c.issues(rec, &mut self.content_issues);
            for (item, issue) in self.content_issues.drain(..) {
                report.push(at(n, rec.line, Some(item), issue));
            }
        }
        if let Some(s) = &mut self.schedule {
            s.record(rec, (n, rec.line), &mut facts.totals);
        }
        if let Some(a) = &mut self.annex {
            a.record(rec, (n, rec.line), &mut facts.totals, &mut self.annex_findings);
            self.annex_findings.drain(..).for_each(|f| report.push(f));
        }
        if self.name.kind == Kind::Upkihon
            && let Some(item) = layout.by_v4_no(62)
        {
            let v = rec.get(item.no as usize - 1);
            if !v.is_empty() {
                facts.image_refs.push((n, rec.line, sjis::shown(v, 300)));
            }
        }
        for l in &mut self.links {
            l.record(rec, (n, rec.line), facts);
        }
    }

    /// After the last record: 第6表's and 第7表's totals of the file.
    fn finish(mut self, report: &mut FileReport, facts: &mut Facts) {
        if let Some(s) = self.schedule {
            s.finish(&mut facts.totals);
        }
        if let Some(a) = self.annex {
            a.finish(&mut facts.totals, &mut self.annex_findings);
            self.annex_findings.drain(..).for_each(|f| report.push(f));
        }
    }
}
