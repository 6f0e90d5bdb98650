//! `careplan-relay client …`: the reference client a vendor or an office uses before its own software does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::client::{Client, ClientOptions};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 done (a 200 or 201); 1 the set was refused (422, the report on stdout); \
2 anything else: the relay's answer on stdout and its message on stderr in Japanese and English (401, 403, 404, \
409, 413, 429, 5xx), or the relay could not be reached (with a hint). `client sync --once`: 0 nothing failed, 1 \
something stays to be retried, 2 the agent could not run."
)]
pub struct Args {
    /// The relay's base URL.
    #[arg(
        long,
        global = true,
        default_value = "https://127.0.0.1:8443",
        env = "CAREPLAN_RELAY_URL"
    )]
    url: String,
    /// Bearer token of the office.
    #[arg(long, global = true, env = "CAREPLAN_RELAY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Client certificate (PEM) instead of a token.
    #[arg(long, global = true, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key of the client certificate (PEM).
    #[arg(long, global = true, requires = "cert")]
    key: Option<PathBuf>,
    /// CA certificate that signed the relay's server certificate; default `<data-dir>/tls/ca.pem` when it
    /// exists (the development CA of a relay run from that directory), else the system's roots.
    #[arg(long, global = true)]
    cacert: Option<PathBuf>,
    #[command(subcommand)]
    command: ClientCommand,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Send the files of one set (one sequence number).
    Send {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the inbox (pending sets by default).
    Inbox {
        /// Include acknowledged sets.
        #[arg(long)]
        all: bool,
        /// Wait up to this many seconds for something to arrive.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Download every file of a delivery into a directory, checking the digests.
    Fetch {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Acknowledge a delivery; prints the signed receipt (and saves it with --receipt).
    Ack {
        id: String,
        #[arg(long)]
        receipt: Option<PathBuf>,
    },
    /// The sender's outbox: submissions and their delivery status.
    Outbox,
    /// The signed receipt of a set this office sent or received (prints it; saves it with --out).
    Receipt {
        /// The submission id (from `send`, `outbox` or `inbox`).
        submission_id: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The folder agent: sends the sets that appear in the outbox folder and writes received sets into the
    /// inbox folder, as set in `--config FILE` (docs/AGENT.md). Runs until stopped; `--once` does one pass
    /// (exit 0: nothing failed; 1: something failed and stays to be retried; 2: could not run).
    Sync {
        /// One pass in each direction, then exit.
        #[arg(long)]
        once: bool,
        /// Print what is pending, what failed and why, and the latest outcomes; change nothing.
        #[arg(long, conflicts_with = "once")]
        status: bool,
    },
}

/// Runs `client …`; `config` is the global `--config` (the agent's file for `client sync`), `data_dir` the
/// global `--data-dir` (where the default `--cacert` is looked for).
pub(super) fn main(a: Args, config: Option<PathBuf>, data_dir: &std::path::Path) -> ExitCode {
    let result = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(run(a, config, data_dir)),
        Err(e) => Err(e.into()),
    };
    result.unwrap_or_else(|e| {
        eprintln!("careplan-relay: {}", crate::agent::one_line(&e));
        if let Some((ja, en)) = hint(&e) {
            eprintln!("{ja}\n{en}");
        }
        ExitCode::from(2)
    })
}

/// What to do about the usual reasons a client cannot talk to the relay, in Japanese and English.
fn hint(e: &anyhow::Error) -> Option<(&'static str, &'static str)> {
    let text = format!("{e:?}");
    if text.contains("UnknownIssuer") || text.contains("invalid peer certificate") {
        return Some((
            "ヒント: リレーのサーバー証明書を発行した CA を --cacert で指定してください（開発用のリレーなら <data-dir>/tls/ca.pem）。",
            "hint: pass --cacert with the CA that signed the relay's certificate (for a development relay: <data-dir>/tls/ca.pem)",
        ));
    }
    if text.contains("Connection refused") || text.contains("error sending request") {
        return Some((
            "ヒント: リレーに接続できません。--url（https://ホスト:ポート）とリレーが動いていることを確かめてください。",
            "hint: the relay cannot be reached; check --url (https://host:port) and that the relay is running",
        ));
    }
    None
}

async fn sync(config: Option<PathBuf>, once: bool, status: bool) -> anyhow::Result<ExitCode> {
    use crate::agent::{Agent, AgentConfig};
    let Some(path) = config else {
        anyhow::bail!("client sync needs --config FILE / --config で設定ファイルを指定してください");
    };
    let cfg = AgentConfig::load(&path)?;
    let spec = crate::spec::Spec::get().map_err(|e| anyhow::anyhow!("{e}"))?;
    if status {
        let text = crate::agent::status(&cfg, spec)?;
        say!("{}", text.trim_end());
        return Ok(ExitCode::SUCCESS);
    }
    let agent = Agent::open(cfg, spec)?;
    if once {
        return Ok(if agent.once().await {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    agent.run().await?;
    Ok(ExitCode::SUCCESS)
}

fn print(v: &serde_json::Value) {
    use std::io::Write;
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_default()
    );
}

async fn run(a: Args, config: Option<PathBuf>, data_dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    if let ClientCommand::Sync { once, status } = a.command {
        return sync(config, once, status).await;
    }
    if a.url.starts_with("http://") {
        anyhow::bail!(
            "リレーは HTTPS だけを受け付けます。--url を https:// で始めてください / the relay speaks HTTPS only: \
             give --url as https://… (`{}`)",
            a.url
        );
    }
    let cacert = a
        .cacert
        .or_else(|| Some(data_dir.join("tls").join("ca.pem")).filter(|p| p.is_file()));
    let client = Client::new(&ClientOptions {
        url: a.url,
        token: a.token.map(Into::into),
        cert: a.cert,
        key: a.key,
        cacert,
    })?;
    let answer = match a.command {
        ClientCommand::Send { files } => {
            let a = client.send_paths(&files).await?;
            if a.status == 200 {
                eprintln!(
                    "このセットは既に受け付けられています（再送: 最初の応答を返します）。\n\
                     already accepted: this is the first answer again (a replay)"
                );
            }
            a
        }
        ClientCommand::Inbox { all, wait } => {
            let status = if all { "all" } else { "pending" };
            client
                .get(&format!("/v1/inbox?status={status}&wait={wait}"))
                .await?
        }
        ClientCommand::Fetch { id, out } => {
            // An unknown delivery is answered as `ack` answers it: the relay's 404, not a client error.
            let d = client.get(&format!("/v1/inbox/{id}")).await?;
            if d.status != 200 {
                d
            } else {
                let paths = client.fetch(&id, &out).await?;
                for p in &paths {
                    say!("{}", p.display());
                }
                eprintln!(
                    "ダイジェスト一致: {n} ファイル / digests OK: {n} files",
                    n = paths.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
        }
        ClientCommand::Ack { id, receipt } => {
            let a = client.post(&format!("/v1/inbox/{id}/ack")).await?;
            if let (Some(path), 200) = (receipt, a.status) {
                std::fs::write(&path, serde_json::to_vec_pretty(&a.json["receipt"])?)?;
            }
            a
        }
        ClientCommand::Outbox => client.get("/v1/outbox").await?,
        ClientCommand::Receipt { submission_id, out } => {
            let a = client.get(&format!("/v1/receipts/{submission_id}")).await?;
            if let (Some(path), 200) = (out, a.status) {
                std::fs::write(&path, serde_json::to_vec_pretty(&a.json)?)?;
            }
            a
        }
        ClientCommand::Sync { .. } => return Ok(ExitCode::from(2)),
    };
    print(&answer.json);
    if answer.status >= 400 {
        // The relay's message in Japanese first, then English, for the clerk reading the terminal.
        for key in ["message_ja", "message_en"] {
            if let Some(m) = answer.json[key].as_str() {
                eprintln!("{m}");
            }
        }
    }
    Ok(match answer.status {
        200 | 201 => ExitCode::SUCCESS,
        422 => ExitCode::from(1),
        s => {
            eprintln!("careplan-relay client: HTTP {s}");
            ExitCode::from(2)
        }
    })
}
