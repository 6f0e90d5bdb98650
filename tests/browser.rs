//! The admin web page (`/admin/`) as an admin uses it, on the real relay (SQLite, temporary data directory,
//! development TLS): over plain HTTPS (status codes, headers, the session cookie, escaping), and in headless
//! Chromium driven through chromedriver's W3C WebDriver API (login, dashboard, delivery log and its filters, a
//! set's history and receipt, the audit verification, logout).
//!
//! The browser test needs `/usr/bin/chromedriver` and `/usr/bin/chromium` (Debian: `apt-get install chromium
//! chromium-driver`). Without them it is skipped with a note, unless `CAREPLAN_RELAY_REQUIRE_BROWSER=1` (set by
//! `.ci/run`), which makes their absence a failure.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)]

mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use careplan_relay::app::App;
use careplan_relay::client::{Client, ClientOptions};
use careplan_relay::config::Settings;
use careplan_relay::domain::{Office, OfficeKind};
use careplan_relay::generate::{GenFile, Scenario, unit_files};
use careplan_relay::relay;
use careplan_relay::spec::{Generation, Spec};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const CARE_MANAGER: &str = "1310000001";
const PROVIDER: &str = "1310000002";
/// A name that must be escaped wherever it is shown.
const PROVIDER_NAME: &str = "訪問介護B <b>\"&'";
const ACKED: &str = "20250328101500";
const QUEUED: &str = "20250328111500";
const REJECTED: &str = "20250328121500";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The running relay with two offices, an acknowledged set, a set still queued (flagged at once: the flag time
/// is 0 days), a rejected set, and an admin token.
struct Relay {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    _db: support::db::TestDb,
    admin: String,
    office_token: String,
    shutdown: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start() -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let db = support::db::sqlite();
    let mut settings = Settings::load(dir.path(), None).unwrap();
    settings.server.listen = "127.0.0.1:0".into();
    settings.database.url = Some(db.url.clone());
    settings.retention.flag_unacknowledged_days = 0;
    let app = App::build(settings).await.expect("app builds");
    let addr = app.local_addr().unwrap();
    let store = app.relay().store.clone();
    let (shutdown, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    for (number, name, kind, service) in [
        (CARE_MANAGER, "居宅介護支援A", OfficeKind::CareManager, "43"),
        (PROVIDER, PROVIDER_NAME, OfficeKind::Provider, "11"),
    ] {
        let office = Office {
            number: number.into(),
            name: name.into(),
            kind,
            service_types: vec![service.into()],
            enabled: true,
        };
        relay::add_office(&store, &office, "test").await.unwrap();
    }
    let token = |office: Option<&'static str>| {
        let store = store.clone();
        async move {
            let t = relay::issue_token(&store, office, "test").await.unwrap();
            t.token.expose_secret().to_string()
        }
    };
    let (cm, prov, admin) = (
        token(Some(CARE_MANAGER)).await,
        token(Some(PROVIDER)).await,
        token(None).await,
    );
    let client = |t: &str| {
        Client::new(&ClientOptions {
            url: format!("https://127.0.0.1:{}", addr.port()),
            token: Some(t.to_string().into()),
            cacert: Some(dir.path().join("tls/ca.pem")),
            ..Default::default()
        })
        .unwrap()
    };
    // Two valid sets, the first downloaded and acknowledged; an invalid set under a third sequence (422, logged).
    let spec = Spec::get().unwrap();
    let unit = spec.units.iter().find(|u| u.name == "schedule").unwrap();
    for sequence in [ACKED, QUEUED] {
        let mut scenario = Scenario::small(Generation::V4);
        scenario.sequence = sequence.into();
        let valid: Vec<(String, Vec<u8>)> = unit_files(spec, unit, &scenario)
            .into_iter()
            .map(|GenFile { name, bytes }| (name, bytes))
            .collect();
        assert_eq!(client(&cm).send(valid).await.unwrap().status, 201);
    }
    let mut invalid = invalid_set();
    invalid
        .iter_mut()
        .for_each(|f| f.0 = f.0.replace("20250328101500", REJECTED));
    assert_eq!(client(&cm).send(invalid).await.unwrap().status, 422);
    let recipient = client(&prov);
    let inbox = recipient.get("/v1/inbox").await.unwrap();
    let items = inbox.json["items"].as_array().unwrap();
    let first = items.iter().find(|i| i["sequence"] == ACKED).unwrap();
    let id = first["delivery_id"].as_str().unwrap().to_string();
    recipient.fetch(&id, &dir.path().join("inbox")).await.unwrap();
    assert_eq!(
        recipient
            .post(&format!("/v1/inbox/{id}/ack"))
            .await
            .unwrap()
            .status,
        200
    );
    Relay {
        addr,
        dir,
        _db: db,
        admin,
        office_token: cm,
        shutdown,
        handle,
    }
}

/// The committed fixture whose 性別 item holds the undefined code 3.
fn invalid_set() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invalid/E_CODE-sex_3");
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

impl Relay {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// An HTTPS client trusting the relay's CA that does not follow redirects.
    fn http(&self) -> reqwest::Client {
        let pem = std::fs::read(self.dir.path().join("tls/ca.pem")).unwrap();
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        self.handle.await.unwrap().unwrap();
    }
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn admin_page_over_https() {
    let relay = start().await;
    let http = relay.http();
    let get = |path: &str, cookie: Option<&str>| {
        let r = http.get(relay.url(path));
        match cookie {
            Some(c) => r.header("cookie", c),
            None => r,
        }
        .send()
    };

    // Signed out: the login form, and every inner page sends you there.
    let r = get("/admin/", None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("name=\"token\" type=\"password\"")
    );
    for path in ["/admin/deliveries", "/admin/deliveries/x", "/admin/audit/verify"] {
        let r = get(path, None).await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(header(&r, "location"), "/admin/");
        assert_eq!(header(&r, "cache-control"), "no-store");
        let r = get(path, Some(&format!("careplan_admin={}", relay.office_token)))
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "an office token is no admin session: {path}");
    }

    // Wrong tokens (unknown, or an office's) re-show the form with 401 and set no cookie.
    for token in ["cpr_wrong", relay.office_token.as_str()] {
        let r = http
            .post(relay.url("/admin/login"))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers().get("set-cookie").is_none());
        assert!(r.text().await.unwrap().contains("id=\"login-error\""));
    }

    // The admin token: a 303 to the dashboard and the session cookie.
    let r = http
        .post(relay.url("/admin/login"))
        .form(&[("token", &relay.admin)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(header(&r, "location"), "/admin/");
    let set = header(&r, "set-cookie").to_string();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    assert_eq!(cookie, format!("careplan_admin={}", relay.admin));

    // The dashboard escapes what it shows.
    let r = get("/admin/", Some(&cookie)).await.unwrap();
    assert_eq!(header(&r, "cache-control"), "no-store");
    let body = r.text().await.unwrap();
    assert!(body.contains(CARE_MANAGER) && body.contains(PROVIDER));
    assert!(body.contains("訪問介護B &lt;b&gt;&quot;&amp;&#39;") && !body.contains("<b>\""));
    assert!(body.contains("action=\"/admin/logout\""));
    let flagged = body.split("id=\"flagged\"").nth(1).unwrap();
    assert!(flagged.contains(QUEUED) && !flagged.contains(ACKED), "{flagged}");

    // The log pages, a bad filter (400), an unknown set (404).
    let r = get("/admin/deliveries?limit=1", Some(&cookie)).await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let next = body
        .split("id=\"next\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let next = next.replace("&amp;", "&");
    assert!(next.starts_with("/admin/deliveries?limit=1&after="), "{next}");
    let rest = get(&next, Some(&cookie)).await.unwrap().text().await.unwrap();
    // Newest first: the rejection, then the queued set.
    assert!(body.contains(REJECTED) && !body.contains(QUEUED));
    assert!(rest.contains(QUEUED) && !rest.contains(REJECTED));
    assert_eq!(
        get("/admin/deliveries?status=lost", Some(&cookie))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        get("/admin/deliveries?from=yesterday", Some(&cookie))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        get("/admin/deliveries/nope", Some(&cookie))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        get("/admin/audit/verify", Some(&cookie)).await.unwrap().status(),
        200
    );

    // Logout clears the cookie.
    let r = http.post(relay.url("/admin/logout")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(header(&r, "set-cookie").starts_with("careplan_admin=;"));
    assert!(header(&r, "set-cookie").contains("Max-Age=0"));
    relay.stop().await;
}

/// chromedriver and its session: dropping it (also on panic) ends the session, which closes Chromium, and then
/// kills chromedriver. (Only these two processes, by their ids: no process-group or name-based kill.)
struct Chromedriver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
    session: Option<String>,
}

impl Chromedriver {
    /// Starts chromedriver, or `None` (with a note) when it is not installed and not required.
    fn start() -> Option<Chromedriver> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            if std::env::var("CAREPLAN_RELAY_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("{CHROMEDRIVER} is required (CAREPLAN_RELAY_REQUIRE_BROWSER=1) but missing");
            }
            eprintln!(
                "note: {CHROMEDRIVER} is missing; skipping the browser test (apt-get install chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Some(Chromedriver {
            child,
            port,
            profile: tempfile::tempdir().unwrap(),
            session: None,
        })
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // A blocking `DELETE /session/{id}` (Drop cannot await): chromedriver closes the browser it started.
        if let Some(id) = self.session.take() {
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                let request = format!(
                    "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
                     Connection: close\r\n\r\n",
                    self.port
                );
                let _ = stream.write_all(request.as_bytes());
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A W3C WebDriver session.
struct Browser {
    http: reqwest::Client,
    base: String,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    async fn open(driver: &mut Chromedriver) -> Browser {
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{}", driver.port);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{root}/status")).send().await;
            if let Ok(r) = ready {
                if r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true) {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = driver.profile.path().display().to_string();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", format!("--user-data-dir={profile}")],
            },
        }}});
        let r: Value = http
            .post(format!("{root}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"));
        driver.session = Some(id.to_string());
        Browser {
            base: format!("{root}/session/{id}"),
            http,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let v: Value = r.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Every element matching a CSS selector, now.
    async fn all(&self, css: &str) -> Vec<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching a CSS selector, waiting up to 15 s for it to appear.
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(e) = self.all(css).await.into_iter().next() {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.element_text(&e).await
    }

    async fn element_text(&self, e: &str) -> String {
        let v = self
            .call(reqwest::Method::GET, &format!("/element/{e}/text"), None)
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    async fn attribute(&self, css: &str, name: &str) -> String {
        let e = self.find(css).await;
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{e}/attribute/{name}"),
                None,
            )
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }
}

#[tokio::test]
async fn admin_page_in_a_browser() {
    let Some(mut driver) = Chromedriver::start() else {
        return;
    };
    let relay = start().await;
    let b = Browser::open(&mut driver).await;

    // The login form; a wrong token is refused.
    b.goto(&relay.url("/admin/")).await;
    assert_eq!(b.attribute("input[name=token]", "type").await, "password");
    b.type_into("input[name=token]", "cpr_wrong").await;
    b.click("form.login button").await;
    assert!(b.text("#login-error").await.contains("not a valid admin token"));

    // The admin token: the dashboard lists both offices (names as written, not as markup).
    b.type_into("input[name=token]", &relay.admin).await;
    b.click("form.login button").await;
    let offices = b.text("#offices").await;
    assert!(
        offices.contains(CARE_MANAGER) && offices.contains("居宅介護支援A"),
        "{offices}"
    );
    assert!(
        offices.contains(PROVIDER) && offices.contains(PROVIDER_NAME),
        "{offices}"
    );
    assert!(b.url().await.ends_with("/admin/"));
    let flagged = b.text("#flagged").await;
    assert!(flagged.contains(QUEUED) && !flagged.contains(ACKED), "{flagged}");

    // The delivery log: everything, then only acknowledged sets.
    b.click("#log-link").await;
    b.find("#log").await;
    let everything = b.text("#log").await;
    for expected in [ACKED, QUEUED, REJECTED, "E_CODE", "rejected", "queued"] {
        assert!(everything.contains(expected), "{expected}: {everything}");
    }
    b.click("select[name=status] option[value=acknowledged]").await;
    b.click("#filters button").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !b.url().await.contains("status=acknowledged") {
        assert!(Instant::now() < deadline, "the filter form was not submitted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.find("#log").await;
    let rows = b.all("#log tbody tr").await;
    assert_eq!(rows.len(), 1);
    let row = b.element_text(&rows[0]).await;
    assert!(
        row.contains(ACKED) && row.contains("acknowledged") && !row.contains(REJECTED),
        "{row}"
    );

    // The set's history: its status, files, events and signed receipt.
    b.click("#log tbody tr a").await;
    let receipt = b.text("#receipt").await;
    assert!(receipt.contains("careplan-relay receipt") && receipt.contains("\"status\": \"acknowledged\""));
    assert!(!b.text("#signature").await.is_empty());
    let events = b.text("#events").await;
    for kind in ["submission.accepted", "delivery.queued", "delivery.acknowledged"] {
        assert!(events.contains(kind), "{events}");
    }
    assert_eq!(b.all("#files tbody tr").await.len(), 3);

    // The audit trail verifies, and logging out ends the session.
    b.goto(&relay.url("/admin/")).await;
    b.click("#verify").await;
    assert!(b.text("#verdict").await.contains("intact"));
    b.click("header form button").await;
    b.find("input[name=token]").await;
    b.goto(&relay.url("/admin/deliveries")).await;
    b.find("input[name=token]").await;

    drop(driver); // ends the session (Chromium exits) and stops chromedriver
    relay.stop().await;
}
