//! `cert issue`, `cert list` and `cert revoke`: office client certificates from the relay's CA, recorded in the
//! database so that each can be listed and revoked (also while the server runs).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Settings;
use crate::domain::{Office, now_ms, rfc3339};
use crate::message::Message;
use crate::relay::{Relay, RelayError};
use crate::store::CertificateRow;

/// Most certificates `cert list` prints.
const LIST_LIMIT: i64 = 100_000;

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Issue a client certificate for an office from the relay's CA (client.pem, client.key), valid for
    /// tls.client_cert_days (default 730) or --days, and record it.
    Issue {
        #[arg(long)]
        office: String,
        #[arg(long)]
        out: PathBuf,
        /// Validity in days (1 to 3650); overrides tls.client_cert_days.
        #[arg(long)]
        days: Option<u32>,
    },
    /// List the issued client certificates: serial, office, validity, revoked.
    List {
        /// Only this office's certificates.
        #[arg(long)]
        office: Option<String>,
    },
    /// Revoke an issued client certificate by its serial number (hex): it is refused from now on.
    Revoke { serial: String },
}

/// Prints a refusal in Japanese and English and returns exit code 1.
fn refuse(m: &Message) -> ExitCode {
    eprintln!("careplan-relay: {}", m.ja);
    eprintln!("careplan-relay: {}", m.en);
    ExitCode::from(1)
}

fn refuse_error(e: &RelayError) -> anyhow::Result<ExitCode> {
    match e {
        RelayError::BadRequest(m) | RelayError::Conflict(m) | RelayError::Forbidden(m) => Ok(refuse(m)),
        RelayError::Internal(e) => Err(anyhow::anyhow!("{e:#}")),
        e => Err(anyhow::anyhow!("{e}")),
    }
}

fn state(c: &CertificateRow, now: i64) -> String {
    match c.revoked_at {
        Some(at) => format!("revoked {}", rfc3339(at)),
        None if c.not_after <= now => "expired".into(),
        None => "valid".into(),
    }
}

pub(super) async fn cert(settings: &Settings, c: CertCommand) -> anyhow::Result<ExitCode> {
    if let CertCommand::Issue { .. } = &c
        && let Err(m) = settings.client_signing_ca()
    {
        return Ok(refuse(&m));
    }
    let relay = super::admin::open_relay(settings).await?;
    let code = run(settings, &relay, c).await;
    relay.close().await;
    code
}

async fn run(settings: &Settings, relay: &Relay, c: CertCommand) -> anyhow::Result<ExitCode> {
    match c {
        CertCommand::Issue { office, out, days } => {
            let (ca, ca_key) = match settings.client_signing_ca() {
                Ok(files) => files,
                Err(m) => return Ok(refuse(&m)),
            };
            let days = days.unwrap_or_else(|| settings.tls.client_cert_days());
            let cert = match relay.issue_certificate(&ca, &ca_key, &office, days, "cli").await {
                Ok(c) => c,
                Err(e) => return refuse_error(&e),
            };
            let (cert_path, key_path) = cert.write(&out)?;
            say!(
                "issued client certificate {} for office {office}, valid {} to {}: {} {}",
                cert.serial,
                rfc3339(cert.not_before),
                rfc3339(cert.not_after),
                cert_path.display(),
                key_path.display()
            );
            if !relay.office_registered(&office).await? {
                eprintln!(
                    "careplan-relay: 注意: 事業所 {office} は未登録です。登録されるまでこの証明書では認証されません。"
                );
                eprintln!(
                    "careplan-relay: note: office {office} is not registered; the certificate authenticates nobody until it is"
                );
            }
        }
        CertCommand::List { office } => {
            if let Some(o) = office.as_deref().filter(|o| !Office::valid_number(o)) {
                return Ok(refuse(&Message::new(
                    format!("事業所番号は10桁の数字です: {}", crate::message::clip(o)),
                    format!("an office number is 10 digits: {}", crate::message::clip(o)),
                )));
            }
            let now = now_ms();
            say!("serial\toffice\tnot_before\tnot_after\tstate");
            for c in relay.certificates(office.as_deref(), LIST_LIMIT).await? {
                say!(
                    "{}\t{}\t{}\t{}\t{}",
                    c.serial,
                    c.office,
                    rfc3339(c.not_before),
                    rfc3339(c.not_after),
                    state(&c, now)
                );
            }
        }
        CertCommand::Revoke { serial } => match relay.revoke_certificate(&serial, "cli", None).await {
            Ok(c) => say!(
                "revoked client certificate {} of office {} ({})",
                c.serial,
                c.office,
                state(&c, now_ms())
            ),
            Err(RelayError::NotFound) => {
                return Ok(refuse(&Message::new(
                    format!(
                        "シリアル番号 {} の証明書はこのリレーで発行されていません。",
                        crate::message::clip(&serial)
                    ),
                    format!(
                        "no client certificate with serial {} was issued by this relay",
                        crate::message::clip(&serial)
                    ),
                )));
            }
            Err(e) => return refuse_error(&e),
        },
    }
    Ok(ExitCode::SUCCESS)
}
