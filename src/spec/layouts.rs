//! Parsing of the layout files `spec/layouts/<KIND>.csv`: the v4 layout of each kind, and the v3 one derived from it.

use rustc_hash::FxHashMap as HashMap;

use super::load::{Row, SpecError, Table, kind};
use super::{Bind, BindTarget, Generation, Item, ItemType, Kind, KindInfo, Layout, Required, Rule};

macro_rules! layout_files {
    ($($name:literal),*) => { &[$(($name, include_str!(concat!("../../spec/layouts/", $name, ".csv")))),*] };
}

const LAYOUTS: &[(&str, &str)] = layout_files!(
    "UPHOSOKU",
    "UP1KYO",
    "DLT1KYO",
    "UP2KYO",
    "UP3KYO",
    "UPPLAN",
    "UPJSK",
    "DLTPLAN",
    "DLTJSK",
    "UPSIKYU",
    "UPKIHON",
    "UPKIHON_SUB1",
    "UPKIHON_SUB2",
    "DLTKIHON",
    "UPYOBO",
    "UPYOBO_SUB",
    "DLTYOBO"
);

fn item(t: &Table<'_>, row: &Row) -> Result<Item, SpecError> {
    let line = row.line;
    let ty = match row.get("type") {
        "yyyymm" => ItemType::YearMonth,
        "yyyymmdd" => ItemType::Date,
        "hhmm" => ItemType::Time,
        "digits" => ItemType::Digits,
        "id" => ItemType::InsuredId,
        "code" => ItemType::Code,
        "int" => ItemType::Int,
        "decimal" => ItemType::Decimal,
        "string" => ItemType::Str,
        "text" => ItemType::Text,
        "bitmap31" => ItemType::Bitmap31,
        "unused" => ItemType::Unused,
        other => return Err(t.err(line, format!("unknown type `{other}`"))),
    };
    let required = match row.get("required") {
        "error" => Required::Error,
        "warn" => Required::Warn,
        "conditional" => Required::Conditional,
        "" => Required::Optional,
        other => return Err(t.err(line, format!("unknown required value `{other}`"))),
    };
    let rule = match row.get("rule") {
        "" => None,
        "time_or_9999" => Some(Rule::TimeOr9999),
        "date_or_zeros" => Some(Rule::DateOrZeros),
        "month_or_zeros" => Some(Rule::MonthOrZeros),
        "equipment_code" => Some(Rule::EquipmentCode),
        "detail_no" => Some(Rule::DetailNo),
        "service_code_or_summary" => Some(Rule::ServiceCodeOrSummary),
        other => return Err(t.err(line, format!("unknown rule `{other}`"))),
    };
    let bind = match row.get("binds") {
        "" => None,
        s => {
            let (target, severity) = s.split_once(':').unwrap_or((s, ""));
            let target = match target {
                "month" => BindTarget::Month,
                "sender" => BindTarget::Sender,
                "recipient" => BindTarget::Recipient,
                _ => return Err(t.err(line, format!("unknown bind `{s}`"))),
            };
            let is_error = match severity {
                "error" => true,
                "warn" => false,
                _ => return Err(t.err(line, format!("bind `{s}` needs :error or :warn"))),
            };
            Some(Bind { target, is_error })
        }
    };
    let max_len = match row.get("max_len") {
        "" => None,
        s => Some(s.parse().map_err(|_| t.err(line, format!("bad max_len `{s}`")))?),
    };
    let no: u32 = row
        .get("no")
        .parse()
        .map_err(|_| t.err(line, "bad item number"))?;
    let code_table = Some(row.get("code_table").to_string()).filter(|s| !s.is_empty());
    if (ty == ItemType::Code) != code_table.is_some() {
        return Err(t.err(
            line,
            "a `code` item needs a code_table, and only a code item may have one",
        ));
    }
    Ok(Item {
        no,
        v4_no: no,
        name_ja: row.get("name_ja").to_string(),
        name_en: row.get("name_en").to_string(),
        ty,
        max_len,
        required,
        code_table,
        rule,
        bind,
    })
}

/// The v3 layout of a kind: the v4 layout without the v4-only items, renumbered; 第7表 回数／日数 has length 2.
fn v3_layout(v4: &Layout, v4_only: &[bool]) -> Layout {
    let mut items: Vec<Item> = v4
        .items
        .iter()
        .zip(v4_only)
        .filter(|(_, only)| !**only)
        .map(|(i, _)| i.clone())
        .collect();
    for (n, item) in items.iter_mut().enumerate() {
        item.no = n as u32 + 1;
        if v4.kind == Kind::Upsikyu && item.name_en == "count_or_days" {
            item.max_len = Some(2);
        }
    }
    Layout {
        kind: v4.kind,
        generation: Generation::V3,
        items,
    }
}

/// The layouts of every kind that has one, both generations (v3 only for kinds `since` v3 in `kinds`).
pub(super) fn load_layouts(
    kinds: &HashMap<Kind, KindInfo>,
) -> Result<HashMap<(Kind, Generation), Layout>, SpecError> {
    let mut layouts = HashMap::default();
    for (name, text) in LAYOUTS {
        let file = format!("layouts/{name}.csv");
        let t = Table { file: &file };
        let k = kind(&t, 0, name)?;
        let rows = t.rows(
            text,
            &[
                "no", "name_ja", "name_en", "type", "max_len", "required", "v4_only",
            ],
        )?;
        let mut items = Vec::new();
        let mut v4_only = Vec::new();
        for (n, row) in rows.iter().enumerate() {
            let it = item(&t, row)?;
            if it.no as usize != n + 1 {
                return Err(t.err(
                    row.line,
                    format!("item numbers must run 1, 2, 3…; found {}", it.no),
                ));
            }
            items.push(it);
            v4_only.push(row.get("v4_only") == "Y");
        }
        let v4 = Layout {
            kind: k,
            generation: Generation::V4,
            items,
        };
        if kinds[&k].since == Generation::V3 {
            layouts.insert((k, Generation::V3), v3_layout(&v4, &v4_only));
        }
        layouts.insert((k, Generation::V4), v4);
    }
    if let Some(k) = Kind::ALL
        .iter()
        .find(|k| !k.is_image() && !layouts.contains_key(&(**k, Generation::V4)))
    {
        return Err(Table { file: "layouts" }.err(0, format!("no layout for kind {k}")));
    }
    Ok(layouts)
}
