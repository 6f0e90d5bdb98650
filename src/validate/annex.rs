//! 第7表 (サービス利用票別表, UPSIKYU) row by row: each detail row's arithmetic, and per person the grand total
//! and the subtotals of the types (`totals` has the rules and their basis).

use foldhash::HashMap;

use crate::csvread::Record;
use crate::spec::{Kind, Layout};

use super::report::Finding;
use super::totals::{Line, Named, TotalsFacts, finding, index, int, key};

/// A service type's detail rows in one person's 第7表.
#[derive(Debug, Default)]
struct TypeRows {
    /// The distinct service codes.
    codes: Vec<Vec<u8>>,
    /// The sum of their サービス単位／金額.
    sum: i64,
    /// A row had no サービス単位／金額, so the sum is not known.
    sum_unknown: bool,
    /// An `EEEE`/`ZZZZ` row splits the type.
    split: bool,
}

/// One person's 第7表 rows as they stream past.
#[derive(Debug, Default)]
struct Person {
    key: Vec<u8>,
    last: Option<Line>,
    grand_total: bool,
    /// Per service type: its detail rows.
    types: HashMap<[u8; 2], TypeRows>,
    /// Per service type: the `AAAA` row's サービス単位／金額 and line.
    subtotals: HashMap<[u8; 2], (Option<i64>, Line)>,
}

/// Checks one 第7表 (UPSIKYU) file's rows and collects its detail rows.
#[derive(Debug)]
pub(super) struct Annex {
    person_items: Vec<usize>,
    key_items: Vec<usize>,
    code: usize,
    units: usize,
    discounted: usize,
    count: usize,
    amount: usize,
    code_item: Named,
    amount_item: Named,
    count_item: Named,
    person: Person,
    scratch: Vec<u8>,
}

impl Annex {
    /// For UPSIKYU's layout; `None` for other kinds.
    pub(super) fn of(kind: Kind, layout: &Layout) -> Option<Annex> {
        if kind != Kind::Upsikyu {
            return None;
        }
        let items = index(layout, &[2, 3, 5, 7, 8, 9, 13, 15, 16, 17])?;
        Some(Annex {
            person_items: items[..3].to_vec(),
            key_items: items[..6].to_vec(),
            code: items[5],
            units: items[6],
            discounted: items[7],
            count: items[8],
            amount: items[9],
            code_item: Named::of(layout, 9)?,
            amount_item: Named::of(layout, 17)?,
            count_item: Named::of(layout, 16)?,
            person: Person::default(),
            scratch: Vec::new(),
        })
    }

    /// Judges one row; findings of a person's rows as a whole come when the next person starts.
    pub(super) fn record(&mut self, rec: &Record, at: Line, facts: &mut TotalsFacts, out: &mut Vec<Finding>) {
        key(rec, &self.person_items, &mut self.scratch);
        if self.scratch != self.person.key {
            self.finish_person(out);
            self.person.key.clone_from(&self.scratch);
        }
        self.person.last = Some(at);
        let code = rec.get(self.code);
        let amount = int(rec.get(self.amount));
        if code == b"999999" {
            self.person.grand_total = true;
            return;
        }
        let (Some(cc), Some(tail)) = (code.get(..2), code.get(2..)) else {
            return;
        };
        let cc = [cc[0], cc[1]];
        match tail {
            b"AAAA" => {
                self.person.subtotals.insert(cc, (amount, at));
                return;
            }
            b"EEEE" | b"ZZZZ" => {
                self.person.types.entry(cc).or_default().split = true;
                return;
            }
            _ => {}
        }
        let units = match rec.get(self.discounted) {
            d if !d.is_empty() => int(d),
            _ => int(rec.get(self.units)),
        };
        let count = int(rec.get(self.count));
        // In i128: the items are digits of bounded length, but a file may hold any digits there.
        if let (Some(u), Some(c), Some(a)) = (units, count, amount)
            && i128::from(u) * i128::from(c) != i128::from(a)
        {
            let product = i128::from(u) * i128::from(c);
            out.push(finding(
                at,
                self.amount_item.at(),
                format!(
                    "サービス単位金額 {a} が（割引後）単位数 {u} × 回数／日数 {c} = {product} と合いません。"
                ),
                format!(
                    "service units/amount {a} is not (discounted) units {u} × count/days {c} = {product}"
                ),
            ));
        }
        let t = self.person.types.entry(cc).or_default();
        if !t.codes.iter().any(|c| c == code) {
            t.codes.push(code.to_vec());
        }
        match amount {
            Some(a) => t.sum = t.sum.saturating_add(a),
            None => t.sum_unknown = true,
        }
        key(rec, &self.key_items, &mut self.scratch);
        facts
            .summarised
            .push((self.scratch.clone(), count.unwrap_or(0).max(0) as u64, at));
    }

    /// Judges the last person's rows and records the item that set findings name.
    pub(super) fn finish(mut self, facts: &mut TotalsFacts, out: &mut Vec<Finding>) {
        self.finish_person(out);
        facts.item = Some(self.count_item);
    }

    fn finish_person(&mut self, out: &mut Vec<Finding>) {
        let p = std::mem::take(&mut self.person);
        let Some(last) = p.last else { return };
        let code_item = self.code_item.at();
        if !p.grand_total {
            out.push(finding(
                last,
                code_item,
                "この利用者の行に全合計（サービスコード 999999）の行がありません。".into(),
                "this person's rows have no grand-total row (service code 999999)".into(),
            ));
        }
        let mut types: Vec<_> = p.types.iter().collect();
        types.sort_by_key(|(cc, _)| **cc);
        for (cc, t) in types {
            let cc_text = crate::sjis::shown(cc, 2);
            let codes = &t.codes;
            match p.subtotals.get(cc) {
                None if codes.len() > 1 => out.push(finding(
                    last,
                    code_item,
                    format!("サービス種類 {cc_text} は {} 種類のサービスコードがありますが、種類別小計（{cc_text}AAAA）の行がありません。", codes.len()),
                    format!("service type {cc_text} has {} service codes but no subtotal row ({cc_text}AAAA)", codes.len()),
                )),
                Some((Some(sub), at)) if !t.split && !t.sum_unknown && t.sum != *sub => out.push(finding(
                    *at,
                    self.amount_item.at(),
                    format!("種類別小計 {cc_text}AAAA のサービス単位金額 {sub} が、この種類の行の合計 {} と合いません。", t.sum),
                    format!("the subtotal {cc_text}AAAA's service units/amount {sub} is not the sum of the type's rows, {}", t.sum),
                )),
                _ => {}
            }
        }
    }
}
