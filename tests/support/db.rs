//! Real databases for tests: a fresh SQLite file, and a fresh PostgreSQL database per test.
//!
//! PostgreSQL comes from `CAREPLAN_RELAY_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`). When it is
//! unreachable the PostgreSQL half of a test is skipped with a note, unless `CAREPLAN_RELAY_REQUIRE_PG=1`
//! (set by `.ci/run`), which makes it a failure.

use sqlx::Connection;

/// A database for one test; drop the PostgreSQL one with [`TestDb::cleanup`].
pub struct TestDb {
    pub url: String,
    pub backend: &'static str,
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn pg_admin_url() -> String {
    std::env::var("CAREPLAN_RELAY_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("relay.db").display());
    TestDb {
        url,
        backend: "sqlite",
        pg: None,
        _dir: Some(dir),
    }
}

/// A SQLite database at `path` (kept by the caller's directory).
pub fn sqlite_at(path: &std::path::Path) -> TestDb {
    TestDb {
        url: format!("sqlite://{}", path.display()),
        backend: "sqlite",
        pg: None,
        _dir: None,
    }
}

pub async fn postgres() -> Option<TestDb> {
    let admin = pg_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) if std::env::var("CAREPLAN_RELAY_REQUIRE_PG").as_deref() == Ok("1") => {
            panic!("PostgreSQL at {admin} is required (CAREPLAN_RELAY_REQUIRE_PG=1) but unreachable: {e}")
        }
        Err(e) => {
            eprintln!(
                "note: PostgreSQL unreachable at {admin} ({e}); skipping the PostgreSQL half of this test"
            );
            return None;
        }
    };
    let name = format!("relay_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
    Some(TestDb {
        url: format!("{base}/{name}"),
        backend: "postgres",
        pg: Some((admin, name)),
        _dir: None,
    })
}

/// Both backends (PostgreSQL only when reachable, see above).
pub async fn backends() -> Vec<TestDb> {
    let mut v = vec![sqlite()];
    v.extend(postgres().await);
    v
}

impl TestDb {
    /// Drops the PostgreSQL database (SQLite goes with its temporary directory).
    pub async fn cleanup(self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "drop database if exists {name} with (force)"
                )))
                .execute(&mut conn)
                .await;
            }
        }
    }
}
