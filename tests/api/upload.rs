//! The bounds of an upload: parts per upload, file name length, and a declared length over the body limit
//! refused before the body is read (also with `Expect: 100-continue`), before authentication, on every route.

use std::time::Duration;

use sqlx::Connection;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::raw::tls;
use crate::support::db::{TestDb, backends};

const BOUNDARY: &str = "relay-test-boundary";

/// Rows of every table an upload could write: submissions, files, deliveries, events, rejections, and audit
/// events (queued or sealed: the server seals them in the background).
async fn stored(db: &TestDb) -> Vec<i64> {
    let sql = "select (select count(*) from submissions), (select count(*) from files), \
               (select count(*) from deliveries), (select count(*) from events), \
               (select count(*) from rejections), \
               (select count(*) from audit_pending) + (select count(*) from audit_chain)";
    type Counts = (i64, i64, i64, i64, i64, i64);
    let c: Counts = if db.backend == "postgres" {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_as(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query_as(sql).fetch_one(&mut c).await.unwrap()
    };
    vec![c.0, c.1, c.2, c.3, c.4, c.5]
}

/// A multipart body with each file as a part named `file`.
fn multipart(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, bytes) in files {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// Reads one response head (up to the blank line), within 10 s.
async fn read_head(s: &mut (impl AsyncRead + Unpin)) -> String {
    let mut head = Vec::new();
    let read = async {
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if s.read(&mut b).await.unwrap() == 0 {
                break;
            }
            head.push(b[0]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer within 10 s, without the body being sent");
    String::from_utf8(head).expect("an ASCII response head")
}

/// Request headers for a multipart POST of `length` bytes.
fn headers(path: &str, token: Option<&str>, length: usize, expect: bool) -> String {
    let mut h = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {length}\r\n"
    );
    if let Some(t) = token {
        h.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if expect {
        h.push_str("Expect: 100-continue\r\n");
    }
    h.push_str("\r\n");
    h
}

#[tokio::test]
async fn more_parts_than_the_limit_get_413_and_nothing_is_stored() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, _, _) = app.offices().await;
        let sender = app.client(Some(&cm));
        let mut files = schedule("20250328101500");
        let extra = |i: usize| (format!("EXTRA_{i:02}.CSV"), b"202504\r\n".to_vec());
        files.extend((files.len()..65).map(extra));
        assert_eq!(files.len(), 65);
        let before = stored(&db).await;
        for path in ["/v1/submissions", "/v1/validate"] {
            let r = sender.send_to(path, files.clone()).await.unwrap();
            assert_status(&r, 413);
            assert_eq!(r.json["code"], "too_large");
            assert!(
                r.json["message_ja"].as_str().unwrap().contains("64"),
                "{}",
                r.json
            );
            assert!(
                r.json["message_en"].as_str().unwrap().contains("64"),
                "{}",
                r.json
            );
        }
        assert_eq!(stored(&db).await, before, "{}: nothing stored", db.backend);
        // 64 parts are read and judged (here: not a valid set), and the relay serves on.
        files.truncate(64);
        assert_status(&sender.send_to("/v1/validate", files).await.unwrap(), 200);
        assert_status(&sender.send(schedule("20250328101500")).await.unwrap(), 201);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn file_names_over_255_bytes_get_400() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, _, _) = app.offices().await;
        let sender = app.client(Some(&cm));
        let before = stored(&db).await;
        let long = format!("UPPLAN_{}.CSV", "9".repeat(289));
        assert_eq!(long.len(), 300);
        let mut files = schedule("20250328101500");
        files[0].0.clone_from(&long);
        let r = sender.send(files).await.unwrap();
        assert_status(&r, 400);
        let en = r.json["message_en"].as_str().unwrap();
        assert!(en.contains("300 bytes") && en.contains('…'), "{en}");
        assert!(en.len() < 200, "the name is quoted clipped: {en}");
        let r = sender.raw(&long, b"202504\r\n".to_vec()).await.unwrap();
        assert_status(&r, 400);
        assert!(
            r.json["message_ja"]
                .as_str()
                .unwrap()
                .contains("ファイル名が長すぎます")
        );
        assert_eq!(stored(&db).await, before, "{}: nothing stored", db.backend);
        // 255 bytes pass the bound (and are judged by the validator instead).
        let mut files = schedule("20250328101500");
        files[0].0 = format!("UPPLAN_{}.CSV", "9".repeat(244));
        assert_status(&sender.send(files).await.unwrap(), 422);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body_and_before_authentication() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.server.max_body_bytes = 64 * 1024;
        let app = spawn_with(s).await;
        let (cm, _, _) = app.offices().await;
        for (path, token) in [
            ("/v1/submissions", Some(cm.as_str())),
            ("/v1/submissions", None),
            ("/v1/validate", Some(cm.as_str())),
            ("/v1/admin/offices", None),
        ] {
            let mut conn = tls(&app, &[b"http/1.1"]).await;
            conn.write_all(headers(path, token, 64 * 1024 + 1, false).as_bytes())
                .await
                .unwrap();
            let head = read_head(&mut conn).await;
            assert!(head.starts_with("HTTP/1.1 413 "), "{path}: {head}");
        }
        // A chunked body declares no length: it is refused (413) when it grows over the limit while read.
        for (path, content_type) in [
            ("/v1/submissions?name=UPPLAN.CSV", "text/csv".to_string()),
            (
                "/v1/validate",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
        ] {
            let stream = tls(&app, &[b"http/1.1"]).await;
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {cm}\r\n\
                 Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
            );
            let mut body = head.into_bytes();
            let mut first = format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"A.CSV\"\r\n\r\n"
            )
            .into_bytes();
            first.resize(32 * 1024, b'a');
            for _ in 0..3 {
                body.extend_from_slice(format!("{:x}\r\n", first.len()).as_bytes());
                body.extend_from_slice(&first);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"0\r\n\r\n");
            let (mut rd, mut wr) = tokio::io::split(stream);
            let writer = tokio::spawn(async move {
                let _ = wr.write_all(&body).await;
                wr
            });
            let answer = read_head(&mut rd).await;
            assert!(answer.starts_with("HTTP/1.1 413 "), "{path}: {answer}");
            let _ = writer.await;
        }
        // The relay serves on.
        assert_status(&app.client(None).get("/healthz").await.unwrap(), 200);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn expect_100_continue_gets_413_over_the_limit_and_100_within_it() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.server.max_body_bytes = 64 * 1024;
        let app = spawn_with(s).await;
        let (cm, _, _) = app.offices().await;

        // Over the limit: the first answer is the 413, never 100 Continue.
        let mut conn = tls(&app, &[b"http/1.1"]).await;
        conn.write_all(headers("/v1/submissions", Some(&cm), 1024 * 1024, true).as_bytes())
            .await
            .unwrap();
        let head = read_head(&mut conn).await;
        assert!(head.starts_with("HTTP/1.1 413 "), "{head}");

        // Within it: 100 Continue, then the body, then 201.
        let body = multipart(&schedule("20250328101500"));
        assert!(body.len() < 64 * 1024);
        let mut conn = tls(&app, &[b"http/1.1"]).await;
        conn.write_all(headers("/v1/submissions", Some(&cm), body.len(), true).as_bytes())
            .await
            .unwrap();
        let head = read_head(&mut conn).await;
        assert!(head.starts_with("HTTP/1.1 100 Continue"), "{head}");
        conn.write_all(&body).await.unwrap();
        let head = read_head(&mut conn).await;
        assert!(head.starts_with("HTTP/1.1 201 "), "{head}");
        app.stop().await;
        db.cleanup().await;
    }
}
