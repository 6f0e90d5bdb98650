//! The schema's migrations (`migrations/sqlite`, `migrations/postgres`): applied at start by default, or only
//! required when the relay's database role may not change the schema (`database.migrate_at_start = false`,
//! with `careplan-relay migrate` run by the schema's owner; docs/OPERATIONS.md, "PostgreSQL").

use super::{Result, Store, StoreError, Writer};

/// What opening a store does about migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Apply the migrations this program has and the database lacks (under sqlx's lock: nodes starting
    /// together migrate once).
    Migrate,
    /// Apply nothing; refuse a database that lacks one of this program's migrations (`StoreError::Setup`,
    /// naming `careplan-relay migrate`).
    RequireCurrent,
}

fn migrator(w: &Writer) -> sqlx::migrate::Migrator {
    match w {
        Writer::Sqlite(..) => sqlx::migrate!("./migrations/sqlite"),
        Writer::Postgres(..) => sqlx::migrate!("./migrations/postgres"),
    }
}

impl Store {
    /// Applies or checks the migrations as `schema` says; the versions applied by this call (ascending).
    pub(super) async fn schema(&self, schema: Schema) -> Result<Vec<i64>> {
        let before = self.applied_migrations().await?;
        let migrator = migrator(&self.writer);
        let missing: Vec<i64> = migrator
            .iter()
            .map(|m| m.version)
            .filter(|v| !before.contains(v))
            .collect();
        if missing.is_empty() {
            return Ok(missing);
        }
        match schema {
            Schema::Migrate => {
                // On the writer's pool, outside `write_tx!`, before the store serves anything: sqlx's migrator
                // takes its own lock (nodes starting together migrate once) and gives each migration a
                // transaction of its own, which a job of the group commit (sharing one) cannot give it.
                match &self.writer {
                    Writer::Sqlite(p, _) => migrator.run(p).await?,
                    Writer::Postgres(p, _) => migrator.run(p).await?,
                }
                Ok(missing)
            }
            Schema::RequireCurrent => Err(StoreError::Setup(format!(
                "データベースに移行 {missing:?} が適用されていません。スキーマの所有者で `careplan-relay migrate` を実行してください / \
                 the database lacks the migrations {missing:?}: run `careplan-relay migrate` as the schema's owner \
                 (database.migrate_at_start is false, so this process applies none)"
            ))),
        }
    }

    /// The versions of the migrations applied successfully (none on a new database).
    async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = match &self.writer {
            Writer::Sqlite(p, _) => {
                let (n,): (i64,) = sqlx::query_as(
                    "select count(*) from sqlite_master where type = 'table' and name = '_sqlx_migrations'",
                )
                .fetch_one(p)
                .await?;
                if n == 0 {
                    return Ok(Vec::new());
                }
                sqlx::query_as("select version from _sqlx_migrations where success")
                    .fetch_all(p)
                    .await?
            }
            Writer::Postgres(p, _) => {
                let (n,): (i64,) = sqlx::query_as(
                    "select count(*) from information_schema.tables \
                     where table_schema = current_schema() and table_name = '_sqlx_migrations'",
                )
                .fetch_one(p)
                .await?;
                if n == 0 {
                    return Ok(Vec::new());
                }
                sqlx::query_as("select version from _sqlx_migrations where success")
                    .fetch_all(p)
                    .await?
            }
        };
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }
}
