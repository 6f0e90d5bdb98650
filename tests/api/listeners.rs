//! The listeners: TLS 1.3 only unless `tls.allow_tls12`, and the plain-HTTP metrics listener (GET /metrics only,
//! no token, bounded) beside the HTTPS `/metrics` that still needs the admin token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;
use crate::support::db::backends;

/// Completes a TLS handshake offering only `version`; returns the negotiated version or the error.
async fn handshake(
    app: &TestApp,
    version: &'static rustls::SupportedProtocolVersion,
) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(app.ca()).unwrap())
        .unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let tcp = TcpStream::connect(app.addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
    {
        Ok(stream) => Ok(format!("{:?}", stream.get_ref().1.protocol_version().unwrap())),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn tls_1_2_is_refused_by_default_and_accepted_with_allow_tls12() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        assert_eq!(
            handshake(&app, &rustls::version::TLS13).await.as_deref(),
            Ok("TLSv1_3")
        );
        let refused = handshake(&app, &rustls::version::TLS12).await;
        assert!(refused.is_err(), "TLS 1.2 by default: {refused:?}");
        app.stop().await;

        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.tls.allow_tls12 = true;
        let app = spawn_with(s).await;
        assert_eq!(
            handshake(&app, &rustls::version::TLS12).await.as_deref(),
            Ok("TLSv1_2")
        );
        assert_eq!(
            handshake(&app, &rustls::version::TLS13).await.as_deref(),
            Ok("TLSv1_3")
        );
        app.stop().await;
        db.cleanup().await;
    }
}

/// Sends `request` as is and reads the whole answer (the listener closes after one request).
async fn raw_http(addr: SocketAddr, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    String::from_utf8(answer).expect("UTF-8 answer")
}

#[tokio::test]
async fn the_metrics_listener_serves_metrics_without_a_token_and_nothing_else() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.server.header_timeout_secs = 1;
        let app = spawn_with(s).await;
        let (cm, _, _) = app.offices().await;
        assert_status(
            &app.client(Some(&cm))
                .send(schedule("20250328101500"))
                .await
                .unwrap(),
            201,
        );
        let metrics = app.metrics_addr.expect("the metrics listener is on by default");
        assert!(metrics.ip().is_loopback());
        assert_ne!(metrics.port(), app.addr.port());

        // Plain HTTP, no token: the same text as the HTTPS route.
        let answer = raw_http(metrics, b"GET /metrics HTTP/1.1\r\nHost: relay\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("text/plain; version=0.0.4"), "{answer}");
        assert!(answer.contains("careplan_deliveries_pending 1"), "{answer}");
        assert!(answer.contains("careplan_submissions_total"), "{answer}");
        // SQLite's group commit: at least the accepted set's batch, with its fsync time.
        if db.backend == "sqlite" {
            let total = |name: &str| -> u64 {
                let line = answer
                    .lines()
                    .find(|l| l.starts_with(&format!("{name} ")))
                    .unwrap_or_default();
                line.rsplit(' ')
                    .next()
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0)
            };
            assert!(total("careplan_group_commit_batches_total") >= 1, "{answer}");
            assert!(
                total("careplan_group_commit_jobs_total") >= total("careplan_group_commit_batches_total"),
                "{answer}"
            );
            assert!(
                answer.contains("careplan_group_commit_fsync_microseconds_total "),
                "{answer}"
            );
        }

        // Nothing else: other paths 404, other methods 405.
        let other = raw_http(metrics, b"GET /v1/inbox HTTP/1.1\r\nHost: relay\r\n\r\n").await;
        assert!(other.starts_with("HTTP/1.1 404"), "{other}");
        let post = raw_http(
            metrics,
            b"POST /metrics HTTP/1.1\r\nHost: relay\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        // A request head over the limit is refused.
        let mut big = b"GET /metrics HTTP/1.1\r\nHost: relay\r\nX-Pad: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', 16 * 1024));
        big.extend(b"\r\n\r\n");
        let big = raw_http(metrics, &big).await;
        assert!(!big.contains(" 200 "), "{big}");
        // A client that never finishes its headers is cut off after the header timeout.
        let started = Instant::now();
        let slow = raw_http(metrics, b"GET /metrics HTTP/1.1\r\nHost: rel").await;
        assert!(!slow.contains(" 200 "), "{slow}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // A client that sends nothing at all is cut off too (header timeout and five seconds).
        let started = Instant::now();
        let silent = raw_http(metrics, b"").await;
        assert!(silent.is_empty(), "{silent}");
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(9), "{waited:?}");

        // The HTTPS /metrics still needs the admin token.
        assert_status(&app.client(None).get("/metrics").await.unwrap(), 401);
        assert_status(&app.client(Some(&cm)).get("/metrics").await.unwrap(), 403);
        let https = app
            .client(Some(&app.admin_token().await))
            .get("/metrics")
            .await
            .unwrap();
        assert_status(&https, 200);
        assert!(
            https
                .json
                .as_str()
                .unwrap()
                .contains("careplan_deliveries_pending 1")
        );
        app.stop().await;
        // Stopped with the server.
        assert!(
            TcpStream::connect(metrics).await.is_err(),
            "the metrics listener stops on shutdown"
        );

        // An empty address turns it off.
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.server.metrics_listen = String::new();
        let app = spawn_with(s).await;
        assert!(app.metrics_addr.is_none());
        app.stop().await;
        db.cleanup().await;
    }
}
