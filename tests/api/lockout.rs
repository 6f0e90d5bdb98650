//! Throttling and lockout of failed authentication: bearer tokens and the admin page login, per source address.

use std::time::{Duration, Instant};

use crate::helpers::*;
use crate::support::db::backends;

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The login form's double-submit pair: (cookie header value, form field).
pub async fn login_form(http: &reqwest::Client, app: &TestApp) -> (String, String) {
    let r = http.get(format!("{}/admin/", app.url())).send().await.unwrap();
    let cookie = header(&r, "set-cookie").split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("careplan_login="), "{cookie}");
    let body = r.text().await.unwrap();
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    (cookie, csrf)
}

#[tokio::test]
async fn failed_authentication_is_slowed_then_locked_out_until_an_admin_clears_it() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.auth_throttle.max_failures = 5;
        s.auth_throttle.slowdown_after = 2;
        s.auth_throttle.lockout_secs = 600;
        let app = spawn_with(s).await;
        let (cm, _, _) = app.offices().await;
        let admin = app.client(Some(&app.admin_token().await));
        let attacker = app.http_from("127.0.0.2");
        let inbox = format!("{}/v1/inbox", app.url());
        let get = |token: String| attacker.get(&inbox).bearer_auth(token).send();

        // Five wrong tokens: 401 each, the later ones answered after a growing delay.
        let mut waits = Vec::new();
        for i in 0..5 {
            let started = Instant::now();
            let r = get(format!("cpr_wrong-{i}")).await.unwrap();
            assert_eq!(r.status(), 401, "failure {i}");
            waits.push(started.elapsed());
        }
        assert!(waits[4] >= Duration::from_millis(900), "{waits:?}");
        assert!(
            waits[4] > waits[2] && waits[2] >= Duration::from_millis(250),
            "{waits:?}"
        );

        // Locked: even the right token from that address gets 429 with Retry-After; another address is fine.
        let r = get(cm.clone()).await.unwrap();
        assert_eq!(r.status(), 429);
        let retry: u64 = header(&r, "retry-after").parse().unwrap();
        assert!((590..=600).contains(&retry), "{retry}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "throttled");
        assert!(!body["message_ja"].as_str().unwrap().is_empty());
        assert_status(&app.client(Some(&cm)).get("/v1/inbox").await.unwrap(), 200);

        // The admin sees the lockout; one event for the lockout, none per failure, never the tokens.
        let list = admin.get("/v1/admin/lockouts").await.unwrap();
        assert_status(&list, 200);
        let items = list.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["key"], "address:127.0.0.2");
        assert_eq!(items[0]["kind"], "address");
        assert_eq!(items[0]["failures"], 5);
        let events = app.events().await;
        let locked: Vec<_> = events.iter().filter(|(k, _)| k == "auth.locked_out").collect();
        assert_eq!(locked.len(), 1, "{locked:?}");
        assert_eq!(locked[0].1["key"], "address:127.0.0.2");
        assert!(!format!("{events:?}").contains("cpr_wrong") && !format!("{events:?}").contains(&cm));

        // The admin page's dashboard lists it too.
        let page = app.http_from("127.0.0.1");
        let session = crate::sessions::log_in(&page, &app, &app.admin_token().await).await;
        let dashboard = page
            .get(format!("{}/admin/", app.url()))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let table = dashboard
            .split("id=\"lockouts\"")
            .nth(1)
            .expect("a lockout table");
        assert!(table.contains("address:127.0.0.2"), "{table}");
        let csrf = crate::sessions::csrf_of(&dashboard);

        // A malformed key names no lockout, nor does an unlocked one: 404 both; the admin clears the lockout and
        // the token works.
        assert_status(
            &admin.delete("/v1/admin/lockouts/address:nope").await.unwrap(),
            404,
        );
        assert_status(
            &admin
                .delete("/v1/admin/lockouts/address:127.0.0.9")
                .await
                .unwrap(),
            404,
        );
        assert_status(
            &admin
                .delete("/v1/admin/lockouts/address:127.0.0.2")
                .await
                .unwrap(),
            204,
        );
        assert_eq!(get(cm.clone()).await.unwrap().status(), 200);
        assert!(
            admin.get("/v1/admin/lockouts").await.unwrap().json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let cleared: Vec<_> = app
            .events()
            .await
            .into_iter()
            .filter(|(k, _)| k == "auth.lockout_cleared")
            .collect();
        assert_eq!(cleared.len(), 1);
        assert_eq!(cleared[0].1["key"], "address:127.0.0.2");

        // The admin page login counts too: five wrong admin tokens, then even the right one gets 429.
        let browser = app.http_from("127.0.0.3");
        let admin_token = app.admin_token().await;
        let login = |token: String| {
            let browser = browser.clone();
            let url = format!("{}/admin/login", app.url());
            let app = &app;
            async move {
                let (cookie, csrf) = login_form(&browser, app).await;
                browser
                    .post(url)
                    .header("cookie", cookie)
                    .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
                    .send()
                    .await
                    .unwrap()
            }
        };
        for i in 0..5 {
            assert_eq!(
                login(format!("cpr_guess-{i}")).await.status(),
                401,
                "login failure {i}"
            );
        }
        let r = login(admin_token.clone()).await;
        assert_eq!(r.status(), 429);
        assert!(!header(&r, "retry-after").is_empty());
        assert!(
            header(&r, "set-cookie").is_empty() || !header(&r, "set-cookie").starts_with("careplan_admin=")
        );
        // Cleared from the dashboard's form this time.
        let r = page
            .post(format!("{}/admin/lockouts/clear", app.url()))
            .header("cookie", &session)
            .form(&[("csrf", csrf.as_str()), ("key", "address:127.0.0.3")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(login(admin_token).await.status(), 303);
        let cleared = app
            .events()
            .await
            .into_iter()
            .filter(|(k, _)| k == "auth.lockout_cleared")
            .count();
        assert_eq!(cleared, 2);

        app.stop().await;
        db.cleanup().await;
    }
}
