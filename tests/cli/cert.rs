//! `careplan-relay cert` as an operator runs it: issue (validity from --days, tls.client_cert_days or the
//! default), list, revoke, and the refusal to issue when the server has its own certificate and no client CA.

use std::path::Path;
use std::process::Command;

use crate::support;

/// Runs `careplan-relay --data-dir DATA ARGS…` with `env`; returns (exit code, stdout, stderr).
pub fn relay(data: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_careplan-relay"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run careplan-relay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
        String::from_utf8(out.stderr).expect("UTF-8 messages"),
    )
}

/// (validity in days, serial in hex, subject CN) of `DIR/client.pem`.
fn issued(dir: &Path) -> (i64, String, String) {
    let pem = std::fs::read(dir.join("client.pem")).expect("client.pem");
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).expect("PEM");
    let cert = pem.parse_x509().expect("X.509");
    let v = cert.validity();
    let seconds = v.not_after.timestamp() - v.not_before.timestamp();
    assert_eq!(seconds % 86_400, 0, "whole days");
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .expect("CN")
        .to_string();
    (
        seconds / 86_400,
        careplan_relay::tls::serial_hex(cert.raw_serial()),
        cn,
    )
}

#[tokio::test]
async fn cert_issue_list_and_revoke() {
    for db in support::db::backends().await {
        let data = tempfile::tempdir().expect("tmp");
        let url = [("CAREPLAN_RELAY__DATABASE__URL", db.url.as_str())];
        let run = |env: &[(&str, &str)], args: &[&str]| {
            let mut all = url.to_vec();
            all.extend_from_slice(env);
            relay(data.path(), &all, args)
        };
        let (code, _, err) = run(
            &[],
            &[
                "office",
                "add",
                "1310000001",
                "--name",
                "居宅",
                "--kind",
                "care_manager",
                "--service-type",
                "43",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let out = |n: &str| data.path().join(n).to_string_lossy().into_owned();

        // --days, tls.client_cert_days, and the default of 730 days.
        let (code, stdout, err) = run(
            &[],
            &[
                "cert",
                "issue",
                "--office",
                "1310000001",
                "--out",
                &out("a"),
                "--days",
                "45",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let (days, first, cn) = issued(&data.path().join("a"));
        assert_eq!((days, cn.as_str()), (45, "1310000001"), "{}", db.backend);
        assert!(stdout.contains(&first), "{stdout}");
        let ten = [("CAREPLAN_RELAY__TLS__CLIENT_CERT_DAYS", "10")];
        let (code, _, err) = run(
            &ten,
            &["cert", "issue", "--office", "1310000001", "--out", &out("b")],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(issued(&data.path().join("b")).0, 10);
        let (code, _, err) = run(
            &[],
            &["cert", "issue", "--office", "1310000001", "--out", &out("c")],
        );
        assert_eq!(code, 0, "{err}");
        let (days, third, _) = issued(&data.path().join("c"));
        assert_eq!(days, 730);
        assert_ne!(first, third);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.path().join("c").join("client.key"))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (code, _, err) = run(
            &[],
            &[
                "cert",
                "issue",
                "--office",
                "1310000001",
                "--out",
                &out("d"),
                "--days",
                "0",
            ],
        );
        assert_eq!(code, 1);
        assert!(
            err.contains("1 to 3650 days") && err.contains("有効期間"),
            "{err}"
        );

        // Listed: serial, office, validity, state; filtered by office.
        let (code, list, _) = run(&[], &["cert", "list"]);
        assert_eq!(code, 0);
        assert_eq!(list.lines().count(), 4, "a header and three certificates: {list}");
        let line = list
            .lines()
            .find(|l| l.starts_with(&first))
            .expect("the first certificate");
        assert!(line.contains("1310000001") && line.ends_with("valid"), "{line}");
        let (_, none, _) = run(&[], &["cert", "list", "--office", "1310000002"]);
        assert_eq!(none.lines().count(), 1, "{none}");
        let (code, _, err) = run(&[], &["cert", "list", "--office", "13"]);
        assert_eq!(code, 1);
        assert!(err.contains("10 digits"), "{err}");

        // Revoked: listed as revoked; an unknown serial is an error.
        let (code, stdout, err) = run(&[], &["cert", "revoke", &first.to_uppercase()]);
        assert_eq!(code, 0, "{err}");
        assert!(stdout.contains(&first), "{stdout}");
        let (_, list, _) = run(&[], &["cert", "list", "--office", "1310000001"]);
        let line = list
            .lines()
            .find(|l| l.starts_with(&first))
            .expect("still listed");
        assert!(line.contains("\trevoked "), "{line}");
        let other = list.lines().find(|l| l.starts_with(&third)).expect("listed");
        assert!(other.ends_with("valid"), "{other}");
        let (code, _, err) = run(&[], &["cert", "revoke", "0badc0de"]);
        assert_eq!(code, 1);
        assert!(
            err.contains("no client certificate with serial 0badc0de"),
            "{err}"
        );
        db.cleanup().await;
    }
}

#[test]
fn cert_issue_refuses_a_server_certificate_without_a_client_ca() {
    let data = tempfile::tempdir().expect("tmp");
    let pki_dir = tempfile::tempdir().expect("tmp");
    let pki = careplan_relay::tls::Pki::in_dir(pki_dir.path());
    pki.ensure_dev().expect("a server certificate");
    let config = pki_dir.path().join("relay.toml");
    let write = |extra: &str| {
        std::fs::write(
            &config,
            format!(
                "[tls]\ncert = {:?}\nkey = {:?}\n{extra}",
                pki.server_cert, pki.server_key
            ),
        )
        .expect("config");
    };
    write("");
    let out = data.path().join("out");
    let args = |out: &Path| {
        vec![
            "--config".to_string(),
            config.to_string_lossy().into_owned(),
            "cert".into(),
            "issue".into(),
            "--office".into(),
            "1310000001".into(),
            "--out".into(),
            out.to_string_lossy().into_owned(),
        ]
    };
    let a = args(&out);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, _, err) = relay(data.path(), &[], &a);
    assert_ne!(code, 0);
    assert!(
        err.contains("no client CA is configured (tls.client_ca and tls.client_ca_key)"),
        "{err}"
    );
    assert!(err.contains("クライアント CA"), "{err}");
    assert!(!out.join("client.pem").exists(), "nothing issued");
    assert!(!data.path().join("tls").exists(), "no development CA made");

    // With the client CA and its key configured, the certificate comes from that CA.
    write(&format!(
        "client_ca = {:?}\nclient_ca_key = {:?}\n",
        pki.ca_cert, pki.ca_key
    ));
    let (code, _, err) = relay(data.path(), &[], &a);
    assert_eq!(code, 0, "{err}");
    assert_eq!(issued(&out).0, 730);
}
