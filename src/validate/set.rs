//! Checks of a whole set: one sender, recipient and sequence; a composition that a send unit allows;
//! satellite records keyed to a parent record; family images named by their records.

use std::collections::{BTreeMap, BTreeSet};

use crate::name::FileName;
use crate::spec::{Generation, Kind, Spec, Unit};

use super::file::Facts;
use super::report::{Code, Finding, SetReport};

/// The send unit whose members are exactly the kinds present (images may repeat).
pub(super) fn find_unit<'s>(
    spec: &'s Spec,
    generation: Generation,
    kinds: &BTreeMap<Kind, usize>,
) -> Option<&'s Unit> {
    spec.units
        .iter()
        .filter(|u| u.generations.contains(&generation))
        .find(|u| {
            u.members.iter().all(|m| kinds.get(m) == Some(&1))
                && kinds
                    .keys()
                    .all(|k| u.members.contains(k) || u.repeated.contains(k))
        })
}

fn unit_text(u: &Unit) -> String {
    let mut parts: Vec<String> = u.members.iter().map(|k| k.prefix().to_string()).collect();
    parts.extend(u.repeated.iter().map(|k| format!("{k}（0件以上 / any number）")));
    parts.join(" + ")
}

/// Names agree on sequence, parties and generation; the kinds form a send unit; months agree.
pub(super) fn check_names(spec: &Spec, names: &[&FileName], report: &mut SetReport) {
    let Some(first) = names.first() else { return };
    let distinct = |f: &dyn Fn(&FileName) -> String| names.iter().map(|n| f(n)).collect::<BTreeSet<_>>();
    for (values, ja, en) in [
        (distinct(&|n| n.sequence.clone()), "連番", "sequence numbers"),
        (distinct(&|n| n.sender.to_string()), "送信元", "senders"),
        (distinct(&|n| n.recipient.to_string()), "送信先", "recipients"),
        (
            distinct(&|n| n.generation.label().to_string()),
            "ファイル名の形式（v3/v4）",
            "file-name generations (v3/v4)",
        ),
    ] {
        if values.len() > 1 {
            let list = values.into_iter().collect::<Vec<_>>().join(", ");
            report.set_finding(
                Code::SetComposition,
                format!("1つのセットのファイルで{ja}が違います: {list}"),
                format!("the files of one set carry different {en}: {list}"),
            );
        }
    }
    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    for n in names {
        *kinds.entry(n.kind).or_default() += 1;
    }
    for (k, count) in &kinds {
        if *count > 1 && !k.is_image() {
            report.set_finding(
                Code::SetComposition,
                format!("{k} のファイルが {count} 個あります。1つのセットに同じ種類は1ファイルです。"),
                format!("{count} {k} files; a set holds one file of each kind"),
            );
        }
    }
    let generation = first.generation;
    let units: Vec<&Unit> = spec
        .units
        .iter()
        .filter(|u| u.generations.contains(&generation))
        .collect();
    if find_unit(spec, generation, &kinds).is_none() {
        let present: Vec<&str> = kinds.keys().map(|k| k.prefix()).collect();
        let closest = units
            .iter()
            .filter(|u| {
                kinds
                    .keys()
                    .all(|k| u.members.contains(k) || u.repeated.contains(k))
            })
            .min_by_key(|u| u.members.len());
        let (hint_ja, hint_en) = match closest {
            Some(u) => {
                let missing: Vec<&str> = u
                    .members
                    .iter()
                    .filter(|m| !kinds.contains_key(m))
                    .map(|k| k.prefix())
                    .collect();
                (
                    format!("不足: {}（送信単位: {}）", missing.join(", "), unit_text(u)),
                    format!("missing {} (send unit: {})", missing.join(", "), unit_text(u)),
                )
            }
            None => {
                let all: Vec<String> = units.iter().map(|u| unit_text(u)).collect();
                (
                    format!("送信単位: {}", all.join(" / ")),
                    format!("send units: {}", all.join(" / ")),
                )
            }
        };
        report.set_finding(
            Code::SetComposition,
            format!(
                "ファイルの組み合わせ（{}）は仕様の送信単位にありません。{hint_ja}",
                present.join(" + ")
            ),
            format!(
                "the files ({}) do not form a send unit of the standard: {hint_en}",
                present.join(" + ")
            ),
        );
    }
    // The 補足 month: 000000 with the plan, the schedule's month with the schedule.
    let month_of = |k: Kind| names.iter().find(|n| n.kind == k).and_then(|n| n.month.clone());
    if let Some(hosoku) = month_of(Kind::Uphosoku) {
        let expected =
            month_of(Kind::Upplan).or_else(|| kinds.contains_key(&Kind::Up1kyo).then(|| "000000".into()));
        if let Some(expected) = expected.filter(|e| *e != hosoku) {
            report.set_finding(
                Code::SetComposition,
                format!("利用者補足情報のファイル名の年月「{hosoku}」は「{expected}」であるべきです（1表と送るときは 000000、第6表と送るときは対象年月）。"),
                format!("the UPHOSOKU file-name month `{hosoku}` should be `{expected}` (000000 with the care plan, the service month with the schedule)"),
            );
        }
    }
    if let (Some(plan), Some(annex)) = (month_of(Kind::Upplan), month_of(Kind::Upsikyu))
        && plan != annex
    {
        report.set_finding(
            Code::SetComposition,
            format!("第6表（{plan}）と第7表（{annex}）の年月が違います。"),
            format!("table 6 ({plan}) and table 7 ({annex}) carry different months"),
        );
    }
}

/// Satellite records must have a parent record in the same set; family images must be named.
pub(super) fn check_links(
    spec: &Spec,
    names: &[(usize, &FileName)],
    facts: &[Facts],
    report: &mut SetReport,
) {
    let index_of = |k: Kind| names.iter().position(|(_, n)| n.kind == k);
    for (li, link) in spec.links.iter().enumerate() {
        let (Some(c), Some(p)) = (index_of(link.child), index_of(link.parent)) else {
            continue;
        };
        if facts[p].incomplete {
            continue;
        }
        let empty = Default::default();
        let parents = facts[p].parent_keys.get(&li).unwrap_or(&empty);
        let Some(children) = facts[c].child_keys.get(&li) else {
            continue;
        };
        let child_name = names[c].1;
        let first_key = spec
            .layout(link.child, child_name.generation)
            .and_then(|l| l.by_v4_no(link.child_keys[0]));
        let mut orphans: Vec<_> = children.iter().filter(|(k, _)| !parents.contains(*k)).collect();
        orphans.sort_by_key(|(_, at)| *at);
        for (k, (line, physical)) in orphans {
            let shown = crate::sjis::shown(k, 80).replace("\\x1F", " ").trim().to_string();
            let keys: Vec<String> = link.child_keys.iter().map(|n| format!("No.{n}")).collect();
            report.files[names[c].0].push(Finding {
                line: Some(*line),
                physical_line: Some(*physical),
                item: first_key.map(|i| i.no),
                item_name: first_key.map(|i| i.name_ja.clone()),
                code: Code::SetComposition,
                message_ja: format!(
                    "このレコードの親となる {} のレコード（キー {}: {shown}）が同じセットにありません。",
                    link.parent,
                    keys.join("+")
                ),
                message_en: format!(
                    "no {} record in this set matches this record's key ({}: {shown})",
                    link.parent,
                    keys.join("+")
                ),
            });
        }
    }
    let images: BTreeSet<String> = names
        .iter()
        .filter(|(_, n)| n.kind.is_image())
        .map(|(i, _)| report.files[*i].name.clone())
        .collect();
    let mut named = BTreeSet::new();
    if let Some(k) = index_of(Kind::Upkihon) {
        for (line, physical, image) in &facts[k].image_refs {
            named.insert(image.clone());
            if !images.contains(image) {
                report.files[names[k].0].push(Finding {
                    line: Some(*line),
                    physical_line: Some(*physical),
                    item: Some(62),
                    item_name: Some("家族構成 画像ファイル名".into()),
                    code: Code::SetComposition,
                    message_ja: "ここで名前を挙げた家族構成の画像ファイルがセットにありません。".into(),
                    message_en: "the family-structure image named here is not in the set".into(),
                });
            }
        }
    }
    for image in images.difference(&named) {
        report.set_finding(
            Code::WarnSetComposition,
            format!("画像ファイル {image} はどの利用者基本情報のレコードからも参照されていません。"),
            format!("image {image} is not named by any UPKIHON record"),
        );
    }
}

/// 第7表 against the 第6表 of the same set (`totals::check_set`), when both are present and 第6表 was read whole.
pub(super) fn check_totals(names: &[(usize, &FileName)], facts: &[Facts], report: &mut SetReport) {
    let index_of = |k: Kind| names.iter().position(|(_, n)| n.kind == k);
    if let (Some(s), Some(a)) = (index_of(Kind::Upplan), index_of(Kind::Upsikyu))
        && !facts[s].incomplete
    {
        super::totals::check_set(
            (names[s].0, &facts[s].totals),
            (names[a].0, &facts[a].totals),
            report,
        );
    }
}
