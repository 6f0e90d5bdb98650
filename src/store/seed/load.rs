//! Loading the deliveries of a seed: each batch is generated into `seed_batch` and copied into submissions,
//! files and deliveries in one transaction.

use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, PgConnection};

use super::sql::{
    CREATE_BATCH, FILL_POSTGRES, FILL_SQLITE, INSERT_DELIVERIES, INSERT_FILES, INSERT_SUBMISSIONS,
    LAST_ARRIVAL, UPDATE_ARRIVALS,
};
use super::{Progress, SeedFile};
use crate::store::Result;

/// Deliveries per transaction.
const BATCH: i64 = 200_000;

/// What one seed generates.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) offices: i64,
    pub(super) total: i64,
    pub(super) seed: i64,
    pub(super) backlog_from: i64,
    pub(super) pending_from: i64,
    pub(super) first_second: i64,
    pub(super) a: SeedFile,
    pub(super) b: SeedFile,
}

/// Defines `$name`, loading the batches of a plan on one backend (`$fill`, `$clear`: its statements).
macro_rules! load_fn {
    ($name:ident, $conn:ty, $fill:expr, $clear:expr) => {
        /// Generates the plan's deliveries with their submissions and files, one transaction per batch.
        pub(super) async fn $name(conn: &mut $conn, plan: &Plan, progress: Progress<'_>) -> Result<()> {
            let (a, b) = (&plan.a, &plan.b);
            sqlx::query(CREATE_BATCH).execute(&mut *conn).await?;
            let (base,): (i64,) = sqlx::query_as(LAST_ARRIVAL).fetch_one(&mut *conn).await?;
            let mut lo = 0;
            while lo < plan.total {
                let hi = (lo + BATCH).min(plan.total);
                let mut tx = conn.begin().await?;
                sqlx::query($clear).execute(&mut *tx).await?;
                sqlx::query($fill)
                    .bind(lo)
                    .bind(hi)
                    .bind(plan.offices)
                    .bind(plan.seed)
                    .bind(plan.backlog_from)
                    .bind(plan.pending_from)
                    .bind(plan.first_second)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_SUBMISSIONS)
                    .bind(&a.sha256)
                    .bind(&b.sha256)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_FILES)
                    .bind(a.kind)
                    .bind(b.kind)
                    .bind(a.csv_version)
                    .bind(b.csv_version)
                    .bind(a.records)
                    .bind(b.records)
                    .bind(a.body.len() as i64)
                    .bind(b.body.len() as i64)
                    .bind(&a.sha256)
                    .bind(&b.sha256)
                    .bind(a.body.as_slice())
                    .bind(b.body.as_slice())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_DELIVERIES)
                    .bind(base)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(UPDATE_ARRIVALS)
                    .bind(base)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                lo = hi;
                progress(hi as u64, plan.total as u64, "deliveries");
            }
            sqlx::query("drop table seed_batch")
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
    };
}

load_fn!(
    load_sqlite,
    SqliteConnection,
    FILL_SQLITE,
    "delete from seed_batch"
);
load_fn!(load_postgres, PgConnection, FILL_POSTGRES, "truncate seed_batch");
