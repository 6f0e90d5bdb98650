//! The admin API: offices, credentials, the delivery log, the audit trail, export, retention, metrics.

use serde_json::json;

use crate::helpers::*;
use crate::support::db::backends;

#[tokio::test]
async fn admin_api_end_to_end() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.retention.acknowledged_days = 0;
        s.retention.flag_unacknowledged_days = 0;
        s.retention.interval_secs = 0;
        let app = spawn_with(s).await;
        let (cm, prov, other) = app.offices().await;
        let admin = app.client(Some(&app.admin_token().await));

        // Office tokens get 403 on every admin endpoint; no token gets 401.
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

        // Register an office, issue its token (shown once), list and revoke it.
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

        // Traffic: two accepted sets (one acknowledged), one rejection.
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
        let inbox = recipient.get("/v1/inbox").await.unwrap();
        let first = inbox.json["items"][0]["delivery_id"]
            .as_str()
            .unwrap()
            .to_string();
        let second = inbox.json["items"][1]["delivery_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_status(
            &recipient.post(&format!("/v1/inbox/{first}/ack")).await.unwrap(),
            200,
        );

        // The delivery log: everything, then filtered.
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
        assert_eq!(by_office.json["items"][0]["id"], second.as_str());
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
        assert!(
            admin
                .get("/v1/admin/deliveries?from=2000-01-01&to=2000-01-02")
                .await
                .unwrap()
                .json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let page = admin.get("/v1/admin/deliveries?limit=2").await.unwrap();
        let next = page.json["next"].as_str().unwrap();
        let rest = admin
            .get(&format!("/v1/admin/deliveries?limit=2&after={next}"))
            .await
            .unwrap();
        assert_eq!(rest.json["items"].as_array().unwrap().len(), 1);
        assert_status(&admin.get("/v1/admin/deliveries?status=lost").await.unwrap(), 400);
        assert!(
            admin
                .get(&format!("/v1/admin/deliveries?sender={OTHER}"))
                .await
                .unwrap()
                .json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let _ = other;

        // The audit trail: sealed in order, verified, exported.
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

        // Retention (policy 0 days): the acknowledged set's bytes go, its metadata and receipt stay; the
        // unacknowledged one is only flagged, until an admin purges it explicitly.
        let flagged = admin.get("/v1/admin/retention").await.unwrap();
        assert_eq!(flagged.json["flagged"], json!([second]), "{}", flagged.json);
        let relay_purged = {
            let store = app.store.clone();
            let relay = careplan_relay::relay::Relay::new(
                store,
                careplan_relay::spec::Spec::get().unwrap(),
                dir.path(),
                Default::default(),
            )
            .unwrap();
            relay
                .purge_expired(careplan_relay::relay::retention::Policy {
                    acknowledged_days: 0,
                    flag_unacknowledged_days: 0,
                })
                .await
                .unwrap()
        };
        assert_eq!(relay_purged, 1);
        let name = &inbox.json["items"][0]["files"][0]["name"];
        assert_eq!(
            recipient
                .download(&first, name.as_str().unwrap())
                .await
                .unwrap()
                .0,
            410
        );
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
        let (s2, _, _) = recipient
            .download(
                &second,
                inbox.json["items"][1]["files"][0]["name"].as_str().unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(s2, 200, "an unacknowledged set is never purged by retention");
        assert_status(
            &admin
                .post(&format!("/v1/admin/deliveries/{second}/purge"))
                .await
                .unwrap(),
            200,
        );
        assert_status(
            &admin
                .post(&format!("/v1/admin/deliveries/{second}/purge"))
                .await
                .unwrap(),
            404,
        );
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
        assert!(
            kinds.contains(&"audit.exported".to_string()) && kinds.contains(&"token.revoked".to_string())
        );

        // Metrics.
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
