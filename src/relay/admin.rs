//! Offices and credentials: used by the command line and the admin API. Every change is an event.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::submit::sha256_hex;
use super::{Relay, RelayError, Result};
use crate::domain::{ClientCert, Office, Principal};
use crate::message::{Message, clip};
use crate::spec::Spec;
use crate::store::{NewEvent, Store, StoreError};

/// A freshly issued token: shown once, only its hash is stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: String,
    pub token: secrecy::SecretString,
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Registers an office.
pub async fn add_office(store: &Store, office: &Office, actor: &str) -> Result<()> {
    if !Office::valid_number(&office.number) {
        return Err(RelayError::BadRequest(Message::new(
            "事業所番号は10桁の数字です。",
            "an office number is 10 digits",
        )));
    }
    check_office_fields(office)?;
    let event = NewEvent::new(
        "office.added",
        Some(&office.number),
        json!({ "kind": office.kind, "service_types": office.service_types, "actor": actor }),
    );
    store.add_office(office, event).await.map_err(|e| match e {
        StoreError::Conflict => RelayError::Conflict(Message::new(
            format!("事業所 {} は既に登録されています。", office.number),
            format!("office {} is already registered", office.number),
        )),
        e => e.into(),
    })
}

/// Longest office name taken, in characters.
pub const MAX_OFFICE_NAME_CHARS: usize = 100;
/// Most service types one office may register.
pub const MAX_SERVICE_TYPES: usize = 32;

/// An office's name is 1 to [`MAX_OFFICE_NAME_CHARS`] characters with no control characters; its service types
/// are 1 to [`MAX_SERVICE_TYPES`] distinct codes of the service-type table (`spec/service_types.csv`).
fn check_office_fields(office: &Office) -> Result<()> {
    let bad = |ja: String, en: String| Err(RelayError::BadRequest(Message::new(ja, en)));
    let name = office.name.trim();
    if name.is_empty() || name.chars().count() > MAX_OFFICE_NAME_CHARS || name.chars().any(char::is_control) {
        return bad(
            format!(
                "事業所名は1〜{MAX_OFFICE_NAME_CHARS}文字で、制御文字を含めません: 「{}」",
                clip(name)
            ),
            format!(
                "an office name is 1 to {MAX_OFFICE_NAME_CHARS} characters without control characters: `{}`",
                clip(name)
            ),
        );
    }
    let types = &office.service_types;
    if types.is_empty() || types.len() > MAX_SERVICE_TYPES {
        return bad(
            format!("サービス種類は1〜{MAX_SERVICE_TYPES}個指定してください。"),
            format!("an office offers 1 to {MAX_SERVICE_TYPES} service types"),
        );
    }
    let spec = Spec::get().map_err(|e| anyhow::anyhow!("{e}"))?;
    for (i, t) in types.iter().enumerate() {
        if spec.service_type(t).is_none() {
            return bad(
                format!(
                    "サービス種類コード「{}」はサービス種類コード表にありません。",
                    clip(t)
                ),
                format!("service type `{}` is not in the service-type code table", clip(t)),
            );
        }
        if types[..i].contains(t) {
            return bad(
                format!("サービス種類コード「{t}」が2回指定されています。"),
                format!("service type `{t}` is given twice"),
            );
        }
    }
    Ok(())
}

/// Issues a token for an office (or an admin token with `None`).
pub async fn issue_token(store: &Store, office: Option<&str>, actor: &str) -> Result<IssuedToken> {
    if let Some(o) = office {
        store.office(o).await?;
    }
    let id = uuid::Uuid::new_v4().to_string();
    let token = format!("cpr_{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let event = NewEvent::new(
        "token.issued",
        office,
        json!({ "token_id": id, "admin": office.is_none(), "actor": actor }),
    );
    store
        .insert_token(&id, office, &token_hash(&token), event)
        .await?;
    Ok(IssuedToken {
        id,
        token: token.into(),
    })
}

/// Revokes a token by id.
pub async fn revoke_token(store: &Store, id: &str, actor: &str) -> Result<()> {
    store
        .revoke_token(
            id,
            NewEvent::new("token.revoked", None, json!({ "token_id": id, "actor": actor })),
        )
        .await?;
    Ok(())
}

impl Relay {
    /// Who a bearer token or a verified client certificate stands for. A certificate recorded as revoked (or
    /// recorded for another office) is `Unauthenticated`; one that was never recorded here (the operator's own
    /// CA) authenticates the office in its subject.
    pub async fn authenticate(&self, bearer: Option<&str>, cert: Option<&ClientCert>) -> Result<Principal> {
        if let Some(token) = bearer {
            let row = self
                .store
                .token_by_hash(&token_hash(token))
                .await?
                .ok_or(RelayError::Unauthenticated)?;
            if row.revoked {
                return Err(RelayError::Unauthenticated);
            }
            return match (row.office, row.office_enabled) {
                (Some(_), None) => Err(RelayError::Unauthenticated),
                (Some(o), Some(false)) => Err(disabled(&o)),
                (Some(o), Some(true)) => Ok(Principal::Office(o)),
                (None, _) => Ok(Principal::Admin { token_id: row.id }),
            };
        }
        match cert {
            Some(c) => {
                self.check_certificate(c).await?;
                self.enabled_office(&c.office).await
            }
            None => Err(RelayError::Unauthenticated),
        }
    }

    async fn enabled_office(&self, number: &str) -> Result<Principal> {
        match self.store.office(number).await {
            Ok(o) if o.enabled => Ok(Principal::Office(o.number)),
            Ok(_) => Err(disabled(number)),
            Err(StoreError::NotFound) => Err(RelayError::Unauthenticated),
            Err(e) => Err(e.into()),
        }
    }
}

fn disabled(office: &str) -> RelayError {
    RelayError::Forbidden(Message::new(
        format!("事業所 {office} は利用停止中です。"),
        format!("office {office} is disabled"),
    ))
}
