//! What the set check needs from one CSV file (`Facts`), the link keys gathered as its records stream past, and
//! the messages of CSV syntax errors. The walk over a file's records is `walk`.

// Keys come from the files: hashed with a per-process random seed (foldhash), not a fixed function.
use foldhash::{HashMap, HashSet};

use crate::csvread::{CsvError, Record};
use crate::spec::{Kind, Layout, Spec};

use super::totals::TotalsFacts;

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
pub(super) struct LinkKeys {
    link: usize,
    is_parent: bool,
    items: Vec<usize>,
    last: Vec<u8>,
    scratch: Vec<u8>,
}

impl LinkKeys {
    pub(super) fn for_layout(spec: &Spec, kind: Kind, layout: &Layout) -> Vec<LinkKeys> {
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

    pub(super) fn record(&mut self, rec: &Record, at: (u64, u64), facts: &mut Facts) {
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

/// The item and the messages of a CSV syntax error.
pub(super) fn syntax(e: CsvError) -> (usize, &'static str, &'static str) {
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
