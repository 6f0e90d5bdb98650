//! The standard as data: file kinds, layouts of both generations, code tables, send units and key links.
//!
//! Everything here is read from the CSV files under `spec/` (embedded in the binary at build time) by
//! `Spec::get`, once. A malformed spec file is a start-up error, never a request error.

mod kind;
mod layouts;
mod load;

// The spec's own tables, never filled from a request: a fast fixed hash (FxHash) for the per-item look-ups.
use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

pub use kind::Kind;
pub use load::SpecError;

/// The two generations of the standard, told apart by the file name's shape and the CSV version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// CSV versions 202208 and older: names without service types, no 3表, no prevention files.
    V3,
    /// CSV versions 202504 and 202407: names with service types.
    V4,
}

impl Generation {
    /// The label used in messages and data files (`v3`, `v4`).
    pub fn label(self) -> &'static str {
        match self {
            Generation::V3 => "v3",
            Generation::V4 => "v4",
        }
    }
}

/// The value type of an item, as in the canonical layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemType {
    YearMonth,
    Date,
    Time,
    Digits,
    InsuredId,
    Code,
    Int,
    Decimal,
    Str,
    Text,
    Bitmap31,
    Unused,
}

/// Whether an empty value is an error, a warning, allowed, or decided by a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    Error,
    Warn,
    Conditional,
    Optional,
}

/// Item-specific rules beyond the type (spec/README.md, "Special rules").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    TimeOr9999,
    DateOrZeros,
    MonthOrZeros,
    EquipmentCode,
    DetailNo,
    ServiceCodeOrSummary,
}

/// A part of the file name that an item must repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindTarget {
    Month,
    Sender,
    Recipient,
}

/// An item bound to the file name, and whether a mismatch rejects the file or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bind {
    pub target: BindTarget,
    pub is_error: bool,
}

/// One item (項目) of a layout.
#[derive(Debug, Clone)]
pub struct Item {
    /// 1-based number in this generation's layout.
    pub no: u32,
    /// 1-based number in the v4 layout (the numbering of `spec/layouts/`).
    pub v4_no: u32,
    pub name_ja: String,
    pub name_en: String,
    pub ty: ItemType,
    pub max_len: Option<usize>,
    pub required: Required,
    /// Name of the code table (`spec/codes.csv`, or `service_type`, `service_code`).
    pub code_table: Option<String>,
    pub rule: Option<Rule>,
    pub bind: Option<Bind>,
}

/// The record layout of one kind in one generation.
#[derive(Debug, Clone)]
pub struct Layout {
    pub kind: Kind,
    pub generation: Generation,
    pub items: Vec<Item>,
}

impl Layout {
    /// The item with this v4 number, if this generation has it.
    pub fn by_v4_no(&self, v4_no: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.v4_no == v4_no)
    }
}

/// Facts about a file kind (`spec/kinds.csv`).
#[derive(Debug, Clone)]
pub struct KindInfo {
    pub name_ja: String,
    pub name_en: String,
    pub has_month: bool,
    pub since: Generation,
    /// A file of this kind may hold no records (detail files of a parent that has none).
    pub empty_ok: bool,
}

/// How the accepted CSV versions map to generations (`spec/versions.csv`).
#[derive(Debug, Clone)]
pub struct Version {
    pub generation: Generation,
    /// Superseded but accepted, with a warning.
    pub legacy: bool,
}

/// A service type (サービス種類コード) and whether the standard's linkage covers it.
#[derive(Debug, Clone)]
pub struct ServiceType {
    pub domain: String,
    /// `in`, `out` (outside the linkage scope) or `planner` (care-manager / prevention centre types).
    pub scope: String,
    pub name_ja: String,
}

/// A satellite kind whose records must match a parent record of the same set on key items.
#[derive(Debug, Clone)]
pub struct Link {
    pub child: Kind,
    pub child_keys: Vec<u32>,
    pub parent: Kind,
    pub parent_keys: Vec<u32>,
}

/// A send unit: the kinds one set may hold (`spec/units.csv`).
#[derive(Debug, Clone)]
pub struct Unit {
    pub name: String,
    pub generations: Vec<Generation>,
    /// Kinds that must all be present.
    pub members: Vec<Kind>,
    /// Kinds that may be present any number of times (family images).
    pub repeated: Vec<Kind>,
    pub note: String,
}

impl Unit {
    /// The kind of set whose sequences must rise from one sender to one recipient: the send unit's name with its
    /// deletion in the same stream (`schedule` for `schedule` and `schedule_delete`), and the prevention plan sent
    /// with its basic information counted as a prevention plan. A deletion older than the upload it would
    /// withdraw is as harmful as an older upload, hence one stream for both.
    pub fn stream(&self) -> &str {
        let name = self.name.strip_suffix("_delete").unwrap_or(&self.name);
        match name {
            "prevention_plan_with_basic" => "prevention_plan",
            other => other,
        }
    }
}

/// The whole standard as loaded from `spec/`.
#[derive(Debug)]
pub struct Spec {
    kinds: HashMap<Kind, KindInfo>,
    layouts: HashMap<(Kind, Generation), Layout>,
    codes: HashMap<String, HashMap<String, String>>,
    service_types: HashMap<String, ServiceType>,
    versions: HashMap<String, Version>,
    pub links: Vec<Link>,
    pub units: Vec<Unit>,
}

static SPEC: OnceLock<Result<Spec, SpecError>> = OnceLock::new();

impl Spec {
    /// The embedded spec, parsed on first use. Call it at start-up so that a broken spec stops the process.
    pub fn get() -> Result<&'static Spec, &'static SpecError> {
        SPEC.get_or_init(load::load_embedded).as_ref()
    }

    pub fn kind(&self, kind: Kind) -> &KindInfo {
        // Every kind has a row: `load` checks it.
        &self.kinds[&kind]
    }

    pub fn layout(&self, kind: Kind, generation: Generation) -> Option<&Layout> {
        self.layouts.get(&(kind, generation))
    }

    pub fn version(&self, value: &str) -> Option<&Version> {
        self.versions.get(value)
    }

    /// Accepted CSV versions, for messages.
    pub fn version_list(&self) -> String {
        let mut v: Vec<&str> = self.versions.keys().map(String::as_str).collect();
        v.sort_unstable();
        v.join(", ")
    }

    /// The label of `code` in `table`, if the table holds it.
    pub fn code_label(&self, table: &str, code: &str) -> Option<&str> {
        self.codes.get(table)?.get(code).map(String::as_str)
    }

    /// The codes of a table, for messages.
    pub fn code_list(&self, table: &str) -> String {
        if table == "service_type" {
            let mut v: Vec<&str> = self.service_types.keys().map(String::as_str).collect();
            v.sort_unstable();
            return v.join(", ");
        }
        let mut v: Vec<String> = self
            .codes
            .get(table)
            .map(|t| t.iter().map(|(c, l)| format!("{c}={l}")).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v.join(", ")
    }

    pub fn service_type(&self, code: &str) -> Option<&ServiceType> {
        self.service_types.get(code)
    }

    /// Every code of the service-type table (サービス種類コード), sorted.
    pub fn service_type_codes(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.service_types.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests;
