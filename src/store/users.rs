//! Office users of the portal (`office_users`) and their sessions (rows of `sessions` with a `user_id`).
//! Passwords are stored as Argon2id PHC strings made by `relay::users`; this module never sees a password.

use super::backend::Backend;
use super::change::Change;
use super::sessions::ENDED_KEPT_MS;
use super::{NewEvent, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::now_ms;

/// An office user as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    /// The office number the user acts for.
    pub office: String,
    /// The login ID (unique across the relay).
    pub login: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The password was set by an admin (first or reset) and must be changed before anything else.
    pub must_change: bool,
    /// Wrong passwords since the last successful login.
    pub failed_logins: i64,
    /// Refused until then, Unix ms (a lockout after too many wrong passwords).
    pub locked_until: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// When the user was disabled, Unix ms.
    pub disabled_at: Option<i64>,
    /// Whether the user's office is enabled.
    pub office_enabled: bool,
    /// The office requires its client certificate at the portal's login.
    pub office_login_certificate: bool,
}

/// The columns of a [`UserRow`] (`u`: the user, `o`: its office).
const USER_COLUMNS: &str = "u.id, u.office, u.login, u.password_hash, u.must_change, u.failed_logins, \
     u.locked_until, u.created_at, u.disabled_at, o.enabled as office_enabled, \
     o.login_certificate as office_login_certificate";
const USER_FROM: &str = "office_users u join offices o on o.number = u.office";

/// An office session as stored, with its user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserSessionRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    /// Unix ms.
    pub expires_at: i64,
    /// When it was ended by logout, a password change or reset, Unix ms.
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Creates an office user with its event; `Conflict` if the login ID is taken, `NotFound` if the office is
    /// not registered.
    pub async fn insert_user(
        &self,
        id: &str,
        office: &str,
        login: &str,
        password_hash: &str,
        event: NewEvent,
    ) -> Result<()> {
        self.office(office).await?;
        let now = now_ms();
        let change = Change::new(
            "insert into office_users (id, office, login, password_hash, must_change, failed_logins, created_at) \
             values ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(id)
        .bind(office)
        .bind(login)
        .bind(password_hash)
        .bind(true)
        .bind(now);
        self.apply_change(change, now, event).await
    }

    /// The user with this login ID, if any.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserRow>> {
        let sql = format!("select {USER_COLUMNS} from {USER_FROM} where u.login = $1");
        let row: Option<UserRow> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(login)
            .fetch_optional(p)
            .await?);
        Ok(row)
    }

    /// The users of an office, by login ID.
    pub async fn users(&self, office: &str) -> Result<Vec<UserRow>> {
        let sql = format!("select {USER_COLUMNS} from {USER_FROM} where u.office = $1 order by u.login");
        let rows: Vec<UserRow> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(office)
            .fetch_all(p)
            .await?);
        Ok(rows)
    }

    /// The users of every office, by office number then login ID: one query.
    pub async fn all_users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("select {USER_COLUMNS} from {USER_FROM} order by u.office, u.login");
        let rows: Vec<UserRow> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(p)
            .await?);
        Ok(rows)
    }

    /// Records a wrong password: counts it and, at `max_failures`, locks the user until `lock_until` (Unix ms).
    /// The failure count after this one; `event` (the lockout) is recorded only when this failure locked.
    pub async fn user_login_failed(
        &self,
        id: &str,
        max_failures: i64,
        lock_until: i64,
        event: NewEvent,
    ) -> Result<i64> {
        let now = now_ms();
        let id = id.to_string();
        write_tx!(self, |conn| {
            // `NotFound` (no such user) before anything is written: the update changed no row.
            let (failures,): (i64,) = sqlx::query_as(
                "update office_users set failed_logins = failed_logins + 1 where id = $1 returning failed_logins",
            )
            .bind(&id)
            .fetch_one(&mut *conn)
            .await?;
            if failures >= max_failures {
                sqlx::query("update office_users set locked_until = $1, failed_logins = 0 where id = $2")
                    .bind(lock_until)
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
                conn.append_events(&[(now, &event)]).await?;
            }
            Ok(failures)
        })
    }

    /// A successful login: clears the failure count and stores the session (`id_hash`: SHA-256 hex of the
    /// session id) with its event; deletes sessions that ended more than a day ago.
    pub async fn insert_user_session(
        &self,
        id_hash: &str,
        user_id: &str,
        expires_at: i64,
        event: NewEvent,
    ) -> Result<()> {
        let now = now_ms();
        let (id_hash, user_id) = (id_hash.to_string(), user_id.to_string());
        write_tx!(self, |conn| {
            // The insert comes first: a session id that exists already is a `Conflict` before anything is written.
            sqlx::query(
                "insert into sessions (id_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)",
            )
            .bind(&id_hash)
            .bind(&user_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *conn)
            .await?;
            sqlx::query("update office_users set failed_logins = 0, locked_until = null where id = $1")
                .bind(&user_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("delete from sessions where coalesce(revoked_at, expires_at) < $1")
                .bind(now - ENDED_KEPT_MS)
                .execute(&mut *conn)
                .await?;
            conn.append_events(&[(now, &event)]).await
        })
    }

    /// The office session with this id hash, with its user, if any.
    pub async fn user_session(&self, id_hash: &str) -> Result<Option<UserSessionRow>> {
        let sql = format!(
            "select {USER_COLUMNS}, s.expires_at, s.revoked_at from sessions s \
             join office_users u on u.id = s.user_id join offices o on o.number = u.office where s.id_hash = $1"
        );
        let row: Option<UserSessionRow> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id_hash)
            .fetch_optional(p)
            .await?);
        Ok(row)
    }

    /// Changes what an admin or the user may change, with its event, in one transaction; `NotFound` if no such
    /// user. `password_hash`: a new password (with `must_change`); `unlock`: clears failures and the lockout;
    /// `disable`: sets `disabled_at`. A new password or disabling also ends every session of the user except
    /// `keep_session` (an id hash).
    pub async fn update_user(&self, id: &str, change: &UserChange<'_>, event: NewEvent) -> Result<()> {
        let now = now_ms();
        let id = id.to_string();
        let password = change
            .password
            .map(|(hash, must_change)| (hash.to_string(), must_change));
        let (unlock, disable) = (change.unlock, change.disable);
        let keep_session = change.keep_session.map(str::to_string);
        write_tx!(self, |conn| {
            // Changes nothing; `NotFound` (no such user) before anything is written.
            let found = sqlx::query("update office_users set login = login where id = $1")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            if found.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            if let Some((hash, must_change)) = &password {
                sqlx::query(
                    "update office_users set password_hash = $1, must_change = $2, password_changed_at = $3 \
                     where id = $4",
                )
                .bind(hash)
                .bind(must_change)
                .bind(now)
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            }
            if unlock {
                sqlx::query("update office_users set failed_logins = 0, locked_until = null where id = $1")
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
            }
            if disable {
                sqlx::query("update office_users set disabled_at = coalesce(disabled_at, $1) where id = $2")
                    .bind(now)
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
            }
            if password.is_some() || disable {
                sqlx::query(
                    "update sessions set revoked_at = $1 where user_id = $2 and revoked_at is null \
                     and id_hash is distinct from $3",
                )
                .bind(now)
                .bind(&id)
                .bind(&keep_session)
                .execute(&mut *conn)
                .await?;
            }
            conn.append_events(&[(now, &event)]).await
        })
    }
}

/// What [`Store::update_user`] changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserChange<'a> {
    /// A new password hash and whether it must be changed at the next login.
    pub password: Option<(&'a str, bool)>,
    /// Clear the failure count and the lockout.
    pub unlock: bool,
    /// Disable the user.
    pub disable: bool,
    /// The session (id hash) that stays open when the others end: the one changing its own password.
    pub keep_session: Option<&'a str>,
}
