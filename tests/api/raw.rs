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

/// One answer read off a raw connection: its status (`None` when the server closed without answering), head
/// and body (chunked bodies decoded), and whether the connection ended (closed or reset) while reading.
#[derive(Debug, Default)]
pub struct Exchange {
    pub status: Option<u16>,
    pub head: String,
    pub body: Vec<u8>,
    pub closed: bool,
    /// Nothing complete arrived within the time allowed, and the connection stayed open.
    pub timed_out: bool,
}

impl Exchange {
    /// The value of header `name` (case-insensitive), if the head has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Writes `request` on a new connection (concurrently with reading, so that an early answer to a large body is
/// seen) and reads one answer: until it is complete by its framing, the server closes, or `within` passes.
/// A 1xx answer (e.g. `100 Continue`) ends the exchange at once.
pub async fn exchange(app: &TestApp, request: Vec<u8>, within: Duration) -> Exchange {
    let stream = tls(app, &[b"http/1.1"]).await;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&request).await;
        let _ = wr.flush().await;
        wr
    });
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Exchange::default();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(done) = complete(&got) {
            out = done;
            break;
        }
        match tokio::time::timeout_at(deadline, rd.read(&mut buf)).await {
            Err(_) => {
                out.timed_out = true;
                break;
            }
            Ok(Ok(0)) | Ok(Err(_)) => {
                out = complete(&got).unwrap_or_else(|| partial(&got));
                out.closed = true;
                break;
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    writer.abort();
    out
}

/// The answer in `got` if it is complete: a 1xx head, or a head and its whole body.
fn complete(got: &[u8]) -> Option<Exchange> {
    let end = got.windows(4).position(|w| w == b"\r\n\r\n")?;
    let mut ex = partial(&got[..end + 4]);
    let rest = &got[end + 4..];
    if ex.status.is_some_and(|s| s < 200) {
        return Some(ex);
    }
    if let Some(len) = ex.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        ex.body = rest.get(..len)?.to_vec();
        return Some(ex);
    }
    if ex
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        ex.body = dechunk(rest)?;
        return Some(ex);
    }
    None
}

/// Whatever head and body arrived before the connection ended.
fn partial(got: &[u8]) -> Exchange {
    let (head, body) = match got.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => (&got[..end], &got[end + 4..]),
        None => (got, &[][..]),
    };
    let head = String::from_utf8_lossy(head).into_owned();
    let status = head
        .strip_prefix("HTTP/1.")
        .and_then(|l| l.get(2..5))
        .and_then(|s| s.parse().ok());
    Exchange {
        status,
        head,
        body: body.to_vec(),
        ..Exchange::default()
    }
}

/// A complete chunked body, decoded; `None` until its last chunk has arrived.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..eol]).ok()?.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}
