//! Fuzzes `csvread::Reader` over arbitrary bytes: it must terminate with progress on every call, every
//! item of every record must be retrievable, an error's item number must be the item just read, and
//! an input read without errors must survive a write/read round trip and agree with the `csv` crate.
#![no_main]

use careplan_relay::csvread::{CsvError, Reader, Record, write_item};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    items: Vec<(Vec<u8>, bool)>,
    line: u64,
}

fn own(rec: &Record) -> Owned {
    Owned {
        items: (0..rec.len())
            .map(|i| (rec.get(i).to_vec(), rec.quoted(i)))
            .collect(),
        line: rec.line,
    }
}

/// Reads everything, checking the invariants that hold for any input.
fn read_all(data: &[u8]) -> (Vec<Owned>, usize) {
    let newlines = data.iter().filter(|b| **b == b'\n').count() as u64;
    let mut reader = Reader::new(data);
    let mut rec = Record::default();
    let mut out = Vec::new();
    let mut errors = 0;
    let mut calls = 0usize;
    let mut last_line = 0;
    while let Some(res) = reader.read(&mut rec) {
        calls += 1;
        // Every record consumes at least one byte, so there are never more records than bytes.
        assert!(
            calls <= data.len(),
            "no progress: {calls} records from {} bytes",
            data.len()
        );
        assert!(rec.line > last_line, "line went from {last_line} to {}", rec.line);
        assert!(
            rec.line <= newlines + 1,
            "line {} beyond the {newlines} newlines",
            rec.line
        );
        last_line = rec.line;
        let o = own(&rec);
        let item_bytes: usize = o.items.iter().map(|(b, _)| b.len()).sum();
        assert!(item_bytes <= data.len());
        match res {
            Ok(()) => {
                assert!(!rec.is_empty());
                out.push(o);
            }
            Err(e) => {
                errors += 1;
                let item = match e {
                    CsvError::StrayQuote { item }
                    | CsvError::AfterQuote { item }
                    | CsvError::BareCr { item }
                    | CsvError::Unterminated { item } => item,
                };
                assert_eq!(
                    item,
                    rec.len(),
                    "{e:?} names item {item} of a record with {} items",
                    rec.len()
                );
            }
        }
    }
    // The end is sticky.
    assert!(reader.read(&mut rec).is_none());
    (out, errors)
}

fuzz_target!(|data: &[u8]| {
    let (records, errors) = read_all(data);
    if errors > 0 {
        return;
    }
    // Round trip: writing the records back (CRLF, quoting what was quoted) reads the same records.
    let mut written = Vec::new();
    for r in &records {
        for (i, (b, q)) in r.items.iter().enumerate() {
            if i > 0 {
                written.push(b',');
            }
            write_item(&mut written, b, *q);
        }
        written.extend_from_slice(b"\r\n");
    }
    let (again, errors_again) = read_all(&written);
    assert_eq!(errors_again, 0, "re-written input has errors");
    assert_eq!(again, records, "round trip changed the records");

    // Differential: the `csv` crate agrees on every non-blank record of an input the strict reader accepts.
    // The `csv` crate strips a leading UTF-8 BOM (the validator refuses such files before reading them).
    if data.starts_with(b"\xEF\xBB\xBF") {
        return;
    }
    let mut theirs = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_reader(data);
    for r in rdr.byte_records() {
        let r = r.expect("csv crate fails on an input the strict reader accepts");
        theirs.push(r.iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
    }
    let ours: Vec<Vec<Vec<u8>>> = records
        .iter()
        .filter(|r| !(r.items.len() == 1 && r.items[0].0.is_empty() && !r.items[0].1))
        .map(|r| r.items.iter().map(|(b, _)| b.clone()).collect())
        .collect();
    assert_eq!(ours, theirs, "the csv crate reads this input differently");
});
