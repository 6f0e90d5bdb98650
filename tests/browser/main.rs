//! The admin web page (`/admin/`) as an admin uses it, on the real relay (SQLite, temporary data directory,
//! development TLS): over plain HTTPS (status codes, headers, the session cookie, escaping), and in headless
//! Chromium driven through chromedriver's W3C WebDriver API (login, dashboard, delivery log and its filters, a
//! set's history and receipt, the audit verification, logout); and the office portal (`portal`).
//!
//! The browser test needs `/usr/bin/chromedriver` and `/usr/bin/chromium` (Debian: `apt-get install chromium
//! chromium-driver`). Without them it is skipped with a note, unless `CAREPLAN_RELAY_REQUIRE_BROWSER=1` (set by
//! `.ci/run`), which makes their absence a failure.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)]

#[path = "../support/mod.rs"]
mod support;

mod actions;
mod portal;
mod setup;
mod webdriver;

use std::time::{Duration, Instant};

use setup::{ACKED, CARE_MANAGER, PROVIDER, PROVIDER_NAME, QUEUED, REJECTED, start};
use webdriver::{Browser, Chromedriver};

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

    // The login form carries a double-submit CSRF token (cookie and hidden field); a post without it is a 403.
    let login_form = || async {
        let r = get("/admin/", None).await.unwrap();
        let set = header(&r, "set-cookie").to_string();
        assert!(
            set.starts_with("careplan_login=") && set.contains("Path=/admin/login"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_string();
        let body = r.text().await.unwrap();
        let csrf = body.split("name=\"csrf\" value=\"").nth(1).unwrap();
        (cookie, csrf.split('"').next().unwrap().to_string())
    };
    let (http_ref, relay_ref, login_form) = (&http, &relay, &login_form);
    let login = |token: String| async move {
        let (http, relay) = (http_ref, relay_ref);
        let (cookie, csrf) = login_form().await;
        http.post(relay.url("/admin/login"))
            .header("cookie", cookie)
            .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap()
    };
    let r = http
        .post(relay.url("/admin/login"))
        .form(&[("token", &relay.admin)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!header(&r, "set-cookie").starts_with("careplan_admin="));

    // Wrong tokens (unknown, or an office's) re-show the form with 401 and start no session.
    for token in ["cpr_wrong", relay.office_token.as_str()] {
        let r = login(token.to_string()).await;
        assert_eq!(r.status(), 401);
        assert!(!header(&r, "set-cookie").starts_with("careplan_admin="));
        assert!(r.text().await.unwrap().contains("id=\"login-error\""));
    }

    // The admin token: a 303 to the dashboard and the session cookie, an opaque id rather than the token.
    let r = login(relay.admin.clone()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(header(&r, "location"), "/admin/");
    let set = header(&r, "set-cookie").to_string();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(set.contains(part), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    assert!(
        cookie.starts_with("careplan_admin=") && !cookie.contains(&relay.admin),
        "{cookie}"
    );

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

    // Logout (with the session's CSRF token) ends the session and clears the cookie.
    let csrf = body.split("name=\"csrf\" value=\"").nth(1).unwrap();
    let csrf = csrf.split('"').next().unwrap().to_string();
    let r = http
        .post(relay.url("/admin/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(header(&r, "set-cookie").starts_with("careplan_admin=;"));
    assert!(header(&r, "set-cookie").contains("Max-Age=0"));
    assert_eq!(
        get("/admin/audit/verify", Some(&cookie)).await.unwrap().status(),
        303
    );
    relay.stop().await;
}

#[tokio::test]
#[cfg_attr(
    no_browser,
    ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"
)]
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
    for kind in [
        "submission.accepted",
        "delivery.queued",
        "delivery.downloaded",
        "delivery.acknowledged",
    ] {
        assert!(events.contains(kind), "{events}");
    }
    // Each download names the file it served.
    for prefix in ["UPPLAN_202504_", "UPSIKYU_202504_", "UPHOSOKU_202504_"] {
        assert!(
            events
                .lines()
                .any(|l| l.contains("delivery.downloaded") && l.contains(prefix)),
            "{prefix}: {events}"
        );
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
