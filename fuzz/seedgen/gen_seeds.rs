//! Writes the seed corpus: `seeds/validate_set/` and `seeds/csv_reader/` under the fuzz crate.
//!
//! Run from `fuzz/`: `cargo run --example gen_seeds`. Deterministic: re-running rewrites the same files.

use std::fs;
use std::path::Path;

use careplan_relay::generate::{Scenario, unit_files};
use careplan_relay::name::FileName;
use careplan_relay::spec::Generation;
use careplan_relay::validate::{InputFile, validate_set};
use careplan_relay_fuzz::{NameForm, encode, names, spec};

#[path = "upload_seeds.rs"]
mod upload_seeds;

/// Hand-made CSV edge cases (bodies).
const EDGE_BODIES: &[(&str, &[u8])] = &[
    ("unterminated_quote", b"202407,\"abc\r\ndef,ghi\r\n"),
    ("bare_cr", b"202407,a\rb,c\r\n202407,d,e\r\n"),
    ("utf8_bom", b"\xEF\xBB\xBF202407,a,b\r\n"),
    ("gaiji_f040", b"202407,\"\xF0\x40\",x\r\n"),
    ("sjis_5c_trail", b"202407,\"\x83\x5C\x95\x5C\x94\x5C\",x\r\n"),
    ("stray_quote", b"202407,ab\"c,d\r\n"),
    ("after_quote", b"202407,\"ab\"c,d\r\n"),
    ("doubled_quotes", b"202407,\"a\"\"b\"\"\",\"\"\r\n"),
    ("quoted_crlf", b"202407,\"line1\r\nline2\",x\r\n202407,y,z\n"),
    ("blank_lines", b"\r\n\n202407,a\r\n\r\n\r\n"),
    ("only_newlines", b"\r\n\r\n\n"),
    ("no_final_newline", b"202407,a,b"),
    ("utf8_text", "202407,あいう,x\r\n".as_bytes()),
    ("byte_80", b"202407,\x80,x\r\n"),
    ("truncated_lead", b"202407,\x82\r\n"),
    ("empty", b""),
];

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("write {name}: {e}"));
}

fn main() {
    let spec = spec();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let (vdir, cdir) = (root.join("validate_set"), root.join("csv_reader"));
    for d in [&vdir, &cdir] {
        let _ = fs::remove_dir_all(d);
        fs::create_dir_all(d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
    }
    let mut n = 0;
    for generation in [Generation::V4, Generation::V3] {
        let g = generation.label();
        let mut sc = Scenario::small(generation);
        // Keep seeds small: libFuzzer's default -max_len is 4096 and grows from the seeds.
        sc.users = 1;
        sc.rows_per_user = 2;
        for unit in spec.units.iter().filter(|u| u.generations.contains(&generation)) {
            let files = unit_files(spec, unit, &sc);
            let inputs: Vec<InputFile<'_>> = files
                .iter()
                .map(|f| InputFile {
                    name: &f.name,
                    bytes: &f.bytes,
                })
                .collect();
            if !validate_set(spec, &inputs).report.valid {
                eprintln!("note: the generated {g} unit `{}` is not valid", unit.name);
            }
            let slug: String = unit
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let csv: Vec<(&str, &[u8])> = files
                .iter()
                .filter(|f| f.name.ends_with(".CSV"))
                .map(|f| (f.name.as_str(), f.bytes.as_slice()))
                .collect();
            // The whole unit when it fits the 4-file limit of the input format, else its first 3 files.
            let set: Vec<(&str, &[u8])> = files
                .iter()
                .take(4)
                .map(|f| (f.name.as_str(), f.bytes.as_slice()))
                .collect();
            write(
                &vdir,
                &format!("{g}_{slug}_set_raw"),
                &encode(&set, NameForm::Raw),
            );
            write(
                &vdir,
                &format!("{g}_{slug}_set_sel"),
                &encode(&set, NameForm::Selector),
            );
            for (name, body) in &csv {
                let kind = FileName::parse(spec, name).map_or("unknown", |n| n.kind.prefix());
                write(
                    &vdir,
                    &format!("{g}_{slug}_{kind}_sel"),
                    &encode(&[(name, body)], NameForm::Selector),
                );
                write(&cdir, &format!("{g}_{slug}_{kind}"), body);
            }
            n += 1;
        }
    }
    // Edge cases: as the body of a valid UPPLAN name, and alone for the reader.
    let upplan = names()
        .iter()
        .find(|n| n.starts_with("UPPLAN_"))
        .expect("an UPPLAN name");
    for (tag, body) in EDGE_BODIES {
        write(&cdir, &format!("edge_{tag}"), body);
        write(
            &vdir,
            &format!("edge_{tag}"),
            &encode(&[(upplan, body)], NameForm::Raw),
        );
    }
    // Names alone: broken shapes next to valid ones.
    for (i, name) in [
        "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV",
        "UPPLAN_202504_1310000001_1310000002_20250328101500.csv",
        "UPKIHON_IMAGE_1310000001_43_1310000002_11_20250328101500_0001.jpg",
        "UPKIHON_SUB1_1310000001_43_1310000002_11_20250328101500.CSV",
        "UPHOSOKU_000000_1310000001_43_1310000002_11_20250328101500.CSV",
        "UPPLAN_202513_1310000001_43_1310000002_11_20250328101500.CSV",
        "UPPLAN_202504_131000000_43_1310000002_11_20250328101500.CSV",
        "UPPLAN_202504_1310000001_43_1310000002_11_20250230101500.CSV",
        "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500",
        "UPPLAN__.CSV",
        "ＵＰＰＬＡＮ_202504.CSV",
    ]
    .iter()
    .enumerate()
    {
        write(
            &vdir,
            &format!("name_{i:02}"),
            &encode(&[(name, b"")], NameForm::Raw),
        );
    }
    upload_seeds::write_all(&root);
    eprintln!("seeds for {n} send units written to {}", root.display());
}
