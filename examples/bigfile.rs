//! Writes a large, valid 第6表 schedule set (UPPLAN + UPSIKYU + UPHOSOKU, v4) to a directory, for measuring
//! the `validate` command on big files (docs/PERFORMANCE.md).
//!
//! ```text
//! cargo run --release --example bigfile -- OUT_DIR USERS [ROWS_PER_USER]
//! cargo run --release --example bigfile -- --measure FILE...
//! ```
//!
//! The UPPLAN file has `USERS × ROWS_PER_USER` records (default 50 rows per user, about 12.5 KB per user);
//! UPSIKYU has 2 records per user and UPHOSOKU one, so the UPPLAN file dominates the set.
//!
//! `--measure` reads the files, resets the peak-RSS mark of the process (`/proc/self/clear_refs`), validates
//! them in-process as one set and prints how far the peak rose above the resident size with the files loaded:
//! the memory validation itself needs, apart from the input bytes.

use std::path::PathBuf;
use std::process::ExitCode;

use careplan_relay::generate::{GenFile, Scenario, big_schedule_set};
use careplan_relay::spec::{Generation, Spec};
use careplan_relay::validate::{InputFile, validate_set};

/// The schedule set for `users` users: a big UPPLAN with `rows` records per user, small satellites.
fn schedule_set(spec: &Spec, users: usize, rows: usize) -> Result<Vec<GenFile>, String> {
    let base = Scenario {
        users,
        ..Scenario::small(Generation::V4)
    };
    big_schedule_set(spec, &base, rows)
        .ok_or_else(|| "no v4 schedule unit or UPPLAN layout in the spec".into())
}

/// A `kB` field of `/proc/self/status` (`VmRSS`, `VmHWM`).
fn status_kb(field: &str) -> Result<u64, String> {
    let status =
        std::fs::read_to_string("/proc/self/status").map_err(|e| format!("/proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .strip_prefix(':')?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .ok_or_else(|| format!("no {field} in /proc/self/status"))
}

/// Validates `paths` in-process as one set and reports the memory it took beyond the loaded files.
fn measure(paths: &[String]) -> Result<(), String> {
    let spec = Spec::get().map_err(|e| e.to_string())?;
    let mut loaded = Vec::with_capacity(paths.len());
    for p in paths {
        let path = PathBuf::from(p);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        loaded.push((name, std::fs::read(&path).map_err(|e| format!("{p}: {e}"))?));
    }
    let input: usize = loaded.iter().map(|(_, b)| b.len()).sum();
    let files: Vec<InputFile<'_>> = loaded
        .iter()
        .map(|(n, b)| InputFile { name: n, bytes: b })
        .collect();
    let before = status_kb("VmRSS")?;
    // Writing 5 resets VmHWM to the current RSS (Linux ≥ 4.0).
    std::fs::write("/proc/self/clear_refs", "5").map_err(|e| format!("/proc/self/clear_refs: {e}"))?;
    let started = std::time::Instant::now();
    let report = validate_set(spec, &files).report;
    let elapsed = started.elapsed();
    let peak = status_kb("VmHWM")?;
    let records: u64 = report.files.iter().map(|f| f.records).sum();
    println!(
        "input {input} bytes ({} KiB), {records} records, valid {}; RSS with files loaded {before} KiB, \
         peak during validation {peak} KiB: +{} KiB for validation; {:.0} ms",
        input / 1024,
        report.valid,
        peak.saturating_sub(before),
        elapsed.as_secs_f64() * 1e3,
    );
    Ok(())
}

fn run() -> Result<(), String> {
    let usage = "usage: bigfile OUT_DIR USERS [ROWS_PER_USER] | bigfile --measure FILE...";
    let mut args = std::env::args().skip(1);
    let first = args.next().ok_or(usage)?;
    if first == "--measure" {
        return measure(&args.collect::<Vec<_>>());
    }
    let dir = PathBuf::from(first);
    let users: usize = args
        .next()
        .ok_or(usage)?
        .parse()
        .map_err(|e| format!("USERS: {e}"))?;
    let rows: usize = match args.next() {
        Some(r) => r.parse().map_err(|e| format!("ROWS_PER_USER: {e}"))?,
        None => 50,
    };
    let spec = Spec::get().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for f in schedule_set(spec, users, rows)? {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{:>12} bytes  {}", f.bytes.len(), path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bigfile: {e}");
            ExitCode::from(2)
        }
    }
}
