//! An admin's management of office users: add, list, reset, unlock, disable; each change with its audit event.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{bad_login, hash_password, initial_password, valid_login};
use crate::message::{Message, clip};
use crate::relay::{Relay, RelayError, Result};
use crate::store::{NewEvent, StoreError, UserChange, UserRow};

impl Relay {
    /// Creates an office user with a one-time initial password (returned, never stored), which must be changed at
    /// the first login. `BadRequest` for a malformed login ID, `NotFound` for an unknown office, `Conflict` for a
    /// login ID in use.
    pub async fn add_user(&self, office: &str, login: &str, actor: &str) -> Result<SecretString> {
        let store = &self.store;
        if !valid_login(login) {
            return Err(bad_login(login));
        }
        let password = initial_password();
        let hash = hash_password(password.expose_secret()).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let event = NewEvent::new(
            "user.added",
            Some(office),
            json!({ "user_id": id, "login": login, "actor": actor }),
        );
        match store.insert_user(&id, office, login, &hash, event).await {
            Ok(()) => Ok(password),
            Err(StoreError::Conflict) => Err(RelayError::Conflict(Message::new(
                format!("ログインID「{}」は既に使われています。", clip(login)),
                format!("login ID `{}` is already in use", clip(login)),
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// An office's portal users, by login ID (none for an unknown office).
    pub async fn users(&self, office: &str) -> Result<Vec<UserRow>> {
        Ok(self.store.users(office).await?)
    }

    /// The user with this login ID (of `office`, when given); `NotFound` otherwise.
    pub async fn user(&self, login: &str, office: Option<&str>) -> Result<UserRow> {
        let store = &self.store;
        match store.user_by_login(login).await? {
            Some(u) if office.is_none_or(|o| o == u.office) => Ok(u),
            _ => Err(RelayError::NotFound),
        }
    }

    /// Sets a new one-time password (returned), to be changed at the next login; unlocks the user and ends their
    /// sessions. `NotFound` for an unknown login ID.
    pub async fn reset_user(&self, login: &str, office: Option<&str>, actor: &str) -> Result<SecretString> {
        let password = initial_password();
        let hash = hash_password(password.expose_secret()).await?;
        let change = UserChange {
            password: Some((&hash, true)),
            unlock: true,
            ..UserChange::default()
        };
        self.change_user(login, office, &change, "user.reset", actor)
            .await?;
        Ok(password)
    }

    /// Lifts a user's lockout after wrong passwords. `NotFound` for an unknown login ID.
    pub async fn unlock_user(&self, login: &str, office: Option<&str>, actor: &str) -> Result<()> {
        let change = UserChange {
            unlock: true,
            ..UserChange::default()
        };
        self.change_user(login, office, &change, "user.unlocked", actor)
            .await
    }

    /// Disables a user: logins are refused and their sessions end. `NotFound` for an unknown login ID.
    pub async fn disable_user(&self, login: &str, office: Option<&str>, actor: &str) -> Result<()> {
        let change = UserChange {
            disable: true,
            ..UserChange::default()
        };
        self.change_user(login, office, &change, "user.disabled", actor)
            .await
    }

    /// An admin's change to a user, with its event (`kind`, the user's id and login, the actor).
    async fn change_user(
        &self,
        login: &str,
        office: Option<&str>,
        change: &UserChange<'_>,
        kind: &'static str,
        actor: &str,
    ) -> Result<()> {
        let u = self.user(login, office).await?;
        let event = NewEvent::new(
            kind,
            Some(&u.office),
            json!({ "user_id": u.id, "login": u.login, "actor": actor }),
        );
        Ok(self.store.update_user(&u.id, change, event).await?)
    }
}
