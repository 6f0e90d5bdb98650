//! Bulk loading into an empty database without index maintenance: the secondary indexes of submissions, files
//! and deliveries (on PostgreSQL also their unique and foreign-key constraints; primary keys stay) are dropped
//! before the load and rebuilt after it from the definitions the database itself reported, so the schema
//! afterwards is the migrated one.
//!
//! The rebuilding statements wait in the table `seed_rebuild` (created in the transaction that drops what they
//! rebuild; each statement commits with the deletion of its row). A seed that was interrupted leaves the table
//! behind, and the next seed rebuilds what is missing before it does anything else.

use sqlx::{Connection, PgConnection, SqliteConnection};

use super::super::Result;

/// The table of rebuilding statements: `ord` 0 (indexes and unique constraints) runs before 1 (foreign keys).
const CREATE_REBUILD: &str = "create table seed_rebuild (ord integer not null, stmt text not null)";

const INSERT_REBUILD: &str = "insert into seed_rebuild (ord, stmt) values ($1, $2)";

/// Whether submissions, files and deliveries are all empty (the same SQL on both databases).
const ANY_ROWS: &str = "select (select count(*) from (select 1 from submissions limit 1) s) \
    + (select count(*) from (select 1 from files limit 1) f) \
    + (select count(*) from (select 1 from deliveries limit 1) d)";

/// The explicitly created indexes of the three tables (SQLite); unique constraints are part of the tables.
const SQLITE_INDEXES: &str = "select name, sql from sqlite_master where type = 'index' and sql is not null \
    and tbl_name in ('submissions', 'files', 'deliveries') order by name";

/// (ord, dropping statement, rebuilding statement) for the foreign keys from or to the three tables, their unique
/// constraints and the indexes that back no constraint (PostgreSQL).
const POSTGRES_DROPS: &str = "with t(r) as (select unnest(array['submissions', 'files', 'deliveries'])::regclass) \
    select 1, format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname), \
      format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) \
    from pg_constraint c where c.contype = 'f' and (c.conrelid in (select r from t) or c.confrelid in (select r from t)) \
    union all \
    select 0, format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname), \
      format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) \
    from pg_constraint c where c.contype = 'u' and c.conrelid in (select r from t) \
    union all \
    select 0, format('drop index %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid) \
    from pg_index i where i.indrelid in (select r from t) and not exists ( \
      select 1 from pg_constraint c where c.conindid = i.indexrelid and c.conrelid = i.indrelid) \
    order by 1 desc, 2";

/// The two connections a seed runs on; `seed_rebuild` is handled the same way on both.
pub(super) trait SeedConnection {
    /// Rows in the first of submissions, files, deliveries (0 to 3).
    async fn any_rows(&mut self) -> Result<i64>;
    /// Whether an interrupted seed left `seed_rebuild` behind.
    async fn has_rebuild_table(&mut self) -> Result<bool>;
    /// Drops what the bulk load should not maintain, remembering how to rebuild it; returns how many objects.
    async fn drop_for_load(&mut self) -> Result<usize>;
    /// Runs what `seed_rebuild` holds and drops the table; returns how many statements ran.
    async fn rebuild(&mut self) -> Result<usize>;
}

/// `rebuild` for either connection type (the same SQL on both).
macro_rules! rebuild {
    ($conn:expr) => {{
        let conn = $conn;
        let mut ran = 0;
        loop {
            let next: Option<(String,)> =
                sqlx::query_as("select stmt from seed_rebuild order by ord, stmt limit 1")
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some((stmt,)) = next else { break };
            let mut tx = conn.begin().await?;
            sqlx::query(sqlx::AssertSqlSafe(stmt.clone()))
                .execute(&mut *tx)
                .await?;
            sqlx::query("delete from seed_rebuild where stmt = $1")
                .bind(&stmt)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            ran += 1;
        }
        sqlx::query("drop table seed_rebuild").execute(&mut *conn).await?;
        Ok(ran)
    }};
}

impl SeedConnection for SqliteConnection {
    async fn any_rows(&mut self) -> Result<i64> {
        Ok(sqlx::query_as::<_, (i64,)>(ANY_ROWS).fetch_one(self).await?.0)
    }

    async fn has_rebuild_table(&mut self) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from sqlite_master where type = 'table' and name = 'seed_rebuild'",
        )
        .fetch_one(self)
        .await?;
        Ok(n > 0)
    }

    async fn drop_for_load(&mut self) -> Result<usize> {
        let indexes: Vec<(String, String)> = sqlx::query_as(SQLITE_INDEXES).fetch_all(&mut *self).await?;
        let mut tx = self.begin().await?;
        sqlx::query(CREATE_REBUILD).execute(&mut *tx).await?;
        for (name, sql) in &indexes {
            sqlx::query(INSERT_REBUILD)
                .bind(0_i64)
                .bind(sql)
                .execute(&mut *tx)
                .await?;
            let drop = format!("drop index \"{}\"", name.replace('"', "\"\""));
            sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(indexes.len())
    }

    async fn rebuild(&mut self) -> Result<usize> {
        rebuild!(self)
    }
}

impl SeedConnection for PgConnection {
    async fn any_rows(&mut self) -> Result<i64> {
        Ok(sqlx::query_as::<_, (i64,)>(ANY_ROWS).fetch_one(self).await?.0)
    }

    async fn has_rebuild_table(&mut self) -> Result<bool> {
        let (found,): (bool,) = sqlx::query_as("select to_regclass('seed_rebuild') is not null")
            .fetch_one(self)
            .await?;
        Ok(found)
    }

    async fn drop_for_load(&mut self) -> Result<usize> {
        let mut tx = self.begin().await?;
        let drops: Vec<(i32, String, String)> = sqlx::query_as(POSTGRES_DROPS).fetch_all(&mut *tx).await?;
        sqlx::query(CREATE_REBUILD).execute(&mut *tx).await?;
        for (ord, drop, create) in &drops {
            sqlx::query(INSERT_REBUILD)
                .bind(ord)
                .bind(create)
                .execute(&mut *tx)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(drop.clone()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(drops.len())
    }

    async fn rebuild(&mut self) -> Result<usize> {
        rebuild!(self)
    }
}
