//! The command line of `careplan-relay` (API.md, "Command line").

mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// careplan-relay: the open relay for ケアプランデータ連携 care-plan files.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Data directory (SQLite database, TLS files).
    #[arg(long, global = true, default_value = "./data")]
    pub data_dir: PathBuf,
    /// Configuration file (TOML).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files (and the sets they form) against the standard, without a server.
    /// Exit 0: all valid; 1: some invalid; 2: could not run.
    Validate(validate::Args),
    /// Run the relay over HTTPS.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec = match careplan_spec() {
        Ok(s) => s,
        Err(code) => return code,
    };
    match cli.command {
        Command::Validate(args) => validate::run(spec, &args),
        Command::Serve { .. } => {
            eprintln!(
                "careplan-relay serve: the HTTPS relay is not part of this build yet; \
                 `careplan-relay validate FILE...` checks files against the standard."
            );
            ExitCode::from(2)
        }
    }
}

fn careplan_spec() -> Result<&'static crate::spec::Spec, ExitCode> {
    crate::spec::Spec::get().map_err(|e| {
        eprintln!("careplan-relay: the embedded spec is malformed: {e}");
        ExitCode::from(2)
    })
}
