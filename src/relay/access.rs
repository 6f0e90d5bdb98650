//! Authentication under the throttle: every door that checks a credential (bearer tokens, client
//! certificates, the admin page's login and session) goes through here, so that failures are counted, slowed
//! down and locked out in one place (`throttle`). Lockouts are audit events and admins may clear them.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use super::throttle::{Lockout, ThrottleKey};
use super::{Relay, RelayError, Result};
use crate::domain::{ClientCert, Principal};
use crate::message::Message;
use crate::store::NewEvent;

/// The keys a request is counted under: its source address, and the token it presented.
pub(super) fn keys(source: Option<IpAddr>, token: Option<&str>) -> Vec<ThrottleKey> {
    source
        .map(ThrottleKey::address)
        .into_iter()
        .chain(token.map(ThrottleKey::token))
        .collect()
}

fn throttled(retry_after: Duration) -> RelayError {
    let secs = retry_after.as_secs().max(1);
    RelayError::Throttled {
        retry_after,
        message: Message::new(
            format!(
                "認証の失敗が多すぎるため、この送信元または認証情報は一時的にロックされています。{secs} 秒後に再試行してください。"
            ),
            format!(
                "too many failed authentications: this source or credential is locked out; retry in {secs} s"
            ),
        ),
    }
}

impl Relay {
    /// Refuses (429) when any of `keys` is locked out.
    pub(super) fn refuse_if_locked(&self, keys: &[ThrottleKey]) -> Result<()> {
        match self.throttle.locked(keys, Instant::now()) {
            Some(left) => Err(throttled(left)),
            None => Ok(()),
        }
    }

    /// Counts a failed authentication: records an `auth.locked_out` event for each key it locks (once per
    /// lockout, never per failure), then waits the slow-down delay (a timer; no thread is held).
    pub(super) async fn auth_failed(&self, keys: &[ThrottleKey], request_id: Option<&str>) {
        let failure = self.throttle.failure(keys, Instant::now());
        self.metrics.auth_failure(failure.locked.len());
        if !failure.locked.is_empty() {
            let lockout = self.throttle.limits.lockout.as_secs();
            let events: Vec<NewEvent> = failure
                .locked
                .iter()
                .map(|(key, failures)| {
                    tracing::warn!(key = %key, failures, "authentication locked out");
                    NewEvent::new(
                        "auth.locked_out",
                        None,
                        json!({ "key": key.to_string(), "kind": key.kind(), "failures": failures, "lockout_secs": lockout }),
                    )
                    .request(request_id)
                })
                .collect();
            if let Err(e) = self.store.record(&events).await {
                tracing::warn!(error = %e, "recording a lockout failed");
            }
        }
        if !failure.delay.is_zero() {
            tokio::time::sleep(failure.delay).await;
        }
    }

    /// [`Relay::authenticate`] for a request from `source`: without a credential, 401 at once (nothing counted);
    /// 429 while the source or the token is locked out (even for a correct credential); a credential that
    /// fails is counted (and delayed) before the 401.
    pub async fn authenticate_from(
        &self,
        source: Option<IpAddr>,
        bearer: Option<&str>,
        cert: Option<&ClientCert>,
        request_id: Option<&str>,
    ) -> Result<Principal> {
        if bearer.is_none() && cert.is_none() {
            return Err(RelayError::Unauthenticated);
        }
        let keys = keys(source, bearer);
        self.refuse_if_locked(&keys)?;
        match self.authenticate(bearer, cert).await {
            Err(RelayError::Unauthenticated) => {
                self.auth_failed(&keys, request_id).await;
                Err(RelayError::Unauthenticated)
            }
            other => other,
        }
    }

    /// The lockouts in force in this process.
    pub fn lockouts(&self) -> Vec<Lockout> {
        self.throttle.lockouts(Instant::now())
    }

    /// Ends the lockout of `key` (as `Display` of [`ThrottleKey`] writes it), with an `auth.lockout_cleared`
    /// event. `NotFound` when it is not locked, or is not a key at all (no lockout can have it).
    pub async fn clear_lockout(&self, key: &str, actor: &str, request_id: Option<&str>) -> Result<()> {
        let parsed: ThrottleKey = key.parse().map_err(|()| RelayError::NotFound)?;
        if !self.throttle.clear(&parsed, Instant::now()) {
            return Err(RelayError::NotFound);
        }
        let event = NewEvent::new(
            "auth.lockout_cleared",
            None,
            json!({ "key": parsed.to_string(), "kind": parsed.kind(), "actor": actor }),
        )
        .request(request_id);
        self.store.record(&[event]).await?;
        Ok(())
    }
}
