//! `receipt new-key` and `receipt verify`: the keys that sign receipts, and offline verification.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Settings;
use crate::relay::{self, Receipt, ReceiptKeys};

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Create a new signing key in <data-dir>/keys, record it as this node's current key and publish it in the
    /// database: it signs from the next start; old keys keep verifying.
    NewKey,
    /// Verify a receipt file ({payload, signature, key_id}) with the relay's keys.
    Verify {
        file: PathBuf,
        /// A saved `GET /v1/keys` answer; by default the keys published in the database and those in the data
        /// directory.
        #[arg(long, conflicts_with = "url")]
        keys: Option<PathBuf>,
        /// A relay's base URL: its `GET /v1/keys` (no token needed) gives the keys.
        #[arg(long)]
        url: Option<String>,
        /// CA certificate of that relay's server certificate (PEM), when the system does not trust it.
        #[arg(long, requires = "url")]
        cacert: Option<PathBuf>,
    },
}

pub(super) async fn receipt(settings: &Settings, c: ReceiptCommand) -> anyhow::Result<ExitCode> {
    let (file, keys) = match c {
        ReceiptCommand::NewKey => {
            let dir = settings.data_dir.join("keys");
            let (id, _) = ReceiptKeys::generate(&dir)?;
            if !ReceiptKeys::public_in(&dir)?.iter().any(|(k, _)| *k == id) {
                anyhow::bail!("the new key {id} is not in {}", dir.display());
            }
            // The relay publishes every key of the directory, the new one with them.
            let relay = super::admin::open_relay(settings).await?;
            relay.publish_keys().await?;
            relay.close().await;
            say!(
                "created receipt key {id}, recorded in {} and published in the database; restart this relay \
                 to sign with it",
                dir.join(relay::CURRENT_FILE).display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        ReceiptCommand::Verify {
            file,
            keys,
            url,
            cacert,
        } => (file, (keys, url, cacert)),
    };
    let receipt: Receipt = serde_json::from_slice(&std::fs::read(&file)?)?;
    let keys: Vec<(String, String)> = match keys {
        (Some(path), _, _) => keys_document(&serde_json::from_slice(&std::fs::read(path)?)?),
        (None, Some(url), cacert) => {
            let client = crate::client::Client::new(&crate::client::ClientOptions {
                url,
                cacert,
                ..Default::default()
            })?;
            let answer = client.get("/v1/keys").await?;
            if answer.status != 200 {
                anyhow::bail!("GET /v1/keys answered {}: {}", answer.status, answer.json);
            }
            keys_document(&answer.json)
        }
        (None, None, _) => local_keys(settings).await?,
    };
    match relay::verify_receipt(&receipt, &keys) {
        Ok(payload) => {
            say!(
                "valid receipt (key {}):\n{}",
                receipt.key_id,
                serde_json::to_string_pretty(&payload)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            say!("INVALID receipt: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The (key_id, base64 public key) pairs of a `GET /v1/keys` document.
fn keys_document(v: &serde_json::Value) -> Vec<(String, String)> {
    let keys = v["keys"].as_array().map(Vec::as_slice).unwrap_or_default();
    keys.iter()
        .map(|k| {
            let s = |f: &str| k[f].as_str().unwrap_or_default().to_string();
            (s("key_id"), s("ed25519_public_key_base64"))
        })
        .collect()
}

/// The keys published in the relay's database (when it has one: a PostgreSQL URL, or an existing SQLite file)
/// and those in `<data-dir>/keys`. Verifying never creates a key or a database.
async fn local_keys(settings: &Settings) -> anyhow::Result<Vec<(String, String)>> {
    let dir = settings.data_dir.join("keys");
    let mut keys = ReceiptKeys::public_in(&dir)?;
    let url = settings.database_url();
    let has_database = match url.strip_prefix("sqlite://") {
        Some(path) => std::path::Path::new(path).exists(),
        None => true,
    };
    if has_database {
        let store = crate::store::Store::open(&url, Some(2), settings.schema())
            .await?
            .0;
        keys.extend(
            store
                .receipt_keys()
                .await?
                .into_iter()
                .map(|k| (k.key_id, k.public_key)),
        );
        store.close().await;
    }
    if keys.is_empty() {
        anyhow::bail!(
            "{} に受領証の鍵がありません。--url に中継サーバーのURLを、または --keys に GET /v1/keys の応答を保存したファイルを指定してください。\n\
             no receipt keys in {}: pass --url https://relay.example:8443 (its GET /v1/keys; --cacert CA.pem when \
             needed), or --keys FILE, a saved answer of GET /v1/keys",
            dir.display(),
            dir.display()
        );
    }
    Ok(keys)
}
