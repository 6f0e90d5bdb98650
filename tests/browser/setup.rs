//! The relay the tests run against: started with its offices, sets and tokens in place, and stopped.

use std::net::SocketAddr;

use careplan_relay::app::App;
use careplan_relay::client::{Client, ClientOptions};
use careplan_relay::config::Settings;
use careplan_relay::domain::{Office, OfficeKind};
use careplan_relay::generate::{GenFile, Scenario, unit_files};
use careplan_relay::spec::{Generation, Spec};
use secrecy::ExposeSecret;
use tokio::sync::oneshot;

use crate::support;

pub const CARE_MANAGER: &str = "1310000001";
pub const PROVIDER: &str = "1310000002";
/// A name that must be escaped wherever it is shown.
pub const PROVIDER_NAME: &str = "訪問介護B <b>\"&'";
pub const ACKED: &str = "20250328101500";
pub const QUEUED: &str = "20250328111500";
pub const REJECTED: &str = "20250328121500";

/// The running relay with two offices, an acknowledged set, a set still queued (flagged at once: the flag time
/// is 0 days), a rejected set, and an admin token.
pub struct Relay {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    _db: support::db::TestDb,
    pub admin: String,
    pub office_token: String,
    /// The running relay: portal users are made through it.
    pub relay: std::sync::Arc<careplan_relay::relay::Relay>,
    shutdown: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub async fn start() -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let db = support::db::sqlite();
    let mut settings = Settings::load(dir.path(), None).unwrap();
    settings.server.listen = "127.0.0.1:0".into();
    settings.server.metrics_listen = String::new();
    settings.database.url = Some(db.url.clone());
    settings.retention.flag_unacknowledged_days = 0;
    let app = App::build(settings).await.expect("app builds");
    let addr = app.local_addr().unwrap();
    let running = std::sync::Arc::clone(app.relay());
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
        running.add_office(&office, "test").await.unwrap();
    }
    let token = |office: Option<&'static str>| {
        let running = std::sync::Arc::clone(&running);
        async move {
            let t = running.issue_token(office, "test").await.unwrap();
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
        .for_each(|f| f.0 = crate::support::with_sequence(&f.0, REJECTED));
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
        relay: running,
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
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// An HTTPS client trusting the relay's CA that does not follow redirects.
    pub fn http(&self) -> reqwest::Client {
        let pem = std::fs::read(self.dir.path().join("tls/ca.pem")).unwrap();
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Like [`Relay::http`], presenting the client certificate and key in `identity` (PEM).
    pub fn http_with(&self, identity: &[u8]) -> reqwest::Client {
        let pem = std::fs::read(self.dir.path().join("tls/ca.pem")).unwrap();
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .identity(reqwest::Identity::from_pem(identity).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        self.handle.await.unwrap().unwrap();
    }
}
