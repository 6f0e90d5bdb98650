//! `careplan-relay validate [--json] FILE...`: the conformance check a vendor runs before connecting.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use crate::spec::Spec;
use crate::validate::{self, FileReport, Finding, InputFile, SetReport};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON (the HTTP 422 body of the relay; one object per set in `sets`).
    #[arg(long)]
    json: bool,
    /// The files to check; files sharing a 14-digit sequence form one set.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(super) fn run(spec: &Spec, args: &Args) -> ExitCode {
    let loaded = match super::read_named_files("validate", &args.files) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let names: Vec<&str> = loaded.iter().map(|(n, _)| n.as_str()).collect();
    let groups = validate::group_by_sequence(spec, &names);
    let bar = progress(loaded.len());
    let mut reports = Vec::with_capacity(groups.len());
    for group in groups {
        let files: Vec<InputFile<'_>> = group
            .iter()
            .map(|&i| InputFile {
                name: &loaded[i].0,
                bytes: &loaded[i].1,
            })
            .collect();
        reports.push(validate::validate_set(spec, &files).report);
        bar.inc(group.len() as u64);
    }
    bar.finish_and_clear();
    let all_valid = reports.iter().all(|r| r.valid);
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let body = serde_json::json!({ "valid": all_valid, "sets": reports });
        writeln!(out, "{}", serde_json::to_string_pretty(&body).unwrap_or_default())
    } else {
        reports.iter().try_for_each(|r| print_set(&mut out, r))
    };
    if written.is_err() {
        return ExitCode::from(2);
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn progress(n: usize) -> ProgressBar {
    if n < 20 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}") {
        bar.set_style(style);
    }
    bar
}

fn print_finding(out: &mut impl Write, file: &str, f: &Finding) -> std::io::Result<()> {
    let mut at = file.to_string();
    if let Some(line) = f.line {
        at.push_str(&format!(":{line}"));
        if f.physical_line.is_some_and(|p| p != line) {
            at.push_str(&format!(" (line {})", f.physical_line.unwrap_or_default()));
        }
    }
    if let Some(item) = f.item {
        at.push_str(&format!(" No.{item}"));
        if let Some(n) = &f.item_name {
            at.push_str(&format!(" {n}"));
        }
    }
    writeln!(
        out,
        "  {} {at}\n      {}\n      {}",
        f.code.as_str(),
        f.message_ja,
        f.message_en
    )
}

fn print_file(out: &mut impl Write, f: &FileReport) -> std::io::Result<()> {
    let verdict = if f.is_valid() { "ok" } else { "INVALID" };
    let version = f.csv_version.as_deref().unwrap_or("-");
    writeln!(
        out,
        "{verdict:7} {} ({} records, {} bytes, CSV version {version})",
        f.name, f.records, f.bytes
    )?;
    for e in f.errors.iter().chain(&f.warnings) {
        print_finding(out, &f.name, e)?;
    }
    if f.omitted > 0 {
        writeln!(
            out,
            "  … {} more findings not listed / 他 {} 件",
            f.omitted, f.omitted
        )?;
    }
    Ok(())
}

fn print_set(out: &mut impl Write, r: &SetReport) -> std::io::Result<()> {
    let verdict = if r.valid { "VALID" } else { "INVALID" };
    writeln!(
        out,
        "set {} {} → {} : {verdict}",
        r.sequence.as_deref().unwrap_or("?"),
        r.sender.as_deref().unwrap_or("?"),
        r.recipient.as_deref().unwrap_or("?")
    )?;
    for f in &r.files {
        print_file(out, f)?;
    }
    for f in r.set_errors.iter().chain(&r.set_warnings) {
        writeln!(
            out,
            "  {} (set)\n      {}\n      {}",
            f.code.as_str(),
            f.message_ja,
            f.message_en
        )?;
    }
    if let Some(o) = &r.omitted {
        let counts: Vec<String> = o
            .by_code
            .iter()
            .map(|(c, n)| format!("{} {n}", c.as_str()))
            .collect();
        writeln!(
            out,
            "  {}
  {}
      {}",
            o.message_ja,
            o.message_en,
            counts.join(", ")
        )?;
    }
    writeln!(out)
}
