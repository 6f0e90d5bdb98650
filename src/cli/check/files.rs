//! `check-config`: the configuration file's mode, the listen addresses, the data directory and the files in
//! it, and the database.

use std::net::ToSocketAddrs;
use std::path::Path;

use super::{Findings, mode, tls::private_mode};
use crate::config::{Settings, redact_url};
use crate::relay::{CURRENT_FILE, ReceiptKeys};

/// The configuration file must not be writable by others; one holding a database password should not be
/// readable by every user.
pub(super) fn config_mode(f: &mut Findings, path: &Path, settings: &Settings) {
    let Some(m) = mode(path) else { return };
    if m & 0o002 != 0 {
        f.problem(
            "config",
            format!("{} を全ユーザーが書き換えられます（{m:o}）", path.display()),
            format!("{} is writable by every user (mode {m:o})", path.display()),
        );
    }
    let password = settings
        .database
        .url
        .as_deref()
        .is_some_and(|u| redact_url(u) != u);
    if password && m & 0o004 != 0 {
        f.warning(
            "config",
            format!(
                "{} はデータベースのパスワードを含み、全ユーザーが読めます（{m:o}）",
                path.display()
            ),
            format!(
                "{} holds a database password and is readable by every user (mode {m:o})",
                path.display()
            ),
        );
    }
}

/// `server.listen` must resolve; `server.metrics_listen` (unless empty) too, and it answers without a token, so
/// anything but loopback is a warning.
pub(super) fn listeners(f: &mut Findings, settings: &Settings) {
    let s = &settings.server;
    match s.listen.to_socket_addrs() {
        Ok(_) => f.ok(
            "server.listen",
            format!("{} で待ち受けます", s.listen),
            format!("listens on {}", s.listen),
        ),
        Err(e) => f.problem(
            "server.listen",
            format!("{} はアドレスとして使えません: {e}", s.listen),
            format!("{} is not a usable address: {e}", s.listen),
        ),
    }
    let metrics = s.metrics_listen.trim();
    if metrics.is_empty() {
        f.ok(
            "server.metrics_listen",
            "メトリクスの待ち受けはありません".into(),
            "the metrics listener is off".into(),
        );
        return;
    }
    match metrics.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            if !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()) {
                f.ok(
                    "server.metrics_listen",
                    format!("{metrics} はループバックです"),
                    format!("{metrics} is loopback"),
                );
            } else {
                f.warning(
                    "server.metrics_listen",
                    format!("{metrics} はループバックではありません: /metrics はトークンなしで答えるため、監視用のネットワークだけに置いてください"),
                    format!("{metrics} is not loopback: /metrics answers without a token, keep it on a monitoring network"),
                );
            }
        }
        Err(e) => f.problem(
            "server.metrics_listen",
            format!("{metrics} はアドレスとして使えません: {e}"),
            format!("{metrics} is not a usable address: {e}"),
        ),
    }
}

/// The data directory exists, is a directory with mode 0700 and writable; the database, receipt keys and
/// development TLS keys in it are private; the receipt keys parse and `keys/current` names one of them.
pub(super) fn data_dir(f: &mut Findings, settings: &Settings) {
    let dir = &settings.data_dir;
    let what = "data_dir";
    if !dir.is_dir() {
        f.problem(
            what,
            format!(
                "データディレクトリ {} がありません。サービスのユーザーでモード 0700 で作ってください",
                dir.display()
            ),
            format!(
                "the data directory {} does not exist: create it, mode 0700, owned by the service's user",
                dir.display()
            ),
        );
        return;
    }
    match mode(dir) {
        Some(m) if m & 0o077 != 0 => f.problem(
            what,
            format!(
                "{} のモードが {m:o} です。0700 にしてください（chmod 700）",
                dir.display()
            ),
            format!("{} has mode {m:o}, not 0700: chmod 700 it", dir.display()),
        ),
        _ => f.ok(
            what,
            format!("{} はモード 0700 です", dir.display()),
            format!("{} has mode 0700", dir.display()),
        ),
    }
    let probe = dir.join(format!(".check-config-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => f.problem(
            what,
            format!("{} にこのユーザーで書き込めません: {e}", dir.display()),
            format!("{} is not writable by this user: {e}", dir.display()),
        ),
    }
    for name in ["relay.db", "relay.db-wal", "relay.db-shm"] {
        let path = dir.join(name);
        if let Some(m) = mode(&path).filter(|m| m & 0o077 != 0) {
            f.problem(
                what,
                format!("{} のモードが {m:o} です。0600 にしてください", path.display()),
                format!("{} has mode {m:o}, not 0600", path.display()),
            );
        }
    }
    for name in ["server.key", "ca.key"] {
        private_mode(f, "data_dir/tls", &dir.join("tls").join(name));
    }
    receipt_keys(f, &dir.join("keys"));
}

fn receipt_keys(f: &mut Findings, keys: &Path) {
    let what = "data_dir/keys";
    if !keys.exists() {
        f.ok(
            what,
            "受領証の署名鍵は最初の serve で作られます".into(),
            "the receipt signing key is made by the first serve".into(),
        );
        return;
    }
    let found = match ReceiptKeys::public_in(keys) {
        Ok(k) => k,
        Err(e) => {
            f.problem(
                what,
                format!("受領証の署名鍵を読めません: {e:#}"),
                format!("cannot read the receipt keys: {e:#}"),
            );
            return;
        }
    };
    if let Ok(entries) = std::fs::read_dir(keys) {
        for e in entries.flatten() {
            if let Some(m) = mode(&e.path()).filter(|m| m & 0o077 != 0) {
                f.problem(
                    what,
                    format!(
                        "{} のモードが {m:o} です。0600 にしてください",
                        e.path().display()
                    ),
                    format!("{} has mode {m:o}, not 0600", e.path().display()),
                );
            }
        }
    }
    let current = std::fs::read_to_string(keys.join(CURRENT_FILE))
        .ok()
        .map(|s| s.trim().to_string());
    match current {
        Some(id) if found.iter().any(|(k, _)| *k == id) => f.ok(
            what,
            format!("署名鍵は {id} です（鍵 {} 個）", found.len()),
            format!("receipts are signed with {id} ({} keys)", found.len()),
        ),
        Some(id) => f.problem(
            what,
            format!("{} が指す鍵 {id} がありません", keys.join(CURRENT_FILE).display()),
            format!(
                "{} names the key {id}, which is not in {}",
                keys.join(CURRENT_FILE).display(),
                keys.display()
            ),
        ),
        None => f.ok(
            what,
            format!("鍵 {} 個。どれで署名するかは次の serve が記録します", found.len()),
            format!("{} keys; the next serve records which one signs", found.len()),
        ),
    }
}

/// The database opens (SQLite) or answers (PostgreSQL), and was not written by a newer relay.
pub(super) async fn database(f: &mut Findings, settings: &Settings) {
    let url = settings.database_url();
    let shown = redact_url(&url);
    let what = "database";
    match crate::store::probe::probe(&url).await {
        Err(e) => f.problem(
            what,
            format!("{shown} を開けません: {e}"),
            format!("cannot open {shown}: {e}"),
        ),
        Ok(p) if !p.exists => f.ok(
            what,
            format!("{shown} は最初の serve で作られます"),
            format!("{shown} is created by the first serve"),
        ),
        Ok(p) => match p.migration {
            Some(m) if m > p.newest_known => f.problem(
                what,
                format!("{shown} は新しい版の careplan-relay が使っています（マイグレーション {m}、この版は {} まで）", p.newest_known),
                format!("{shown} was migrated by a newer careplan-relay ({m}; this one knows up to {})", p.newest_known),
            ),
            Some(m) if m == p.newest_known => f.ok(
                what,
                format!("{shown}（{}）に接続できました。スキーマは最新です", p.backend),
                format!("{shown} ({}) answers; its schema is current", p.backend),
            ),
            _ => f.ok(
                what,
                format!("{shown}（{}）に接続できました。serve がスキーマを更新します", p.backend),
                format!("{shown} ({}) answers; serve will migrate its schema", p.backend),
            ),
        },
    }
}
