//! TLS with rustls: the server configuration (with optional client certificates), the development PKI that
//! `serve` creates when nothing is configured, client certificates for offices, and reading the office number
//! from a verified client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::domain::{ClientCert, Office};
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

/// Validity of a client certificate issued without a configured one (`tls.client_cert_days`), in days.
pub const DEFAULT_CLIENT_CERT_DAYS: u32 = 730;

/// Longest validity `cert issue` grants, in days (ten years).
pub const MAX_CLIENT_CERT_DAYS: u32 = 3650;

/// How far before the moment of issue a certificate's validity starts (clock skew between machines), in seconds.
const BACKDATE_SECS: i64 = 300;

/// A client certificate made for an office, not yet written anywhere. Times are Unix milliseconds (UTC).
pub struct ClientCertificate {
    pub office: String,
    /// The serial number, lower-case hex (16 random octets, the first below 0x80).
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    /// The certificate (PEM).
    pub cert_pem: String,
    key_pem: secrecy::SecretString,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("office", &self.office)
            .field("serial", &self.serial)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Writes `client.pem` and `client.key` (mode 0600) into `out`, creating it (mode 0700) unless it exists;
    /// returns their paths.
    /// The private key (PEM), to hand over once.
    pub fn key_pem(&self) -> &secrecy::SecretString {
        &self.key_pem
    }

    pub fn write(&self, out: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        use secrecy::ExposeSecret;
        if !out.is_dir() {
            crate::files::private_dir(out).with_context(|| format!("creating {}", out.display()))?;
        }
        let (cert_path, key_path) = (out.join("client.pem"), out.join("client.key"));
        std::fs::write(&cert_path, &self.cert_pem).with_context(|| format!("{}", cert_path.display()))?;
        write_private(&key_path, self.key_pem.expose_secret().as_bytes())?;
        Ok((cert_path, key_path))
    }
}

/// Makes a client certificate for `office` signed by the CA (`ca_cert`, `ca_key`: PEM files), valid for `days`
/// days (1 to [`MAX_CLIENT_CERT_DAYS`]) from five minutes ago, with a random serial number.
pub fn make_client_cert(
    ca_cert: &Path,
    ca_key: &Path,
    office: &str,
    days: u32,
) -> anyhow::Result<ClientCertificate> {
    if !Office::valid_number(office) {
        anyhow::bail!("an office number is 10 digits");
    }
    if !(1..=MAX_CLIENT_CERT_DAYS).contains(&days) {
        anyhow::bail!("a client certificate is valid for 1 to {MAX_CLIENT_CERT_DAYS} days, not {days}");
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
    let mut serial = rand::random::<[u8; 16]>();
    serial[0] = (serial[0] & 0x7f).max(1);
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let from = crate::domain::now_ms() / 1000 - BACKDATE_SECS;
    let until = from + i64::from(days) * 86_400;
    params.not_before = time::OffsetDateTime::from_unix_timestamp(from)?;
    params.not_after = time::OffsetDateTime::from_unix_timestamp(until)?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(ClientCertificate {
        office: office.to_string(),
        serial: serial_hex(&serial),
        not_before: from * 1000,
        not_after: until * 1000,
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem().into(),
    })
}

/// Issues a client certificate for `office` from the CA, valid for [`DEFAULT_CLIENT_CERT_DAYS`], written as
/// `client.pem` and `client.key` in `out`. It is not recorded: `Relay::issue_certificate` records one.
pub fn issue_client_cert(
    ca_cert: &Path,
    ca_key: &Path,
    office: &str,
    out: &Path,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    make_client_cert(ca_cert, ca_key, office, DEFAULT_CLIENT_CERT_DAYS)?.write(out)
}

/// A serial number as recorded: lower-case hex of its octets without leading zero octets.
pub fn serial_hex(octets: &[u8]) -> String {
    let start = octets.iter().position(|&b| b != 0).unwrap_or(octets.len());
    let hex: String = octets[start..].iter().map(|b| format!("{b:02x}")).collect();
    if hex.is_empty() { "00".into() } else { hex }
}

/// The office number in a client certificate: a 10-digit CN, or a 10-digit serialNumber attribute.
pub fn office_from_cert(der: &[u8]) -> Option<String> {
    client_cert(der).map(|c| c.office)
}

/// The office number (as [`office_from_cert`]) and the serial number of a client certificate.
pub fn client_cert(der: &[u8]) -> Option<ClientCert> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let cn = subject.iter_common_name().filter_map(|a| a.as_str().ok());
    let serial = subject
        .iter_by_oid(&x509_parser::oid_registry::OID_X509_SERIALNUMBER)
        .filter_map(|a| a.as_str().ok());
    let office = cn.chain(serial).find(|s| Office::valid_number(s))?;
    Some(ClientCert {
        office: office.to_string(),
        serial: serial_hex(cert.raw_serial()),
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls server configuration. With `client_ca`, clients may present a certificate from that CA (offices
/// authenticate with it); clients without one are still served and must send a bearer token. TLS 1.3 only,
/// unless `allow_tls12` (`tls.allow_tls12`) also admits TLS 1.2 for old clients.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    allow_tls12: bool,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let versions: &[&rustls::SupportedProtocolVersion] = if allow_tls12 {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13]
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider()).with_protocol_versions(versions)?;
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
        server_config(&pki.server_cert, &pki.server_key, Some(&pki.ca_cert), false).expect("server config");
        let (cert, _) =
            issue_client_cert(&pki.ca_cert, &pki.ca_key, "1310000001", &dir.path().join("c")).expect("issue");
        let der = CertificateDer::from_pem_file(&cert).expect("pem");
        assert_eq!(office_from_cert(&der).as_deref(), Some("1310000001"));
        let server = CertificateDer::from_pem_file(&pki.server_cert).expect("pem");
        assert_eq!(office_from_cert(&server), None);
        assert!(issue_client_cert(&pki.ca_cert, &pki.ca_key, "131", dir.path()).is_err());
    }
}
