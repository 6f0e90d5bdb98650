//! Record-level rules beyond single items: the CSV version that picks the layout, items bound to the file
//! name, 利用者補足情報's plan date, and the welfare-equipment codes of 第6表/第7表.

use crate::csvread::Record;
use crate::name::FileName;
use crate::spec::{BindTarget, Generation, Layout, Rule, Spec};

use super::field::Issue;
use super::report::Code;

/// Chooses the layout from the first record's CSV version, which must fit the shape of the file name.
pub(super) fn first_version<'s>(
    spec: &'s Spec,
    name: &FileName,
    v: &[u8],
) -> (Option<&'s Layout>, Option<Issue>) {
    let s = crate::sjis::shown(v, 8);
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

pub(super) fn bind_issue(name: &FileName, target: BindTarget, is_error: bool, value: &[u8]) -> Option<Issue> {
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
    let shown = crate::sjis::shown(value, 12);
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
pub(super) fn hosoku_plan_date(name: &FileName, value: &[u8]) -> Option<Issue> {
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

/// 第6表/第7表 (v4): for 福祉用具貸与 (17, 67) either the TAIS code or the notification code must be set.
/// The items are found once per layout.
#[derive(Debug, Clone, Copy)]
pub(super) struct Equipment {
    pair: [usize; 2],
    service_code: usize,
}

impl Equipment {
    pub(super) fn of(layout: &Layout) -> Option<Equipment> {
        let pair: Vec<usize> = layout
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.rule == Some(Rule::EquipmentCode))
            .map(|(n, _)| n)
            .collect();
        let service_code = layout.items.iter().position(|i| i.name_en == "service_code")?;
        (pair.len() == 2 && layout.generation == Generation::V4).then(|| Equipment {
            pair: [pair[0], pair[1]],
            service_code,
        })
    }

    pub(super) fn issue<'l>(&self, layout: &'l Layout, rec: &Record) -> Option<((u32, &'l str), Issue)> {
        let service = rec.get(self.service_code);
        let rental = service.len() == 6 && (service.starts_with(b"17") || service.starts_with(b"67"));
        let summary = service.ends_with(b"AAAA") || service.ends_with(b"EEEE") || service.ends_with(b"ZZZZ");
        if !rental || summary || self.pair.iter().any(|i| !rec.get(*i).is_empty()) {
            return None;
        }
        let pair = [&layout.items[self.pair[0]], &layout.items[self.pair[1]]];
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
}
