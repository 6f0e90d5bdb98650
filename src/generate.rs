//! Generators of valid sets for every send unit and generation, deterministic for a seed.
//!
//! Used for the committed fixtures, the property tests and the benchmarks. Values are synthetic: no real
//! person's data. Free text carries what real files carry: commas, `""`, line breaks and the 0x5C trail
//! bytes of ソ, 表 and 能.

use crate::csvread::write_item;
use crate::name::Party;
use crate::sjis;
use crate::spec::{BindTarget, Generation, ItemType, Kind, Layout, Rule, Spec, Unit};

/// What a generated set looks like.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub generation: Generation,
    pub sender: Party,
    pub recipient: Party,
    /// 14-digit sequence shared by the set.
    pub sequence: String,
    /// Service month `YYYYMM`.
    pub month: String,
    pub users: usize,
    /// Detail rows per user in the kinds that have many (第6表, 2表, 別表…).
    pub rows_per_user: usize,
    pub seed: u64,
}

impl Scenario {
    /// A small v4 scenario: care-manager office 1310000001/43 to home-help provider 1310000002/11.
    pub fn small(generation: Generation) -> Scenario {
        let with_type = |t: &str| (generation == Generation::V4).then(|| t.to_string());
        Scenario {
            generation,
            sender: Party {
                office: "1310000001".into(),
                service_type: with_type("43"),
            },
            recipient: Party {
                office: "1310000002".into(),
                service_type: with_type("11"),
            },
            sequence: "20250328101500".into(),
            month: "202504".into(),
            users: 2,
            rows_per_user: 3,
            seed: 1,
        }
    }
}

/// A generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A small deterministic PRNG (xorshift64*); enough for varied synthetic values.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const TEXTS: &[&str] = &[
    "ソファーからの立ち上がりに介助が必要、表情は穏やか",
    "能力の維持を目標に\"自立\"支援を行う",
    "週2回の入浴介助\r\n（午前中を希望）",
    "妻と二人暮らし。長女が近所に住み、週末に訪問する",
    "転倒予防のため、手すりを設置済み。歩行器を使用",
    "髙橋医院（かかりつけ）①通院は月1回",
];

/// The file name of `kind` in the scenario; `branch` for images.
pub fn file_name(spec: &Spec, kind: Kind, sc: &Scenario, month: &str, branch: Option<u32>) -> String {
    let mut s = kind.prefix().to_string();
    if spec.kind(kind).has_month {
        s.push('_');
        s.push_str(month);
    }
    for p in [&sc.sender, &sc.recipient] {
        s.push('_');
        s.push_str(&p.office);
        if let Some(t) = &p.service_type {
            s.push('_');
            s.push_str(t);
        }
    }
    s.push('_');
    s.push_str(&sc.sequence);
    match branch {
        Some(b) => s.push_str(&format!("_{b:04}.jpg")),
        None => s.push_str(".CSV"),
    }
    s
}

/// Per-user keys shared by parent and satellite records.
struct User {
    index: usize,
    insurer: String,
    insured: String,
}

fn user(i: usize) -> User {
    let insured = if i % 7 == 6 {
        format!("H{:09}", 100_000 + i)
    } else {
        format!("{:010}", 1_000_000 + i)
    };
    User {
        index: i,
        insurer: format!("13{:04}", i % 10_000),
        insured,
    }
}

fn version(g: Generation) -> &'static str {
    match g {
        Generation::V3 => "202208",
        Generation::V4 => "202407",
    }
}

const PLAN_DATE: &str = "20250315";

/// The value of one item for user `u`, row `r`.
#[allow(clippy::too_many_arguments)]
fn value(
    spec: &Spec,
    layout: &Layout,
    idx: usize,
    sc: &Scenario,
    name_month: &str,
    u: &User,
    r: usize,
    rng: &mut Rng,
) -> String {
    let item = &layout.items[idx];
    let kind = layout.kind;
    if let Some(b) = item.bind {
        return match b.target {
            BindTarget::Month => name_month.to_string(),
            BindTarget::Sender => sc.sender.office.clone(),
            BindTarget::Recipient => sc.recipient.office.clone(),
        };
    }
    let service_type = sc
        .recipient
        .service_type
        .clone()
        .filter(|t| spec.service_type(t).is_some_and(|s| s.scope == "in"))
        .unwrap_or_else(|| "11".into());
    let annex = (kind == Kind::Upsikyu).then(|| AnnexRow::of(sc, r));
    let service = match annex {
        Some(AnnexRow::Detail(s)) => s,
        _ => r % services(sc),
    };
    match (item.name_en.as_str(), item.v4_no) {
        ("csv_version", _) => return version(layout.generation).into(),
        ("insurer_number", _) => return u.insurer.clone(),
        ("insured_number", _) => return u.insured.clone(),
        ("plan_created_or_changed_date", _) if kind == Kind::Uphosoku => {
            return if name_month == "000000" {
                PLAN_DATE.into()
            } else {
                "00000000".into()
            };
        }
        ("plan_created_or_changed_date" | "consultation_date", _) => return PLAN_DATE.into(),
        ("service_date", _) => return format!("{}{:02}", sc.month, r % 28 + 1),
        ("service_code", _) if annex == Some(AnnexRow::Total) => return "999999".into(),
        ("service_code", _) if annex == Some(AnnexRow::Subtotal) => return format!("{service_type}AAAA"),
        ("service_code", _) => return format!("{service_type}1{service:03}"),
        ("service_office_code", _) if annex == Some(AnnexRow::Total) => return "9999999999".into(),
        ("service_count", _) => return service_count(u, r).to_string(),
        ("document_created_date" | "plan2_created_date" | "plan3_created_date", _) => {
            return sc.sequence.get(..8).unwrap_or(PLAN_DATE).into();
        }
        ("cert_valid_from" | "limit_period_start_date", _) => return "20240401".into(),
        ("cert_valid_to" | "limit_period_end_date", _) => return "20270331".into(),
        ("user_birth_date", _) => return format!("19{:02}0{}15", 30 + u.index % 20, 1 + u.index % 9),
        ("service_start_time" | "activity_start_time", _) => return format!("{:02}00", 8 + r % 10),
        ("service_end_time" | "activity_end_time", _) => return format!("{:02}30", 8 + r % 10),
        ("service_office_code", _) => return sc.recipient.office.clone(),
        ("service_type_code", _) => return service_type,
        ("family_diagram_image_filename", _) => {
            return file_name(spec, Kind::UpkihonImage, sc, "", Some(u.index as u32 + 1));
        }
        ("tais_code", _) if matches!(&service_type[..], "17" | "67") => return "00001-000010".into(),
        ("unit_price", _) => return "10.21".into(),
        ("prorated_days", _) => return String::new(),
        _ => {}
    }
    match item.ty {
        ItemType::YearMonth => sc.month.clone(),
        ItemType::Date => format!("2024{:02}{:02}", rng.below(12) + 1, rng.below(28) + 1),
        ItemType::Time => format!("{:02}{:02}", 8 + rng.below(10), 15 * rng.below(4)),
        ItemType::Digits => "1".repeat(item.max_len.unwrap_or(1)),
        ItemType::InsuredId => u.insured.clone(),
        ItemType::Code => {
            let table = item.code_table.as_deref().unwrap_or_default();
            let list = spec.code_list(table);
            let first = list.split(", ").next().unwrap_or_default();
            first.split('=').next().unwrap_or_default().to_string()
        }
        ItemType::Int if item.rule == Some(Rule::DetailNo) => String::new(),
        ItemType::Int => (1 + rng.below(9)).to_string(),
        ItemType::Decimal => "10.21".into(),
        ItemType::Bitmap31 => "1".repeat(5) + &"0".repeat(26),
        ItemType::Str => match item.max_len {
            Some(8) => "160-0023".into(),
            Some(15) => "03-1234-5678".into(),
            Some(n) if n >= 2 => "1".into(),
            _ => String::new(),
        },
        ItemType::Text => TEXTS[rng.below(TEXTS.len() as u64) as usize].to_string(),
        ItemType::Unused => String::new(),
    }
}

/// The distinct services (service codes) of each person's 第6表: row `r` is service `r % services`.
fn services(sc: &Scenario) -> usize {
    sc.rows_per_user.clamp(1, 8)
}

/// サービス回数 of a person's 第6表 row.
fn service_count(u: &User, r: usize) -> u64 {
    1 + ((u.index + r) % 3) as u64
}

/// What a person's 第7表 row `r` is: one row per service of 第6表, the type's subtotal when there are several,
/// and the grand total last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnnexRow {
    Detail(usize),
    Subtotal,
    Total,
}

impl AnnexRow {
    fn of(sc: &Scenario, r: usize) -> AnnexRow {
        let n = services(sc);
        match r {
            r if r < n => AnnexRow::Detail(r),
            r if r == n && n > 1 => AnnexRow::Subtotal,
            _ => AnnexRow::Total,
        }
    }
}

/// Makes a person's 第7表 rows add up: 回数／日数 is the number of the service in 第6表, サービス単位金額 is
/// 単位数 × 回数／日数 (no discount), and the subtotal and total rows carry 単位数 0 and the sums.
fn annex_sums(layout: &Layout, sc: &Scenario, u: &User, rows: &mut [Vec<String>]) {
    let at = |no: u32| layout.by_v4_no(no).map(|i| i.no as usize - 1);
    let (Some(units), Some(rate), Some(discounted), Some(count), Some(amount)) =
        (at(13), at(14), at(15), at(16), at(17))
    else {
        return;
    };
    let (mut total_count, mut total_amount) = (0u64, 0u64);
    for (r, row) in rows.iter_mut().enumerate() {
        row[rate].clear();
        row[discounted].clear();
        match AnnexRow::of(sc, r) {
            AnnexRow::Detail(s) => {
                let n: u64 = (0..sc.rows_per_user)
                    .filter(|r| r % services(sc) == s)
                    .map(|r| service_count(u, r))
                    .sum();
                let a = row[units].parse::<u64>().unwrap_or(0) * n;
                (total_count, total_amount) = (total_count + n, total_amount + a);
                row[count] = n.to_string();
                row[amount] = a.to_string();
            }
            AnnexRow::Subtotal | AnnexRow::Total => {
                row[units] = "0".into();
                row[count] = total_count.to_string();
                row[amount] = total_amount.to_string();
            }
        }
    }
}

fn rows_for(kind: Kind, sc: &Scenario) -> usize {
    match kind {
        Kind::Up2kyo
        | Kind::Up3kyo
        | Kind::Upplan
        | Kind::Upjsk
        | Kind::UpkihonSub1
        | Kind::UpkihonSub2
        | Kind::UpyoboSub => sc.rows_per_user,
        Kind::Upsikyu => services(sc) + usize::from(services(sc) > 1) + 1,
        _ => 1,
    }
}

/// Appends one encoded record (CRLF-terminated) to `out`.
pub fn write_record(out: &mut Vec<u8>, layout: &Layout, values: &[String]) {
    for (i, (item, v)) in layout.items.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let bytes = sjis::encode(v).unwrap_or_else(|| v.as_bytes().to_vec());
        write_item(out, &bytes, item.ty == ItemType::Text);
    }
    out.extend_from_slice(b"\r\n");
}

/// The records of one CSV file of `kind` for the scenario, as item values (UTF-8).
pub fn records(spec: &Spec, kind: Kind, sc: &Scenario, name_month: &str) -> Vec<Vec<String>> {
    let Some(layout) = spec.layout(kind, sc.generation) else {
        return Vec::new();
    };
    let mut rng = Rng::new(sc.seed ^ kind as u64);
    let mut out = Vec::new();
    for i in 0..sc.users {
        let u = user(i);
        let first = out.len();
        for r in 0..rows_for(kind, sc) {
            out.push(
                (0..layout.items.len())
                    .map(|idx| value(spec, layout, idx, sc, name_month, &u, r, &mut rng))
                    .collect(),
            );
        }
        if kind == Kind::Upsikyu {
            annex_sums(layout, sc, &u, &mut out[first..]);
        }
    }
    out
}

/// A small real JPEG (8×8 grey, baseline, 414 bytes) that decodes: the relay judges images by decoding them.
pub fn tiny_jpeg() -> Vec<u8> {
    include_bytes!("family_8x8.jpg").to_vec()
}

/// Every file of a send unit for the scenario.
///
/// 実績 (UPJSK) are of the month the set is sent in, so that every service date lies before the sequence's.
pub fn unit_files(spec: &Spec, unit: &Unit, sc: &Scenario) -> Vec<GenFile> {
    let actuals;
    let sc = if unit.members.contains(&Kind::Upjsk) {
        actuals = Scenario {
            month: sc.sequence.get(..6).unwrap_or(&sc.month).to_string(),
            ..sc.clone()
        };
        &actuals
    } else {
        sc
    };
    let plan = unit.members.contains(&Kind::Up1kyo);
    let mut files = Vec::new();
    for &kind in &unit.members {
        let month = if kind == Kind::Uphosoku && plan {
            "000000".to_string()
        } else {
            sc.month.clone()
        };
        let Some(layout) = spec.layout(kind, sc.generation) else {
            continue;
        };
        let mut bytes = Vec::new();
        for rec in records(spec, kind, sc, &month) {
            write_record(&mut bytes, layout, &rec);
        }
        files.push(GenFile {
            name: file_name(spec, kind, sc, &month, None),
            bytes,
        });
    }
    if unit.repeated.contains(&Kind::UpkihonImage) {
        for b in 0..sc.users {
            files.push(GenFile {
                name: file_name(spec, Kind::UpkihonImage, sc, "", Some(b as u32 + 1)),
                bytes: tiny_jpeg(),
            });
        }
    }
    files
}

/// A v4 schedule set for the users and parties of `base` whose UPPLAN (第6表) holds `rows` records per user,
/// with small matching UPSIKYU (a row per service, at most 8, a subtotal and a total per user) and UPHOSOKU
/// files: the large valid input of the benchmarks.
/// `None` if the spec lacks the unit.
pub fn big_schedule_set(spec: &Spec, base: &Scenario, rows: usize) -> Option<Vec<GenFile>> {
    let unit = spec
        .units
        .iter()
        .find(|u| u.name == "schedule" && u.generations.contains(&Generation::V4))?;
    let small = Scenario {
        rows_per_user: 2,
        generation: Generation::V4,
        ..base.clone()
    };
    let big = Scenario {
        rows_per_user: rows,
        ..small.clone()
    };
    let mut files = unit_files(spec, unit, &small);
    for (kind, capacity) in [
        (Kind::Upplan, base.users * rows * 260),
        (Kind::Upsikyu, base.users * 10 * 200),
    ] {
        let layout = spec.layout(kind, Generation::V4)?;
        let mut bytes = Vec::with_capacity(capacity);
        for rec in records(spec, kind, &big, &big.month) {
            write_record(&mut bytes, layout, &rec);
        }
        files
            .iter_mut()
            .find(|f| f.name.starts_with(kind.prefix()))?
            .bytes = bytes;
    }
    Some(files)
}
