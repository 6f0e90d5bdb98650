//! The admin page's sessions: an opaque id (not the token), logout and token revocation end them on the server,
//! they expire, and every form needs its CSRF token.

use std::time::Duration;

use crate::helpers::*;
use crate::lockout::login_form;
use crate::support::db::backends;

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Logs in through the form; the session cookie (`careplan_admin=…`).
pub async fn log_in(http: &reqwest::Client, app: &TestApp, token: &str) -> String {
    let (cookie, csrf) = login_form(http, app).await;
    let r = http
        .post(format!("{}/admin/login", app.url()))
        .header("cookie", cookie)
        .form(&[("token", token), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    set_cookie(&r, "careplan_admin").expect("session cookie")
}

/// GET `path` with `cookie`: (status, body).
async fn get(http: &reqwest::Client, app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let r = http
        .get(format!("{}{path}", app.url()))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("a CSRF field")
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

const LOGIN_FIELD: &str = "name=\"token\" type=\"password\"";

#[tokio::test]
async fn sessions_are_opaque_end_on_logout_and_need_csrf() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let token = app.admin_token().await;
        let http = app.http_from("127.0.0.1");
        let post = |path: &str, cookie: &str, form: &[(&str, &str)]| {
            http.post(format!("{}{path}", app.url()))
                .header("cookie", cookie)
                .form(form)
                .send()
        };

        // A login form posted without its double-submit token: 403, no session.
        let r = post("/admin/login", "", &[("token", &token)]).await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(set_cookie(&r, "careplan_admin").is_none());
        let (cookie, _) = login_form(&http, &app).await;
        let r = post("/admin/login", &cookie, &[("token", &token), ("csrf", "forged")])
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // The session cookie is an opaque id, not the token; the token in the cookie is no session.
        let session = log_in(&http, &app, &token).await;
        let id = session.strip_prefix("careplan_admin=").unwrap();
        assert_eq!(id.len(), 43);
        assert!(!id.contains(&token) && !token.contains(id));
        let (status, body) = get(&http, &app, "/admin/", &format!("careplan_admin={token}")).await;
        assert_eq!(status, 200);
        assert!(body.contains(LOGIN_FIELD), "the token is not a session");
        let (status, dashboard) = get(&http, &app, "/admin/", &session).await;
        assert_eq!(status, 200);
        assert!(dashboard.contains("action=\"/admin/logout\"") && !dashboard.contains(LOGIN_FIELD));
        let csrf = csrf_of(&dashboard);

        // The session reads the admin API but cannot change anything there (a bearer token is needed).
        assert_eq!(get(&http, &app, "/v1/admin/offices", &session).await.0, 200);
        let r = http
            .post(format!("{}/v1/admin/offices", app.url()))
            .header("cookie", &session)
            .json(&serde_json::json!({"number": "1310000009", "name": "x", "kind": "provider", "service_types": ["15"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // Page POSTs without the CSRF token: 403, and the session lives on.
        for (path, form) in [
            ("/admin/logout", vec![]),
            ("/admin/logout", vec![("csrf", "forged")]),
            ("/admin/lockouts/clear", vec![("key", "address:127.0.0.9")]),
        ] {
            let r = post(path, &session, &form).await.unwrap();
            assert_eq!(r.status(), 403, "{path} {form:?}");
            let body = r.text().await.unwrap();
            assert!(body.contains("CSRF") && body.contains("確認用トークン"), "{body}");
        }
        assert!(
            !get(&http, &app, "/admin/", &session)
                .await
                .1
                .contains(LOGIN_FIELD)
        );

        // Logout ends the session on the server: the old cookie gets the login page, 303 and 401.
        let r = post("/admin/logout", &session, &[("csrf", &csrf)]).await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(
            get(&http, &app, "/admin/", &session)
                .await
                .1
                .contains(LOGIN_FIELD)
        );
        assert_eq!(get(&http, &app, "/admin/deliveries", &session).await.0, 303);
        assert_eq!(get(&http, &app, "/v1/admin/offices", &session).await.0, 401);
        let kinds: Vec<String> = app.events().await.into_iter().map(|e| e.0).collect();
        assert!(kinds.contains(&"admin.session_started".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"admin.session_ended".to_string()), "{kinds:?}");
        assert!(
            !format!("{:?}", app.events().await).contains(id),
            "the session id is never recorded"
        );

        // Revoking the admin token ends its sessions.
        let t = app.relay.issue_token(None, "test").await.unwrap();
        let secret = secrecy::ExposeSecret::expose_secret(&t.token).to_string();
        let session = log_in(&http, &app, &secret).await;
        assert!(
            !get(&http, &app, "/admin/", &session)
                .await
                .1
                .contains(LOGIN_FIELD)
        );
        app.relay.revoke_token(&t.id, "test").await.unwrap();
        assert!(
            get(&http, &app, "/admin/", &session)
                .await
                .1
                .contains(LOGIN_FIELD)
        );
        app.stop().await;

        // An expired session is refused.
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.admin_page.session_secs = 1;
        let app = spawn_with(s).await;
        let token = app.admin_token().await;
        let http = app.http_from("127.0.0.1");
        let session = log_in(&http, &app, &token).await;
        assert!(
            !get(&http, &app, "/admin/", &session)
                .await
                .1
                .contains(LOGIN_FIELD)
        );
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert!(
            get(&http, &app, "/admin/", &session)
                .await
                .1
                .contains(LOGIN_FIELD)
        );
        assert_eq!(get(&http, &app, "/v1/admin/offices", &session).await.0, 401);
        app.stop().await;
        db.cleanup().await;
    }
}
