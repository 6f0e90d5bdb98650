//! Authentication and isolation: tokens, client certificates, admin tokens, other offices.

use crate::helpers::*;
use crate::support::db::backends;

#[tokio::test]
async fn tokens_certificates_and_isolation() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, other) = app.offices().await;

        // No credential, a wrong one, a revoked one: 401.
        assert_status(&app.client(None).get("/v1/inbox").await.unwrap(), 401);
        assert_status(
            &app.client(Some("cpr_not-a-token"))
                .get("/v1/inbox")
                .await
                .unwrap(),
            401,
        );
        let t = app.relay.issue_token(Some(PROVIDER), "test").await.unwrap();
        let secret = secrecy::ExposeSecret::expose_secret(&t.token).to_string();
        assert_status(&app.client(Some(&secret)).get("/v1/inbox").await.unwrap(), 200);
        app.relay.revoke_token(&t.id, "test").await.unwrap();
        assert_status(&app.client(Some(&secret)).get("/v1/inbox").await.unwrap(), 401);

        // A client certificate from the relay's CA authenticates its office, for sending and receiving.
        let sender = app.cert_client(CARE_MANAGER);
        assert_status(&sender.send(schedule("20250328101500")).await.unwrap(), 201);
        let recipient = app.cert_client(PROVIDER);
        let items = recipient.get("/v1/inbox").await.unwrap().json["items"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(items.len(), 1);
        let delivery = items[0]["delivery_id"].as_str().unwrap().to_string();
        let name = items[0]["files"][0]["name"].as_str().unwrap().to_string();
        // A certificate for an unregistered office is not a credential.
        assert_status(
            &app.cert_client("1319999999").get("/v1/inbox").await.unwrap(),
            401,
        );

        // Another office: 404 for the delivery, never a hint that it exists.
        let stranger = app.client(Some(&other));
        assert_eq!(stranger.download(&delivery, &name).await.unwrap().0, 404);
        assert_status(
            &stranger.post(&format!("/v1/inbox/{delivery}/ack")).await.unwrap(),
            404,
        );
        assert_status(
            &stranger.get(&format!("/v1/inbox/{delivery}")).await.unwrap(),
            404,
        );
        assert!(
            stranger.get("/v1/inbox?status=all").await.unwrap().json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // The sender cannot download from the recipient's inbox either.
        assert_eq!(
            app.client(Some(&cm)).download(&delivery, &name).await.unwrap().0,
            404
        );
        let sid = items[0]["submission_id"].as_str().unwrap();
        assert_status(&stranger.get(&format!("/v1/receipts/{sid}")).await.unwrap(), 404);

        // Sending in another office's name: 403, and nothing is stored.
        let forged = app
            .client(Some(&prov))
            .send(schedule("20250328111500"))
            .await
            .unwrap();
        assert_status(&forged, 403);
        assert!(forged.json["message"].as_str().unwrap().contains(CARE_MANAGER));

        // Admin tokens cannot send or read office files.
        let admin = app.client(Some(&app.admin_token().await));
        assert_status(&admin.get("/v1/inbox").await.unwrap(), 403);
        assert_status(&admin.send(schedule("20250328121500")).await.unwrap(), 403);
        assert_eq!(admin.download(&delivery, &name).await.unwrap().0, 403);

        // A disabled office is refused.
        app.store
            .set_office_enabled(
                PROVIDER,
                false,
                careplan_relay::store::NewEvent::new("office.disabled", None, serde_json::json!({})),
            )
            .await
            .unwrap();
        assert_status(&app.client(Some(&prov)).get("/v1/inbox").await.unwrap(), 403);
        let to_disabled = app
            .client(Some(&cm))
            .send(schedule("20250328131500"))
            .await
            .unwrap();
        assert_status(&to_disabled, 422);
        assert_eq!(to_disabled.json["set_errors"][0]["code"], "E_UNKNOWN_RECIPIENT");
        // A retry of a set accepted before the recipient was disabled still answers its first answer.
        let retry = app
            .cert_client(CARE_MANAGER)
            .send(schedule("20250328101500"))
            .await
            .unwrap();
        assert_status(&retry, 200);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_at_the_handshake() {
    let db = crate::support::db::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(dir.path(), &db).await;
    app.offices().await;
    let foreign = tempfile::tempdir().unwrap();
    let pki = careplan_relay::tls::Pki::in_dir(foreign.path());
    pki.ensure_dev().unwrap();
    let (cert, key) =
        careplan_relay::tls::issue_client_cert(&pki.ca_cert, &pki.ca_key, CARE_MANAGER, foreign.path())
            .unwrap();
    let client = careplan_relay::client::Client::new(&careplan_relay::client::ClientOptions {
        url: app.url(),
        cert: Some(cert),
        key: Some(key),
        cacert: Some(app.ca()),
        ..Default::default()
    })
    .unwrap();
    assert!(client.get("/v1/inbox").await.is_err(), "the TLS handshake fails");
    app.stop().await;
}
