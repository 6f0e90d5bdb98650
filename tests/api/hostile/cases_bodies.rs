//! File contents: over-long lines, floods of tiny records, binary garbage, UTF-8 instead of Shift_JIS, NUL bytes,
//! lone CRs, unbalanced quotes, empty files; every one a 422 with a bounded report.

use super::Expect::Status;
use super::requests::*;
use super::{Case, case};

/// The set with its UPPLAN file replaced by `bytes`, uploaded.
fn upplan(bytes: Vec<u8>) -> Vec<u8> {
    upload_files(set_with_upplan(bytes))
}

/// The set's UPPLAN bytes passed through `f`.
fn edit(f: impl Fn(Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let bytes = valid_set()
        .into_iter()
        .find(|(n, _)| n.starts_with("UPPLAN_"))
        .unwrap()
        .1;
    upplan(f(bytes))
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "one_mb_line",
            "a 1 MB record without a line break",
            Status(422),
            || upplan(vec![b'9'; 1024 * 1024]),
        ),
        case(
            "one_mb_item",
            "a 1 MB quoted item inside a record",
            Status(422),
            || {
                edit(|mut b| {
                    let mut item = b"\"".to_vec();
                    item.extend(std::iter::repeat_n(b'x', 1024 * 1024));
                    item.extend_from_slice(b"\",");
                    b.splice(0..0, item);
                    b
                })
            },
        ),
        case(
            "hundred_thousand_records",
            "100,000 one-character records",
            Status(422),
            || upplan(b"1\r\n".repeat(100_000)),
        ),
        case(
            "hundred_thousand_empty_lines",
            "100,000 empty lines",
            Status(422),
            || upplan(b"\r\n".repeat(100_000)),
        ),
        case(
            "commas_only",
            "a 1.5 MB file of commas (one record of 1.5 million items)",
            Status(422),
            || upplan(vec![b','; 1536 * 1024]),
        ),
        case(
            "long_values_everywhere",
            "1,200 records of 25 items, each a 60-byte value that fits no layout",
            Status(422),
            || {
                let record = format!("{}\r\n", vec!["Ｘ".repeat(20); 25].join(","));
                upplan(record.repeat(1200).into_bytes())
            },
        ),
        case(
            "binary_garbage",
            "1.5 MB of random bytes as a CSV file",
            Status(422),
            || upplan(noise(1536 * 1024, 7)),
        ),
        case(
            "utf8_body",
            "the records re-encoded as UTF-8 instead of Shift_JIS",
            Status(422),
            || {
                upplan(
                    "1,\"介護太郎\",\"カイゴタロウ\",20250401\r\n"
                        .repeat(50)
                        .into_bytes(),
                )
            },
        ),
        case(
            "utf8_bom",
            "a UTF-8 byte order mark before valid records",
            Status(422),
            || {
                edit(|mut b| {
                    b.splice(0..0, [0xEF, 0xBB, 0xBF]);
                    b
                })
            },
        ),
        case(
            "nul_bytes",
            "NUL bytes inside the first record",
            Status(422),
            || {
                edit(|mut b| {
                    b.splice(3..3, [0, 0, 0, 0]);
                    b
                })
            },
        ),
        case("lone_cr", "records separated by lone CR", Status(422), || {
            edit(|b| String::from_utf8_lossy(&b).replace("\r\n", "\r").into_bytes())
        }),
        case(
            "unbalanced_quote",
            "a quote opened in the first item and never closed",
            Status(422),
            || {
                edit(|mut b| {
                    b.insert(0, b'"');
                    b
                })
            },
        ),
        case(
            "truncated_sjis",
            "a Shift_JIS lead byte at the very end of the file",
            Status(422),
            || {
                edit(|mut b| {
                    b.push(0x82);
                    b
                })
            },
        ),
        case("empty_files", "every file of the set empty", Status(422), || {
            upload_files(valid_set().into_iter().map(|(n, _)| (n, Vec::new())).collect())
        }),
        case("jpeg_as_csv", "JPEG bytes under a CSV name", Status(422), || {
            upplan(careplan_relay::generate::tiny_jpeg())
        }),
        case(
            "trailing_garbage_record",
            "a valid file followed by a garbage record",
            Status(422),
            || {
                edit(|mut b| {
                    b.extend_from_slice(b"\x81\x40garbage,,,\r\n");
                    b
                })
            },
        ),
        case(
            "raw_single_garbage",
            "one raw file of random bytes with ?name=",
            Status(422),
            || upload_raw(&upplan_name(), &noise(512 * 1024, 3)),
        ),
    ]
}
