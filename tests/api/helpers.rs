//! `spawn_app`: the real relay on 127.0.0.1:0 with a temporary data directory, real TLS (a generated CA,
//! server and client certificates) and a real database; `TestApp` drives it over HTTPS.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use careplan_relay::app::App;
use careplan_relay::client::{Answer, Client, ClientOptions};
use careplan_relay::config::Settings;
use careplan_relay::domain::{Office, OfficeKind};
use careplan_relay::generate::{GenFile, Scenario, unit_files};
use careplan_relay::relay::Relay;
use careplan_relay::spec::{Generation, Spec};
use careplan_relay::store::Store;
use secrecy::ExposeSecret;
use tokio::sync::oneshot;

pub use crate::support::checked::Checked;
use crate::support::db::TestDb;

pub const CARE_MANAGER: &str = "1310000001";
pub const PROVIDER: &str = "1310000002";
pub const OTHER: &str = "1310000003";

pub struct TestApp {
    pub addr: SocketAddr,
    /// The plain-HTTP `/metrics` listener, unless `server.metrics_listen` is empty.
    pub metrics_addr: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub store: Store,
    /// The running relay: offices, tokens and users are made through it, as the CLI makes them.
    pub relay: Arc<Relay>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        careplan_relay::telemetry::init(false);
    }
}

pub fn settings(data_dir: &Path, db: &TestDb) -> Settings {
    let mut s = Settings::load(data_dir, None).expect("settings");
    s.server.listen = "127.0.0.1:0".into();
    s.server.metrics_listen = "127.0.0.1:0".into();
    s.database.url = Some(db.url.clone());
    s.server.max_body_bytes = 2 * 1024 * 1024;
    s
}

/// Starts the relay; readiness is guaranteed because `App::build` binds before returning.
pub async fn spawn_with(settings: Settings) -> TestApp {
    init_logs();
    let data_dir = settings.data_dir.clone();
    let app = App::build(settings).await.expect("app builds");
    let addr = app.local_addr().expect("addr");
    let metrics_addr = app.metrics_addr();
    let store = app.store().clone();
    let relay = Arc::clone(app.relay());
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        metrics_addr,
        data_dir,
        store,
        relay,
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

pub async fn spawn_app(data_dir: &Path, db: &TestDb) -> TestApp {
    spawn_with(settings(data_dir, db)).await
}

impl TestApp {
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn ca(&self) -> PathBuf {
        self.data_dir.join("tls").join("ca.pem")
    }

    /// A plain HTTPS client trusting the relay's CA that does not follow redirects, connecting from `source`
    /// (any 127.0.0.0/8 address: the relay sees each as another peer).
    pub fn http_from(&self, source: &str) -> reqwest::Client {
        let pem = std::fs::read(self.ca()).expect("ca");
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
            .redirect(reqwest::redirect::Policy::none())
            .local_address(Some(source.parse().expect("address")))
            .build()
            .expect("client")
    }

    /// The kinds and details of the recorded events, in order.
    pub async fn events(&self) -> Vec<(String, serde_json::Value)> {
        self.store
            .events(0, 100_000)
            .await
            .expect("events")
            .into_iter()
            .map(|e| (e.kind, serde_json::from_str(&e.detail).expect("json")))
            .collect()
    }

    /// A client with a bearer token (or none), checking every answer against the OpenAPI document.
    pub fn client(&self, token: Option<&str>) -> Checked {
        Checked(self.plain_client(token))
    }

    /// A client with a bearer token (or none) that checks nothing (for answers outside the API).
    pub fn plain_client(&self, token: Option<&str>) -> Client {
        Client::new(&ClientOptions {
            url: self.url(),
            token: token.map(|t| t.to_string().into()),
            cacert: Some(self.ca()),
            ..Default::default()
        })
        .expect("client")
    }

    /// A client authenticated by a client certificate for `office` from the relay's CA, checking every answer.
    pub fn cert_client(&self, office: &str) -> Checked {
        let tls = self.data_dir.join("tls");
        let out = self.data_dir.join(format!("client-{office}"));
        let (cert, key) =
            careplan_relay::tls::issue_client_cert(&tls.join("ca.pem"), &tls.join("ca.key"), office, &out)
                .expect("client certificate");
        Checked(
            Client::new(&ClientOptions {
                url: self.url(),
                cert: Some(cert),
                key: Some(key),
                cacert: Some(self.ca()),
                ..Default::default()
            })
            .expect("client"),
        )
    }

    /// Registers the three test offices and returns a token for each (care manager, provider, other).
    pub async fn offices(&self) -> (String, String, String) {
        let add = |n: &str, kind, t: &str| Office {
            number: n.into(),
            name: format!("事業所 {n}"),
            kind,
            service_types: vec![t.into()],
            enabled: true,
        };
        for o in [
            add(CARE_MANAGER, OfficeKind::CareManager, "43"),
            add(PROVIDER, OfficeKind::Provider, "11"),
            add(OTHER, OfficeKind::Provider, "15"),
        ] {
            self.relay.add_office(&o, "test").await.expect("office");
        }
        let token = |o: &'static str| async move {
            self.relay
                .issue_token(Some(o), "test")
                .await
                .expect("token")
                .token
                .expose_secret()
                .to_string()
        };
        (
            token(CARE_MANAGER).await,
            token(PROVIDER).await,
            token(OTHER).await,
        )
    }

    pub async fn admin_token(&self) -> String {
        self.relay
            .issue_token(None, "test")
            .await
            .expect("token")
            .token
            .expose_secret()
            .to_string()
    }

    /// Stops the server (drain) and waits for it.
    /// Waits until `n` inbox requests long-poll on this node (the gauge `careplan_inbox_long_polls` of the
    /// metrics listener), so that a test sends what they wait for only once they wait. Panics after 20 s.
    pub async fn long_polls(&self, n: usize) {
        let metrics = self.metrics_addr.expect("the metrics listener");
        let want = format!("careplan_inbox_long_polls {n}\n");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let text = reqwest::get(format!("http://{metrics}/metrics"))
                .await
                .expect("GET /metrics")
                .text()
                .await
                .unwrap();
            if text.contains(&want) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{n} long-polls never waited"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("join").expect("server ran cleanly");
        }
    }
}

/// A valid v4 schedule set from the care manager to the provider with this sequence.
pub fn schedule(sequence: &str) -> Vec<(String, Vec<u8>)> {
    unit_set("schedule", sequence)
}

/// A valid v4 set of the send unit `unit` (`spec/units.csv`) from the care manager to the provider.
pub fn unit_set(unit: &str, sequence: &str) -> Vec<(String, Vec<u8>)> {
    let spec = Spec::get().expect("spec");
    let unit = spec.units.iter().find(|u| u.name == unit).expect("unit");
    let mut sc = Scenario::small(Generation::V4);
    sc.sequence = sequence.into();
    unit_files(spec, unit, &sc)
        .into_iter()
        .map(|GenFile { name, bytes }| (name, bytes))
        .collect()
}

/// The files of a committed fixture set.
pub fn fixture_set(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&root)
        .expect("fixture dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

pub fn assert_status(a: &Answer, status: u16) {
    assert_eq!(
        a.status,
        status,
        "{}",
        serde_json::to_string_pretty(&a.json).unwrap_or_default()
    );
}
