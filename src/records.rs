//! Every record of a set as UTF-8 JSON, typed and keyed by the English item names of `spec/layouts/`: the body of
//! `GET /v1/inbox/{id}/records`, `GET /v1/outbox/{id}/records` and `careplan-relay convert --to json`.
//!
//! The format is this relay's own (`FORMAT`), not the national 5.0 JSON, whose annex is not public. Values:
//! an empty item is `null`; `YYYYMMDD` dates are ISO dates (`"2025-04-01"`), `YYYYMM` months `"2025-04"`,
//! `HHMM` times `"09:45"` (CSVバージョン stays `"202407"`; the sentinels `00000000`, `000000` and `9999` are `null`); integers and `99.99`
//! decimals are JSON numbers; code items are `{code, meaning}` with the Japanese meaning of the code table (or
//! of the service type for service types and codes); 日割対象日 is the list of the days flagged; office numbers,
//! insured numbers and other digit strings stay strings (leading zeros are data); free text is text. Items the
//! standard marks unused (識別子) are left out. Values are MS932 decoded; a byte that does not decode (only in
//! a file that would not validate) is written `\xNN`, never replaced.

use encoding_rs::SHIFT_JIS;
use serde::Serialize;
use serde_json::{Value, json};

use crate::csvread::{Reader, Record};
use crate::name::FileName;
use crate::spec::{Item, ItemType, Spec};
use crate::validate::InputFile;

/// The name of this JSON format, in every document's `format`.
pub const FORMAT: &str = "careplan-relay-records/1";

/// A set's records: `{format, files:[…]}`, every record of every file as typed UTF-8 JSON (format
/// `careplan-relay-records/1`, this relay's own; not the national 5.0 JSON).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordsDocument {
    /// `careplan-relay-records/1`.
    #[schema(pattern = "^careplan-relay-records/1$")]
    pub format: &'static str,
    pub files: Vec<FileRecords>,
}

/// One file: its spec name, kind (file-name prefix), the CSV version of its records (`null` for an image) and
/// its records in file order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileRecords {
    /// The spec file name.
    pub name: String,
    /// The file-name prefix, e.g. UPPLAN; UPKIHON_IMAGE for a family image (no records).
    pub kind: String,
    /// CSVバージョン of the records, e.g. 202407.
    pub csv_version: Option<String>,
    pub records: Vec<RecordJson>,
}

/// One record: its 1-based record number and its items by English name, in the layout's order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordJson {
    /// 1-based record number.
    #[schema(minimum = 1)]
    pub line: u64,
    /// Item values by English item name (spec/layouts/), in layout order.
    #[schema(value_type = Object)]
    pub items: Items,
}

/// A record's items as `(English name, value)` in the layout's order; serialised as one JSON object.
#[derive(Debug, Clone, Default)]
pub struct Items(pub Vec<(String, Value)>);

impl Items {
    /// The value of the item named `name_en`, if the layout has it.
    pub fn get(&self, name_en: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name_en).map(|(_, v)| v)
    }
}

impl Serialize for Items {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Why a file cannot be written as records: its name, a record that cannot be read, or a CSV version without a
/// layout. Files that passed validation never give one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsError {
    pub file: String,
    pub message_ja: String,
    pub message_en: String,
}

impl std::fmt::Display for RecordsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message_en)
    }
}

impl std::error::Error for RecordsError {}

/// The records of every file of a set (files in the order given).
pub fn document(spec: &Spec, files: &[InputFile<'_>]) -> Result<RecordsDocument, RecordsError> {
    let files = files
        .iter()
        .map(|f| file_records(spec, f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordsDocument {
        format: FORMAT,
        files,
    })
}

fn file_records(spec: &Spec, f: &InputFile<'_>) -> Result<FileRecords, RecordsError> {
    let err = |ja: String, en: String| RecordsError {
        file: f.name.to_string(),
        message_ja: ja,
        message_en: en,
    };
    let name = FileName::parse(spec, f.name).map_err(|e| err(e.message_ja, e.message_en))?;
    let mut out = FileRecords {
        name: f.name.to_string(),
        kind: name.kind.prefix().to_string(),
        csv_version: None,
        records: Vec::new(),
    };
    if name.kind.is_image() {
        return Ok(out);
    }
    let mut reader = Reader::new(f.bytes);
    let mut rec = Record::default();
    let mut n = 0;
    while let Some(res) = reader.read(&mut rec) {
        n += 1;
        if res.is_err() {
            return Err(err(
                format!("{n} 件目のレコードが CSV として読めません。"),
                format!("record {n} cannot be read as CSV"),
            ));
        }
        let version = text(rec.get(0));
        let layout = spec
            .version(&version)
            .and_then(|v| spec.layout(name.kind, v.generation))
            .filter(|l| l.items.len() == rec.len())
            .ok_or_else(|| {
                err(
                    format!("{n} 件目のレコードに合うレイアウトがありません（CSVバージョン「{version}」、{} 項目）。", rec.len()),
                    format!("no layout fits record {n} (CSV version `{version}`, {} items)", rec.len()),
                )
            })?;
        out.csv_version.get_or_insert(version);
        let items = Items(
            layout
                .items
                .iter()
                .enumerate()
                .filter(|(_, item)| item.ty != ItemType::Unused)
                .map(|(i, item)| (item.name_en.clone(), value(spec, item, rec.get(i))))
                .collect(),
        );
        out.records.push(RecordJson { line: n, items });
    }
    Ok(out)
}

/// An item's bytes as text: MS932 decoded, or each byte that does not decode as `\xNN`.
fn text(bytes: &[u8]) -> String {
    match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(s) => s.into_owned(),
        None => crate::sjis::shown(bytes, usize::MAX),
    }
}

/// One item as typed JSON (see the module's documentation).
fn value(spec: &Spec, item: &Item, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let s = text(bytes);
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match item.ty {
        // The CSV version names a version of the standard, not a month.
        _ if item.v4_no == 1 => json!(s),
        ItemType::Date if s == "00000000" => Value::Null,
        ItemType::Date if s.len() == 8 && digits(&s) => {
            json!(format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..]))
        }
        ItemType::YearMonth if s == "000000" => Value::Null,
        ItemType::YearMonth if s.len() == 6 && digits(&s) => json!(format!("{}-{}", &s[..4], &s[4..])),
        ItemType::Time if s == "9999" => Value::Null,
        ItemType::Time if s.len() == 4 && digits(&s) => json!(format!("{}:{}", &s[..2], &s[2..])),
        ItemType::Int => s.parse::<i64>().map_or(json!(s), |n| json!(n)),
        ItemType::Decimal => s.parse::<f64>().map_or(json!(s), |n| json!(n)),
        ItemType::Bitmap31 => json!(
            s.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'1')
                .map(|(i, _)| i + 1)
                .collect::<Vec<_>>()
        ),
        ItemType::Code => json!({ "code": s, "meaning": meaning(spec, item, &s) }),
        _ => json!(s),
    }
}

/// The Japanese meaning of a code: the code table's label, or the service type's name (of a service code's
/// first two characters).
fn meaning(spec: &Spec, item: &Item, code: &str) -> Option<String> {
    match item.code_table.as_deref()? {
        "service_type" => spec.service_type(code).map(|t| t.name_ja.clone()),
        "service_code" => spec.service_type(code.get(..2)?).map(|t| t.name_ja.clone()),
        table => spec.code_label(table, code).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Scenario, unit_files};
    use crate::spec::Generation;

    fn spec() -> &'static Spec {
        Spec::get().expect("spec loads")
    }

    /// The records of the generated set of `unit` (the small v4 scenario).
    fn document_of(unit: &crate::spec::Unit) -> RecordsDocument {
        let files = unit_files(spec(), unit, &Scenario::small(Generation::V4));
        let input: Vec<InputFile<'_>> = files
            .iter()
            .map(|f| InputFile {
                name: &f.name,
                bytes: &f.bytes,
            })
            .collect();
        document(spec(), &input).expect("records")
    }

    #[test]
    fn a_schedule_set_becomes_typed_records() {
        let unit = spec().units.iter().find(|u| u.name == "schedule").expect("unit");
        let doc = document_of(unit);
        assert_eq!(doc.format, FORMAT);
        let plan = doc.files.iter().find(|f| f.kind == "UPPLAN").expect("UPPLAN");
        assert_eq!(plan.csv_version.as_deref(), Some("202407"));
        assert_eq!(plan.records.len(), 6);
        let items = &plan.records[0].items;
        let r = |name: &str| items.get(name).cloned().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(r("target_month"), json!("2025-04"));
        assert_eq!(r("service_date"), json!("2025-04-01"));
        assert_eq!(r("service_start_time"), json!("08:00"));
        assert!(r("service_count").is_u64(), "{:?}", r("service_count"));
        assert_eq!(r("insured_number"), json!("0001000000"));
        assert_eq!(r("over_30_days_flag")["code"], json!("0"));
        assert_eq!(r("over_30_days_flag")["meaning"], json!("非該当"));
        assert_eq!(r("service_code")["meaning"], json!("訪問介護"));
        assert!(r("prorated_days").is_null());
        assert!(items.get("identifier").is_none(), "unused items are left out");
        let annex = doc.files.iter().find(|f| f.kind == "UPSIKYU").expect("UPSIKYU");
        assert_eq!(
            *annex.records[0].items.get("unit_price").expect("unit_price"),
            json!(10.21)
        );
    }

    #[test]
    fn free_text_keeps_quotes_commas_and_line_breaks() {
        let unit = spec().units.iter().find(|u| u.name == "plan").expect("unit");
        let doc = document_of(unit);
        let texts: Vec<&str> = doc
            .files
            .iter()
            .flat_map(|f| &f.records)
            .flat_map(|r| r.items.0.iter().map(|(_, v)| v))
            .filter_map(Value::as_str)
            .collect();
        assert!(
            texts.iter().any(|t| t.contains('\n')),
            "a line break inside a quoted item"
        );
        assert!(
            texts.iter().any(|t| t.contains('ソ') || t.contains('表')),
            "0x5C trail bytes are data"
        );
    }

    #[test]
    fn an_unreadable_record_names_the_file_and_record() {
        let bytes = b"202407,\"open\r\n";
        let name = "UPJSK_202503_1310000001_43_1310000002_11_20250328101500.CSV";
        let e = document(spec(), &[InputFile { name, bytes }]).expect_err("refused");
        assert_eq!(e.file, name);
        assert!(e.message_en.contains("record 1"), "{e}");
    }
}
