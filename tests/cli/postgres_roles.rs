//! PostgreSQL with least privilege, as docs/OPERATIONS.md sets it up: deploy/postgres/setup.sql makes an owner
//! and an app role, `careplan-relay migrate` runs as the owner, deploy/postgres/grants.sql as well, and `serve`
//! (with `database.migrate_at_start = false`) as the app role. The relay works; the app role cannot change the
//! schema, drop or disable the audit triggers, or delete events; a relay that may not migrate refuses a
//! database that lacks a migration.

use std::path::Path;
use std::process::Command;

use sqlx::Connection;

use crate::cert::relay;
use crate::support::process::Node;

fn psql(url: &str, vars: &[(&str, &str)], file: &str) {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
    for (k, v) in vars {
        cmd.arg("-v").arg(format!("{k}={v}"));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let out = cmd.arg("-f").arg(path).arg(url).output().expect("run psql");
    assert!(out.status.success(), "psql {file}: {}", out.stderr.escape_ascii());
}

fn psql_installed() -> bool {
    let found = Command::new("psql").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("CAREPLAN_RELAY_REQUIRE_PG").as_deref() != Ok("1"),
            "psql is needed for the least-privilege test (CAREPLAN_RELAY_REQUIRE_PG=1)"
        );
        eprintln!("note: psql is not installed; the least-privilege test is skipped");
    }
    found
}

#[tokio::test]
async fn the_app_role_works_and_cannot_touch_the_schema_or_the_audit_trail() {
    let Some(probe) = crate::support::db::postgres().await else {
        return;
    };
    if !psql_installed() {
        probe.cleanup().await;
        return;
    }
    let admin = std::env::var("CAREPLAN_RELAY_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    // postgres://[user@]host:port/db → the scheme and host:port, for URLs of the new roles.
    let (scheme, rest) = admin.split_once("//").unwrap();
    let server = rest.split('/').next().unwrap();
    let host = server.rsplit_once('@').map_or(server, |(_, h)| h);
    let tag = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let (owner, app, db) = (
        format!("relay_owner_{tag}"),
        format!("relay_app_{tag}"),
        format!("relay_lp_{tag}"),
    );
    psql(
        &admin,
        &[
            ("owner", &owner),
            ("owner_password", "owner-secret"),
            ("app", &app),
            ("app_password", "app-secret"),
            ("db", &db),
            ("app_connections", "40"),
        ],
        "deploy/postgres/setup.sql",
    );
    let owner_url = format!("{scheme}//{owner}:owner-secret@{host}/{db}");
    let app_url = format!("{scheme}//{app}:app-secret@{host}/{db}");
    let data = tempfile::tempdir().unwrap();
    let app_env = [
        ("CAREPLAN_RELAY__DATABASE__URL", app_url.as_str()),
        ("CAREPLAN_RELAY__DATABASE__MIGRATE_AT_START", "false"),
    ];

    // Before `migrate`, a relay that may not migrate refuses the database and says what to run.
    let (code, _, err) = relay(data.path(), &app_env, &["office", "list"]);
    assert_ne!(code, 0);
    assert!(err.contains("careplan-relay migrate"), "{err}");

    let owner_env = [("CAREPLAN_RELAY__DATABASE__URL", owner_url.as_str())];
    let (code, out, err) = relay(data.path(), &owner_env, &["migrate"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied"), "{out}");
    let (code, out, _) = relay(data.path(), &owner_env, &["migrate"]);
    assert_eq!(code, 0);
    assert!(out.contains("current"), "{out}");
    psql(&owner_url, &[("app", &app)], "deploy/postgres/grants.sql");

    // The relay as the app role: register, serve, send, fetch, acknowledge, verify the audit trail.
    let run = |args: &[&str]| {
        let (code, out, err) = relay(data.path(), &app_env, args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    run(&[
        "office",
        "add",
        "1310000001",
        "--name",
        "居宅A",
        "--kind",
        "care_manager",
        "--service-type",
        "43",
    ]);
    run(&[
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
    let token = |o: &str| {
        run(&["token", "issue", "--office", o])
            .lines()
            .last()
            .unwrap()
            .to_string()
    };
    let (sender, recipient) = (token("1310000001"), token("1310000002"));
    let node = Node::start_env(data.path(), &app_url, &app_env[1..]);
    let client = |t: &str| {
        careplan_relay::client::Client::new(&careplan_relay::client::ClientOptions {
            url: node.url(),
            token: Some(t.to_string().into()),
            cacert: Some(data.path().join("tls/ca.pem")),
            ..Default::default()
        })
        .unwrap()
    };
    let set =
        crate::support::read_set(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/valid/v4/schedule"));
    let sent = client(&sender).send(set.clone()).await.unwrap();
    assert_eq!(sent.status, 201, "{}", sent.json);
    let inbox = client(&recipient).get("/v1/inbox").await.unwrap();
    let delivery = inbox.json["items"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    for (name, bytes) in &set {
        let (status, got, _) = client(&recipient).download(&delivery, name).await.unwrap();
        assert_eq!((status, &got), (200, bytes));
    }
    let ack = client(&recipient)
        .post(&format!("/v1/inbox/{delivery}/ack"))
        .await
        .unwrap();
    assert_eq!(ack.status, 200, "{}", ack.json);
    drop(node);
    run(&["audit", "verify"]);

    // What the app role may not do.
    let mut conn = sqlx::PgConnection::connect(&app_url).await.unwrap();
    for sql in [
        "drop trigger events_no_update on events",
        "alter table events disable trigger events_no_update",
        "alter table audit_chain disable trigger all",
        "delete from events",
        "update audit_chain set hash = hash",
        "truncate events",
        "drop table events",
        "create table intruder (i int)",
        "delete from _sqlx_migrations",
    ] {
        let e = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect_err(sql);
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.to_string());
        assert!(
            matches!(code.as_deref(), Some("42501")),
            "{sql}: refused for lack of privilege, not {e}"
        );
    }
    conn.close().await.unwrap();

    let mut admin_conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    for sql in [
        format!("drop database {db} with (force)"),
        format!("drop role {app}"),
        format!("drop role {owner}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin_conn)
            .await
            .unwrap();
    }
    probe.cleanup().await;
}
