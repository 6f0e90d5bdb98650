//! What a hostile or careless client sends to break identity, authority or bounds: other spellings of one set,
//! service types it does not hold, request ids and names of any size, unchecked codes; and files kept private.

use serde_json::json;

use crate::helpers::*;
use crate::raw::{status_line, tls};
use crate::support::db::backends;

fn respell(files: &[(String, Vec<u8>)], ext: &str) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|(n, b)| (n.replace(".CSV", ext), b.clone()))
        .collect()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let c = app.store.row_counts().await.unwrap();
    match table {
        "offices" => c.offices,
        "submissions" => c.submissions,
        "events" => c.events,
        _ => unreachable!("{table}"),
    }
}

#[tokio::test]
async fn a_set_is_one_set_whatever_the_spelling_of_its_extension() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;
        let sender = app.client(Some(&cm));
        let set = schedule("20250328101500");
        assert_status(&sender.send(set.clone()).await.unwrap(), 201);
        // The same bytes as `.csv`: a retry, answered 200 with the first answer.
        assert_status(&sender.send(respell(&set, ".csv")).await.unwrap(), 200);
        // Other bytes as `.Csv`: a conflict, in both languages.
        let mut other = respell(&set, ".Csv");
        other[0].1.extend_from_slice(b"\r\n");
        let r = sender.send(other).await.unwrap();
        assert_status(&r, 409);
        assert_eq!(r.json["code"], "conflict");
        assert!(r.json["message_ja"].as_str().unwrap().contains("連番"));
        // `.CSV` and `.csv` of one name in one upload are the same name twice.
        let mut twice = set.clone();
        twice.push(respell(&set[..1], ".csv").remove(0));
        assert_status(&sender.send(twice).await.unwrap(), 400);
        let inbox = app.client(Some(&prov)).get("/v1/inbox?status=all").await.unwrap();
        assert_eq!(
            inbox.json["items"].as_array().unwrap().len(),
            1,
            "one delivery per set"
        );
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_sender_names_only_service_types_it_is_registered_for() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, _, _) = app.offices().await;
        // The care manager is registered for 43 only; the names say 46.
        let set: Vec<(String, Vec<u8>)> = schedule("20250328101500")
            .into_iter()
            .map(|(n, b)| (n.replace("_1310000001_43_", "_1310000001_46_"), b))
            .collect();
        let before = count(&app, "events").await;
        let r = app.client(Some(&cm)).send(set).await.unwrap();
        assert_status(&r, 403);
        assert!(r.json["message_en"].as_str().unwrap().contains("service type 46"));
        assert!(!r.json["message_ja"].as_str().unwrap().is_empty());
        assert_eq!(count(&app, "submissions").await, 0);
        assert_eq!(count(&app, "events").await, before);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn client_strings_are_bounded_before_logs_events_and_answers() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, _, _) = app.offices().await;
        // A 300-byte file name is refused and never stored, not even in the rejection event.
        let long = format!(
            "UPPLAN_202504_1310000001_43_1310000002_11_{}.CSV",
            "9".repeat(260)
        );
        let events = count(&app, "events").await;
        let r = app.client(Some(&cm)).raw(&long, b"x".to_vec()).await.unwrap();
        assert_status(&r, 400);
        assert!(r.json["message_en"].as_str().unwrap().len() < 300);
        assert_eq!(count(&app, "events").await, events);

        // An 8,000-byte request id is replaced by a generated one; a short, plain one is kept.
        let mut c = tls(&app, &[b"http/1.1"]).await;
        let head = format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nx-request-id: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(8000)
        );
        let answer = read_all(&mut c, head.as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{}",
            &answer[..answer.len().min(200)]
        );
        let id = header(&answer, "x-request-id").expect("an id");
        assert!(id.len() == 36 && !id.contains("aaaa"), "{id}");
        let mut c = tls(&app, &[b"http/1.1"]).await;
        let answer = read_all(
            &mut c,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nx-request-id: vendor-42.a:b\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(header(&answer, "x-request-id").as_deref(), Some("vendor-42.a:b"));
        let mut c = tls(&app, &[b"http/1.1"]).await;
        let line = status_line(
            &mut c,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nx-request-id: a b\r\n\r\n",
        )
        .await;
        assert_eq!(line.as_deref(), Some("HTTP/1.1 200 OK"));
        app.stop().await;
        db.cleanup().await;
    }
}

async fn read_all(c: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    c.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), c.read_to_end(&mut out)).await;
    String::from_utf8(out).unwrap_or_default()
}

fn header(answer: &str, name: &str) -> Option<String> {
    answer.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

#[tokio::test]
async fn codes_an_admin_registers_come_from_the_code_table() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let admin = app.client(Some(&app.admin_token().await));
        let office = |name: &str, types: serde_json::Value| json!({"number": "1310000009", "name": name, "kind": "provider", "service_types": types});
        for (name, types) in [
            ("訪問介護Z", json!(["1".repeat(100_000)])),
            ("訪問介護Z", json!(["2P*"])),
            ("訪問介護Z", json!(["99"])),
            ("訪問介護Z", json!(["11", "11"])),
            ("訪問介護Z", json!([])),
            ("", json!(["11"])),
            ("   ", json!(["11"])),
            (&"名".repeat(101), json!(["11"])),
            ("改行\nあり", json!(["11"])),
        ] {
            let r = admin
                .post_json("/v1/admin/offices", office(name, types.clone()))
                .await
                .unwrap();
            assert_status(&r, 400);
            assert!(r.json["message"].as_str().unwrap().len() < 400, "{types}");
        }
        assert_eq!(count(&app, "offices").await, 0);
        let r = admin
            .post_json("/v1/admin/offices", office("訪問介護Z", json!(["11", "15"])))
            .await
            .unwrap();
        assert_status(&r, 201);
        app.stop().await;
        db.cleanup().await;
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_the_database_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = crate::support::db::sqlite_at(&data.join("relay.db"));
    let app = spawn_app(&data, &db).await;
    let (cm, _, _) = app.offices().await;
    assert_status(
        &app.client(Some(&cm))
            .send(schedule("20250328101500"))
            .await
            .unwrap(),
        201,
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in [
        "relay.db",
        "relay.db-wal",
        "relay.db-shm",
        "tls/ca.key",
        "tls/server.key",
    ] {
        let p = data.join(f);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{f}");
        } else {
            assert!(f.ends_with("-shm"), "{f} missing");
        }
    }
    for k in std::fs::read_dir(data.join("keys")).unwrap() {
        assert_eq!(mode(&k.unwrap().path()), 0o600);
    }
    // The files' bytes: a 0700 directory of 0600 segment files.
    assert_eq!(mode(&data.join("relay.db.bodies")), 0o700);
    let segments: Vec<_> = std::fs::read_dir(data.join("relay.db.bodies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!segments.is_empty(), "the accepted set's bytes are in a segment");
    for s in segments {
        assert_eq!(mode(&s), 0o600, "{}", s.display());
    }
    app.stop().await;
}

#[tokio::test]
async fn a_second_relay_on_the_same_sqlite_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::db::sqlite();
    let app = spawn_app(dir.path(), &db).await;
    let second = careplan_relay::app::App::build(settings(dir.path(), &db)).await;
    let err = format!(
        "{:#}",
        second.expect_err("a second relay on the same data directory")
    );
    assert!(
        err.contains(&format!("process {}", std::process::id())) && err.contains("--data-dir"),
        "{err}"
    );
    app.stop().await;
    // Once the first has stopped, the directory is free again.
    let again = spawn_app(dir.path(), &db).await;
    again.stop().await;
}
