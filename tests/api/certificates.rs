//! Client certificates over their lifecycle: issued and recorded with the configured validity, listed on the
//! admin API, authenticating their office, revoked (then 401), and both changes in the audit trail.

use careplan_relay::client::{Client, ClientOptions};
use careplan_relay::relay::Relay;
use careplan_relay::spec::Spec;

use crate::helpers::*;
use crate::support::db::backends;

/// The validity of a PEM certificate, in seconds (not_after − not_before), and its serial in hex.
fn validity_and_serial(pem: &[u8]) -> (i64, String) {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).unwrap();
    let cert = pem.parse_x509().unwrap();
    let v = cert.validity();
    (
        v.not_after.timestamp() - v.not_before.timestamp(),
        careplan_relay::tls::serial_hex(cert.raw_serial()),
    )
}

#[tokio::test]
async fn an_issued_certificate_is_listed_authenticates_and_once_revoked_gets_401() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm_token, _, _) = app.offices().await;
        let admin = app.client(Some(&app.admin_token().await));
        // The command line's relay: the same store and data directory as the server's.
        let relay = Relay::new(
            app.store.clone(),
            Spec::get().unwrap(),
            &app.data_dir,
            Default::default(),
        )
        .unwrap();
        let tls = app.data_dir.join("tls");
        let cert = relay
            .issue_certificate(&tls.join("ca.pem"), &tls.join("ca.key"), CARE_MANAGER, 45, "test")
            .await
            .unwrap();
        let out = dir.path().join("issued");
        let (cert_path, key_path) = cert.write(&out).unwrap();
        let (validity, serial) = validity_and_serial(&std::fs::read(&cert_path).unwrap());
        assert_eq!(validity, 45 * 86_400, "{}", db.backend);
        assert_eq!(serial, cert.serial);
        assert_eq!(cert.not_after - cert.not_before, 45 * 86_400_000);

        // Listed on the admin API, and filtered by office.
        let list = admin.get("/v1/admin/certificates").await.unwrap();
        assert_status(&list, 200);
        let items = list.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}", list.json);
        assert_eq!(items[0]["serial"], serial.as_str());
        assert_eq!(items[0]["office"], CARE_MANAGER);
        assert_eq!(items[0]["revoked"], false);
        assert_eq!(items[0]["state"], "valid");
        let mine = admin
            .get(&format!("/v1/admin/certificates?office={CARE_MANAGER}"))
            .await
            .unwrap();
        assert_eq!(mine.json["items"].as_array().unwrap().len(), 1);
        let theirs = admin
            .get(&format!("/v1/admin/certificates?office={PROVIDER}"))
            .await
            .unwrap();
        assert!(theirs.json["items"].as_array().unwrap().is_empty());
        assert_status(&admin.get("/v1/admin/certificates?office=13").await.unwrap(), 400);
        // Office tokens cannot see or revoke certificates.
        let office = app.client(Some(&cm_token));
        assert_status(&office.get("/v1/admin/certificates").await.unwrap(), 403);
        assert_status(
            &office
                .post(&format!("/v1/admin/certificates/{serial}/revoke"))
                .await
                .unwrap(),
            403,
        );

        // The certificate authenticates its office.
        let holder = Client::new(&ClientOptions {
            url: app.url(),
            cert: Some(cert_path.clone()),
            key: Some(key_path.clone()),
            cacert: Some(app.ca()),
            ..Default::default()
        })
        .unwrap();
        assert_status(&holder.send(schedule("20250328101500")).await.unwrap(), 201);
        assert_status(&holder.get("/v1/outbox").await.unwrap(), 200);

        // Revoked (upper case with colons is the same serial): the same certificate now gets 401.
        let typed: String = serial
            .to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        let revoked = admin
            .post(&format!("/v1/admin/certificates/{typed}/revoke"))
            .await
            .unwrap();
        assert_status(&revoked, 200);
        assert_eq!(revoked.json["serial"], serial.as_str());
        assert_eq!(revoked.json["revoked"], true);
        assert_eq!(revoked.json["state"], "revoked");
        let refused = holder.get("/v1/outbox").await.unwrap();
        assert_status(&refused, 401);
        assert_eq!(refused.json["code"], "unauthenticated");
        assert_status(&holder.send(schedule("20250328111500")).await.unwrap(), 401);
        // A fresh connection is refused too.
        let again = Client::new(&ClientOptions {
            url: app.url(),
            cert: Some(cert_path),
            key: Some(key_path),
            cacert: Some(app.ca()),
            ..Default::default()
        })
        .unwrap();
        assert_status(&again.get("/v1/inbox").await.unwrap(), 401);
        // Revoking again changes nothing; unknown and malformed serials are 404 and 400.
        let twice = admin
            .post(&format!("/v1/admin/certificates/{serial}/revoke"))
            .await
            .unwrap();
        assert_status(&twice, 200);
        assert_eq!(twice.json["revoked_at"], revoked.json["revoked_at"]);
        assert_status(
            &admin
                .post("/v1/admin/certificates/0badc0de/revoke")
                .await
                .unwrap(),
            404,
        );
        assert_status(
            &admin.post("/v1/admin/certificates/not-hex/revoke").await.unwrap(),
            400,
        );
        let listed = admin.get("/v1/admin/certificates").await.unwrap();
        assert_eq!(listed.json["items"][0]["revoked"], true);
        assert_eq!(listed.json["items"][0]["state"], "revoked");

        // A certificate of the same CA that was never recorded (an operator's own issuance) still authenticates.
        assert_status(
            &app.cert_client(CARE_MANAGER).get("/v1/inbox").await.unwrap(),
            200,
        );

        // Both changes are in the audit trail, once each, with the serial and the office.
        app.relay.seal_all().await.unwrap();
        let audit = admin.get("/v1/admin/audit?limit=1000").await.unwrap();
        let events: Vec<&serde_json::Value> = audit.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"].as_str().unwrap().starts_with("certificate."))
            .collect();
        let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["certificate.issued", "certificate.revoked"],
            "{}",
            db.backend
        );
        for e in &events {
            assert_eq!(e["detail"]["serial"], serial.as_str());
            assert_eq!(e["office"], CARE_MANAGER);
        }
        assert_eq!(events[0]["detail"]["days"], 45);
        app.stop().await;
        db.cleanup().await;
    }
}
