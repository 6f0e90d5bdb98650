//! `office`, `token`, `audit` and `purge` commands: they work on the data directory or database URL, also
//! while the server runs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::domain::{Office, OfficeKind, rfc3339};
use crate::relay::{Relay, RelayError};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum OfficeCommand {
    /// Register an office.
    Add {
        /// The 10-digit office number (事業所番号).
        number: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        kind: OfficeKind,
        /// A 2-character service type the office offers (repeat for several), e.g. 43, 11, A1.
        #[arg(long = "service-type", required = true)]
        service_types: Vec<String>,
    },
    /// List the registered offices: number, kind, service types, state, name (tab-separated).
    List,
    /// Disable an office: its tokens and certificates are refused and nothing is routed to it.
    Disable { number: String },
    /// Enable a disabled office again.
    Enable { number: String },
    /// Change an office's name or service types (the ones given replace the old ones).
    Edit {
        number: String,
        #[arg(long)]
        name: Option<String>,
        /// A service type the office offers (repeat for several); replaces the registered ones.
        #[arg(long = "service-type")]
        service_types: Vec<String>,
        /// Whether the office's portal users must also present the office's client certificate at login.
        #[arg(long, value_parser = ["required", "optional"])]
        login_certificate: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token; it is printed alone on the last line and never shown again.
    Issue {
        #[arg(long, conflicts_with = "admin", required_unless_present = "admin")]
        office: Option<String>,
        #[arg(long)]
        admin: bool,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
    /// List an office's tokens (id, created, revoked), never the tokens themselves.
    List {
        #[arg(long)]
        office: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-compute the whole audit chain. Exit 0 if intact, 1 with the first broken position.
    Verify,
    /// Write the audit events not exported yet (ndjson + signed manifest) and record the watermark.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
}

/// The relay over the configured database (migrated), with the data directory's receipt keys: what every
/// command that reads or changes offices, tokens, users or the audit trail goes through.
pub(super) async fn open_relay(settings: &Settings) -> anyhow::Result<Relay> {
    crate::files::private_dir(&settings.data_dir)?;
    let store = Store::open(&settings.database_url(), Some(2), settings.schema())
        .await?
        .0;
    let spec = crate::spec::Spec::get().map_err(|e| anyhow::anyhow!("{e}"))?;
    Relay::open(store, spec, &settings.data_dir, settings.policies())
}

pub(super) fn fail(e: &RelayError) -> anyhow::Result<ExitCode> {
    eprintln!("careplan-relay: {e}");
    Ok(ExitCode::from(1))
}

pub(super) async fn office(settings: &Settings, c: OfficeCommand) -> anyhow::Result<ExitCode> {
    let relay = open_relay(settings).await?;
    match c {
        OfficeCommand::Add {
            number,
            name,
            kind,
            service_types,
        } => {
            let o = Office {
                number,
                name,
                kind,
                service_types,
                enabled: true,
            };
            if let Err(e) = relay.add_office(&o, "cli").await {
                return fail(&e);
            }
            say!(
                "registered office {} ({}, {})",
                o.number,
                o.kind.as_str(),
                o.service_types.join(",")
            );
        }
        OfficeCommand::Disable { number } => {
            match relay.set_office_enabled(&number, false, "cli", None).await {
                Ok(_) => say!("disabled office {number}"),
                Err(e) => return fail(&e),
            }
        }
        OfficeCommand::Enable { number } => {
            match relay.set_office_enabled(&number, true, "cli", None).await {
                Ok(_) => say!("enabled office {number}"),
                Err(e) => return fail(&e),
            }
        }
        OfficeCommand::Edit {
            number,
            name,
            service_types,
            login_certificate,
        } => {
            if let Some(c) = login_certificate {
                let required = c == "required";
                if let Err(e) = relay.set_login_certificate(&number, required, "cli", None).await {
                    return fail(&e);
                }
                say!("office {number}: client certificate at the portal's login {c}");
                if name.is_none() && service_types.is_empty() {
                    relay.close().await;
                    return Ok(ExitCode::SUCCESS);
                }
            }
            let types = (!service_types.is_empty()).then_some(service_types);
            match relay
                .edit_office(&number, name.as_deref(), types, "cli", None)
                .await
            {
                Ok(o) => say!(
                    "office {}: {} ({}, {})",
                    o.number,
                    o.name,
                    o.kind.as_str(),
                    o.service_types.join(",")
                ),
                Err(e) => return fail(&e),
            }
        }
        OfficeCommand::List => {
            for o in relay.offices().await? {
                let state = if o.enabled { "enabled" } else { "disabled" };
                say!(
                    "{}\t{}\t{}\t{}\t{}",
                    o.number,
                    o.kind.as_str(),
                    o.service_types.join(","),
                    state,
                    o.name
                );
            }
        }
    }
    relay.close().await;
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn token(settings: &Settings, c: TokenCommand) -> anyhow::Result<ExitCode> {
    let relay = open_relay(settings).await?;
    let code = match c {
        TokenCommand::Issue { office, .. } => match relay.issue_token(office.as_deref(), "cli").await {
            Ok(t) => {
                say!("token id: {}", t.id);
                say!("the token is shown once; store it now:");
                say!("{}", t.token.expose_secret());
                ExitCode::SUCCESS
            }
            Err(RelayError::NotFound) => {
                eprintln!(
                    "careplan-relay: office {} is not registered",
                    office.unwrap_or_default()
                );
                ExitCode::from(1)
            }
            Err(e) => return fail(&e),
        },
        TokenCommand::List { office } => match relay.office_tokens(&office).await {
            Ok(rows) => {
                for t in rows {
                    let state = t
                        .revoked_at
                        .map_or_else(|| "active".to_string(), |r| format!("revoked {}", rfc3339(r)));
                    say!("{}\t{}\t{state}", t.id, rfc3339(t.created_at));
                }
                ExitCode::SUCCESS
            }
            Err(e) => return fail(&e),
        },
        TokenCommand::Revoke { id } => match relay.revoke_token(&id, "cli").await {
            Ok(()) => {
                say!("revoked token {id}");
                ExitCode::SUCCESS
            }
            Err(e) => return fail(&e),
        },
    };
    relay.close().await;
    Ok(code)
}

pub(super) async fn audit(settings: &Settings, c: AuditCommand) -> anyhow::Result<ExitCode> {
    let relay = open_relay(settings).await?;
    let code = match c {
        AuditCommand::Verify => {
            let v = relay.verify_audit().await?;
            say!("{}", serde_json::to_string_pretty(&v)?);
            if v.intact {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "careplan-relay: the audit trail is broken at position {}: {}",
                    v.broken_at.unwrap_or_default(),
                    v.reason.unwrap_or_default()
                );
                ExitCode::from(1)
            }
        }
        AuditCommand::Export { out } => {
            let done = relay.export_audit(&out, "cli").await?;
            match &done.batch {
                Some(m) => say!("{}", serde_json::to_string_pretty(m)?),
                None => say!("nothing new to export"),
            }
            ExitCode::SUCCESS
        }
    };
    relay.close().await;
    Ok(code)
}

pub(super) async fn purge(settings: &Settings, delivery: Option<String>) -> anyhow::Result<ExitCode> {
    let relay = open_relay(settings).await?;
    let policy = settings.retention.policy();
    let code = match delivery {
        Some(id) => match relay.purge_delivery(&id, "cli", None).await {
            Ok(()) => {
                say!("purged the bytes of delivery {id}");
                ExitCode::SUCCESS
            }
            Err(e) => return fail(&e),
        },
        None => {
            let n = relay.purge_expired(policy).await?;
            say!(
                "purged the bytes of {n} acknowledged sets older than {} days",
                policy.acknowledged_days
            );
            let flagged = relay.flagged(policy, 1000).await?;
            if !flagged.is_empty() {
                say!(
                    "{} sets are unacknowledged after {} days (purge only with --delivery):",
                    flagged.len(),
                    policy.flag_unacknowledged_days
                );
                for id in flagged {
                    say!("{id}");
                }
            }
            ExitCode::SUCCESS
        }
    };
    relay.close().await;
    Ok(code)
}
