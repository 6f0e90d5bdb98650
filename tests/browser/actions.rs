//! The admin page's actions in headless Chromium: register an office, edit its name, issue its token (shown once; it works on
//! the API), revoke it (refused from then on), issue a client certificate and revoke it, disable and enable the office, create an office user and reset
//! its password (each one-time password shown once, and different), purge a flagged set, and every action an
//! audit event with the admin as its actor. A form without the session's CSRF token is refused.

use std::time::{Duration, Instant};

use crate::setup::{QUEUED, start};
use crate::webdriver::{Browser, Chromedriver};

const NEW_OFFICE: &str = "1310000009";

/// The text between `before` and the next `after` in `s`.
fn between<'a>(s: &'a str, before: &str, after: &str) -> &'a str {
    let from = s
        .find(before)
        .map(|i| i + before.len())
        .unwrap_or_else(|| panic!("{before:?} in {s}"));
    let rest = &s[from..];
    &rest[..rest.find(after).unwrap_or(rest.len())]
}

/// Waits until the dashboard's offices table satisfies `ok` (the page a form led back to); its text.
async fn offices_until(b: &Browser, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if !b.all("#offices").await.is_empty() {
            let text = b.text("#offices").await;
            if ok(&text) {
                return text;
            }
        }
        assert!(Instant::now() < deadline, "the dashboard never showed {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[cfg_attr(
    no_browser,
    ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"
)]
async fn admin_page_actions_in_a_browser() {
    let Some(mut driver) = Chromedriver::start() else {
        return;
    };
    let relay = start().await;
    let b = Browser::open(&mut driver).await;
    b.goto(&relay.url("/admin/")).await;
    b.type_into("input[name=token]", &relay.admin).await;
    b.click("form.login button").await;
    b.find("#offices").await;

    // Register an office.
    b.type_into("#register input[name=number]", NEW_OFFICE).await;
    b.type_into("#register input[name=name]", "通所介護C").await;
    b.click("#register select[name=kind] option[value=provider]")
        .await;
    b.type_into("#register input[name=service_types]", "15").await;
    b.click("#register button").await;
    offices_until(&b, "the new office", |t| {
        t.contains(NEW_OFFICE) && t.contains("通所介護C")
    })
    .await;

    // Edit its name.
    let edit = format!("form[action='/admin/offices/{NEW_OFFICE}/edit']");
    b.click(&format!("details:has({edit}) > summary")).await;
    b.type_into(&format!("{edit} input[name=name]"), "通所介護C（新館）")
        .await;
    b.click(&format!("{edit} button")).await;
    offices_until(&b, "the new name", |t| t.contains("通所介護C（新館）")).await;

    // Issue its token: shown once, and it works.
    b.click(&format!(
        "form[action='/admin/offices/{NEW_OFFICE}/tokens'] button"
    ))
    .await;
    let token = b.text("#secret").await;
    let page = b.text("main").await;
    let token_id = between(&page, "(id ", ")").to_string();
    let http = relay.http();
    let inbox = |t: String| {
        let req = http.get(relay.url("/v1/inbox")).bearer_auth(t);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(inbox(token.clone()).await, 200, "the issued token authenticates");

    // Revoke it: refused from then on.
    b.goto(&relay.url("/admin/")).await;
    b.click(&format!("form[action='/admin/tokens/{token_id}/revoke'] button"))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while inbox(token.clone()).await != 401 {
        assert!(Instant::now() < deadline, "the revoked token is refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Issue a client certificate: certificate and key shown once; they authenticate the office, until revoked.
    b.goto(&relay.url("/admin/")).await;
    b.click(&format!(
        "form[action='/admin/offices/{NEW_OFFICE}/certificates'] button"
    ))
    .await;
    let cert = b.text("#certificate").await;
    let key = b.text("#private-key").await;
    assert!(
        cert.contains("BEGIN CERTIFICATE") && key.contains("PRIVATE KEY"),
        "{cert}"
    );
    let with_cert = relay.http_with(format!("{cert}\n{key}\n").as_bytes());
    let inbox_by_cert = || {
        let req = with_cert.get(relay.url("/v1/inbox"));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        inbox_by_cert().await,
        200,
        "the issued certificate authenticates the office"
    );
    b.goto(&relay.url("/admin/")).await;
    b.click("#certificates form button").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while inbox_by_cert().await != 401 {
        assert!(Instant::now() < deadline, "the revoked certificate is refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Disable the office, then enable it again.
    b.click(&format!(
        "form[action='/admin/offices/{NEW_OFFICE}/enabled'] button"
    ))
    .await;
    offices_until(&b, "the office disabled", |t| t.contains("無効 disabled")).await;
    b.click(&format!(
        "form[action='/admin/offices/{NEW_OFFICE}/enabled'] button"
    ))
    .await;
    offices_until(&b, "the office enabled again", |t| !t.contains("無効 disabled")).await;

    // An office user, and a reset of its password: each shown once, and different.
    b.type_into(
        &format!("form[action='/admin/offices/{NEW_OFFICE}/users'] input[name=login]"),
        "tsusho-sato",
    )
    .await;
    b.click(&format!(
        "form[action='/admin/offices/{NEW_OFFICE}/users'] button"
    ))
    .await;
    let first = b.text("#secret").await;
    b.goto(&relay.url("/admin/")).await;
    assert!(b.text("#offices").await.contains("tsusho-sato"));
    b.click("form[action='/admin/users/tsusho-sato/reset'] button")
        .await;
    let second = b.text("#secret").await;
    assert!(
        first.len() >= 12 && second.len() >= 12 && first != second,
        "{first} {second}"
    );

    // Purge the flagged set from the dashboard: the set's page says it was purged.
    b.goto(&relay.url("/admin/")).await;
    b.click("#flagged form button").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !b.url().await.contains("/admin/deliveries/") {
        assert!(
            Instant::now() < deadline,
            "the purge did not lead to the set's page"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(b.text("main").await.contains(QUEUED));

    // Every action is an audit event with the admin token as its actor (sealed within moments).
    let kinds = [
        "office.added",
        "token.issued",
        "token.revoked",
        "office.disabled",
        "office.enabled",
        "user.added",
        "user.reset",
        "delivery.purged",
        "certificate.issued",
        "certificate.revoked",
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events: serde_json::Value = http
            .get(relay.url("/v1/admin/audit?limit=500"))
            .bearer_auth(&relay.admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let by_admin: Vec<&str> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["detail"]["actor"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("admin:"))
            })
            .filter_map(|e| e["kind"].as_str())
            .collect();
        if kinds.iter().all(|k| by_admin.contains(k)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "audit events by the admin: {by_admin:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A form without the session's CSRF token is refused.
    let session = b.cookie("careplan_admin").await;
    let forged = http
        .post(relay.url(&format!("/admin/offices/{NEW_OFFICE}/tokens")))
        .header("cookie", format!("careplan_admin={session}"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    relay.stop().await;
}
