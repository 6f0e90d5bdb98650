//! SIGHUP reloads the TLS files of a running `serve`: a certificate renewed in place is served from the
//! next connection on, and a pair that does not match is refused with the previous certificate kept.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

const BIN: &str = env!("CARGO_BIN_EXE_careplan-relay");

/// A server certificate for 127.0.0.1 named `cn`, signed by the CA: (certificate PEM, key PEM).
fn server_pair(issuer: &Issuer<'_, KeyPair>, cn: &str) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Replaces `path` atomically, as a certificate renewal tool does.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The common name of the certificate the relay presents on a new connection.
async fn served_cn(addr: &str, ca_pem: &str) -> String {
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .tls_info(true)
        .build()
        .unwrap();
    let answer = client
        .get(format!("https://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let der = answer
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|t| t.peer_certificate())
        .unwrap()
        .to_vec();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn sighup_reloads_the_server_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "test CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    let (first_cert, first_key) = server_pair(&issuer, "first");
    replace(&cert, &first_cert);
    replace(&key, &first_key);

    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CAREPLAN_RELAY__TLS__CERT", &cert)
        .env("CAREPLAN_RELAY__TLS__KEY", &key)
        .env("CAREPLAN_RELAY__SERVER__METRICS_LISTEN", "")
        .env("CAREPLAN_RELAY__SERVER__JSON_LOGS", "true")
        .env_remove("CAREPLAN_RELAY__DATABASE__URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn serve");
    // The log, line by line, read on its own thread: the address, then the reload outcomes.
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let next_message = |want: &str| loop {
        let v = rx.recv().expect("serve exited");
        if v["fields"]["message"].as_str().is_some_and(|m| m.contains(want)) {
            return v;
        }
    };
    let listening = next_message("listening (HTTPS)");
    let addr = listening["fields"]["address"].as_str().unwrap().to_string();
    assert_eq!(served_cn(&addr, &ca_pem).await, "first");

    let pid = child.id().to_string();
    let hangup = || {
        assert!(
            Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .unwrap()
                .success()
        )
    };

    // Renewed in place: served from the next connection on.
    let (second_cert, second_key) = server_pair(&issuer, "second");
    replace(&cert, &second_cert);
    replace(&key, &second_key);
    hangup();
    next_message("TLS certificate and key reloaded");
    assert_eq!(served_cn(&addr, &ca_pem).await, "second");

    // A certificate whose key was not replaced with it: refused, the previous pair stays.
    let (third_cert, _) = server_pair(&issuer, "third");
    replace(&cert, &third_cert);
    hangup();
    let refused = next_message("do not load");
    assert!(
        refused["fields"]["error"].is_string(),
        "the log says why: {refused}"
    );
    assert_eq!(served_cn(&addr, &ca_pem).await, "second");

    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
}
