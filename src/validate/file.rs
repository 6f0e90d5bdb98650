//! Checks of one CSV file: encoding of the whole, CSV syntax, one CSV version, every record against the
//! layout, and the items that must repeat the file name. Collects the keys the set check needs.

use std::collections::{HashMap, HashSet};

use crate::csvread::{CsvError, Reader, Record};
use crate::name::FileName;
use crate::sjis::ItemDecoder;
use crate::spec::{BindTarget, Generation, Kind, Layout, Rule, Spec};

use super::field::{self, Issue};
use super::report::{Code, FileReport, Finding};

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
}

fn key(rec: &Record, layout: &Layout, v4_nos: &[u32]) -> Option<Vec<u8>> {
    let mut k = Vec::with_capacity(32);
    for n in v4_nos {
        let item = layout.by_v4_no(*n)?;
        k.extend_from_slice(rec.get(item.no as usize - 1));
        k.push(0x1F);
    }
    Some(k)
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
    let links: Vec<(usize, bool)> = spec
        .links
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            (l.parent == name.kind)
                .then_some((i, true))
                .or((l.child == name.kind).then_some((i, false)))
        })
        .collect();

    let mut reader = Reader::new(bytes);
    let mut rec = Record::default();
    let mut dec = ItemDecoder::default();
    let mut issues: Vec<Issue> = Vec::new();
    let mut layout: Option<&Layout> = None;
    let mut version: Option<Vec<u8>> = None;
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
                let (shown, first) = (
                    String::from_utf8_lossy(&v[..v.len().min(8)]),
                    String::from_utf8_lossy(first),
                );
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
                report.csv_version = Some(String::from_utf8_lossy(v).into_owned());
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
            field::check(spec, item, value, &mut dec, &mut issues);
            if let (Some(bind), false) = (item.bind, value.is_empty()) {
                if let Some(issue) = bind_issue(name, bind.target, bind.is_error, value) {
                    issues.push(issue);
                }
            }
            if item.rule == Some(Rule::DateOrZeros) && issues.is_empty() {
                issues.extend(hosoku_plan_date(name, value));
            }
            for issue in issues.drain(..) {
                report.push(at(Some((item.no, &item.name_ja)), issue));
            }
        }
        if let Some((item, issue)) = equipment_issue(layout, &rec) {
            report.push(at(Some(item), issue));
        }
        if name.kind == Kind::Upkihon {
            if let Some(item) = layout.by_v4_no(62) {
                let v = rec.get(item.no as usize - 1);
                if !v.is_empty() {
                    facts
                        .image_refs
                        .push((n, rec.line, String::from_utf8_lossy(v).into_owned()));
                }
            }
        }
        for &(li, is_parent) in &links {
            let link = &spec.links[li];
            if is_parent {
                if let Some(k) = key(&rec, layout, &link.parent_keys) {
                    facts.parent_keys.entry(li).or_default().insert(k);
                }
            } else if let Some(k) = key(&rec, layout, &link.child_keys) {
                facts
                    .child_keys
                    .entry(li)
                    .or_default()
                    .entry(k)
                    .or_insert((n, rec.line));
            }
        }
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

/// Chooses the layout from the first record's CSV version, which must fit the shape of the file name.
fn first_version<'s>(spec: &'s Spec, name: &FileName, v: &[u8]) -> (Option<&'s Layout>, Option<Issue>) {
    let s = String::from_utf8_lossy(&v[..v.len().min(8)]).into_owned();
    let Some(version) = std::str::from_utf8(v).ok().and_then(|v| spec.version(v)) else {
        let list = spec.version_list();
        let issue = (
            Code::CsvVersion,
            format!("CSVバージョン「{s}」は受け付けていません。使える値: {list}"),
            format!("CSV version `{s}` is not accepted; accepted values: {list}"),
        );
        return (spec.layout(name.kind, name.generation), Some(issue));
    };
    if version.generation != name.generation {
        let issue = (
            Code::CsvVersion,
            format!(
                "CSVバージョン「{s}」は{}版の値ですが、ファイル名は{}版の形式です。",
                version.generation.label(),
                name.generation.label()
            ),
            format!(
                "CSV version `{s}` belongs to the {} layouts but the file name has the {} shape",
                version.generation.label(),
                name.generation.label()
            ),
        );
        return (spec.layout(name.kind, version.generation), Some(issue));
    }
    let issue = version.legacy.then(|| {
        (
            Code::WarnCsvVersion,
            format!("CSVバージョン「{s}」は 4.0 版の値で、4.1 版では 202407 に変わりました。"),
            format!("CSV version `{s}` is the superseded v4.0 value; v4.1 uses 202407"),
        )
    });
    (spec.layout(name.kind, version.generation), issue)
}

fn bind_issue(name: &FileName, target: BindTarget, is_error: bool, value: &[u8]) -> Option<Issue> {
    let (expected, what_ja, what_en) = match target {
        BindTarget::Month => (
            name.month.as_deref()?,
            "ファイル名の年月",
            "the month in the file name",
        ),
        BindTarget::Sender => (
            name.sender.office.as_str(),
            "ファイル名の送信元事業所番号",
            "the sender office in the file name",
        ),
        BindTarget::Recipient => (
            name.recipient.office.as_str(),
            "ファイル名の送信先事業所番号",
            "the recipient office in the file name",
        ),
    };
    if value == expected.as_bytes() {
        return None;
    }
    let shown = String::from_utf8_lossy(&value[..value.len().min(12)]).into_owned();
    let code = if is_error {
        Code::NameBodyMismatch
    } else {
        Code::WarnNameBodyMismatch
    };
    Some((
        code,
        format!("「{shown}」が{what_ja}「{expected}」と一致しません。"),
        format!("`{shown}` does not match {what_en} `{expected}`"),
    ))
}

/// 利用者補足情報 No.4: a real plan date with the plan (name month 000000), fixed 00000000 with the schedule.
fn hosoku_plan_date(name: &FileName, value: &[u8]) -> Option<Issue> {
    let with_plan = name.month.as_deref() == Some("000000");
    let zeros = value == b"00000000";
    match (with_plan, zeros) {
        (true, true) => Some((
            Code::Format,
            "1表・2表・3表と送る利用者補足情報では、計画作成（変更）日が必要です（00000000 は第6表・第7表用）。".into(),
            "with the care plan (file month 000000) this must be the plan date; 00000000 is for the schedule".into(),
        )),
        (false, false) => Some((
            Code::Format,
            "第6表・第7表と送る利用者補足情報では 00000000 を設定します。".into(),
            "with the schedule (table 6/7) this item is fixed to 00000000".into(),
        )),
        _ => None,
    }
}

/// 第6表/第7表: for 福祉用具貸与 (17, 67) either the TAIS code or the notification code must be set.
fn equipment_issue<'l>(layout: &'l Layout, rec: &Record) -> Option<((u32, &'l str), Issue)> {
    let pair: Vec<_> = layout
        .items
        .iter()
        .filter(|i| i.rule == Some(Rule::EquipmentCode))
        .collect();
    if pair.len() != 2 || layout.generation == Generation::V3 {
        return None;
    }
    let code = layout.items.iter().find(|i| i.name_en == "service_code")?;
    let service = rec.get(code.no as usize - 1);
    let rental = service.len() == 6 && (service.starts_with(b"17") || service.starts_with(b"67"));
    let summary = service.ends_with(b"AAAA") || service.ends_with(b"EEEE") || service.ends_with(b"ZZZZ");
    if !rental || summary || pair.iter().any(|i| !rec.get(i.no as usize - 1).is_empty()) {
        return None;
    }
    Some((
        (pair[0].no, pair[0].name_ja.as_str()),
        (
            Code::Required,
            format!(
                "福祉用具貸与（サービス種類17・67）では TAISコード（No.{}）か福祉用具届出コード（No.{}）のどちらかが必要です。",
                pair[0].no, pair[1].no
            ),
            format!(
                "welfare equipment rental (service types 17, 67) needs a TAIS code (No.{}) or a notification code (No.{})",
                pair[0].no, pair[1].no
            ),
        ),
    ))
}
