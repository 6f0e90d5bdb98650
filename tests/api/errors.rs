//! The error statuses of API.md: 400, 413, 422 (nothing stored), E_UNKNOWN_RECIPIENT, and /v1/validate.

use rustls::pki_types::pem::PemObject;

use crate::helpers::*;
use crate::support::db::backends;

#[tokio::test]
async fn invalid_sets_are_refused_and_nothing_is_stored() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;
        let sender = app.client(Some(&cm));

        // One record too long (the committed fixture): 422 with file, line, item, Japanese name, code, messages.
        let set = fixture_set("invalid/E_LENGTH-service_count_3_digits");
        let refused = sender.send(set.clone()).await.unwrap();
        assert_status(&refused, 422);
        let r = &refused.json;
        assert_eq!(r["error"], "invalid");
        let err = r["files"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["errors"].as_array().unwrap().clone())
            .next()
            .unwrap();
        assert_eq!((err["line"].as_u64(), err["item"].as_u64()), (Some(1), Some(14)));
        assert_eq!(err["item_name"], "サービス回数");
        assert_eq!(err["code"], "E_LENGTH");
        assert!(err["message_ja"].as_str().unwrap().contains("項目長"));
        assert!(err["message_en"].as_str().unwrap().contains("item length"));
        assert!(r["set_errors"].is_array());
        // Nothing stored, nothing routed.
        assert!(
            sender.get("/v1/outbox").await.unwrap().json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert!(
            app.client(Some(&prov)).get("/v1/inbox").await.unwrap().json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // …so the corrected set under the same names is accepted.
        assert_status(&sender.send(schedule("20250328101500")).await.unwrap(), 201);

        // The recipient must be registered and offer the service type.
        let mut unknown = schedule("20250328111500");
        for f in &mut unknown {
            f.0 = f.0.replace(PROVIDER, "1319999999");
        }
        let r = sender.send(unknown).await.unwrap();
        assert_status(&r, 422);
        assert_eq!(r.json["set_errors"][0]["code"], "E_UNKNOWN_RECIPIENT");

        // /v1/validate answers 200 with the report and stores nothing.
        let v = sender.send_to("/v1/validate", set).await.unwrap();
        assert_status(&v, 200);
        assert_eq!(v.json["valid"], false);
        let ok = sender
            .send_to("/v1/validate", schedule("20250328121500"))
            .await
            .unwrap();
        assert_eq!(ok.json["valid"], true);
        assert_eq!(
            sender.get("/v1/outbox").await.unwrap().json["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // A raw single file with ?name= works too (here: an incomplete set, so 422 naming the composition).
        let (name, bytes) = schedule("20250328131500").remove(1);
        let raw = sender.raw(&name, bytes).await.unwrap();
        assert_status(&raw, 422);
        assert_eq!(raw.json["set_errors"][0]["code"], "E_SET_COMPOSITION");
        // No files at all: 400.
        assert_status(&sender.send(Vec::new()).await.unwrap(), 400);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let db = crate::support::db::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), &db);
    s.server.max_body_bytes = 64 * 1024;
    let app = spawn_with(s).await;
    let (cm, _, _) = app.offices().await;
    let sender = app.client(Some(&cm));
    let big = vec![(
        "UPPLAN_202504_1310000001_43_1310000002_11_20250328101500.CSV".to_string(),
        vec![b'a'; 200 * 1024],
    )];
    assert_status(&sender.send(big.clone()).await.unwrap(), 413);
    let (name, bytes) = big.into_iter().next().unwrap();
    assert_status(&sender.raw(&name, bytes).await.unwrap(), 413);
    // The relay still serves normal requests afterwards.
    assert_status(&sender.send(schedule("20250328101500")).await.unwrap(), 201);
    app.stop().await;
}

/// A client that sends half a request line and then nothing is cut off after the header timeout.
#[tokio::test]
async fn a_slow_client_cannot_hold_a_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = crate::support::db::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), &db);
    s.server.header_timeout_secs = 1;
    let app = spawn_with(s).await;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(app.ca()).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: local")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(15), tls.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server closed the connection");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // And the relay keeps serving others.
    assert_status(&app.client(None).get("/healthz").await.unwrap(), 200);
    app.stop().await;
}
