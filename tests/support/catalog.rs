//! The fixture catalogue: valid sets of every send unit in both generations, and one broken set per rule.
//!
//! `cargo run --example fixtures` writes it under `fixtures/`; `tests/fixtures.rs` checks that the committed
//! bytes are exactly what this catalogue produces and that each set gets the verdict its directory names.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a broken catalogue should panic loudly

use careplan_relay::generate::{self, GenFile, Scenario};
use careplan_relay::spec::{Generation, Kind, Spec};

/// One fixture set: its directory under `fixtures/` and its files.
pub struct Fixture {
    pub dir: String,
    pub files: Vec<GenFile>,
}

/// A set as records, so that a test can change one item before encoding.
struct Draft {
    files: Vec<(Kind, String, Vec<Vec<String>>)>,
    images: Vec<GenFile>,
    generation: Generation,
}

fn draft(spec: &Spec, unit: &str, sc: &Scenario) -> Draft {
    let unit = spec
        .units
        .iter()
        .find(|u| u.name == unit && u.generations.contains(&sc.generation))
        .unwrap_or_else(|| panic!("unit {unit}"));
    let mut files = Vec::new();
    let mut images = Vec::new();
    for f in generate::unit_files(spec, unit, sc) {
        let name = careplan_relay::name::FileName::parse(spec, &f.name).expect("generated names parse");
        if name.kind.is_image() {
            images.push(f);
            continue;
        }
        let month = name.month.clone().unwrap_or_default();
        files.push((name.kind, f.name, generate::records(spec, name.kind, sc, &month)));
    }
    Draft {
        files,
        images,
        generation: sc.generation,
    }
}

impl Draft {
    fn records(&mut self, kind: Kind) -> &mut Vec<Vec<String>> {
        &mut self
            .files
            .iter_mut()
            .find(|f| f.0 == kind)
            .expect("kind in draft")
            .2
    }

    /// Sets item `v4_no` of record `rec` of `kind`.
    fn set(mut self, kind: Kind, rec: usize, v4_no: u32, value: &str) -> Draft {
        let spec = Spec::get().expect("spec");
        let no = spec
            .layout(kind, self.generation)
            .and_then(|l| l.by_v4_no(v4_no))
            .expect("item")
            .no;
        self.records(kind)[rec][no as usize - 1] = value.to_string();
        self
    }

    fn encode(self, spec: &Spec, dir: &str) -> Fixture {
        let mut files: Vec<GenFile> = self
            .files
            .into_iter()
            .map(|(kind, name, recs)| {
                let layout = spec.layout(kind, self.generation).expect("layout");
                let mut bytes = Vec::new();
                for r in &recs {
                    generate::write_record(&mut bytes, layout, r);
                }
                GenFile { name, bytes }
            })
            .collect();
        files.extend(self.images);
        Fixture {
            dir: dir.to_string(),
            files,
        }
    }
}

fn replace(bytes: &mut Vec<u8>, marker: &str, with: &[u8]) {
    let m = marker.as_bytes();
    let at = bytes
        .windows(m.len())
        .position(|w| w == m)
        .expect("marker present");
    bytes.splice(at..at + m.len(), with.iter().copied());
}

fn file_mut<'f>(f: &'f mut Fixture, prefix: &str) -> &'f mut GenFile {
    f.files
        .iter_mut()
        .find(|g| g.name.starts_with(prefix))
        .expect("file in fixture")
}

/// Every fixture set. Invalid sets are named `invalid/<CODE>-<what>`; each breaks exactly one rule.
pub fn all(spec: &Spec) -> Vec<Fixture> {
    let mut out = Vec::new();
    for g in [Generation::V3, Generation::V4] {
        for unit in spec.units.iter().filter(|u| u.generations.contains(&g)) {
            let sc = Scenario::small(g);
            let files = generate::unit_files(spec, unit, &sc);
            out.push(Fixture {
                dir: format!("valid/{}/{}", g.label(), unit.name),
                files,
            });
        }
    }
    // A v4 schedule for welfare-equipment rental (TAIS codes), and the legacy 4.0 version value (warning).
    let mut rental = Scenario::small(Generation::V4);
    rental.recipient.service_type = Some("17".into());
    out.push(draft(spec, "schedule", &rental).encode(spec, "valid/v4/schedule_rental"));
    let sc = Scenario::small(Generation::V4);
    let schedule = || draft(spec, "schedule", &sc);
    let mut legacy = schedule();
    for f in &mut legacy.files {
        for r in &mut f.2 {
            r[0] = "202504".into();
        }
    }
    out.push(legacy.encode(spec, "valid/v4/schedule_csv_version_202504"));
    // A phone's family photo with bytes after the end-of-image marker: every decoder reads it.
    let mut phone = draft(spec, "basic", &sc).encode(spec, "valid/v4/basic_image_with_trailing_bytes");
    file_mut(&mut phone, "UPKIHON_IMAGE")
        .bytes
        .extend_from_slice(b"\0\0MakerNote trailer written after EOI");
    out.push(phone);

    let bad = |d: Draft, dir: &str| d.encode(spec, &format!("invalid/{dir}"));
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 14, "123"),
        "E_LENGTH-service_count_3_digits",
    ));
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 4, "20250230"),
        "E_FORMAT-date_not_in_calendar",
    ));
    out.push(bad(
        schedule().set(Kind::Upplan, 1, 12, "2460"),
        "E_FORMAT-time_2460",
    ));
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 11, "11111"),
        "E_FORMAT-prorated_days_not_31",
    ));
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 10, "20250501"),
        "E_DATE_MONTH-service_date_in_the_next_month",
    ));
    out.push(bad(
        schedule().set(Kind::Upplan, 1, 11, &format!("{}1", "0".repeat(30))),
        "E_DATE_MONTH-prorated_day_31_in_april",
    ));
    out.push(
        schedule()
            .set(Kind::Upplan, 0, 12, "2330")
            .set(Kind::Upplan, 0, 13, "0030")
            .encode(spec, "valid/v4/schedule_overnight_service"),
    );
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 3, "12345678"),
        "E_FORMAT-insured_number_8_digits_in_a_satellite_key",
    ));
    out.push(bad(schedule().set(Kind::Uphosoku, 0, 7, "3"), "E_CODE-sex_3"));
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 15, "991111"),
        "E_CODE-service_type_99",
    ));
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 10, ""),
        "E_REQUIRED-service_date_empty",
    ));
    let mut rental_missing = draft(spec, "schedule", &rental).set(Kind::Upplan, 0, 16, "");
    rental_missing = rental_missing.set(Kind::Upplan, 0, 17, "");
    out.push(bad(
        rental_missing,
        "E_REQUIRED-rental_without_tais_or_notification_code",
    ));
    out.push(bad(
        schedule().set(Kind::Upplan, 0, 24, "1310000009"),
        "E_NAME_BODY_MISMATCH-updater_is_not_the_sender",
    ));
    let mut month = schedule();
    for r in month.records(Kind::Upplan) {
        r[4] = "202505".into();
    }
    out.push(bad(
        month,
        "E_NAME_BODY_MISMATCH-target_month_differs_from_name+E_SET_COMPOSITION",
    ));
    let mut version = schedule();
    for r in version.records(Kind::Upplan) {
        r[0] = "202404".into();
    }
    out.push(bad(version, "E_CSV_VERSION-202404_not_accepted"));
    out.push(bad(
        schedule().set(Kind::Upplan, 2, 1, "202504"),
        "E_CSV_VERSION-two_versions_in_one_file",
    ));
    let mut v4_in_v3 = draft(spec, "schedule", &Scenario::small(Generation::V3));
    for f in &mut v4_in_v3.files {
        for r in &mut f.2 {
            r[0] = "202407".into();
        }
    }
    let mut f = bad(v4_in_v3, "E_CSV_VERSION-v4_version_in_v3_named_files");
    // The version decides the layout, and the v4 layouts have more items: every record is short as well.
    f.dir.push_str("+E_FIELD_COUNT");
    out.push(f);

    let mut missing = schedule();
    missing.files.retain(|f| f.0 != Kind::Upsikyu);
    out.push(bad(missing, "E_SET_COMPOSITION-schedule_without_table_7"));
    let mut plan_missing = draft(spec, "plan", &sc);
    plan_missing.files.retain(|f| f.0 != Kind::Up3kyo);
    out.push(bad(plan_missing, "E_SET_COMPOSITION-v4_plan_without_table_3"));
    out.push(bad(
        schedule().set(Kind::Upsikyu, 0, 3, "1999999999"),
        "E_SET_COMPOSITION-table_7_row_without_table_6_user",
    ));
    let mut basic = draft(spec, "basic", &sc);
    basic.images.pop();
    out.push(bad(basic, "E_SET_COMPOSITION-family_image_missing"));

    let mut f = schedule()
        .set(Kind::Upplan, 0, 21, "@@BAD@@")
        .encode(spec, "invalid/E_ENCODING-invalid_shift_jis_bytes");
    replace(
        &mut file_mut(&mut f, "UPPLAN").bytes,
        "@@BAD@@",
        &[0x82, 0xA0, 0x85, 0x40],
    );
    out.push(f);
    let mut f = schedule()
        .set(Kind::Uphosoku, 0, 6, "@@BAD@@")
        .encode(spec, "invalid/E_GAIJI-user_defined_character_in_name");
    replace(
        &mut file_mut(&mut f, "UPHOSOKU").bytes,
        "@@BAD@@",
        &[0x8E, 0x52, 0xF0, 0x40],
    );
    out.push(f);
    let mut f = schedule().encode(spec, "invalid/E_ENCODING-utf8_body");
    let plan = file_mut(&mut f, "UPPLAN");
    let (text, _, _) = encoding_rs::SHIFT_JIS.decode(&plan.bytes);
    plan.bytes = text.into_owned().into_bytes();
    out.push(f);
    let mut f = schedule().encode(spec, "invalid/E_ENCODING-utf8_bom");
    file_mut(&mut f, "UPSIKYU").bytes.splice(0..0, [0xEF, 0xBB, 0xBF]);
    out.push(f);
    let mut f = schedule()
        .set(Kind::Upplan, 0, 21, "@@Q@@")
        .encode(spec, "invalid/E_CSV_SYNTAX-unterminated_quote");
    let plan = &mut file_mut(&mut f, "UPPLAN").bytes;
    replace(plan, "\"@@Q@@\"", b"\"open");
    out.push(f);
    let mut f = schedule()
        .set(Kind::Upplan, 0, 2, "@@Q@@")
        .encode(spec, "invalid/E_CSV_SYNTAX-quote_inside_unquoted_item");
    replace(&mut file_mut(&mut f, "UPPLAN").bytes, "@@Q@@", b"13\"001");
    out.push(f);
    let mut short = schedule();
    short.records(Kind::Upplan)[0].pop();
    out.push(short.encode(spec, "invalid/E_FIELD_COUNT-record_missing_an_item"));
    let mut f = schedule().encode(spec, "invalid/E_EMPTY_FILE-schedule_without_records");
    file_mut(&mut f, "UPPLAN").bytes.clear();
    f.dir.push_str("+E_SET_COMPOSITION");
    out.push(f);
    let mut f = draft(spec, "basic", &sc).encode(spec, "invalid/E_IMAGE-not_a_jpeg");
    file_mut(&mut f, "UPKIHON_IMAGE").bytes = b"GIF89a".to_vec();
    out.push(f);
    // JPEG markers around nothing that decodes: the start and end markers alone do not make an image.
    let mut f = draft(spec, "basic", &sc).encode(spec, "invalid/E_IMAGE-markers_only");
    file_mut(&mut f, "UPKIHON_IMAGE").bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0xFF, 0xD9];
    out.push(f);
    // A spreadsheet's header line of item names before the records: one finding, not one per item.
    let mut f = schedule().encode(spec, "invalid/E_HEADER_LINE-item_names_first");
    let layout = spec.layout(Kind::Upplan, Generation::V4).expect("layout");
    let header: Vec<String> = layout.items.iter().map(|i| i.name_ja.clone()).collect();
    let mut bytes = careplan_relay::sjis::encode(&(header.join(",") + "\r\n")).expect("MS932");
    let p = file_mut(&mut f, "UPPLAN");
    bytes.append(&mut p.bytes);
    p.bytes = bytes;
    out.push(f);
    // A DOS end-of-file byte after the last line, as old writers append.
    let mut f = schedule().encode(spec, "invalid/E_EOF_MARKER-dos_end_of_file");
    file_mut(&mut f, "UPPLAN").bytes.push(0x1A);
    out.push(f);
    let mut f = schedule().encode(spec, "invalid/E_FILENAME-nine_digit_office");
    let p = file_mut(&mut f, "UPPLAN");
    p.name = p.name.replacen("_1310000001_", "_131000001_", 1);
    f.dir.push_str("+E_SET_COMPOSITION");
    out.push(f);
    sequence_in_order(&mut out);
    out
}

/// The sequence every set is generated with (`Scenario`'s default), replaced by [`sequence_in_order`].
const GENERATED_SEQUENCE: &str = "20250328101500";

/// Gives each set its own sequence, rising in the order of the directories' names (valid before invalid, v3
/// before v4): 2025-03-28 10:15:00, then one minute later for each set. So the whole catalogue can be sent into
/// one relay in that order without two sets colliding (409) or a set arriving older than one of its stream. The
/// sequence is replaced wherever it appears: in the names and in 基本情報's family-image names (No.62), which
/// must match; in MS932 an ASCII digit is never part of a two-byte character, so the bytes stay valid.
fn sequence_in_order(fixtures: &mut [Fixture]) {
    fixtures.sort_by_key(|f| (f.dir.starts_with("invalid/"), f.dir.clone()));
    assert!(
        fixtures.len() < 13 * 60,
        "the catalogue's sequences stay within 2025-03-28"
    );
    for (i, f) in fixtures.iter_mut().enumerate() {
        let minute = 10 * 60 + 15 + i;
        let sequence = format!("20250328{:02}{:02}00", minute / 60, minute % 60);
        for file in &mut f.files {
            file.name = file.name.replace(GENERATED_SEQUENCE, &sequence);
            replace_bytes(
                &mut file.bytes,
                GENERATED_SEQUENCE.as_bytes(),
                sequence.as_bytes(),
            );
        }
    }
}

/// Replaces every occurrence of `from` in `bytes` by `to` (of the same length).
fn replace_bytes(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}
