//! The store against both real databases: SQLite and PostgreSQL, the same assertions.
#![allow(clippy::expect_used, clippy::unwrap_used, unreachable_pub)] // tests panic on failure

mod support;

use careplan_relay::domain::{Office, OfficeKind, Status};
use careplan_relay::store::{InboxQuery, NewEvent, Newer, Store, StoreError};
use serde_json::json;
use support::stored::submission;

fn office(n: &str, kind: OfficeKind, types: &[&str]) -> Office {
    Office {
        number: n.into(),
        name: format!("office {n}"),
        kind,
        service_types: types.iter().map(|s| s.to_string()).collect(),
        enabled: true,
    }
}

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in support::db::backends().await {
        let store = Store::connect(&db.url, None).await.expect("connect and migrate");
        assert_eq!(store.backend(), db.backend);
        f(store.clone()).await;
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn offices_and_tokens() {
    each_backend(|s| async move {
        let o = office("1310000001", OfficeKind::CareManager, &["43"]);
        s.add_office(&o, NewEvent::new("office.added", Some("1310000001"), json!({})))
            .await
            .unwrap();
        let again = s
            .add_office(&o, NewEvent::new("office.added", None, json!({})))
            .await;
        assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
        assert_eq!(s.office("1310000001").await.unwrap(), o);
        assert!(matches!(s.office("9999999999").await, Err(StoreError::NotFound)));
        s.set_office_enabled(
            "1310000001",
            false,
            NewEvent::new("office.disabled", None, json!({})),
        )
        .await
        .unwrap();
        assert!(!s.office("1310000001").await.unwrap().enabled);

        s.insert_token(
            "t1",
            Some("1310000001"),
            "hash1",
            NewEvent::new("token.issued", None, json!({})),
        )
        .await
        .unwrap();
        s.insert_token(
            "t2",
            None,
            "hash2",
            NewEvent::new("token.issued", None, json!({})),
        )
        .await
        .unwrap();
        let t = s.token_by_hash("hash1").await.unwrap().unwrap();
        assert_eq!(
            (t.office.as_deref(), t.admin, t.revoked),
            (Some("1310000001"), false, false)
        );
        assert!(s.token_by_hash("hash2").await.unwrap().unwrap().admin);
        assert!(s.token_by_hash("nope").await.unwrap().is_none());
        s.revoke_token("t1", NewEvent::new("token.revoked", None, json!({})))
            .await
            .unwrap();
        assert!(s.token_by_hash("hash1").await.unwrap().unwrap().revoked);
        assert!(matches!(
            s.revoke_token("zz", NewEvent::new("token.revoked", None, json!({})))
                .await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.tokens(Some("1310000001")).await.unwrap().len(), 1);
        assert_eq!(s.tokens(None).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn every_office_s_tokens_and_users_in_one_read_each() {
    each_backend(|s| async move {
        let ev = || NewEvent::new("test", None, json!({}));
        for n in ["1310000002", "1310000001", "1310000003"] {
            s.add_office(&office(n, OfficeKind::Provider, &["11"]), ev())
                .await
                .unwrap();
        }
        for (id, o) in [
            ("a", Some("1310000002")),
            ("b", None),
            ("c", Some("1310000001")),
            ("d", Some("1310000002")),
        ] {
            s.insert_token(id, o, &format!("hash-{id}"), ev()).await.unwrap();
        }
        for (id, o, login) in [
            ("u1", "1310000002", "zeta"),
            ("u2", "1310000001", "kappa"),
            ("u3", "1310000002", "alpha"),
        ] {
            s.insert_user(id, o, login, "phc", ev()).await.unwrap();
        }
        let tokens: Vec<(String, Option<String>)> = s
            .office_tokens()
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t.office))
            .collect();
        let office = |n: &str| Some(n.to_string());
        assert_eq!(
            tokens,
            [
                ("c".into(), office("1310000001")),
                ("a".into(), office("1310000002")),
                ("d".into(), office("1310000002"))
            ],
            "office tokens by office, oldest first; no admin token"
        );
        let users: Vec<(String, String)> = s
            .all_users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.office, u.login))
            .collect();
        assert_eq!(
            users,
            [
                ("1310000001".into(), "kappa".into()),
                ("1310000002".into(), "alpha".into()),
                ("1310000002".into(), "zeta".into())
            ]
        );
        assert_eq!(s.users("1310000002").await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn submissions_inbox_download_ack() {
    each_backend(|s| async move {
        let (p, cm, other) = ("1310000002", "1310000001", "1310000009");
        s.insert_submission(submission("s2", p, cm, "20250328110000", b"second"))
            .await
            .unwrap();
        s.insert_submission(submission("s1", p, cm, "20250328100000", b"first"))
            .await
            .unwrap();
        // Same sender and names again: the unique key refuses it.
        let dup = s
            .insert_submission(submission("s3", p, cm, "20250328100000", b"other"))
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");
        let prior = s
            .prior_submission(p, "UPJSK_202504_1310000002_11_1310000001_43_20250328100000.CSV")
            .await
            .unwrap();
        assert_eq!(prior.unwrap().id, "s1");

        let q = InboxQuery {
            recipient: cm.into(),
            pending_only: true,
            after: None,
            limit: 10,
        };
        let inbox = s.inbox(&q).await.unwrap();
        let ids: Vec<&str> = inbox.iter().map(|d| d.submission_id.as_str()).collect();
        assert_eq!(ids, ["s2", "s1"], "arrival order, not sequence order");
        assert_eq!(inbox.iter().map(|d| d.arrival).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(inbox[0].older_than, None);
        assert_eq!(
            inbox[1].older_than,
            Some(Newer {
                sequence: "20250328110000".into(),
                submission_id: "s2".into(),
                delivery_id: "d-s2".into(),
            }),
            "the older set that arrived later names the newer one"
        );
        assert_eq!(s.last_arrival(cm).await.unwrap(), 2);
        assert_eq!(s.last_arrival(other).await.unwrap(), 0);
        assert_eq!(inbox[1].files[0].size, 5);
        let page = s
            .inbox(&InboxQuery {
                limit: 1,
                ..q.clone()
            })
            .await
            .unwrap();
        let cursor = page[0].arrival;
        let next = s
            .inbox(&InboxQuery {
                after: Some(cursor),
                ..q.clone()
            })
            .await
            .unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].submission_id, "s1");
        assert!(
            s.inbox(&InboxQuery {
                recipient: other.into(),
                ..q.clone()
            })
            .await
            .unwrap()
            .is_empty()
        );

        let name = &inbox[1].files[0].name;
        let ev = || NewEvent::new("delivery.downloaded", Some(cm), json!({}));
        let file = s.download(cm, "d-s1", name, ev()).await.unwrap();
        assert_eq!(
            (file.body.as_slice(), file.kind.as_str()),
            (&b"first"[..], "UPJSK")
        );
        assert!(matches!(
            s.download(other, "d-s1", name, ev()).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            matches!(s.download(p, "d-s1", name, ev()).await, Err(StoreError::NotFound)),
            "the sender cannot download"
        );
        assert_eq!(
            s.delivery_for(cm, "d-s1").await.unwrap().status,
            Status::Downloaded
        );
        assert!(matches!(
            s.delivery_for(other, "d-s1").await,
            Err(StoreError::NotFound)
        ));

        let ack = || NewEvent::new("delivery.acknowledged", Some(cm), json!({}));
        let at = s.acknowledge(cm, "d-s1", ack()).await.unwrap();
        assert_eq!(
            s.acknowledge(cm, "d-s1", ack()).await.unwrap(),
            at,
            "acknowledging twice changes nothing"
        );
        assert!(matches!(
            s.acknowledge(other, "d-s1", ack()).await,
            Err(StoreError::NotFound)
        ));
        let pending = s.inbox(&q).await.unwrap();
        assert_eq!(pending.len(), 1);
        let all = s
            .inbox(&InboxQuery {
                pending_only: false,
                ..q
            })
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        let out = s.outbox(p, 0, 10).await.unwrap();
        assert_eq!(
            out.iter().map(|d| d.status).collect::<Vec<_>>(),
            [Status::Queued, Status::Acknowledged]
        );
        let kinds: Vec<String> = s
            .events(0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds.iter().filter(|k| *k == "delivery.acknowledged").count(), 1);
    })
    .await;
}

#[tokio::test]
async fn events_are_append_only() {
    for db in support::db::backends().await {
        let s = Store::connect(&db.url, None).await.unwrap();
        s.record(&[NewEvent::new("test", None, json!({"n": 1}))])
            .await
            .unwrap();
        let (update, delete) = ("update events set kind = 'edited'", "delete from events");
        let (u, d) = if db.backend == "sqlite" {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            (
                sqlx::query(update).execute(&pool).await.is_err(),
                sqlx::query(delete).execute(&pool).await.is_err(),
            )
        } else {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            (
                sqlx::query(update).execute(&pool).await.is_err(),
                sqlx::query(delete).execute(&pool).await.is_err(),
            )
        };
        assert!(u && d, "{} allowed a change of events", db.backend);
        assert_eq!(s.events(0, 10).await.unwrap()[0].kind, "test");
        s.close().await;
        db.cleanup().await;
    }
}

/// Many sets at once (on SQLite: group-committed together), two of them racing under the same names: every
/// distinct set is stored with its delivery and events, exactly one of the racing pair wins, the other is a
/// `Conflict`, and nothing of the loser is left.
#[tokio::test]
async fn concurrent_sets_commit_together_and_a_racing_duplicate_conflicts() {
    each_backend(|s| async move {
        let (p, cm) = ("1310000002", "1310000001");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..40 {
            let (s, seq) = (s.clone(), format!("202503281{:05}", i));
            tasks.spawn(async move {
                s.insert_submission(submission(&format!("c{i}"), p, cm, &seq, b"x"))
                    .await
            });
        }
        for id in ["race-a", "race-b"] {
            let s = s.clone();
            tasks.spawn(async move {
                s.insert_submission(submission(id, p, cm, "20250329000000", id.as_bytes()))
                    .await
            });
        }
        let results = tasks.join_all().await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 41, "{results:?}");
        assert_eq!(
            results
                .iter()
                .filter(|r| matches!(r, Err(StoreError::Conflict)))
                .count(),
            1
        );
        let q = InboxQuery {
            recipient: cm.into(),
            pending_only: true,
            after: None,
            limit: 100,
        };
        let inbox = s.inbox(&q).await.unwrap();
        assert_eq!(inbox.len(), 41);
        assert!(inbox.iter().all(|d| d.files.len() == 1));
        // Arrival numbers: one each, without gaps, and the inbox lists by them.
        let mut arrivals: Vec<i64> = results
            .iter()
            .filter_map(|r| Some(r.as_ref().ok()?.arrival))
            .collect();
        arrivals.sort_unstable();
        assert_eq!(arrivals, (1..=41).collect::<Vec<i64>>());
        assert_eq!(inbox.iter().map(|d| d.arrival).collect::<Vec<_>>(), arrivals);
        // A set is flagged exactly when a set of its stream with a later sequence arrived before it, and names the
        // newest of those (sets of one batch are compared with each other as well as with the stored ones).
        for (i, d) in inbox.iter().enumerate() {
            let newest = inbox[..i]
                .iter()
                .filter(|e| e.sequence > d.sequence)
                .max_by(|a, b| a.sequence.cmp(&b.sequence));
            assert_eq!(
                d.older_than.as_ref().map(|n| (&n.sequence, &n.submission_id)),
                newest.map(|e| (&e.sequence, &e.submission_id)),
                "{}",
                d.sequence
            );
        }
        let winner = inbox.iter().find(|d| d.sequence == "20250329000000").unwrap();
        for id in ["race-a", "race-b"] {
            let events = s.events_for_submission(id).await.unwrap();
            assert_eq!(events.len(), usize::from(winner.submission_id == id), "{id}");
        }
    })
    .await;
}

#[tokio::test]
async fn admin_sessions_end_and_old_ones_are_deleted() {
    each_backend(|s| async move {
        let event = || NewEvent::new("admin.session_started", None, json!({}));
        s.insert_token(
            "admin-1",
            None,
            "hash-admin-1",
            NewEvent::new("token.issued", None, json!({})),
        )
        .await
        .unwrap();
        let now = careplan_relay::domain::now_ms();
        // Long expired, recently expired, live.
        s.insert_admin_session("old", "admin-1", now - 2 * 86_400_000, event())
            .await
            .unwrap();
        s.insert_admin_session("recent", "admin-1", now - 1_000, event())
            .await
            .unwrap();
        s.insert_admin_session("live", "admin-1", now + 60_000, event())
            .await
            .unwrap();
        assert!(
            s.admin_session("old").await.unwrap().is_none(),
            "deleted at the next login"
        );
        assert!(s.admin_session("recent").await.unwrap().is_some());
        let live = s.admin_session("live").await.unwrap().unwrap();
        assert_eq!(
            (live.token_id.as_str(), live.revoked_at, live.token_revoked),
            ("admin-1", None, false)
        );
        let ended = || NewEvent::new("admin.session_ended", None, json!({}));
        assert!(s.revoke_admin_session("live", ended()).await.unwrap());
        assert!(
            !s.revoke_admin_session("live", ended()).await.unwrap(),
            "ends once"
        );
        assert!(
            s.admin_session("live")
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
        s.revoke_token("admin-1", NewEvent::new("token.revoked", None, json!({})))
            .await
            .unwrap();
        assert!(s.admin_session("recent").await.unwrap().unwrap().token_revoked);
    })
    .await;
}
