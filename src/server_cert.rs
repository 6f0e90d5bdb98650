//! The server certificate, reloadable while the relay runs: rustls asks
//! [`ServerCert`](crate::server_cert::ServerCert) for the certificate at each handshake, and
//! [`ServerCert::reload`](crate::server_cert::ServerCert::reload) (on SIGHUP, see `App::run_until`) reads the
//! files again and swaps the new pair in only when it parses and the key matches the certificate; otherwise the
//! old pair stays. Connections already open keep the certificate they were made with.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The server's certificate chain and key (`tls.cert`, `tls.key`, or the development pair), read from files.
#[derive(Debug)]
pub struct ServerCert {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

/// What a load read: the first certificate's subject and end of validity (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub subject: String,
    pub not_after: i64,
}

fn read(cert: &Path, key: &Path) -> anyhow::Result<(Arc<CertifiedKey>, Loaded)> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", cert.display()))?;
    let first = chain
        .first()
        .ok_or_else(|| anyhow::anyhow!("{} holds no certificate", cert.display()))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(first)
        .map_err(|e| anyhow::anyhow!("{}: the certificate does not parse: {e}", cert.display()))?;
    let loaded = Loaded {
        subject: parsed.subject().to_string(),
        not_after: parsed.validity().not_after.timestamp(),
    };
    let der = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let pair = CertifiedKey::from_der(chain, der, &provider)
        .with_context(|| format!("{} and {} do not make a pair", cert.display(), key.display()))?;
    Ok((Arc::new(pair), loaded))
}

impl ServerCert {
    /// Reads the chain in `cert` and the key in `key` (PEM).
    ///
    /// Errors: a file cannot be read or parsed, or the key does not match the first certificate.
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerCert>> {
        let (pair, _) = read(cert, key)?;
        Ok(Arc::new(ServerCert {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(pair),
        }))
    }

    /// Reads the same files again and serves the new pair from the next handshake on.
    ///
    /// Errors: as [`ServerCert::load`]; the pair in use is then kept.
    pub fn reload(&self) -> anyhow::Result<Loaded> {
        let (pair, loaded) = read(&self.cert, &self.key)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = pair;
        Ok(loaded)
    }
}

impl ResolvesServerCert for ServerCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ))
    }
}
