//! Certificate renewal without a restart: new server certificate files are served to the next handshake, a
//! connection opened before keeps working, files that do not load leave the old ones in use, and `/metrics`
//! tells when the certificate ends.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use careplan_relay::tls::Pki;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::helpers::*;
use crate::support::db::backends;

/// A TLS connection trusting both CAs, and the server certificate it was shown.
async fn connect(addr: std::net::SocketAddr, cas: &[&Path]) -> (TlsStream<TcpStream>, Vec<u8>) {
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        for c in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
    }
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let shown = stream.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    (stream, shown)
}

fn first_cert(pem: &Path) -> Vec<u8> {
    CertificateDer::pem_file_iter(pem)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .to_vec()
}

/// Writes `bytes` to `path` by a rename, as a renewal tool does.
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// `GET /healthz` on an open HTTP/1.1 connection; the status line.
async fn healthz(stream: &mut TlsStream<TcpStream>) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    let head = &buf[..n];
    let end = head.iter().position(|b| *b == b'\r').unwrap_or(n);
    String::from_utf8(head[..end].to_vec()).expect("an ASCII status line")
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let db = backends().await.into_iter().next().expect("a database");
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (
        Pki::in_dir(&dir.path().join("old")),
        Pki::in_dir(&dir.path().join("new")),
    );
    old.ensure_dev().unwrap();
    new.ensure_dev().unwrap();
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    let (cert, key) = (live.join("server.pem"), live.join("server.key"));
    std::fs::copy(&old.server_cert, &cert).unwrap();
    std::fs::copy(&old.server_key, &key).unwrap();

    let mut s = settings(&dir.path().join("data"), &db);
    s.tls.cert = Some(cert.clone());
    s.tls.key = Some(key.clone());
    s.tls.client_ca = Some(old.ca_cert.clone());
    s.tls.reload_check_secs = Some(1);
    let app = spawn_with(s).await;
    let cas = [old.ca_cert.as_path(), new.ca_cert.as_path()];

    let (mut before, shown) = connect(app.addr, &cas).await;
    assert_eq!(shown, first_cert(&old.server_cert));
    assert!(healthz(&mut before).await.contains("200"));

    // Renewal: the key first, then the certificate (a moment where they do not match is refused, not served).
    replace(&key, &std::fs::read(&new.server_key).unwrap());
    replace(&cert, &std::fs::read(&new.server_cert).unwrap());
    let want = first_cert(&new.server_cert);
    let mut served = false;
    for _ in 0..100 {
        if connect(app.addr, &cas).await.1 == want {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(served, "the renewed certificate is served to new connections");
    assert!(
        healthz(&mut before).await.contains("200"),
        "a connection opened before the renewal keeps working"
    );

    // Files that do not load (a key that is not a key) leave the renewed configuration in use.
    replace(&key, b"not a key");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut after, shown) = connect(app.addr, &cas).await;
    assert_eq!(shown, want, "the configuration that loaded is still served");
    assert!(healthz(&mut after).await.contains("200"));

    let metrics = app.metrics_addr.expect("metrics listener");
    let mut tcp = TcpStream::connect(metrics).await.unwrap();
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_string(&mut text)).await;
    let line = text
        .lines()
        .find(|l| l.starts_with("careplan_tls_certificate_not_after_seconds "))
        .expect("the expiry gauge");
    let end: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(end > careplan_relay::domain::now_ms() / 1000, "{line}");
    app.stop().await;
}
