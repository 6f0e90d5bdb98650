//! The command line of `careplan-relay` (README.md; `careplan-relay --help`).

/// `println!` that ends quietly when stdout is closed (`… | head -1`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod admin;
mod backup;
mod cert;
mod check;
mod client;
mod convert;
mod migrate;
mod receipt;
#[cfg(feature = "tools")]
mod seed;
mod user;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// careplan-relay: the open relay for ケアプランデータ連携 care-plan files.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Data directory (SQLite database, TLS files, receipt keys).
    #[arg(long, global = true, default_value = "./data")]
    pub data_dir: PathBuf,
    /// Configuration file (TOML); `CAREPLAN_RELAY__<SECTION>__<KEY>` variables override it.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay over HTTPS.
    Serve {
        /// Address to listen on (default 127.0.0.1:8443, or server.listen in the configuration).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Check files (and the sets they form) against the standard, without a server.
    /// Exit 0: all valid; 1: some invalid; 2: could not run.
    Validate(validate::Args),
    /// Print the standard's files as typed JSON (`--to json`): the records of `GET /v1/inbox/{id}/records`.
    /// Exit 0: printed; 1: a file could not be read as records; 2: a file could not be opened.
    Convert(convert::Args),
    /// Print the OpenAPI document of the HTTP API, as `GET /v1/openapi.json` serves it and docs/openapi.json holds
    /// it (`careplan-relay openapi > docs/openapi.json` regenerates that file).
    Openapi,
    /// Register offices.
    #[command(subcommand)]
    Office(admin::OfficeCommand),
    /// Issue and revoke bearer tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Office users of the browser portal (/office/): add, list, reset, unlock, disable.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Issue, list and revoke client certificates for offices.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Verify the audit trail, or export it for the care information platform.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Purge the bytes of acknowledged sets past the retention time, and list the flagged unacknowledged sets;
    /// `--delivery ID` purges one set explicitly (audited).
    Purge {
        #[arg(long)]
        delivery: Option<String>,
    },
    /// A consistent copy of the SQLite store, safe while `serve` runs (written 0600; it must not exist).
    /// PostgreSQL: use pg_dump (docs/OPERATIONS.md).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a `backup` file into the data directory of a stopped relay (refused while `serve` runs); a
    /// database already there is moved aside as `relay.db.before-restore-<time>`.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Apply the schema's migrations to the database and exit; for a relay whose own database role may not
    /// change the schema (`database.migrate_at_start = false`): run it as the schema's owner at install and
    /// after each upgrade (docs/OPERATIONS.md, "PostgreSQL").
    Migrate,
    /// Check the configuration without changing anything: the file and its values, TLS certificates against
    /// their keys and expiry, the data directory and its permissions, the database, the listen addresses.
    /// Exit 0: usable (warnings allowed); 1: not usable, every problem listed in Japanese and English.
    CheckConfig,
    /// Verify receipts offline.
    #[command(subcommand)]
    Receipt(receipt::ReceiptCommand),
    /// The reference client: send a set, read the inbox, fetch and acknowledge deliveries, fetch a receipt;
    /// `client sync --config FILE` is the folder agent.
    Client(client::Args),
    /// Fill the database with synthetic offices and deliveries for measuring the inbox at scale; prints an
    /// office with pending deliveries and, alone on the last line, a bearer token for it.
    // Only in a build with the `tools` feature (benches, tests); the product's build leaves it out.
    #[cfg(feature = "tools")]
    Seed(seed::Args),
}

/// Reads the files named on the command line as `(file name, bytes)`. A file that cannot be read is named on
/// stderr (Japanese and English) and ends the command with exit code 2.
fn read_named_files(command: &str, paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, ExitCode> {
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            std::fs::read(path).map(|bytes| (name, bytes)).map_err(|e| {
                eprintln!(
                    "careplan-relay {command}: {} を読めません / cannot read it: {e}",
                    path.display()
                );
                ExitCode::from(2)
            })
        })
        .collect()
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec = match crate::spec::Spec::get() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("careplan-relay: the embedded spec is malformed: {e}");
            return ExitCode::from(2);
        }
    };
    match &cli.command {
        Command::Validate(args) => return validate::run(spec, args),
        Command::Convert(args) => return convert::run(spec, args),
        Command::Openapi => {
            print!("{}", crate::http::openapi_json());
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    if let Command::CheckConfig = &cli.command {
        return check::run(&cli.data_dir, cli.config.as_deref());
    }
    // The client reads no relay settings; `client sync` takes the global --config as the agent's file.
    let cli = match cli.command {
        Command::Client(args) => return client::main(args, cli.config, &cli.data_dir),
        command => Cli { command, ..cli },
    };
    let settings = match Settings::load(&cli.data_dir, cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("careplan-relay: configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("careplan-relay: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { listen } => serve(settings, listen).await.map(|()| ExitCode::SUCCESS),
            Command::Office(c) => admin::office(&settings, c).await,
            Command::Token(c) => admin::token(&settings, c).await,
            Command::Cert(c) => cert::cert(&settings, c).await,
            Command::User(c) => user::user(&settings, c).await,
            Command::Receipt(c) => receipt::receipt(&settings, c).await,
            Command::Audit(c) => admin::audit(&settings, c).await,
            Command::Purge { delivery } => admin::purge(&settings, delivery).await,
            Command::Backup { out } => backup::backup(&settings, &out).await,
            Command::Migrate => migrate::migrate(&settings).await,
            Command::Restore { from } => backup::restore(&settings, &from).await,
            Command::Client(_) => Ok(ExitCode::SUCCESS),
            #[cfg(feature = "tools")]
            Command::Seed(args) => seed::run(&settings, &args).await,
            Command::Validate(_) | Command::Convert(_) | Command::Openapi | Command::CheckConfig => {
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    result.unwrap_or_else(|e| {
        eprintln!("careplan-relay: {}", one_line(&e));
        ExitCode::from(2)
    })
}

async fn serve(mut settings: Settings, listen: Option<String>) -> anyhow::Result<()> {
    crate::telemetry::init(settings.server.json_logs);
    if let Some(l) = listen {
        settings.server.listen = l;
    }
    let app = crate::app::App::build(settings).await?;
    app.run_until(crate::server::shutdown_signal()).await
}

/// An error and its causes on one line, each cause only when it adds to what was already said (database errors
/// repeat their cause in their own text).
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}
