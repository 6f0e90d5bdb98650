//! `user add|list|reset|unlock|disable`: office users of the browser portal (`/office/`). A new or reset user
//! gets a one-time password, printed alone on the last line of stdout; it must be changed at the next login.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use super::admin::{fail, open_relay};
use crate::config::Settings;
use crate::domain::rfc3339;
use crate::relay::RelayError;

/// Which user: the login ID, and optionally the office it must belong to.
#[derive(Debug, Args)]
pub struct Which {
    /// The office number (事業所番号) the user must belong to.
    #[arg(long)]
    office: Option<String>,
    /// The user's login ID.
    #[arg(long)]
    login: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an office user; the one-time initial password is printed alone on the last line.
    Add {
        /// The office number (事業所番号) the user acts for.
        #[arg(long)]
        office: String,
        /// The login ID: 3 to 64 ASCII letters, digits, `.`, `_`, `-`, `@`.
        #[arg(long)]
        login: String,
    },
    /// List an office's users: login ID, state, created (tab-separated).
    List {
        #[arg(long)]
        office: String,
    },
    /// Set a new one-time password (printed alone on the last line), unlock the user and end their sessions.
    Reset(Which),
    /// Lift the lockout after repeated wrong passwords.
    Unlock(Which),
    /// Disable the user: logins are refused and their sessions end.
    Disable(Which),
}

fn print_password(what: &str, login: &str, password: &SecretString) {
    say!("{what} {login}; the one-time password is shown once and must be changed at the first login:");
    say!("{}", password.expose_secret());
}

fn not_found(login: &str) -> anyhow::Result<ExitCode> {
    eprintln!("careplan-relay: no office user with login ID {login} (in that office)");
    Ok(ExitCode::from(1))
}

pub(super) async fn user(settings: &Settings, c: UserCommand) -> anyhow::Result<ExitCode> {
    let relay = open_relay(settings).await?;
    let result = match &c {
        UserCommand::Add { office, login } => relay
            .add_user(office, login, "cli")
            .await
            .map(|p| print_password("added office user", login, &p)),
        UserCommand::List { office } => match relay.users(office).await {
            Ok(list) => {
                let now = crate::domain::now_ms();
                for u in list {
                    let state = if u.disabled_at.is_some() {
                        "disabled"
                    } else if u.locked_until.is_some_and(|t| t > now) {
                        "locked"
                    } else if u.must_change {
                        "must_change_password"
                    } else {
                        "active"
                    };
                    say!("{}\t{state}\t{}", u.login, rfc3339(u.created_at));
                }
                Ok(())
            }
            Err(e) => Err(e),
        },
        UserCommand::Reset(w) => relay
            .reset_user(&w.login, w.office.as_deref(), "cli")
            .await
            .map(|p| print_password("reset office user", &w.login, &p)),
        UserCommand::Unlock(w) => relay
            .unlock_user(&w.login, w.office.as_deref(), "cli")
            .await
            .map(|()| say!("unlocked office user {}", w.login)),
        UserCommand::Disable(w) => relay
            .disable_user(&w.login, w.office.as_deref(), "cli")
            .await
            .map(|()| say!("disabled office user {}", w.login)),
    };
    relay.close().await;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(RelayError::NotFound) => match c {
            UserCommand::Add { office, .. } => {
                eprintln!("careplan-relay: office {office} is not registered");
                Ok(ExitCode::from(1))
            }
            UserCommand::Reset(w) | UserCommand::Unlock(w) | UserCommand::Disable(w) => not_found(&w.login),
            UserCommand::List { .. } => Ok(ExitCode::SUCCESS),
        },
        Err(e) => fail(&e),
    }
}
