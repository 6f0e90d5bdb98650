//! Raw TLS connections to the relay under test, for what a well-behaved client never does: idle sockets,
//! partial requests, hand-written heads.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::helpers::TestApp;

/// A TLS connection to `app` offering `alpn` (e.g. `[b"http/1.1"]` or `[b"h2"]`), handshake completed.
pub async fn tls(app: &TestApp, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(app.ca()).unwrap();
    for c in rustls_pemfile_certs(&pem) {
        roots.add(c).unwrap();
    }
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(app.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}

fn rustls_pemfile_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| c.unwrap())
        .collect()
}

/// Reads until the server closes the connection; `true` if it did within `within`. What was read is dropped.
pub async fn closed_within(stream: &mut TlsStream<TcpStream>, within: Duration) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// Writes `head` (and `body`) and reads the answer's status line, or `None` if the connection closed first.
pub async fn status_line(stream: &mut TlsStream<TcpStream>, request: &[u8]) -> Option<String> {
    stream.write_all(request).await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(2).any(|w| w == b"\r\n") {
            break;
        }
    }
    let line = got.split(|b| *b == b'\r').next()?;
    String::from_utf8(line.to_vec()).ok().filter(|l| !l.is_empty())
}
