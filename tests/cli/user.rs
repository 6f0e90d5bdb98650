//! `careplan-relay user` as an operator runs it: add (the one-time password alone on the last line of stdout),
//! list, reset, unlock and disable, each checked against a real login through the relay on both databases.

use std::time::Duration;

use careplan_relay::relay::{Relay, RelayError};
use careplan_relay::spec::Spec;
use careplan_relay::store::Store;

use crate::cert::relay;
use crate::support;

/// The last line of stdout: what `user add` and `user reset` print the password on.
fn last_line(out: &str) -> String {
    out.lines().last().unwrap_or_default().to_string()
}

async fn login(r: &Relay, login: &str, password: &str) -> Result<(), RelayError> {
    r.office_login(None, login, password, None, None)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn user_add_reset_unlock_disable() {
    for db in support::db::backends().await {
        let data = tempfile::tempdir().expect("tmp");
        let url = [("CAREPLAN_RELAY__DATABASE__URL", db.url.as_str())];
        let run = |args: &[&str]| relay(data.path(), &url, args);
        let (code, _, err) = run(&[
            "office",
            "add",
            "1310000002",
            "--name",
            "訪問介護B",
            "--kind",
            "provider",
            "--service-type",
            "11",
        ]);
        assert_eq!(code, 0, "{err}");

        // add: the password alone on the last line; a second user with the same login ID, an unknown office
        // and a malformed login ID are refused.
        let add = ["user", "add", "--office", "1310000002", "--login", "kato"];
        let (code, out, err) = run(&add);
        assert_eq!(code, 0, "{err}");
        let first = last_line(&out);
        assert_eq!(first.len(), 16, "{out}");
        assert!(first.bytes().all(|b| b.is_ascii_alphanumeric()), "{out}");
        assert!(out.lines().count() >= 2, "a line that says what it is: {out}");
        let (code, _, err) = run(&add);
        assert_eq!(code, 1);
        assert!(err.contains("already in use"), "{err}");
        let (code, _, err) = run(&["user", "add", "--office", "1399999999", "--login", "sato"]);
        assert_eq!(code, 1);
        assert!(err.contains("not registered"), "{err}");
        let (code, _, _) = run(&["user", "add", "--office", "1310000002", "--login", "a b"]);
        assert_eq!(code, 1);
        let (code, list, _) = run(&["user", "list", "--office", "1310000002"]);
        assert_eq!(code, 0);
        assert!(list.starts_with("kato\tmust_change_password\t"), "{list}");

        // The printed password logs in; a wrong one does not.
        let store = Store::connect(&db.url, None).await.expect("connect");
        let spec = Spec::get().expect("spec");
        let policies = careplan_relay::relay::Policies {
            max_wait: Duration::from_secs(1),
            ..Default::default()
        };
        let r = Relay::open(store.clone(), spec, data.path(), policies).expect("relay");
        login(&r, "kato", &first).await.expect("the printed password");
        assert!(matches!(
            login(&r, "kato", "wrong password").await,
            Err(RelayError::Unauthenticated)
        ));

        // Locked after max_failures wrong passwords (even the right one is refused), until `user unlock`.
        for _ in 1..r.throttle.limits.max_failures {
            assert!(login(&r, "kato", "wrong password").await.is_err());
        }
        assert!(matches!(
            login(&r, "kato", &first).await,
            Err(RelayError::Throttled { .. })
        ));
        let (_, list, _) = run(&["user", "list", "--office", "1310000002"]);
        assert!(list.starts_with("kato\tlocked\t"), "{list}");
        let (code, out, err) = run(&["user", "unlock", "--office", "1310000002", "--login", "kato"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("unlocked"), "{out}");
        login(&r, "kato", &first).await.expect("unlocked");

        // reset: a new one-time password; the old one stops working.
        let (code, out, err) = run(&["user", "reset", "--login", "kato"]);
        assert_eq!(code, 0, "{err}");
        let second = last_line(&out);
        assert_eq!(second.len(), 16);
        assert_ne!(first, second);
        assert!(login(&r, "kato", &first).await.is_err());
        login(&r, "kato", &second).await.expect("the reset password");
        let (code, _, err) = run(&["user", "reset", "--office", "1310000001", "--login", "kato"]);
        assert_eq!(code, 1, "another office's user is not found");
        assert!(err.contains("no office user"), "{err}");

        // disable: even the right password is refused.
        let (code, out, err) = run(&["user", "disable", "--office", "1310000002", "--login", "kato"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("disabled"), "{out}");
        assert!(matches!(
            login(&r, "kato", &second).await,
            Err(RelayError::Unauthenticated)
        ));
        let (code, _, _) = run(&["user", "unlock", "--login", "nobody"]);
        assert_eq!(code, 1);
        store.close().await;
        db.cleanup().await;
    }
}
