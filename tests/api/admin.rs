//! The admin API: offices, credentials, the delivery log, the audit trail, export, retention, metrics.

use serde_json::json;

use crate::helpers::*;
use crate::support::db::backends;

/// A relay whose retention is 0 days (everything acknowledged is due, everything unacknowledged is flagged), with
/// an admin client.
async fn admin_app(dir: &std::path::Path, db: &crate::support::db::TestDb) -> (TestApp, Checked) {
    let mut s = settings(dir, db);
    s.retention.acknowledged_days = 0;
    s.retention.flag_unacknowledged_days = 0;
    s.retention.interval_secs = 0;
    let app = spawn_with(s).await;
    let admin = app.client(Some(&app.admin_token().await));
    (app, admin)
}

/// What [`traffic`] leaves: two accepted sets to the provider (the first acknowledged), one rejection.
struct Traffic {
    recipient: Checked,
    /// The provider's inbox after the two sets arrived.
    inbox: serde_json::Value,
    first: String,
    second: String,
}

async fn traffic(app: &TestApp) -> Traffic {
    let (cm, prov, _) = app.offices().await;
    let sender = app.client(Some(&cm));
    let recipient = app.client(Some(&prov));
    for seq in ["20250328101500", "20250328111500"] {
        assert_status(&sender.send(schedule(seq)).await.unwrap(), 201);
    }
    let invalid: Vec<(String, Vec<u8>)> = fixture_set("invalid/E_CODE-sex_3")
        .into_iter()
        .map(|(n, b)| (crate::support::with_sequence(&n, "20250328121500"), b))
        .collect();
    assert_status(&sender.send(invalid).await.unwrap(), 422);
    let inbox = recipient.get("/v1/inbox").await.unwrap().json;
    let id = |i: usize| inbox["items"][i]["delivery_id"].as_str().unwrap().to_string();
    let (first, second) = (id(0), id(1));
    assert_status(
        &recipient.post(&format!("/v1/inbox/{first}/ack")).await.unwrap(),
        200,
    );
    Traffic {
        recipient,
        inbox,
        first,
        second,
    }
}

#[tokio::test]
async fn office_tokens_get_403_and_no_token_401_on_every_admin_endpoint() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (app, _) = admin_app(dir.path(), &db).await;
        let (cm, _, _) = app.offices().await;
        let office = app.client(Some(&cm));
        for path in [
            "/v1/admin/offices",
            "/v1/admin/deliveries",
            "/v1/admin/audit",
            "/v1/admin/retention",
            "/metrics",
        ] {
            assert_status(&office.get(path).await.unwrap(), 403);
            assert_status(&app.client(None).get(path).await.unwrap(), 401);
        }
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_office_is_registered_and_its_token_issued_once_listed_and_revoked() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (app, admin) = admin_app(dir.path(), &db).await;
        app.offices().await;
        let r = admin.post_json("/v1/admin/offices", json!({"number": "1310000004", "name": "通所介護D", "kind": "provider", "service_types": ["15"]})).await.unwrap();
        assert_status(&r, 201);
        assert_status(
            &admin
                .post_json(
                    "/v1/admin/offices",
                    json!({"number": "1310000004", "name": "x", "kind": "provider", "service_types": ["15"]}),
                )
                .await
                .unwrap(),
            409,
        );
        let t = admin.post("/v1/admin/offices/1310000004/tokens").await.unwrap();
        assert_status(&t, 201);
        let token = t.json["token"].as_str().unwrap().to_string();
        assert_status(&app.client(Some(&token)).get("/v1/inbox").await.unwrap(), 200);
        let listed = admin.get("/v1/admin/offices/1310000004/tokens").await.unwrap();
        assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
        assert!(
            listed.json.to_string().find(&token).is_none(),
            "a token is never shown again"
        );
        let id = t.json["id"].as_str().unwrap();
        assert_status(
            &admin.delete(&format!("/v1/admin/tokens/{id}")).await.unwrap(),
            200,
        );
        assert_status(&app.client(Some(&token)).get("/v1/inbox").await.unwrap(), 401);
        let disabled = admin
            .patch_json("/v1/admin/offices/1310000004", json!({"enabled": false}))
            .await
            .unwrap();
        assert_eq!(disabled.json["enabled"], false);
        assert_eq!(
            admin.get("/v1/admin/offices").await.unwrap().json["items"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        app.relay.seal_all().await.unwrap();
        let events = admin.get("/v1/admin/audit?limit=1000").await.unwrap().json;
        assert!(
            events.to_string().contains("token.revoked"),
            "the revocation is audited"
        );
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_delivery_log_lists_sets_and_rejections_filtered_and_paged() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (app, admin) = admin_app(dir.path(), &db).await;
        let t = traffic(&app).await;
        let all = admin.get("/v1/admin/deliveries").await.unwrap();
        assert_status(&all, 200);
        let items = all.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        let rejected = items.iter().find(|i| i["entry"] == "rejection").unwrap();
        assert_eq!(rejected["codes"], json!(["E_CODE"]));
        assert_eq!(rejected["sender"], CARE_MANAGER);
        assert!(
            items
                .iter()
                .filter(|i| i["entry"] == "delivery")
                .all(|i| i["files"].as_array().unwrap().len() == 3)
        );
        let acked = admin
            .get("/v1/admin/deliveries?status=acknowledged")
            .await
            .unwrap();
        assert_eq!(acked.json["items"].as_array().unwrap().len(), 1);
        let by_office = admin
            .get(&format!("/v1/admin/deliveries?office={PROVIDER}&status=queued"))
            .await
            .unwrap();
        assert_eq!(by_office.json["items"][0]["id"], t.second.as_str());
        let today = &careplan_relay::domain::rfc3339(careplan_relay::domain::now_ms())[..10];
        let dated = admin
            .get(&format!(
                "/v1/admin/deliveries?recipient={PROVIDER}&from={today}&to={today}"
            ))
            .await
            .unwrap();
        assert_eq!(
            dated.json["items"].as_array().unwrap().len(),
            3,
            "rejections carry the named recipient"
        );
        let long_ago = admin
            .get("/v1/admin/deliveries?from=2000-01-01&to=2000-01-02")
            .await
            .unwrap();
        assert!(long_ago.json["items"].as_array().unwrap().is_empty());
        let page = admin.get("/v1/admin/deliveries?limit=2").await.unwrap();
        let next = page.json["next"].as_str().unwrap();
        let rest = admin
            .get(&format!("/v1/admin/deliveries?limit=2&after={next}"))
            .await
            .unwrap();
        assert_eq!(rest.json["items"].as_array().unwrap().len(), 1);
        assert_status(&admin.get("/v1/admin/deliveries?status=lost").await.unwrap(), 400);
        let quiet = admin
            .get(&format!("/v1/admin/deliveries?sender={OTHER}"))
            .await
            .unwrap();
        assert!(quiet.json["items"].as_array().unwrap().is_empty());
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_audit_trail_is_sealed_in_order_verified_and_exported() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (app, admin) = admin_app(dir.path(), &db).await;
        traffic(&app).await;
        app.relay.seal_all().await.unwrap();
        let events = admin.get("/v1/admin/audit?limit=1000").await.unwrap();
        let positions: Vec<i64> = events.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["position"].as_i64().unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[1] == w[0] + 1) && positions[0] == 1);
        assert_eq!(
            admin.get("/v1/admin/audit/verify").await.unwrap().json["intact"],
            true
        );
        let exported = admin.post("/v1/admin/audit/export").await.unwrap();
        assert_status(&exported, 200);
        assert_eq!(exported.json["batch"]["first"], 1);
        app.relay.seal_all().await.unwrap();
        let later = admin.get("/v1/admin/audit?limit=1000").await.unwrap().json;
        assert!(
            later.to_string().contains("audit.exported"),
            "the export is audited"
        );
        app.stop().await;
        db.cleanup().await;
    }
}

/// Retention (policy 0 days): the acknowledged set's bytes go, its metadata and receipt stay; the unacknowledged one
/// is only flagged, until an admin purges it explicitly.
#[tokio::test]
async fn retention_purges_acknowledged_bytes_and_only_flags_the_rest() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (app, admin) = admin_app(dir.path(), &db).await;
        let Traffic {
            recipient,
            inbox,
            first,
            second,
        } = traffic(&app).await;
        let flagged = admin.get("/v1/admin/retention").await.unwrap();
        assert_eq!(flagged.json["flagged"], json!([second]), "{}", flagged.json);
        let relay = careplan_relay::relay::Relay::new(
            app.store.clone(),
            careplan_relay::spec::Spec::get().unwrap(),
            dir.path(),
            Default::default(),
        )
        .unwrap();
        let purged = relay
            .purge_expired(careplan_relay::relay::retention::Policy {
                acknowledged_days: 0,
                flag_unacknowledged_days: 0,
            })
            .await
            .unwrap();
        assert_eq!(purged, 1);
        let name = inbox["items"][0]["files"][0]["name"].as_str().unwrap();
        assert_eq!(recipient.download(&first, name).await.unwrap().0, 410);
        let log = admin
            .get("/v1/admin/deliveries?status=acknowledged")
            .await
            .unwrap();
        assert!(log.json["items"][0]["purged_at"].is_string());
        assert_eq!(
            log.json["items"][0]["files"].as_array().unwrap().len(),
            3,
            "metadata and digests stay"
        );
        let other_name = inbox["items"][1]["files"][0]["name"].as_str().unwrap();
        let (status, _, _) = recipient.download(&second, other_name).await.unwrap();
        assert_eq!(status, 200, "an unacknowledged set is never purged by retention");
        let purge = format!("/v1/admin/deliveries/{second}/purge");
        assert_status(&admin.post(&purge).await.unwrap(), 200);
        assert_status(&admin.post(&purge).await.unwrap(), 404);
        app.relay.seal_all().await.unwrap();
        let kinds: Vec<String> = admin.get("/v1/admin/audit?limit=1000").await.unwrap().json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "delivery.purged").count(),
            2,
            "both purges are audited"
        );
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn metrics_count_the_traffic_and_healthz_answers() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (app, admin) = admin_app(dir.path(), &db).await;
        traffic(&app).await;
        let m = admin.get("/metrics").await.unwrap();
        let text = m.json.as_str().unwrap();
        assert!(
            text.contains("careplan_submissions_total{outcome=\"accepted\",kind=\"UPPLAN\"} 2"),
            "{text}"
        );
        assert!(text.contains("careplan_rejections_total{code=\"E_CODE\"} 1"));
        assert!(text.contains("careplan_request_duration_seconds_bucket{route=\"/v1/submissions\""));
        assert!(text.contains("careplan_deliveries_pending"));
        let health = app.client(None).get("/healthz").await.unwrap();
        assert_eq!(health.json["status"], "ok");
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn offices_are_edited_and_their_kind_must_fit_their_service_types() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let admin = app.client(Some(&app.admin_token().await));
        let office = |kind: &str, types: serde_json::Value| json!({"number": "1310000004", "name": "通所介護D", "kind": kind, "service_types": types});
        // A kind that does not fit the service types is refused, saying why.
        for (kind, types) in [
            ("care_manager", json!(["11"])),
            ("prevention_center", json!(["43"])),
            ("provider", json!(["43"])),
        ] {
            let r = admin
                .post_json("/v1/admin/offices", office(kind, types))
                .await
                .unwrap();
            assert_status(&r, 400);
            assert!(r.json["message"].as_str().unwrap().contains(kind), "{}", r.json);
        }
        assert_status(
            &admin
                .post_json("/v1/admin/offices", office("provider", json!(["15", "78"])))
                .await
                .unwrap(),
            201,
        );

        // A new name and service types; the same rules; nothing at all is refused.
        let r = admin
            .patch_json(
                "/v1/admin/offices/1310000004",
                json!({"name": "通所介護D（新館）", "service_types": ["78"]}),
            )
            .await
            .unwrap();
        assert_status(&r, 200);
        assert_eq!(
            (r.json["name"].as_str(), &r.json["service_types"]),
            (Some("通所介護D（新館）"), &json!(["78"]))
        );
        let refused = admin
            .patch_json("/v1/admin/offices/1310000004", json!({"service_types": ["43"]}))
            .await
            .unwrap();
        assert_status(&refused, 400);
        assert_status(
            &admin
                .patch_json("/v1/admin/offices/1310000004", json!({}))
                .await
                .unwrap(),
            400,
        );
        assert_status(
            &admin
                .patch_json("/v1/admin/offices/1310000099", json!({"name": "x"}))
                .await
                .unwrap(),
            404,
        );
        let listed = admin.get("/v1/admin/offices").await.unwrap();
        assert!(
            listed.json.to_string().contains("通所介護D（新館）"),
            "{}",
            listed.json
        );
        let events = app.events().await;
        assert!(
            events
                .iter()
                .any(|(kind, d)| kind == "office.edited" && d["service_types"] == json!(["78"])),
            "{events:?}"
        );
        app.stop().await;
        db.cleanup().await;
    }
}
