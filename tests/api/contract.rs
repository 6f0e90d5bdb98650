//! Where the OpenAPI document and the server must agree on what is refused: each request here breaks a pattern
//! or range the document states (and is refused with the bilingual 400), or is one the document allows (and is
//! answered). The shared client checks each answer against the document as well.

use crate::helpers::*;
use crate::support::db::backends;

#[tokio::test]
async fn what_the_document_forbids_is_refused_and_what_it_allows_is_answered() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (_, recipient, _) = app.offices().await;
        let office = app.client(Some(&recipient));
        let admin = app.client(Some(&app.admin_token().await));

        // An empty cursor is "from the start" (the document's pattern allows it).
        assert_status(&office.get("/v1/inbox?after=").await.unwrap(), 200);
        assert_status(&office.get("/v1/outbox?after=").await.unwrap(), 200);
        assert_status(&admin.get("/v1/admin/deliveries?after=").await.unwrap(), 200);
        // `wait` has an upper bound.
        let long = office.get("/v1/inbox?wait=3601").await.unwrap();
        assert_status(&long, 400);
        assert!(long.json["message_ja"].as_str().unwrap().contains("wait"));
        // The log's office filters are 10-digit office numbers.
        for filter in ["sender=131", "recipient=13100000021", "office=abcdefghij"] {
            let refused = admin
                .get(&format!("/v1/admin/deliveries?{filter}"))
                .await
                .unwrap();
            assert_status(&refused, 400);
            assert_eq!(refused.json["error"], "bad_request");
            assert!(refused.json["message_en"].as_str().unwrap().contains("10 digits"));
        }
        // A service type outside the document's pattern is refused.
        let odd = admin
            .post_json(
                "/v1/admin/offices",
                serde_json::json!({"number": "1310000009", "name": "X", "kind": "provider", "service_types": ["2P*"]}),
            )
            .await
            .unwrap();
        assert_status(&odd, 400);
        // The audit trail's positions start at 0.
        assert_status(&admin.get("/v1/admin/audit?after=-1").await.unwrap(), 400);
        // The log's times: a date, or RFC 3339 with any offset; a day that does not exist is refused.
        for ok in [
            "from=2025-03-28",
            "from=2025-03-28T19:15:00%2B09:00",
            "to=1969-12-31T00:00:00Z",
            "from=",
        ] {
            assert_status(
                &admin.get(&format!("/v1/admin/deliveries?{ok}")).await.unwrap(),
                200,
            );
        }
        assert_status(
            &admin.get("/v1/admin/deliveries?from=2025-02-30").await.unwrap(),
            400,
        );
        // A certificate serial number is hexadecimal with optional colons, nothing around it.
        let spaced = admin.post("/v1/admin/certificates/%200a/revoke").await.unwrap();
        assert_status(&spaced, 400);
        // A lockout key that is not one names no lockout.
        assert_status(&admin.delete("/v1/admin/lockouts/0").await.unwrap(), 404);
        // Cursors too long to be a number are outside the pattern and refused.
        assert_status(
            &office
                .get(&format!("/v1/inbox?after={}", "9".repeat(19)))
                .await
                .unwrap(),
            400,
        );
        app.stop().await;
    }
}
