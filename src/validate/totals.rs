//! The arithmetic of 第7表 (サービス利用票別表, UPSIKYU) and its agreement with the 第6表 records it summarises
//! (spec/README.md, "Totals"). Every finding is the warning `W_TOTALS`: the public copy of the standard defines
//! the summary rows (種類別小計 `CC`+`AAAA`, 全合計 `999999`) but states none of these sums as a rule.
//!
//! Checked: a detail row's サービス単位／金額 is its (割引後)単位数 times 回数／日数; each person's rows end with
//! the grand total and carry a `CCAAAA` subtotal for a type with several service codes, whose サービス単位／金額
//! is the sum of the type's rows (unless the type also has `EEEE`/`ZZZZ` rows, whose split the file does not
//! show); and, when the set holds 第6表, a row's 回数／日数 is the number of that service in 第6表 (the days
//! flagged in 日割対象日, else サービス回数, for each record with the same person, office and service code).

use foldhash::HashMap;

use crate::csvread::Record;
use crate::spec::{Kind, Layout};

use super::report::{Code, Finding};

/// A record's place: record number and physical line.
pub(super) type Line = (u64, u64);

/// The service key of a 第6表 record or a 第7表 detail row: person, month, office, satellite, service code,
/// each item followed by 0x1F.
type ServiceKey = Vec<u8>;

/// What the set check needs from 第6表 and 第7表.
#[derive(Debug, Default)]
pub(super) struct TotalsFacts {
    /// 第6表: the number of each service, with the first record that named it.
    pub scheduled: HashMap<ServiceKey, (u64, Line)>,
    /// 第7表: each detail row's key, 回数／日数 and line.
    pub summarised: Vec<(ServiceKey, u64, Line)>,
    /// The item that set findings on this file name: 第6表's サービスコード, 第7表's 回数／日数.
    pub(super) item: Option<Named>,
}

pub(super) fn index(layout: &Layout, nos: &[u32]) -> Option<Vec<usize>> {
    nos.iter()
        .map(|n| layout.by_v4_no(*n).map(|i| i.no as usize - 1))
        .collect()
}

/// An item's number and Japanese name in the layout in use, for findings.
#[derive(Debug, Clone)]
pub(super) struct Named(u32, String);

impl Named {
    pub(super) fn of(layout: &Layout, v4_no: u32) -> Option<Named> {
        layout.by_v4_no(v4_no).map(|i| Named(i.no, i.name_ja.clone()))
    }

    pub(super) fn at(&self) -> Option<(u32, &str)> {
        Some((self.0, &self.1))
    }
}

pub(super) fn key(rec: &Record, items: &[usize], out: &mut Vec<u8>) {
    out.clear();
    for i in items {
        out.extend_from_slice(rec.get(*i));
        out.push(0x1F);
    }
}

pub(super) fn int(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Collects the facts of one 第6表 (UPPLAN) file as its records stream past.
#[derive(Debug)]
pub(super) struct Schedule {
    code_item: Named,
    key_items: Vec<usize>,
    flags: usize,
    count: usize,
    scratch: Vec<u8>,
}

impl Schedule {
    /// For UPPLAN's layout; `None` for other kinds.
    pub(super) fn of(kind: Kind, layout: &Layout) -> Option<Schedule> {
        if kind != Kind::Upplan {
            return None;
        }
        let items = index(layout, &[2, 3, 5, 20, 22, 15, 11, 14])?;
        Some(Schedule {
            code_item: Named::of(layout, 15)?,
            key_items: items[..6].to_vec(),
            flags: items[6],
            count: items[7],
            scratch: Vec::new(),
        })
    }

    /// Records, once the file is read, the item that set findings name.
    pub(super) fn finish(self, facts: &mut TotalsFacts) {
        facts.item = Some(self.code_item);
    }

    /// Counts one record: the days flagged in 日割対象日, else its サービス回数 (1 when empty).
    pub(super) fn record(&mut self, rec: &Record, at: Line, facts: &mut TotalsFacts) {
        let flags = rec.get(self.flags);
        let n = if flags.is_empty() {
            let c = rec.get(self.count);
            if c.is_empty() {
                1
            } else {
                int(c).unwrap_or(0).max(0) as u64
            }
        } else {
            flags.iter().filter(|b| **b == b'1').count() as u64
        };
        key(rec, &self.key_items, &mut self.scratch);
        match facts.scheduled.get_mut(&self.scratch) {
            Some((sum, _)) => *sum = sum.saturating_add(n),
            None => {
                facts.scheduled.insert(self.scratch.clone(), (n, at));
            }
        }
    }
}

pub(super) fn finding(at: Line, item: Option<(u32, &str)>, ja: String, en: String) -> Finding {
    Finding {
        line: Some(at.0),
        physical_line: Some(at.1),
        item: item.map(|i| i.0),
        item_name: item.map(|i| i.1.to_string()),
        code: Code::WarnTotals,
        message_ja: ja,
        message_en: en,
    }
}

/// The person part (保険者番号, 被保険者番号, 対象年月) of a service key.
fn person_of(key: &[u8]) -> &[u8] {
    let mut seps = key
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == 0x1F)
        .map(|(i, _)| i);
    match seps.nth(2) {
        Some(end) => &key[..=end],
        None => key,
    }
}

/// 第7表 against 第6表 in one set: each detail row's 回数／日数 against the number of its service in 第6表,
/// and each service of 第6表 summarised by a row of the person's 第7表. `schedule` and `annex` are the files'
/// indexes in `report.files` with their facts; nothing is judged when 第6表 had records that could not be read.
pub(super) fn check_set(
    schedule: (usize, &TotalsFacts),
    annex: (usize, &TotalsFacts),
    report: &mut super::report::SetReport,
) {
    let (scheduled, summarised) = (&schedule.1.scheduled, &annex.1.summarised);
    let mut persons = foldhash::HashSet::default();
    let mut seen = foldhash::HashSet::default();
    for (key, count, line) in summarised {
        persons.insert(person_of(key));
        let Some((n, _)) = scheduled.get(key) else {
            continue;
        };
        seen.insert(key.as_slice());
        if n != count {
            report.files[annex.0].push(finding(
                *line,
                annex.1.item.as_ref().and_then(Named::at),
                format!("回数／日数 {count} が第6表のこのサービスの回数 {n} と合いません。"),
                format!("count/days {count} is not the number of this service in table 6, {n}"),
            ));
        }
    }
    let mut missing: Vec<_> = scheduled
        .iter()
        .filter(|(k, _)| persons.contains(person_of(k)) && !seen.contains(k.as_slice()))
        .map(|(_, (_, line))| *line)
        .collect();
    missing.sort();
    for line in missing {
        report.files[schedule.0].push(finding(
            line,
            schedule.1.item.as_ref().and_then(Named::at),
            "このサービスは第7表（サービス利用票別表）のどの行にもありません。".into(),
            "this service is in no row of table 7 (the annex)".into(),
        ));
    }
}
