//! Parsing of the embedded `spec/` data files. Every problem names the file and line.

use rustc_hash::FxHashMap as HashMap;

use super::layouts::load_layouts;
use super::{Generation, Kind, KindInfo, Layout, Link, ServiceType, Spec, Unit, Version};

/// A malformed spec data file: the process must not start with it.
#[derive(Debug, thiserror::Error)]
#[error("spec/{file} line {line}: {message}")]
pub struct SpecError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

const KINDS: &str = include_str!("../../spec/kinds.csv");
const CODES: &str = include_str!("../../spec/codes.csv");
const SERVICE_TYPES: &str = include_str!("../../spec/service_types.csv");
const VERSIONS: &str = include_str!("../../spec/versions.csv");
const LINKS: &str = include_str!("../../spec/links.csv");
const UNITS: &str = include_str!("../../spec/units.csv");

/// One data row: its line number and its cells by column name.
pub(super) struct Row {
    pub(super) line: u64,
    cells: HashMap<String, String>,
}

pub(super) struct Table<'a> {
    pub(super) file: &'a str,
}

impl Table<'_> {
    pub(super) fn err(&self, line: u64, message: impl Into<String>) -> SpecError {
        SpecError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    pub(super) fn rows(&self, text: &str, columns: &[&str]) -> Result<Vec<Row>, SpecError> {
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers = rdr.headers().map_err(|e| self.err(1, e.to_string()))?.clone();
        for c in columns {
            if !headers.iter().any(|h| h == *c) {
                return Err(self.err(1, format!("missing column `{c}`")));
            }
        }
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| self.err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let cells = headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            rows.push(Row { line, cells });
        }
        Ok(rows)
    }
}

impl Row {
    pub(super) fn get(&self, col: &str) -> &str {
        self.cells.get(col).map_or("", String::as_str)
    }
}

fn generation(t: &Table<'_>, line: u64, s: &str) -> Result<Generation, SpecError> {
    match s {
        "v3" => Ok(Generation::V3),
        "v4" => Ok(Generation::V4),
        _ => Err(t.err(line, format!("unknown generation `{s}` (v3 or v4)"))),
    }
}

pub(super) fn kind(t: &Table<'_>, line: u64, s: &str) -> Result<Kind, SpecError> {
    Kind::from_prefix(s).ok_or_else(|| t.err(line, format!("unknown kind `{s}`")))
}

fn numbers(t: &Table<'_>, line: u64, s: &str) -> Result<Vec<u32>, SpecError> {
    s.split(';')
        .map(|n| {
            n.parse()
                .map_err(|_| t.err(line, format!("bad item number list `{s}`")))
        })
        .collect()
}

pub(super) fn load_embedded() -> Result<Spec, SpecError> {
    let kinds = load_kinds()?;
    let layouts = load_layouts(&kinds)?;
    let codes = load_codes(&layouts)?;
    Ok(Spec {
        kinds,
        layouts,
        codes,
        service_types: load_service_types()?,
        versions: load_versions()?,
        links: load_links()?,
        units: load_units()?,
    })
}

/// `kinds.csv`, and the image kind, which has no row: every kind must be described.
fn load_kinds() -> Result<HashMap<Kind, KindInfo>, SpecError> {
    let mut kinds = HashMap::default();
    let t = Table { file: "kinds.csv" };
    for row in t.rows(
        KINDS,
        &["kind", "name_ja", "name_en", "month", "since", "empty_ok"],
    )? {
        let k = kind(&t, row.line, row.get("kind"))?;
        let info = KindInfo {
            name_ja: row.get("name_ja").to_string(),
            name_en: row.get("name_en").to_string(),
            has_month: row.get("month") == "yes",
            since: generation(&t, row.line, row.get("since"))?,
            empty_ok: row.get("empty_ok") == "yes",
        };
        kinds.insert(k, info);
    }
    // The image kind has no layout and no row of its own in kinds.csv.
    kinds.insert(
        Kind::UpkihonImage,
        KindInfo {
            name_ja: "家族構成 画像ファイル".into(),
            name_en: "family structure image".into(),
            has_month: false,
            since: Generation::V4,
            empty_ok: false,
        },
    );
    if let Some(k) = Kind::ALL.iter().find(|k| !kinds.contains_key(k)) {
        return Err(Table { file: "kinds.csv" }.err(0, format!("no row for kind {k}")));
    }
    Ok(kinds)
}

/// `codes.csv` (table → code → Japanese label); every code table a layout names must be there.
fn load_codes(
    layouts: &HashMap<(Kind, Generation), Layout>,
) -> Result<HashMap<String, HashMap<String, String>>, SpecError> {
    let mut codes: HashMap<String, HashMap<String, String>> = HashMap::default();
    let t = Table { file: "codes.csv" };
    for row in t.rows(CODES, &["table", "code", "label_ja", "label_en"])? {
        codes
            .entry(row.get("table").to_string())
            .or_default()
            .insert(row.get("code").to_string(), row.get("label_ja").to_string());
    }
    for layout in layouts.values() {
        for it in &layout.items {
            if let Some(table) = &it.code_table
                && !matches!(table.as_str(), "service_type" | "service_code")
                && !codes.contains_key(table)
            {
                return Err(Table { file: "layouts" }.err(
                    0,
                    format!("{} No.{}: unknown code table `{table}`", layout.kind, it.no),
                ));
            }
        }
    }
    Ok(codes)
}

/// `service_types.csv`: 2-character codes (0-9A-Z) with their scope (in, out, planner).
fn load_service_types() -> Result<HashMap<String, ServiceType>, SpecError> {
    let mut service_types = HashMap::default();
    let t = Table {
        file: "service_types.csv",
    };
    for row in t.rows(SERVICE_TYPES, &["code", "domain", "scope", "name_ja"])? {
        let code = row.get("code");
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
            return Err(t.err(
                row.line,
                format!("service type `{code}` is not 2 characters 0-9A-Z"),
            ));
        }
        if !matches!(row.get("scope"), "in" | "out" | "planner") {
            return Err(t.err(row.line, "scope must be in, out or planner"));
        }
        let st = ServiceType {
            domain: row.get("domain").to_string(),
            scope: row.get("scope").to_string(),
            name_ja: row.get("name_ja").to_string(),
        };
        service_types.insert(code.to_string(), st);
    }
    Ok(service_types)
}

/// `versions.csv`: each CSV version's generation and whether it is legacy.
fn load_versions() -> Result<HashMap<String, Version>, SpecError> {
    let mut versions = HashMap::default();
    let t = Table { file: "versions.csv" };
    for row in t.rows(VERSIONS, &["csv_version", "generation", "status"])? {
        let v = Version {
            generation: generation(&t, row.line, row.get("generation"))?,
            legacy: row.get("status") == "legacy",
        };
        versions.insert(row.get("csv_version").to_string(), v);
    }
    Ok(versions)
}

/// `links.csv`: satellite kinds and the key items that tie them to a parent record.
fn load_links() -> Result<Vec<Link>, SpecError> {
    let mut links = Vec::new();
    let t = Table { file: "links.csv" };
    for row in t.rows(LINKS, &["child", "child_keys", "parent", "parent_keys"])? {
        let link = Link {
            child: kind(&t, row.line, row.get("child"))?,
            child_keys: numbers(&t, row.line, row.get("child_keys"))?,
            parent: kind(&t, row.line, row.get("parent"))?,
            parent_keys: numbers(&t, row.line, row.get("parent_keys"))?,
        };
        if link.child_keys.len() != link.parent_keys.len() {
            return Err(t.err(row.line, "child and parent keys differ in number"));
        }
        links.push(link);
    }
    Ok(links)
}

/// `units.csv`: the send units, their generations and member kinds (`KIND*`: may repeat).
fn load_units() -> Result<Vec<Unit>, SpecError> {
    let mut units = Vec::new();
    let t = Table { file: "units.csv" };
    for row in t.rows(UNITS, &["unit", "generation", "members", "note"])? {
        let mut unit = Unit {
            name: row.get("unit").to_string(),
            generations: row
                .get("generation")
                .split(' ')
                .map(|g| generation(&t, row.line, g))
                .collect::<Result<_, _>>()?,
            members: Vec::new(),
            repeated: Vec::new(),
            note: row.get("note").to_string(),
        };
        for m in row.get("members").split('+') {
            match m.strip_suffix('*') {
                Some(k) => unit.repeated.push(kind(&t, row.line, k)?),
                None => unit.members.push(kind(&t, row.line, m)?),
            }
        }
        units.push(unit);
    }
    Ok(units)
}
