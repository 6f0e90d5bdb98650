//! Seeds of the `upload` target (`seeds/upload/`) and the large seeds of every target (`seeds-large/`).

use std::fs;
use std::path::Path;

use careplan_relay::generate::{Scenario, unit_files};
use careplan_relay::spec::Generation;
use careplan_relay_fuzz::upload::{
    BOUNDARY, F_LENGTH, F_OVERSTATED, F_SMALL, encode_upload, multipart, multipart_type,
};
use careplan_relay_fuzz::{NameForm, encode, spec};

fn fresh(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("write {name}: {e}"));
}

fn parts(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let p: Vec<(&str, Option<&str>, &[u8])> = files
        .iter()
        .map(|(n, b)| ("file", Some(n.as_str()), b.as_slice()))
        .collect();
    multipart(&p)
}

/// Writes `root/upload/` and `root/../seeds-large/<target>/`.
pub fn write_all(root: &Path) {
    let spec = spec();
    let dir = root.join("upload");
    fresh(&dir);
    let ct = multipart_type();
    // Every send unit of both generations, as clients send it: declared length, in one chunk; every third
    // unit also chunked (flags 1–7 in turn) and without a length.
    let mut n = 0u8;
    for generation in [Generation::V4, Generation::V3] {
        let mut sc = Scenario::small(generation);
        sc.users = 1;
        sc.rows_per_user = 2;
        for unit in spec.units.iter().filter(|u| u.generations.contains(&generation)) {
            let files: Vec<(String, Vec<u8>)> = unit_files(spec, unit, &sc)
                .into_iter()
                .map(|f| (f.name, f.bytes))
                .collect();
            let body = parts(&files);
            let tag = format!("{}_{:02}", generation.label(), n);
            write(
                &dir,
                &format!("unit_{tag}"),
                &encode_upload(F_LENGTH, &ct, None, &body),
            );
            if n % 3 == 0 {
                let flags = 1 + (n / 3) % 7;
                write(
                    &dir,
                    &format!("unit_{tag}_chunked"),
                    &encode_upload(flags, &ct, None, &body),
                );
            }
            if n % 5 == 0 {
                let (name, bytes) = &files[0];
                write(
                    &dir,
                    &format!("raw_{tag}"),
                    &encode_upload(F_LENGTH, "text/csv", Some(name), bytes),
                );
            }
            n += 1;
        }
    }
    let csv = b"202407,a,b\r\n".as_slice();
    let name = "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV";
    let many: Vec<(String, Vec<u8>)> = (0..65).map(|i| (format!("F{i:02}.CSV"), Vec::new())).collect();
    let long = format!("{}.CSV", "A".repeat(252));
    let edges: Vec<(&str, u8, String, Vec<u8>)> = vec![
        ("parts_65", F_LENGTH, ct.clone(), parts(&many)),
        ("parts_5_small", F_SMALL, ct.clone(), parts(&many[..5])),
        (
            "name_256",
            F_LENGTH,
            ct.clone(),
            multipart(&[("file", Some(&long), csv)]),
        ),
        (
            "not_file",
            0,
            ct.clone(),
            multipart(&[("other", Some(name), csv)]),
        ),
        ("no_filename", 0, ct.clone(), multipart(&[("file", None, csv)])),
        (
            "empty_parts",
            0,
            ct.clone(),
            multipart(&[("file", Some(""), b""), ("", None, b"")]),
        ),
        (
            "no_parts",
            0,
            ct.clone(),
            format!("--{BOUNDARY}--\r\n").into_bytes(),
        ),
        ("unterminated", 0, ct.clone(), {
            let mut b = multipart(&[("file", Some(name), csv)]);
            b.truncate(b.len() - 8);
            b
        }),
        ("preamble_epilogue", 0, ct.clone(), {
            let mut b = b"preamble\r\n".to_vec();
            b.extend(multipart(&[("file", Some(name), csv)]));
            b.extend_from_slice(b"epilogue");
            b
        }),
        (
            "quoted_boundary",
            0,
            format!("multipart/form-data; boundary=\"{BOUNDARY}\""),
            parts(&many[..2]),
        ),
        (
            "lf_only",
            0,
            ct.clone(),
            String::from_utf8_lossy(&parts(&many[..2]))
                .replace("\r\n", "\n")
                .into_bytes(),
        ),
        ("overstated", F_OVERSTATED, ct.clone(), parts(&many[..1])),
        ("no_boundary", 0, "multipart/form-data".into(), parts(&many[..1])),
        ("many_headers", 0, ct.clone(), {
            let mut b = format!("--{BOUNDARY}\r\n").into_bytes();
            for i in 0..40 {
                b.extend(format!("X-H{i}: v\r\n").into_bytes());
            }
            b.extend(
                format!("Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n")
                    .into_bytes(),
            );
            b.extend_from_slice(csv);
            b.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
            b
        }),
        ("big_header", 0, ct.clone(), {
            let mut b = format!("--{BOUNDARY}\r\nX-Big: {}\r\n", "v".repeat(9000)).into_bytes();
            b.extend(
                format!("Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n")
                    .into_bytes(),
            );
            b.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
            b
        }),
        ("raw_no_type", F_LENGTH, String::new(), csv.to_vec()),
        ("empty", 0, String::new(), Vec::new()),
    ];
    for (tag, flags, ctype, body) in &edges {
        write(
            &dir,
            &format!("edge_{tag}"),
            &encode_upload(*flags, ctype, None, body),
        );
    }
    write(&dir, "edge_raw_no_name", &encode_upload(0, "text/csv", None, csv));
    write(
        &dir,
        "edge_raw_name_256",
        &encode_upload(0, "text/csv", Some(&long), csv),
    );
    write_large(root, &ct);
}

/// Seeds of a few hundred KB for the large-input runs (`-max_len=524288`), kept apart from `seeds/` so that
/// the default runs keep libFuzzer's small `-max_len`.
fn write_large(root: &Path, ct: &str) {
    let Some(parent) = root.parent() else { return };
    let large = parent.join("seeds-large");
    let spec = spec();
    let unit = |name: &str| {
        spec.units
            .iter()
            .find(|u| u.name == name)
            .unwrap_or_else(|| panic!("unit {name}"))
    };
    let (v, c, u) = (
        large.join("validate_set"),
        large.join("csv_reader"),
        large.join("upload"),
    );
    for d in [&v, &c, &u] {
        fresh(d);
    }
    let mut sc = Scenario::small(Generation::V4);
    for (users, rows) in [(40, 10)] {
        sc.users = users;
        sc.rows_per_user = rows;
        for name in ["schedule", "plan"] {
            let files: Vec<(String, Vec<u8>)> = unit_files(spec, unit(name), &sc)
                .into_iter()
                .map(|f| (f.name, f.bytes))
                .collect();
            let size: usize = files.iter().map(|f| f.1.len()).sum();
            if !(100 * 1024..=480 * 1024).contains(&size) {
                continue;
            }
            let tag = format!("{name}_{users}x{rows}");
            let set: Vec<(&str, &[u8])> = files
                .iter()
                .take(4)
                .map(|(n, b)| (n.as_str(), b.as_slice()))
                .collect();
            write(&v, &tag, &encode(&set, NameForm::Raw));
            if let Some((_, body)) = files.iter().max_by_key(|f| f.1.len()) {
                write(&c, &tag, body);
            }
            write(&u, &tag, &encode_upload(F_LENGTH, ct, None, &parts(&files)));
        }
    }
    // The blank-line shape that was quadratic, at the size of the large runs.
    let blank = [b"\r\n".repeat(100_000), b"x\r\n".to_vec()].concat();
    write(&c, "blank_lines_100k", &blank);
    write(
        &v,
        "blank_lines_100k",
        &encode(
            &[(
                "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV",
                &blank,
            )],
            NameForm::Raw,
        ),
    );
}
