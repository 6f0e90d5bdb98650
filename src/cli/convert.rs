//! `careplan-relay convert --to json FILE...`: the standard's files as the JSON of
//! `GET /v1/inbox/{id}/records`, offline, for software that would rather not parse Shift_JIS CSV.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::records::document;
use crate::spec::Spec;
use crate::validate::InputFile;

/// The output formats of `convert`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum Format {
    /// Typed UTF-8 JSON keyed by the spec's English item names (`careplan-relay-records/1`).
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The output format.
    #[arg(long = "to", value_enum)]
    to: Format,
    /// The files, named as the standard names them (the name gives the kind); they are converted as they are,
    /// not judged: run `validate` for that.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Exit 0: printed; 1: a file could not be read as records (the reason on stderr, in Japanese and English);
/// 2: a file could not be opened.
pub(super) fn run(spec: &Spec, args: &Args) -> ExitCode {
    let Format::Json = args.to;
    let loaded = match super::read_named_files("convert", &args.files) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let files: Vec<InputFile<'_>> = loaded
        .iter()
        .map(|(name, bytes)| InputFile { name, bytes })
        .collect();
    match document(spec, &files) {
        Ok(doc) => {
            let mut out = std::io::stdout().lock();
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            // A closed pipe (`| head`) ends the output quietly.
            let _ = writeln!(out, "{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "careplan-relay convert: {}: {}\n  {}",
                e.file, e.message_ja, e.message_en
            );
            ExitCode::from(1)
        }
    }
}
