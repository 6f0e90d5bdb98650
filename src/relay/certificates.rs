//! Client certificates of offices: issued from the relay's CA and recorded (serial, office, validity) with a
//! `certificate.issued` event, listed, revoked with a `certificate.revoked` event, and checked at authentication:
//! a revoked serial is refused. A certificate from the operator's own CA that was never issued here has no record
//! and is accepted for as long as the CA and its validity allow.

use std::path::Path;

use serde_json::json;

use super::{Relay, RelayError, Result};
use crate::domain::{ClientCert, Office};
use crate::message::{Message, clip};
use crate::store::{CertificateRow, NewEvent, StoreError};
use crate::tls::{ClientCertificate, MAX_CLIENT_CERT_DAYS, make_client_cert};

/// Longest serial number accepted from a client, in hex digits (RFC 5280: at most 20 octets).
const MAX_SERIAL_HEX: usize = 40;

/// A serial number as typed or sent (hex, any case, optionally with `:` between octets) in its recorded form:
/// lower-case hex without leading zero octets. `BadRequest` for anything else.
pub fn parse_serial(s: &str) -> Result<String> {
    let digits: String = s
        .chars()
        .filter(|&c| c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if digits.is_empty() || digits.len() > MAX_SERIAL_HEX || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RelayError::BadRequest(Message::new(
            format!(
                "証明書のシリアル番号 {} が不正です（16進数で40桁まで）。",
                clip(s)
            ),
            format!(
                "invalid certificate serial number {} (hexadecimal, at most 40 digits)",
                clip(s)
            ),
        )));
    }
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    };
    let trimmed = padded.trim_start_matches("00");
    Ok(if trimmed.is_empty() {
        "00".into()
    } else {
        trimmed.to_string()
    })
}

impl Relay {
    /// Makes a client certificate for `office` signed by the CA (`ca_cert`, `ca_key`: PEM files), valid for
    /// `days` days, and records it with its `certificate.issued` event before returning it; the caller writes
    /// it out ([`ClientCertificate::write`]). `BadRequest` for a malformed office number or a validity outside
    /// 1 to 3650 days.
    pub async fn issue_certificate(
        &self,
        ca_cert: &Path,
        ca_key: &Path,
        office: &str,
        days: u32,
        actor: &str,
    ) -> Result<ClientCertificate> {
        if !Office::valid_number(office) {
            return Err(RelayError::BadRequest(Message::new(
                "事業所番号は10桁の数字です。",
                "an office number is 10 digits",
            )));
        }
        if !(1..=MAX_CLIENT_CERT_DAYS).contains(&days) {
            return Err(RelayError::BadRequest(Message::new(
                format!(
                    "証明書の有効期間は1日から{MAX_CLIENT_CERT_DAYS}日までです（{days}日が指定されました）。"
                ),
                format!("a client certificate is valid for 1 to {MAX_CLIENT_CERT_DAYS} days, not {days}"),
            )));
        }
        let cert = make_client_cert(ca_cert, ca_key, office, days)?;
        let row = CertificateRow {
            serial: cert.serial.clone(),
            office: cert.office.clone(),
            not_before: cert.not_before,
            not_after: cert.not_after,
            issued_at: 0,
            revoked_at: None,
        };
        let event = NewEvent::new(
            "certificate.issued",
            Some(office),
            json!({
                "serial": cert.serial, "not_before": cert.not_before, "not_after": cert.not_after,
                "days": days, "actor": actor,
            }),
        );
        self.store.insert_certificate(&row, event).await?;
        Ok(cert)
    }

    /// Issued certificates, newest first, of one office or of all; at most `limit`.
    pub async fn certificates(&self, office: Option<&str>, limit: i64) -> Result<Vec<CertificateRow>> {
        Ok(self.store.certificates(office, limit).await?)
    }

    /// Revokes the certificate with this serial (as [`parse_serial`] reads it) and records `certificate.revoked`;
    /// revoking it again changes nothing. `NotFound` if no certificate with this serial was issued here.
    pub async fn revoke_certificate(
        &self,
        serial: &str,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<CertificateRow> {
        let serial = parse_serial(serial)?;
        let event = NewEvent::new(
            "certificate.revoked",
            None,
            json!({ "serial": serial, "actor": actor }),
        )
        .request(request_id);
        Ok(self.store.revoke_certificate(&serial, event).await?)
    }

    /// Whether an office is registered (a certificate for an unregistered office authenticates nobody).
    pub async fn office_registered(&self, number: &str) -> Result<bool> {
        match self.store.office(number).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Refuses (`Unauthenticated`) a client certificate recorded here as revoked, or recorded for another office.
    pub(super) async fn check_certificate(&self, cert: &ClientCert) -> Result<()> {
        match self.store.certificate(&cert.serial).await? {
            Some(row) if row.revoked_at.is_some() || row.office != cert.office => {
                Err(RelayError::Unauthenticated)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_serial;

    #[test]
    fn serials_are_read_in_their_recorded_form() {
        assert_eq!(parse_serial("0A:1b:ff").ok().as_deref(), Some("0a1bff"));
        assert_eq!(parse_serial("00ab").ok().as_deref(), Some("ab"));
        assert_eq!(parse_serial("abc").ok().as_deref(), Some("0abc"));
        assert_eq!(parse_serial("0").ok().as_deref(), Some("00"));
        assert!(parse_serial("").is_err());
        assert!(parse_serial("xyz").is_err());
        assert!(parse_serial(&"a".repeat(41)).is_err());
    }
}
