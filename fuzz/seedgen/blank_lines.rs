//! Times `csvread::Reader` and `validate_set` on inputs of N blank lines followed by one record, to show
//! the quadratic cost of `Reader::read`'s end-of-data check (docs/FUZZING.md, "Findings").
//!
//! Run from `fuzz/` (uninstrumented, optimized): `cargo run --release --example blank_lines`.

use std::time::Instant;

use careplan_relay::csvread::{Reader, Record};
use careplan_relay::validate::{InputFile, validate_set};
use careplan_relay_fuzz::spec;

fn main() {
    let spec = spec();
    let name = "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV";
    for n in [10_000usize, 20_000, 40_000, 80_000, 160_000] {
        let mut data = b"\r\n".repeat(n);
        data.extend_from_slice(b"x\r\n");
        let t = Instant::now();
        let mut reader = Reader::new(&data);
        let mut rec = Record::default();
        let mut records = 0u64;
        while reader.read(&mut rec).is_some() {
            records += 1;
        }
        let read = t.elapsed();
        let t = Instant::now();
        let v = validate_set(spec, &[InputFile { name, bytes: &data }]);
        let validate = t.elapsed();
        println!(
            "{n:>7} blank lines ({:>7} bytes): Reader {records} records in {:>8.3} s; validate_set in {:>8.3} s (valid: {})",
            data.len(),
            read.as_secs_f64(),
            validate.as_secs_f64(),
            v.report.valid
        );
    }
}
