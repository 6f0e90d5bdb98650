//! The cluster's balancer: HAProxy with deploy/cluster/haproxy.cfg, and the TLS files its nodes share.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// HAProxy's path, or `None` (with a note) when it is not installed and not required.
pub fn haproxy() -> Option<PathBuf> {
    let found = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CAREPLAN_RELAY_REQUIRE_HAPROXY").as_deref() != Ok("1"),
            "HAProxy is required (CAREPLAN_RELAY_REQUIRE_HAPROXY=1) but not installed (apt-get install haproxy)"
        );
        eprintln!("note: HAProxy is not installed (apt-get install haproxy); the cluster test is skipped");
    }
    found
}

/// Gives node B node A's server certificate and client CA (the development PKI `serve` and `cert issue` made
/// under A's data directory): behind one balancer address both nodes present one certificate and accept the
/// same client certificates. In production both nodes name the same files in `[tls]`.
pub fn share_tls(a: &Path, b: &Path) {
    std::fs::create_dir_all(b.join("tls")).unwrap();
    for f in ["ca.pem", "ca.key", "server.pem", "server.key"] {
        std::fs::copy(a.join("tls").join(f), b.join("tls").join(f)).unwrap();
    }
}

/// HAProxy in front of two nodes.
pub struct Balancer {
    child: Child,
    port: u16,
}

impl Balancer {
    /// Starts HAProxy in the foreground with deploy/cluster/haproxy.cfg on a free port.
    pub fn start(haproxy: &Path, node_a: &str, node_b: &str) -> Balancer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/cluster/haproxy.cfg");
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(haproxy)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .env("LISTEN", format!("127.0.0.1:{port}"))
            .env("NODE_A", node_a)
            .env("NODE_B", node_b)
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("spawn haproxy");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Balancer { child, port };
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let said = std::fs::read_to_string(log.path()).unwrap_or_default();
        panic!("haproxy did not listen on 127.0.0.1:{port}:\n{said}");
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
