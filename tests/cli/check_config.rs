//! `careplan-relay check-config` as an operator runs it: a usable configuration (exit 0, on SQLite and
//! PostgreSQL), a certificate close to its end (a warning, still 0), and a configuration with many problems at
//! once (exit 1, each listed in Japanese and English).

use std::path::Path;
use std::process::Command;

use rcgen::{CertificateParams, KeyPair};

use crate::support;

/// Runs `careplan-relay --data-dir DATA --config CONFIG check-config`; returns (exit code, stdout).
fn check(data: &Path, config: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(config)
        .arg("check-config")
        .env_remove("CAREPLAN_RELAY__DATABASE__URL")
        .output()
        .expect("run careplan-relay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
    )
}

#[cfg(unix)]
fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A self-signed certificate for localhost valid from `from_days` to `to_days` days from now: (cert, key) PEM.
fn certificate(
    dir: &Path,
    name: &str,
    from_days: i64,
    to_days: i64,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(from_days);
    params.not_after = now + time::Duration::days(to_days);
    let cert = params.self_signed(&key).expect("self-signed");
    let (c, k) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    std::fs::write(&c, cert.pem()).expect("write");
    std::fs::write(&k, key.serialize_pem()).expect("write");
    #[cfg(unix)]
    chmod(&k, 0o600);
    (c, k)
}

/// A data directory prepared by a real command (`office list` creates it, its database and nothing else).
fn data_dir(root: &Path, db_url: &str) -> std::path::PathBuf {
    let data = root.join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .arg("--data-dir")
        .arg(&data)
        .args(["office", "list"])
        .env("CAREPLAN_RELAY__DATABASE__URL", db_url)
        .output()
        .expect("run careplan-relay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8(out.stderr).expect("UTF-8")
    );
    data
}

fn config(root: &Path, body: &str) -> std::path::PathBuf {
    let p = root.join("relay.toml");
    std::fs::write(&p, body).expect("write config");
    #[cfg(unix)]
    chmod(&p, 0o600);
    p
}

#[tokio::test]
async fn a_usable_configuration_passes_on_both_databases() {
    for db in support::db::backends().await {
        let root = tempfile::tempdir().expect("tmp");
        let data = data_dir(root.path(), &db.url);
        let (cert, key) = certificate(root.path(), "server", -1, 400);
        let (ca, ca_key) = certificate(root.path(), "client-ca", -1, 800);
        let cfg = config(
            root.path(),
            &format!(
                "[tls]\ncert = {cert:?}\nkey = {key:?}\nclient_ca = {ca:?}\nclient_ca_key = {ca_key:?}\n\
                 [database]\nurl = {:?}\n",
                db.url
            ),
        );
        let (code, out) = check(&data, &cfg);
        assert_eq!(code, 0, "{}: {out}", db.backend);
        assert!(out.contains("usable (0 warnings)"), "{}: {out}", db.backend);
        assert!(out.contains("matches its certificate"), "{out}");
        assert!(
            out.contains(&format!("({}) answers; its schema is current", db.backend)),
            "{out}"
        );
        assert!(!out.contains("PROBLEM"), "{out}");
        db.cleanup().await;
    }
}

#[test]
fn a_certificate_near_its_end_is_a_warning() {
    let root = tempfile::tempdir().expect("tmp");
    let data = data_dir(
        root.path(),
        &format!("sqlite://{}", root.path().join("data/relay.db").display()),
    );
    let (cert, key) = certificate(root.path(), "server", -300, 10);
    let cfg = config(root.path(), &format!("[tls]\ncert = {cert:?}\nkey = {key:?}\n"));
    let (code, out) = check(&data, &cfg);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("WARNING tls.cert: "), "{out}");
    assert!(
        out.contains("expires in 9 days") || out.contains("expires in 10 days"),
        "{out}"
    );
    assert!(out.contains("usable (1 warnings)"), "{out}");
}

#[cfg(unix)]
#[test]
fn every_problem_is_listed_in_japanese_and_english() {
    let root = tempfile::tempdir().expect("tmp");
    let data = data_dir(
        root.path(),
        &format!("sqlite://{}", root.path().join("data/relay.db").display()),
    );
    let (cert, _) = certificate(root.path(), "server", -1, 400);
    let (_, other_key) = certificate(root.path(), "other", -1, 400);
    let (expired, _) = certificate(root.path(), "expired-ca", -400, -2);
    chmod(&other_key, 0o644);
    chmod(&data, 0o755);
    std::fs::create_dir_all(data.join("keys")).expect("keys");
    std::fs::write(data.join("keys").join("current"), "0123456789abcdef\n").expect("current");
    chmod(&data.join("keys").join("current"), 0o644);
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let cfg = config(
        root.path(),
        &format!(
            "[server]\nmetrics_listen = \"0.0.0.0:9464\"\nheader_timeout_secs = 0\n\
             [tls]\ncert = {cert:?}\nkey = {other_key:?}\nclient_ca = {expired:?}\n\
             [database]\nurl = \"postgres://postgres@127.0.0.1:1/relay\"\n"
        ),
    );
    let (code, out) = check(&data, &cfg);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // Each problem: a PROBLEM line in Japanese and the English line under it.
    for (what, ja, en) in [
        (
            "settings",
            "正の数",
            "server.header_timeout_secs must be positive",
        ),
        (
            "tls.key",
            "証明書と対になっていません",
            "does not match its certificate",
        ),
        ("tls.key", "全ユーザーが読めます", "is readable by every user"),
        ("tls.client_ca", "期限切れです", "expired on"),
        ("data_dir", "0700 にしてください", "not 0700"),
        ("data_dir/keys", "0600 にしてください", "not 0600"),
        ("data_dir/keys", "がありません", "names the key 0123456789abcdef"),
        (
            "database",
            "を開けません",
            "cannot open postgres://postgres@127.0.0.1:1/relay",
        ),
    ] {
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("PROBLEM {what}: ")) && l.contains(ja))
            .unwrap_or_else(|| panic!("no problem {what} / {ja} in:\n{out}"));
        assert!(lines[at + 1].contains(en), "{what}: {en} in:\n{out}");
    }
    assert!(out.contains("WARNING server.metrics_listen: "), "{out}");
    assert!(out.contains("NOT usable: 8 problems, 1 warnings"), "{out}");
}

#[test]
fn an_unreadable_configuration_file_is_a_problem() {
    let root = tempfile::tempdir().expect("tmp");
    let cfg = config(root.path(), "[server\nlisten = ");
    let (code, out) = check(&root.path().join("data"), &cfg);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("PROBLEM config: "), "{out}");
    assert!(out.contains("cannot read the configuration"), "{out}");
}
