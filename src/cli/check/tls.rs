//! `check-config`: the TLS files. Certificates parse and are within their validity (a warning within 30 days of
//! the end), private keys parse and match their certificate, and no private key is readable by every user.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{Findings, mode};

/// A certificate ending within this many days gets a warning.
pub(super) const WARN_DAYS: i64 = 30;

/// Checks the certificates in `path` (`what`: the setting's name): each parses and is valid now. Returns the
/// chain when it could be read, for [`key_matches`].
pub(super) fn certificates(
    f: &mut Findings,
    what: &str,
    path: &Path,
    now: i64,
) -> Option<Vec<CertificateDer<'static>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            f.problem(
                what,
                format!("{} を読めません: {e}", path.display()),
                format!("cannot read {}: {e}", path.display()),
            );
            return None;
        }
    };
    let chain: Vec<CertificateDer<'static>> = match CertificateDer::pem_slice_iter(&bytes).collect() {
        Ok(c) => c,
        Err(e) => {
            f.problem(
                what,
                format!("{} はPEMの証明書として読めません: {e}", path.display()),
                format!("{} is not a PEM certificate file: {e}", path.display()),
            );
            return None;
        }
    };
    if chain.is_empty() {
        f.problem(
            what,
            format!("{} に証明書がありません", path.display()),
            format!("{} holds no certificate", path.display()),
        );
        return None;
    }
    for der in &chain {
        let cert = match x509_parser::parse_x509_certificate(der) {
            Ok((_, c)) => c,
            Err(e) => {
                f.problem(
                    what,
                    format!("{} の証明書を解釈できません: {e}", path.display()),
                    format!("a certificate in {} does not parse: {e}", path.display()),
                );
                return None;
            }
        };
        let subject = cert.subject().to_string();
        let (from_s, until_s) = (
            cert.validity().not_before.timestamp(),
            cert.validity().not_after.timestamp(),
        );
        let (from, until) = (date(from_s), date(until_s));
        let days_left = (until_s - now) / 86_400;
        if until_s < now {
            f.problem(
                what,
                format!("{}（{subject}）は {} に期限切れです", path.display(), until),
                format!("{} ({subject}) expired on {until}", path.display()),
            );
        } else if from_s > now {
            f.problem(
                what,
                format!(
                    "{}（{subject}）はまだ有効ではありません（{from} から）",
                    path.display()
                ),
                format!("{} ({subject}) is not valid before {from}", path.display()),
            );
        } else if days_left < WARN_DAYS {
            f.warning(
                what,
                format!(
                    "{}（{subject}）はあと {days_left} 日で期限切れです（{until}）",
                    path.display()
                ),
                format!(
                    "{} ({subject}) expires in {days_left} days ({until})",
                    path.display()
                ),
            );
        } else {
            f.ok(
                what,
                format!("{}（{subject}）は {until} まで有効です", path.display()),
                format!("{} ({subject}) is valid until {until}", path.display()),
            );
        }
    }
    Some(chain)
}

/// Unix seconds as RFC 3339 (UTC).
fn date(secs: i64) -> String {
    crate::domain::rfc3339(secs.saturating_mul(1000))
}

/// Checks that the private key in `key` parses, matches the first certificate of `chain`, and is not readable
/// by every user (a warning when its group may read it).
pub(super) fn key_matches(
    f: &mut Findings,
    what: &str,
    key: &Path,
    chain: Option<Vec<CertificateDer<'static>>>,
) {
    let der = match PrivateKeyDer::from_pem_file(key) {
        Ok(k) => k,
        Err(e) => {
            f.problem(
                what,
                format!("{} をPEMの秘密鍵として読めません: {e}", key.display()),
                format!("cannot read {} as a PEM private key: {e}", key.display()),
            );
            return;
        }
    };
    private_mode(f, what, key);
    let Some(chain) = chain else { return };
    let provider = rustls::crypto::ring::default_provider();
    match rustls::sign::CertifiedKey::from_der(chain, der, &provider) {
        Ok(_) => f.ok(
            what,
            format!("{} は証明書と対になっています", key.display()),
            format!("{} matches its certificate", key.display()),
        ),
        Err(e) => f.problem(
            what,
            format!("{} は証明書と対になっていません: {e}", key.display()),
            format!("{} does not match its certificate: {e}", key.display()),
        ),
    }
}

/// A private key readable by every user is a problem; by its group, a warning.
pub(super) fn private_mode(f: &mut Findings, what: &str, path: &Path) {
    let Some(m) = mode(path) else { return };
    if m & 0o004 != 0 {
        f.problem(
            what,
            format!(
                "秘密鍵 {} を全ユーザーが読めます（{m:o}）。chmod 600 にしてください",
                path.display()
            ),
            format!(
                "the private key {} is readable by every user (mode {m:o}): chmod 600 it",
                path.display()
            ),
        );
    } else if m & 0o040 != 0 {
        f.warning(
            what,
            format!("秘密鍵 {} をグループが読めます（{m:o}）", path.display()),
            format!(
                "the private key {} is readable by its group (mode {m:o})",
                path.display()
            ),
        );
    }
}
