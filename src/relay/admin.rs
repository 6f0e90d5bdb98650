//! Offices and credentials: used by the command line and the admin API. Every change is an event.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::sha256_hex;
use super::{Relay, RelayError, Result};
use crate::domain::{ClientCert, Office, OfficeKind, Principal};
use crate::message::{Message, clip};
use crate::spec::Spec;
use crate::store::{NewEvent, StoreError, TokenInfo};

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
    kind_fits(spec, office)?;
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

/// The kind must fit the service types: a care-manager office (居宅介護支援事業所) offers 43, a prevention centre
/// (地域包括支援センター) 46 or AF, and a provider at least one service that is not care management.
fn kind_fits(spec: &Spec, office: &Office) -> Result<()> {
    let planner = |t: &String| spec.service_type(t).is_some_and(|s| s.scope == "planner");
    let types = &office.service_types;
    let (fits, ja, en) = match office.kind {
        OfficeKind::CareManager => (
            types.iter().any(|t| t == "43"),
            "居宅介護支援事業所（care_manager）はサービス種類 43 を含めてください。",
            "a care-manager office (care_manager) offers service type 43",
        ),
        OfficeKind::PreventionCenter => (
            types.iter().any(|t| t == "46" || t == "AF"),
            "地域包括支援センター（prevention_center）はサービス種類 46 か AF を含めてください。",
            "a prevention centre (prevention_center) offers service type 46 or AF",
        ),
        OfficeKind::Provider => (
            types.iter().any(|t| !planner(t)),
            "サービス事業所（provider）は居宅介護支援・介護予防支援以外のサービス種類を含めてください。",
            "a provider offers at least one service type other than care management (43, 46, AF)",
        ),
    };
    if fits {
        Ok(())
    } else {
        Err(RelayError::BadRequest(Message::new(ja, en)))
    }
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

impl Relay {
    /// Registers an office.
    pub async fn add_office(&self, office: &Office, actor: &str) -> Result<()> {
        let store = &self.store;
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

    /// Changes an office's name and/or service types (an `office.edited` event with what changed); answers the
    /// office as it now stands. The same rules as [`Relay::add_office`] apply to the result.
    ///
    /// Errors: [`RelayError::NotFound`] for an unregistered office, `BadRequest` for a name or service types the
    /// relay refuses.
    pub async fn edit_office(
        &self,
        number: &str,
        name: Option<&str>,
        service_types: Option<Vec<String>>,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<Office> {
        let store = &self.store;
        let mut office = store.office(number).await?;
        if let Some(n) = name {
            office.name = n.trim().to_string();
        }
        if let Some(t) = service_types {
            office.service_types = t;
        }
        check_office_fields(&office)?;
        let event = NewEvent::new(
            "office.edited",
            Some(number),
            json!({ "name_changed": name.is_some(), "service_types": office.service_types, "actor": actor }),
        )
        .request(request_id);
        store
            .edit_office(number, &office.name, &office.service_types, event)
            .await?;
        Ok(store.office(number).await?)
    }

    /// Sets whether the office's portal users must also present the office's client certificate at login
    /// (`office.login_certificate` event).
    ///
    /// Errors: [`RelayError::NotFound`] for an unregistered office.
    pub async fn set_login_certificate(
        &self,
        number: &str,
        required: bool,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<()> {
        let store = &self.store;
        let event = NewEvent::new(
            "office.login_certificate",
            Some(number),
            json!({ "required": required, "actor": actor }),
        )
        .request(request_id);
        Ok(store.set_login_certificate(number, required, event).await?)
    }

    /// Issues a token for an office (or an admin token with `None`).
    pub async fn issue_token(&self, office: Option<&str>, actor: &str) -> Result<IssuedToken> {
        let store = &self.store;
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

    /// Enables or disables an office (`office.enabled` / `office.disabled` event, with the actor and request id);
    /// answers the office as it now stands. A disabled office cannot authenticate and receives nothing.
    ///
    /// Errors: [`RelayError::NotFound`] for an unregistered office.
    pub async fn set_office_enabled(
        &self,
        number: &str,
        enabled: bool,
        actor: &str,
        request_id: Option<&str>,
    ) -> Result<Office> {
        let store = &self.store;
        let kind = if enabled {
            "office.enabled"
        } else {
            "office.disabled"
        };
        let event = NewEvent::new(kind, Some(number), json!({ "actor": actor })).request(request_id);
        store.set_office_enabled(number, enabled, event).await?;
        Ok(store.office(number).await?)
    }

    /// An office's tokens (never the tokens themselves), oldest first.
    ///
    /// Errors: [`RelayError::NotFound`] for an unregistered office.
    pub async fn office_tokens(&self, number: &str) -> Result<Vec<TokenInfo>> {
        let store = &self.store;
        store.office(number).await?;
        Ok(store.tokens(Some(number)).await?)
    }

    /// Revokes a token by id.
    pub async fn revoke_token(&self, id: &str, actor: &str) -> Result<()> {
        let store = &self.store;
        store
            .revoke_token(
                id,
                NewEvent::new("token.revoked", None, json!({ "token_id": id, "actor": actor })),
            )
            .await?;
        Ok(())
    }
}
