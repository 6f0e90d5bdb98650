//! Connections a client opens and then neglects: closed after the header timeout (HTTP/1.1 and HTTP/2) or
//! when idle, and capped, with a legitimate client still served while hundreds of idle sockets are open.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::helpers::*;
use crate::raw::{closed_within, status_line, tls};
use crate::support::db;

/// Far above the configured timeouts: only a server that never closes the socket reaches it.
const NEVER: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::sqlite();
    let mut s = settings(dir.path(), &db);
    s.server.header_timeout_secs = 1;
    let app = spawn_with(s).await;

    // HTTP/1.1: the handshake completes, then nothing.
    let mut h1 = tls(&app, &[b"http/1.1"]).await;
    assert!(
        closed_within(&mut h1, NEVER).await,
        "an idle HTTP/1.1 connection stayed open"
    );

    // HTTP/2: the preface and an empty SETTINGS frame, then nothing.
    let mut h2 = tls(&app, &[b"h2"]).await;
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    assert!(
        closed_within(&mut h2, NEVER).await,
        "an HTTP/2 connection with no request stayed open"
    );

    // Half a request head, never finished.
    let mut slow = tls(&app, &[b"http/1.1"]).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, NEVER).await,
        "a half-sent head kept its connection"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_keep_alive_connection_is_closed_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::sqlite();
    let mut s = settings(dir.path(), &db);
    s.server.idle_timeout_secs = 1;
    let app = spawn_with(s).await;
    let mut c = tls(&app, &[b"http/1.1"]).await;
    let line = status_line(&mut c, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    assert_eq!(line.as_deref(), Some("HTTP/1.1 200 OK"));
    assert!(
        closed_within(&mut c, NEVER).await,
        "an idle keep-alive connection stayed open"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_is_served_while_hundreds_of_idle_sockets_are_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::sqlite();
    let mut s = settings(dir.path(), &db);
    s.server.max_connections = 64;
    let app = spawn_with(s).await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(tls(&app, &[b"http/1.1"]).await);
    }
    // The legitimate client: served, because the oldest idle connections made room.
    let r = app.client(None).get("/healthz").await.unwrap();
    assert_status(&r, 200);
    // Everything beyond the cap was closed by the server, oldest first.
    let mut closed = 0;
    for c in idle.iter_mut().take(240) {
        if closed_within(c, Duration::from_secs(5)).await {
            closed += 1;
        }
    }
    assert!(
        closed >= 236,
        "only {closed} of the 240 oldest idle connections were closed"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stop_answers_the_long_polls_in_flight_at_once() {
    for db in db::backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (_, prov, _) = app.offices().await;
        let recipient = app.client(Some(&prov));
        // Waits of the longest kind the relay allows: without the stop, each would hold its connection for a
        // minute, past the 30 s drain, and end as a closed connection instead of an answer.
        let polls: Vec<_> = (0..3)
            .map(|_| {
                let c = recipient.clone();
                tokio::spawn(async move { c.get("/v1/inbox?wait=60&status=pending").await })
            })
            .collect();
        app.long_polls(3).await;
        app.stop().await;
        for poll in polls {
            let got = poll
                .await
                .unwrap()
                .expect("the poll got an answer, not a closed connection");
            assert_status(&got, 200);
            assert!(got.json["items"].as_array().unwrap().is_empty());
            assert!(got.json["next"].is_string(), "the cursor to go on from");
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_answer_given_before_the_body_is_read_says_the_connection_closes() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::sqlite();
    let app = spawn_app(dir.path(), &db).await;
    let (cm, _, _) = app.offices().await;
    let admin = app.admin_token().await;
    let http = app.http_from("127.0.0.1");
    let office = serde_json::json!({"number": "1310000009", "name": "通所介護X", "kind": "provider", "service_types": ["15"]});
    // An office token on an admin endpoint: 403 before the body is looked at, and the connection is not reused.
    let refused = http
        .post(format!("{}/v1/admin/offices", app.url()))
        .bearer_auth(&cm)
        .json(&office)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.headers().get("connection").and_then(|v| v.to_str().ok()),
        Some("close")
    );
    // The same request read to its end keeps its connection.
    let added = http
        .post(format!("{}/v1/admin/offices", app.url()))
        .bearer_auth(&admin)
        .json(&office)
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    assert!(
        added.headers().get("connection").is_none(),
        "{:?}",
        added.headers()
    );
    app.stop().await;
}
