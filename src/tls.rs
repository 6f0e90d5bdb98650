//! TLS with rustls: the server configuration (with optional client certificates), the development PKI that
//! `serve` creates when nothing is configured, client certificates for offices, and reading the office number
//! from a verified client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::domain::Office;
use crate::files::write_private;

/// The files of a PKI: a CA (which also signs office client certificates) and a server certificate.
#[derive(Debug, Clone)]
pub struct Pki {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl Pki {
    /// The development PKI's paths under `dir` (`ca.pem`, `ca.key`, `server.pem`, `server.key`).
    pub fn in_dir(dir: &Path) -> Pki {
        Pki {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }

    /// Creates the development CA and a server certificate for localhost/127.0.0.1 unless they exist.
    /// Returns whether it created them.
    pub fn ensure_dev(&self) -> anyhow::Result<bool> {
        if self.server_cert.exists() && self.server_key.exists() && self.ca_cert.exists() {
            return Ok(false);
        }
        if let Some(dir) = self.ca_cert.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name = dn("careplan-relay development CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, &ca_key);

        let server_key = KeyPair::generate()?;
        let mut server = CertificateParams::new(vec!["localhost".to_string()])?;
        server
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        server
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        server.distinguished_name = dn("localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer)?;

        std::fs::write(&self.ca_cert, ca_cert.pem())?;
        write_private(&self.ca_key, ca_key.serialize_pem().as_bytes())?;
        std::fs::write(&self.server_cert, server_cert.pem())?;
        write_private(&self.server_key, server_key.serialize_pem().as_bytes())?;
        Ok(true)
    }
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d
}

/// Issues a client certificate for `office` from the CA, written as `client.pem` and `client.key` in `out`.
pub fn issue_client_cert(
    ca_cert: &Path,
    ca_key: &Path,
    office: &str,
    out: &Path,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !Office::valid_number(office) {
        anyhow::bail!("an office number is 10 digits");
    }
    let ca_key = KeyPair::from_pem(
        &std::fs::read_to_string(ca_key).with_context(|| format!("{}", ca_key.display()))?,
    )?;
    let ca_pem = std::fs::read_to_string(ca_cert).with_context(|| format!("{}", ca_cert.display()))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = dn(office);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "careplan-relay office");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer)?;
    std::fs::create_dir_all(out)?;
    let (cert_path, key_path) = (out.join("client.pem"), out.join("client.key"));
    std::fs::write(&cert_path, cert.pem())?;
    write_private(&key_path, key.serialize_pem().as_bytes())?;
    Ok((cert_path, key_path))
}

/// The office number in a client certificate: a 10-digit CN, or a 10-digit serialNumber attribute.
pub fn office_from_cert(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let cn = subject.iter_common_name().filter_map(|a| a.as_str().ok());
    let serial = subject
        .iter_by_oid(&x509_parser::oid_registry::OID_X509_SERIALNUMBER)
        .filter_map(|a| a.as_str().ok());
    cn.chain(serial)
        .find(|s| Office::valid_number(s))
        .map(str::to_string)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls server configuration. With `client_ca`, clients may present a certificate from that CA (offices
/// authenticate with it); clients without one are still served and must send a bearer token.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let builder =
        rustls::ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca).with_context(|| format!("reading {}", ca.display()))? {
                roots.add(c?)?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .allow_unauthenticated()
                .build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_pki_and_client_certificates() {
        let dir = tempfile::tempdir().expect("tmp");
        let pki = Pki::in_dir(dir.path());
        assert!(pki.ensure_dev().expect("create"));
        assert!(!pki.ensure_dev().expect("reuse"), "an existing PKI is kept");
        server_config(&pki.server_cert, &pki.server_key, Some(&pki.ca_cert)).expect("server config");
        let (cert, _) =
            issue_client_cert(&pki.ca_cert, &pki.ca_key, "1310000001", &dir.path().join("c")).expect("issue");
        let der = CertificateDer::from_pem_file(&cert).expect("pem");
        assert_eq!(office_from_cert(&der).as_deref(), Some("1310000001"));
        let server = CertificateDer::from_pem_file(&pki.server_cert).expect("pem");
        assert_eq!(office_from_cert(&server), None);
        assert!(issue_client_cert(&pki.ca_cert, &pki.ca_key, "131", dir.path()).is_err());
    }
}
