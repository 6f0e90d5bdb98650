//! The office portal (`/office/`) in headless Chromium: login (wrong, right, and locked after repeated wrong passwords), the forced password change, the
//! recipient's inbox, the ZIP fetched with the browser's session cookie and compared byte for byte, the
//! acknowledgement; the sender's bad set (report shown) and good set (sent, receipt page), the outbox, another
//! office's delivery refused, and logout. With `CAREPLAN_RELAY_SCREENSHOTS=DIR` it writes PNGs of the main pages
//! into DIR (docs/portal/ holds the committed ones).

use std::io::Read;
use std::path::{Path, PathBuf};

use careplan_relay::generate::{GenFile, Scenario, unit_files};

use careplan_relay::spec::{Generation, Spec};
use secrecy::ExposeSecret;

use crate::setup::{CARE_MANAGER, PROVIDER, QUEUED, start};
use crate::webdriver::{Browser, Chromedriver};

/// The valid schedule set of this sequence, as the generator makes it (the setup sent QUEUED this way).
fn schedule(sequence: &str) -> Vec<(String, Vec<u8>)> {
    unit("schedule", sequence)
}

/// The valid set of the send unit `name` with this sequence, as the generator makes it.
fn unit(name: &str, sequence: &str) -> Vec<(String, Vec<u8>)> {
    let spec = Spec::get().unwrap();
    let unit = spec.units.iter().find(|u| u.name == name).unwrap();
    let mut scenario = Scenario::small(Generation::V4);
    scenario.sequence = sequence.into();
    unit_files(spec, unit, &scenario)
        .into_iter()
        .map(|GenFile { name, bytes }| (name, bytes))
        .collect()
}

fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect()
}

async fn shot(b: &Browser, name: &str) {
    if let Ok(dir) = std::env::var("CAREPLAN_RELAY_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        b.screenshot(&Path::new(&dir).join(format!("{name}.png"))).await;
    }
}

/// Waits (up to 15 s) until the element's text contains `needle`: after a form is submitted, the old page may
/// still be the one shown for a moment.
async fn wait_text(b: &Browser, css: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let text = b.text(css).await;
        if text.contains(needle) {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "{css}: {text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn log_in(b: &Browser, url: &str, login: &str, password: &str) {
    b.goto(url).await;
    b.type_into("input[name=login]", login).await;
    b.type_into("input[name=password]", password).await;
    b.click("#login button").await;
}

/// Logs in with the one-time password and changes it; ends on the inbox.
async fn first_login(b: &Browser, url: &str, login: &str, first: &str, mine: &str) {
    log_in(b, url, login, first).await;
    b.find("#must-change").await;
    b.type_into("#current", first).await;
    b.type_into("#new", mine).await;
    b.type_into("#confirm", mine).await;
    b.click("#password-form button").await;
    b.find("#nav-inbox").await;
}

#[tokio::test]
#[cfg_attr(
    no_browser,
    ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"
)]
async fn office_portal_in_a_browser() {
    let Some(mut driver) = Chromedriver::start() else {
        return;
    };
    let relay = start().await;
    let b = Browser::open(&mut driver).await;
    b.resize(1280, 900).await;
    let home = relay.url("/office/");
    let prov_first = relay
        .relay
        .add_user(PROVIDER, "houmon-kato", "test")
        .await
        .unwrap();
    let cm_first = relay
        .relay
        .add_user(CARE_MANAGER, "kyotaku-sato", "test")
        .await
        .unwrap();

    // A wrong password is refused; the right one leads to the forced change, then to the inbox.
    log_in(&b, &home, "houmon-kato", "wrong password").await;
    assert!(b.text("#form-error").await.contains("wrong login ID or password"));
    shot(&b, "login").await;
    log_in(&b, &home, "houmon-kato", prov_first.expose_secret()).await;
    b.find("#must-change").await;
    assert!(b.url().await.ends_with("/office/password"));
    shot(&b, "password").await;
    b.type_into("#current", prov_first.expose_secret()).await;
    b.type_into("#new", "houmon kato passphrase").await;
    b.type_into("#confirm", "houmon kato passphrase").await;
    b.click("#password-form button").await;

    // The pending inbox: the queued set from 居宅介護支援A, not the acknowledged one.
    let inbox = b.text("#inbox").await;
    assert!(
        inbox.contains(QUEUED) && inbox.contains("居宅介護支援A"),
        "{inbox}"
    );
    assert!(
        inbox.contains("利用者補足情報") && inbox.contains("未取得"),
        "{inbox}"
    );
    shot(&b, "inbox").await;
    b.click(&format!("tr[data-sequence=\"{QUEUED}\"] a")).await;
    let delivery_url = b.url().await;
    assert_eq!(b.all("#files tbody tr").await.len(), 3);
    assert!(
        b.all("#ack").await.is_empty(),
        "no acknowledgement before a download"
    );

    // The ZIP over HTTPS with the browser's session cookie: the original bytes under the spec's names.
    let cookie = b.cookie("careplan_office").await;
    let zip_url = b.attribute("#zip", "href").await;
    let r = relay
        .http()
        .get(relay.url(&zip_url))
        .header("cookie", format!("careplan_office={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let zip = r.bytes().await.unwrap().to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    for (name, bytes) in schedule(QUEUED) {
        let mut back = Vec::new();
        archive.by_name(&name).unwrap().read_to_end(&mut back).unwrap();
        assert!(back == bytes, "{name}");
    }
    // The set read as forms: the 第6表 grid's totals are the records' counts, one grid per insured person.
    b.goto(&delivery_url).await;
    b.click("#view").await;
    b.find("table.grid").await;
    shot(&b, "forms").await;
    let files = schedule(QUEUED);
    let inputs: Vec<careplan_relay::validate::InputFile<'_>> = files
        .iter()
        .map(|(name, bytes)| careplan_relay::validate::InputFile { name, bytes })
        .collect();
    let doc = careplan_relay::records::document(Spec::get().unwrap(), &inputs).unwrap();
    let plan = doc
        .files
        .iter()
        .find(|f| f.kind == "UPPLAN")
        .expect("a 第6表 file");
    let counted: i64 = plan
        .records
        .iter()
        .filter_map(|r| r.items.get("service_count").and_then(serde_json::Value::as_i64))
        .sum();
    let mut shown = 0;
    for cell in b.all("table.grid td.num").await {
        shown += b.element_text(&cell).await.trim().parse::<i64>().unwrap();
    }
    assert_eq!(
        shown, counted,
        "the grid's totals are the records' service counts"
    );
    let people: std::collections::BTreeSet<String> = plan
        .records
        .iter()
        .map(|r| r.items.get("insured_number").unwrap().to_string())
        .collect();
    assert_eq!(
        b.all("table.grid").await.len(),
        people.len(),
        "one grid per insured person"
    );
    assert!(
        b.text("main").await.contains("サービス利用票"),
        "the kinds by their Japanese names"
    );
    b.goto(&delivery_url).await;
    shot(&b, "delivery").await;
    b.click("#ack").await;
    wait_text(&b, "#status", "受領確認済").await;
    b.click("#logout").await;
    b.find("input[name=login]").await;

    // The care manager sends a bad set: the report, nothing sent.
    first_login(
        &b,
        &home,
        "kyotaku-sato",
        cm_first.expose_secret(),
        "kyotaku sato passphrase",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/invalid/E_CODE-sex_3");
    let mut bad_files: Vec<PathBuf> = std::fs::read_dir(bad)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    bad_files.sort();
    b.click("#nav-send").await;
    b.choose_files("#files", &bad_files).await;
    b.click("#send-form button").await;
    wait_text(&b, "#summary", "0 of 1").await;
    let errors = b.text("#errors").await;
    assert!(errors.contains("E_CODE") && errors.contains("性別"), "{errors}");
    shot(&b, "send-invalid").await;

    // A good set: sent, with its receipt.
    let good = write_all(dir.path(), &schedule("20250329090000"));
    b.choose_files("#files", &good).await;
    b.click("#send-form button").await;
    wait_text(&b, "#summary", "1 of 1").await;
    assert!(b.text("#set-1 .result").await.contains("Sent"));
    shot(&b, "send-valid").await;
    b.click("#set-1 a.receipt").await;
    assert!(b.text("#payload").await.contains("careplan-relay receipt"));
    assert!(!b.text("#signature").await.is_empty());
    shot(&b, "receipt").await;

    // A care plan, read back from the outbox as its forms: 第1表 to 第3表 under the spec's Japanese item names.
    let plan = unit("plan", "20250329091000");
    b.click("#nav-send").await;
    b.choose_files("#files", &write_all(dir.path(), &plan)).await;
    b.click("#send-form button").await;
    wait_text(&b, "#summary", "1 of 1").await;
    b.click("#nav-outbox").await;
    b.click("tr[data-sequence=\"20250329091000\"] a.view").await;
    b.find("table.record").await;
    let forms = b.text("main").await;
    for shown in [
        "居宅サービス計画1表",
        "居宅サービス計画2表",
        "居宅サービス計画3表",
        "被保険者番号",
        "0001000000",
    ] {
        assert!(forms.contains(shown), "{shown} in the care plan's forms: {forms}");
    }

    // The outbox: the acknowledged set and the new one.
    b.click("#nav-outbox").await;
    let outbox = b.text("#outbox").await;
    assert!(
        outbox.contains(QUEUED) && outbox.contains("受領確認済") && outbox.contains("20250329090000"),
        "{outbox}"
    );
    shot(&b, "outbox").await;

    // The provider's delivery is not the care manager's to see.
    b.goto(&delivery_url).await;
    assert!(b.text("#error").await.contains("No such object"));
    assert!(b.all("#files").await.is_empty());

    // Logout ends the session.
    b.goto(&home).await;
    b.click("#logout").await;
    b.find("input[name=login]").await;
    b.goto(&relay.url("/office/outbox")).await;
    b.find("input[name=login]").await;

    // Wrong passwords again and again: the login is locked, and the page says so and for how long.
    let mut locked = String::new();
    for _ in 0..12 {
        b.type_into("input[name=login]", "houmon-kato").await;
        b.type_into("input[name=password]", "not the password at all")
            .await;
        b.click("#login button").await;
        locked = b.text("#form-error").await;
        if locked.contains("locked") {
            break;
        }
    }
    assert!(locked.contains("locked") && locked.contains("ロック"), "{locked}");

    drop(driver);
    relay.stop().await;
}
