//! Validation throughput on a large, realistic 第6表 schedule file (docs/PERFORMANCE.md).
//!
//! The input is built once, in memory, by `careplan_relay::generate`: a v4 schedule set whose UPPLAN file has
//! `USERS × ROWS_PER_USER` records (about 53 MB of Shift_JIS with quoted Japanese free text holding commas,
//! `""` and line breaks), with a 2-row-per-user UPSIKYU and a 1-row-per-user UPHOSOKU of the same users.
//! Throughput is reported on the UPPLAN bytes for every benchmark of the group:
//!
//! - `validate`: `validate_set` on the whole set (UPPLAN + UPSIKYU + UPHOSOKU), as the relay and the CLI run it;
//! - `validate_upplan_alone`: `validate_set` on the UPPLAN file alone (every record checked; the set is then
//!   refused for its composition only);
//! - `baseline_decode_split`: what any reader must do at least: decode the UPPLAN bytes from Shift_JIS with
//!   `encoding_rs` and split the text into records and fields with the `csv` crate, touching every field.
//!
//! The group runs twice: `upplan_53MB` timed by the wall clock (criterion's default) and `upplan_53MB_cpu`
//! timed by the CPU time of the benchmark thread, which a busy shared machine does not inflate.
//!
//! ```text
//! cargo bench --bench validate
//! ```

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use careplan_relay::generate::{GenFile, Scenario, big_schedule_set};
use careplan_relay::spec::{Generation, Kind, Spec};
use careplan_relay::validate::{Code, InputFile, SetReport, validate_set};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use encoding_rs::SHIFT_JIS;

/// Users in the set; with [`ROWS_PER_USER`] this gives an UPPLAN file of about 53 MB (≥ 50 MiB).
const USERS: usize = 4_200;
/// 第6表 records per user (a month of daily services plus add-ons).
const ROWS_PER_USER: usize = 50;

fn spec() -> &'static Spec {
    match Spec::get() {
        Ok(s) => s,
        Err(e) => panic!("the embedded spec does not load: {e}"),
    }
}

/// The schedule set: a big UPPLAN with `rows` records per user, a small UPSIKYU and UPHOSOKU that match it.
fn schedule_set(spec: &Spec, users: usize, rows: usize) -> Vec<GenFile> {
    let base = Scenario {
        users,
        ..Scenario::small(Generation::V4)
    };
    match big_schedule_set(spec, &base, rows) {
        Some(files) => files,
        None => panic!("no v4 schedule unit or UPPLAN layout in the spec"),
    }
}

fn report_json(r: &SetReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("(report not serialisable: {e})"))
}

/// Decodes the whole file from Shift_JIS and splits it into records and fields; returns the field bytes seen.
fn decode_split(bytes: &[u8]) -> usize {
    let (text, had_errors) = SHIFT_JIS.decode_without_bom_handling(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut total = usize::from(had_errors);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => total += record.iter().map(<[u8]>::len).sum::<usize>() + record.len(),
            Ok(false) => return total,
            Err(e) => panic!("csv: {e}"),
        }
    }
}

/// The input, built and checked once for both groups.
struct Input {
    files: Vec<GenFile>,
}

impl Input {
    fn inputs(&self) -> Vec<InputFile<'_>> {
        self.files
            .iter()
            .map(|f| InputFile {
                name: &f.name,
                bytes: &f.bytes,
            })
            .collect()
    }

    fn plan(&self) -> InputFile<'_> {
        match self.inputs().into_iter().find(|f| f.name.starts_with("UPPLAN_")) {
            Some(f) => f,
            None => panic!("no UPPLAN file"),
        }
    }
}

fn input() -> &'static Input {
    static INPUT: OnceLock<Input> = OnceLock::new();
    INPUT.get_or_init(|| {
        let spec = spec();
        let input = Input {
            files: schedule_set(spec, USERS, ROWS_PER_USER),
        };
        let (inputs, plan) = (input.inputs(), input.plan());
        assert!(
            plan.bytes.len() >= 50 << 20,
            "UPPLAN is only {} bytes",
            plan.bytes.len()
        );

        // Outside the timing loops: every benchmark must measure the success path, not an error path.
        let whole = validate_set(spec, &inputs).report;
        let clean = whole
            .files
            .iter()
            .all(|f| f.errors.is_empty() && f.warnings.is_empty() && f.omitted == 0);
        if !whole.valid || !clean || !whole.set_errors.is_empty() || !whole.set_warnings.is_empty() {
            panic!(
                "the generated set is not valid and clean:\n{}",
                report_json(&whole)
            );
        }
        let records = whole
            .files
            .iter()
            .find(|f| f.kind == Some(Kind::Upplan))
            .map_or(0, |f| f.records);
        assert_eq!(records, (USERS * ROWS_PER_USER) as u64);
        let alone = validate_set(spec, &[plan]).report;
        let file_clean = alone
            .files
            .iter()
            .all(|f| f.errors.is_empty() && f.warnings.is_empty());
        let only_composition = alone.set_errors.iter().all(|f| f.code == Code::SetComposition);
        if !file_clean || !only_composition || alone.files[0].records != records {
            panic!(
                "UPPLAN alone has findings beyond the set composition:\n{}",
                report_json(&alone)
            );
        }
        eprintln!(
            "input: UPPLAN {} bytes, {records} records ({USERS} users × {ROWS_PER_USER}), {} field bytes; \
             set of {} files, {} bytes",
            plan.bytes.len(),
            decode_split(plan.bytes),
            inputs.len(),
            inputs.iter().map(|f| f.bytes.len()).sum::<usize>(),
        );
        input
    })
}

/// The three benchmarks in one group named `name`, timed by `M`.
fn group<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let spec = spec();
    let input = input();
    let (inputs, plan) = (input.inputs(), input.plan());
    let mut group = c.benchmark_group(name);
    group
        .throughput(Throughput::Bytes(plan.bytes.len() as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("validate", |b| b.iter(|| validate_set(spec, black_box(&inputs))));
    group.bench_function("validate_upplan_alone", |b| {
        b.iter(|| validate_set(spec, black_box(&[plan])))
    });
    group.bench_function("baseline_decode_split", |b| {
        b.iter(|| decode_split(black_box(plan.bytes)))
    });
    group.finish();
}

/// Wall-clock time, criterion's default.
fn wall(c: &mut Criterion) {
    group(c, "upplan_53MB");
}

/// The CPU time of the benchmark thread, from `/proc/thread-self/schedstat` (nanoseconds on the CPU).
///
/// On a shared machine wall-clock time also counts the time the thread waited for a CPU; this clock does
/// not, so the ratio of the two benchmarks stays meaningful under load. Everything measured runs on the
/// calling thread.
#[derive(Debug)]
struct ThreadCpu;

fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        thread_cpu_ns().unwrap_or_default()
    }

    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(thread_cpu_ns().unwrap_or_default().saturating_sub(start))
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    if thread_cpu_ns().is_none() {
        eprintln!("/proc/thread-self/schedstat is not readable: skipping the CPU-time group");
        return;
    }
    group(c, "upplan_53MB_cpu");
}

criterion_group!(wall_group, wall);
criterion_group! {
    name = cpu_group;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_group, cpu_group);
