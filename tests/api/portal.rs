//! The office portal (`/office/`) over HTTPS on both databases: login (right, wrong, locked, CSRF), the forced
//! change of an admin-set password, logout that ends the session, sending (a bad set reported and nothing
//! stored, good sets sent one set at a time), the recipient's inbox newest first, the ZIP with the original
//! bytes, acknowledgement after download, the outbox and receipts, and another office refused everything.

use std::io::Read;

use careplan_relay::relay::{Receipt, ReceiptKeys, verify_receipt};
use secrecy::ExposeSecret;

use crate::helpers::*;
use crate::sessions::csrf_of;
use crate::support::db::backends;

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

const LOGIN_FIELD: &str = "name=\"login\"";

/// The portal as one browser: a client from one source address.
struct Portal<'a> {
    http: reqwest::Client,
    app: &'a TestApp,
}

impl<'a> Portal<'a> {
    fn new(app: &'a TestApp, source: &str) -> Portal<'a> {
        Portal {
            http: app.http_from(source),
            app,
        }
    }

    /// A browser presenting a client certificate of `office` (issued by the relay's development CA).
    fn with_certificate(app: &'a TestApp, office: &str) -> Portal<'a> {
        let tls = app.data_dir.join("tls");
        let out = app.data_dir.join(format!("browser-cert-{office}"));
        let (cert, key) =
            careplan_relay::tls::issue_client_cert(&tls.join("ca.pem"), &tls.join("ca.key"), office, &out)
                .expect("client certificate");
        let mut pem = std::fs::read(cert).unwrap();
        pem.extend(std::fs::read(key).unwrap());
        let ca = std::fs::read(app.ca()).unwrap();
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .identity(reqwest::Identity::from_pem(&pem).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Portal { http, app }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url())
    }

    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts the login form with its double-submit token.
    async fn log_in(&self, login: &str, password: &str) -> reqwest::Response {
        let r = self.get("/office/", "").await;
        let cookie = set_cookie(&r, "careplan_office_login").expect("login cookie");
        assert!(cookie.contains("Path=/office/login"), "{cookie}");
        let cookie = cookie.split(';').next().unwrap().to_string();
        let csrf = csrf_of(&r.text().await.unwrap());
        self.post(
            "/office/login",
            &cookie,
            &[("login", login), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// A new user of `office` signed in with a password of their own: (session cookie, CSRF token).
    async fn signed_in(&self, office: &str, login: &str) -> (String, String) {
        let first = self.app.relay.add_user(office, login, "test").await.unwrap();
        let r = self.log_in(login, first.expose_secret()).await;
        assert_eq!(r.status(), 303);
        let cookie = set_cookie(&r, "careplan_office").unwrap();
        let cookie = cookie.split(';').next().unwrap().to_string();
        let page = self.get("/office/password", &cookie).await.text().await.unwrap();
        let csrf = csrf_of(&page);
        let new = format!("{login} own password");
        let r = self
            .post(
                "/office/password",
                &cookie,
                &[
                    ("current", first.expose_secret()),
                    ("new", &new),
                    ("confirm", &new),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        (cookie, csrf)
    }

    /// Sends files through the send form: (status, page).
    async fn send(&self, cookie: &str, csrf: &str, files: &[(String, Vec<u8>)]) -> (u16, String) {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone()),
            );
        }
        let r = self
            .http
            .post(self.url(&format!("/office/send?csrf={csrf}")))
            .header("cookie", cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// The value of the first `href="{prefix}…"` after `marker` in `page`.
fn link_after(page: &str, marker: &str, prefix: &str) -> String {
    let rest = page
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("{marker} in {page}"));
    let href = format!("href=\"{prefix}");
    let rest = rest
        .split(&href)
        .nth(1)
        .unwrap_or_else(|| panic!("{href} after {marker}"));
    rest.split(['"', '/']).next().unwrap().to_string()
}

#[tokio::test]
async fn portal_login_forced_change_lockout_and_logout() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.auth_throttle.max_failures = 4;
        s.auth_throttle.slowdown_after = 10;
        let app = spawn_with(s).await;
        app.offices().await;
        let p = Portal::new(&app, "127.0.0.1");
        let first = app.relay.add_user(PROVIDER, "kato", "test").await.unwrap();
        let first = first.expose_secret();

        // Signed out: the login form with the portal's headers; inner pages send you there.
        let r = p.get("/office/", "").await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "cache-control"), "no-store");
        assert!(header(&r, "content-security-policy").contains("default-src 'none'"));
        assert!(r.text().await.unwrap().contains(LOGIN_FIELD));
        for path in [
            "/office/outbox",
            "/office/send",
            "/office/inbox/x",
            "/office/password",
        ] {
            let r = p.get(path, "").await;
            assert_eq!(
                (r.status().as_u16(), header(&r, "location")),
                (303, "/office/"),
                "{path}"
            );
        }

        // Without the double-submit token: 403. A wrong password: 401 and no session.
        let r = p
            .post("/office/login", "", &[("login", "kato"), ("password", first)])
            .await;
        assert_eq!(r.status(), 403);
        let r = p.log_in("kato", "not the password").await;
        assert_eq!(r.status(), 401);
        assert!(set_cookie(&r, "careplan_office").is_none());
        assert!(r.text().await.unwrap().contains("wrong login ID or password"));
        let r = p.log_in("nobody", first).await;
        assert_eq!(r.status(), 401);

        // The right password: a session cookie holding an opaque id, then the forced password change.
        let r = p.log_in("kato", first).await;
        assert_eq!(r.status(), 303);
        let set = set_cookie(&r, "careplan_office").unwrap();
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/office"] {
            assert!(set.contains(part), "{set}");
        }
        assert!(!set.contains(first));
        let cookie = set.split(';').next().unwrap().to_string();
        let r = p.get("/office/", &cookie).await;
        assert_eq!(
            (r.status().as_u16(), header(&r, "location")),
            (303, "/office/password")
        );
        let r = p.get("/office/outbox", &cookie).await;
        assert_eq!(header(&r, "location"), "/office/password");
        let page = p.get("/office/password", &cookie).await.text().await.unwrap();
        assert!(page.contains("id=\"must-change\""), "{page}");
        let csrf = csrf_of(&page);
        let change = |current: &str, new: &str, confirm: &str, csrf: &str| {
            let (current, new, confirm, csrf) = (
                current.to_string(),
                new.to_string(),
                confirm.to_string(),
                csrf.to_string(),
            );
            let (p, cookie) = (&p, cookie.clone());
            async move {
                p.post(
                    "/office/password",
                    &cookie,
                    &[
                        ("current", &current),
                        ("new", &new),
                        ("confirm", &confirm),
                        ("csrf", &csrf),
                    ],
                )
                .await
            }
        };
        let mine = "kato's own passphrase";
        assert_eq!(change(first, mine, mine, "forged").await.status(), 403);
        assert_eq!(change(first, mine, "different", &csrf).await.status(), 400);
        assert_eq!(change(first, "short", "short", &csrf).await.status(), 400);
        assert_eq!(change("wrong", mine, mine, &csrf).await.status(), 400);
        let r = change(first, mine, mine, &csrf).await;
        assert_eq!((r.status().as_u16(), header(&r, "location")), (303, "/office/"));
        let page = p.get("/office/", &cookie).await.text().await.unwrap();
        assert!(
            page.contains("受信箱 Inbox") && page.contains("http-equiv=\"refresh\""),
            "{page}"
        );
        assert_eq!(
            p.log_in("kato", first).await.status(),
            401,
            "the initial password is gone"
        );

        // Logout needs the CSRF token, then the old cookie is refused.
        assert_eq!(
            p.post("/office/logout", &cookie, &[("csrf", "x")]).await.status(),
            403
        );
        let r = p.post("/office/logout", &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), 303);
        assert!(set_cookie(&r, "careplan_office").unwrap().contains("Max-Age=0"));
        assert!(
            p.get("/office/", &cookie)
                .await
                .text()
                .await
                .unwrap()
                .contains(LOGIN_FIELD)
        );
        assert_eq!(p.get("/office/outbox", &cookie).await.status(), 303);

        // Four wrong passwords since the last login (the initial password above, then three from three
        // addresses) lock the user: even the right one gets 429, from anywhere, until an admin unlocks it.
        for n in 10..13 {
            let r = Portal::new(&app, &format!("127.0.0.{n}"))
                .log_in("kato", "wrong")
                .await;
            assert_eq!(r.status(), 401);
        }
        let other = Portal::new(&app, "127.0.0.20");
        let r = other.log_in("kato", mine).await;
        assert_eq!(r.status(), 429);
        assert!(!header(&r, "retry-after").is_empty());
        assert!(r.text().await.unwrap().contains("locked"));
        app.relay.unlock_user("kato", None, "test").await.unwrap();
        let r = other.log_in("kato", mine).await;
        assert_eq!(r.status(), 303);
        let cookie = set_cookie(&r, "careplan_office")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(other.get("/office/outbox", &cookie).await.status(), 200);

        // Disabling the user ends the session.
        app.relay.disable_user("kato", None, "test").await.unwrap();
        assert_eq!(other.get("/office/outbox", &cookie).await.status(), 303);
        assert_eq!(other.log_in("kato", mine).await.status(), 401);

        let kinds: Vec<String> = app.events().await.into_iter().map(|e| e.0).collect();
        for k in [
            "user.added",
            "user.session_started",
            "user.password_changed",
            "user.session_ended",
            "user.locked_out",
            "user.unlocked",
            "user.disabled",
        ] {
            assert!(kinds.iter().any(|e| e == k), "{k}: {kinds:?}");
        }
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn portal_send_inbox_zip_acknowledge_receipt_and_isolation() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        app.offices().await;
        let p = Portal::new(&app, "127.0.0.1");
        let (cm, cm_csrf) = p.signed_in(CARE_MANAGER, "cm-user").await;
        let (prov, prov_csrf) = p.signed_in(PROVIDER, "prov-user").await;
        let (other, other_csrf) = p.signed_in(OTHER, "other-user").await;

        // A bad set: the report (file, record, item, Japanese name, code), and nothing stored.
        let bad = fixture_set("invalid/E_CODE-sex_3");
        let (status, page) = p.send(&cm, &cm_csrf, &bad).await;
        assert_eq!(status, 422, "{page}");
        for expected in [
            "E_CODE",
            "不適合",
            "性別",
            bad[0].0.as_str(),
            "nothing was stored",
        ] {
            assert!(page.contains(expected), "{expected}: {page}");
        }
        assert!(!page.contains("class=\"submission-id\""));
        let counts = app.store.row_counts().await.unwrap();
        assert_eq!(
            (counts.submissions, counts.deliveries, counts.rejections),
            (0, 0, 0)
        );

        // Two good sets in one upload: grouped by sequence, each sent.
        let (older, newer) = ("20250328101500", "20250328111500");
        let mut both = schedule(older);
        both.extend(schedule(newer));
        let (status, page) = p.send(&cm, &cm_csrf, &both).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("2 セット中 2"), "{page}");
        assert_eq!(page.matches("class=\"submission-id\"").count(), 2);
        assert_eq!(app.store.row_counts().await.unwrap().submissions, 2);

        // The recipient's inbox: newest first, the sender's name, Japanese kind names and the month.
        let inbox = p.get("/office/", &prov).await.text().await.unwrap();
        let (a, b) = (
            inbox.find(newer).unwrap_or_else(|| panic!("{inbox}")),
            inbox.find(older).unwrap(),
        );
        assert!(a < b, "newest first");
        for expected in ["事業所 1310000001", "利用者補足情報", "2025年04月", "未取得"] {
            assert!(inbox.contains(expected), "{expected}: {inbox}");
        }
        let id = link_after(&inbox, &format!("data-sequence=\"{older}\""), "/office/inbox/");
        let detail = p
            .get(&format!("/office/inbox/{id}"), &prov)
            .await
            .text()
            .await
            .unwrap();
        assert!(detail.contains("id=\"ack-hint\"") && !detail.contains("id=\"ack\""));
        let r = p
            .post(&format!("/office/inbox/{id}/ack"), &prov, &[("csrf", &prov_csrf)])
            .await;
        assert_eq!(r.status(), 409, "acknowledged only once downloaded");

        // Another office, and the sender itself, get 404 for the delivery and see none of it.
        for (cookie, csrf) in [(&other, &other_csrf), (&cm, &cm_csrf)] {
            for path in [
                format!("/office/inbox/{id}"),
                format!("/office/inbox/{id}/zip"),
                format!("/office/inbox/{id}/files/{}", both[0].0),
            ] {
                let r = p.get(&path, cookie).await;
                assert_eq!(r.status(), 404, "{path}");
                let body = r.text().await.unwrap();
                assert!(!body.contains(older) && !body.contains(&both[0].0), "{body}");
            }
            let r = p
                .post(&format!("/office/inbox/{id}/ack"), cookie, &[("csrf", csrf)])
                .await;
            assert_eq!(r.status(), 404);
        }
        let other_inbox = p.get("/office/?all=1", &other).await.text().await.unwrap();
        assert!(!other_inbox.contains(older) && other_inbox.contains("id=\"empty\""));

        // The whole set as a ZIP: the spec's names and the original bytes.
        let r = p.get(&format!("/office/inbox/{id}/zip"), &prov).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type"), "application/zip");
        assert!(header(&r, "content-disposition").contains(&format!("{older}.zip")));
        let zip = r.bytes().await.unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
        assert_eq!(archive.len(), 3);
        for (name, bytes) in schedule(older) {
            let mut back = Vec::new();
            archive.by_name(&name).unwrap().read_to_end(&mut back).unwrap();
            assert!(back == bytes, "{name} differs");
        }
        let (name, bytes) = &schedule(older)[1];
        let r = p.get(&format!("/office/inbox/{id}/files/{name}"), &prov).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());

        // Downloaded, then acknowledged (the CSRF token is needed).
        let detail = p
            .get(&format!("/office/inbox/{id}"), &prov)
            .await
            .text()
            .await
            .unwrap();
        assert!(detail.contains("id=\"ack\""), "{detail}");
        let ack = format!("/office/inbox/{id}/ack");
        assert_eq!(p.post(&ack, &prov, &[("csrf", "forged")]).await.status(), 403);
        let r = p.post(&ack, &prov, &[("csrf", &prov_csrf)]).await;
        assert_eq!(
            (r.status().as_u16(), header(&r, "location")),
            (303, format!("/office/inbox/{id}").as_str())
        );
        let detail = p
            .get(&format!("/office/inbox/{id}"), &prov)
            .await
            .text()
            .await
            .unwrap();
        assert!(detail.contains("受領確認済"), "{detail}");
        let pending = p.get("/office/", &prov).await.text().await.unwrap();
        assert!(!pending.contains(older) && pending.contains(newer));

        // The sender's outbox and the receipt: a printable page and signed JSON that verifies.
        let outbox = p.get("/office/outbox", &cm).await.text().await.unwrap();
        assert!(
            outbox.contains("受領確認済") && outbox.contains("未取得"),
            "{outbox}"
        );
        let submission = link_after(
            &outbox,
            &format!("data-sequence=\"{older}\""),
            "/office/receipts/",
        );
        let page = p
            .get(&format!("/office/receipts/{submission}"), &cm)
            .await
            .text()
            .await
            .unwrap();
        for expected in [
            "What was signed",
            "careplan-relay receipt",
            "receipt verify",
            "JST",
            "acknowledged",
        ] {
            assert!(page.contains(expected), "{expected}: {page}");
        }
        let r = p.get(&format!("/office/receipts/{submission}/json"), &cm).await;
        assert_eq!(r.status(), 200);
        let receipt: Receipt = r.json().await.unwrap();
        let keys = ReceiptKeys::load_or_create(&app.data_dir.join("keys")).unwrap();
        let payload = verify_receipt(&receipt, &keys.public_keys()).unwrap();
        assert_eq!(payload["status"], "acknowledged");
        assert_eq!(payload["sequence"], older);
        let r = p.get(&format!("/office/receipts/{submission}"), &other).await;
        assert_eq!(r.status(), 404);
        assert_eq!(
            p.get(&format!("/office/receipts/{submission}/json"), &other)
                .await
                .status(),
            404
        );

        let kinds: Vec<String> = app.events().await.into_iter().map(|e| e.0).collect();
        for k in [
            "submission.accepted",
            "delivery.downloaded",
            "delivery.acknowledged",
        ] {
            assert!(kinds.iter().any(|e| e == k), "{k}");
        }
        assert!(
            !kinds.iter().any(|e| e == "submission.rejected"),
            "the bad set was only checked"
        );
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_office_may_require_its_client_certificate_at_login() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        app.offices().await;
        app.relay
            .set_login_certificate(PROVIDER, true, "test", None)
            .await
            .unwrap();
        let password = app.relay.add_user(PROVIDER, "houmon-cert", "test").await.unwrap();
        let password = password.expose_secret();

        // The right password without the office's certificate, or with another office's: 403, no session.
        for portal in [
            Portal::new(&app, "127.0.0.1"),
            Portal::with_certificate(&app, OTHER),
        ] {
            let r = portal.log_in("houmon-cert", password).await;
            assert_eq!(r.status(), 403, "{}", db.backend);
            assert!(set_cookie(&r, "careplan_office").is_none());
            let page = r.text().await.unwrap();
            assert!(
                page.contains("client certificate") && page.contains("クライアント証明書"),
                "{page}"
            );
        }
        // With the office's certificate: a session.
        let r = Portal::with_certificate(&app, PROVIDER)
            .log_in("houmon-cert", password)
            .await;
        assert_eq!(r.status(), 303, "{}", db.backend);
        assert!(set_cookie(&r, "careplan_office").is_some());
        // Not required any more (through the admin API): the password alone.
        let admin = app.client(Some(&app.admin_token().await));
        let patched = admin
            .patch_json(
                &format!("/v1/admin/offices/{PROVIDER}"),
                serde_json::json!({"login_certificate": false}),
            )
            .await
            .unwrap();
        assert_eq!(patched.status, 200, "{}", patched.json);
        let r = Portal::new(&app, "127.0.0.1")
            .log_in("houmon-cert", password)
            .await;
        assert_eq!(r.status(), 303, "{}", db.backend);
        let events = app.events().await;
        assert!(
            events
                .iter()
                .any(|(k, d)| k == "office.login_certificate" && d["required"] == true)
        );
        app.stop().await;
        db.cleanup().await;
    }
}
