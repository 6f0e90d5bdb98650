//! Office users of the portal (`office_users`) and their sessions (rows of `sessions` with a `user_id`).
//! Passwords are stored as Argon2id PHC strings made by `relay::users`; this module never sees a password.

use super::backend::Backend;
use super::change::Change;
use super::sessions::ENDED_KEPT_MS;
use super::{NewEvent, Result, Store, StoreError, dispatch, write_tx};
use crate::domain::now_ms;

/// An office user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
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

type UserSql = (
    String,
    String,
    String,
    String,
    bool,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    bool,
    bool,
);

/// A user's columns, then the session's expires_at and revoked_at.
type SessionSql = (
    String,
    String,
    String,
    String,
    bool,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    bool,
    bool,
    i64,
    Option<i64>,
);

fn user(r: UserSql) -> UserRow {
    UserRow {
        id: r.0,
        office: r.1,
        login: r.2,
        password_hash: r.3,
        must_change: r.4,
        failed_logins: r.5,
        locked_until: r.6,
        created_at: r.7,
        disabled_at: r.8,
        office_enabled: r.9,
        office_login_certificate: r.10,
    }
}

/// The columns of [`UserSql`] (`u`: the user, `o`: its office).
const USER_COLUMNS: &str = "u.id, u.office, u.login, u.password_hash, u.must_change, u.failed_logins, \
     u.locked_until, u.created_at, u.disabled_at, o.enabled, o.login_certificate";
const USER_FROM: &str = "office_users u join offices o on o.number = u.office";

/// An office session as stored, with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSessionRow {
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
        let row: Option<UserSql> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(login)
            .fetch_optional(p)
            .await?);
        Ok(row.map(user))
    }

    /// The users of an office, by login ID.
    pub async fn users(&self, office: &str) -> Result<Vec<UserRow>> {
        let sql = format!("select {USER_COLUMNS} from {USER_FROM} where u.office = $1 order by u.login");
        let rows: Vec<UserSql> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(office)
            .fetch_all(p)
            .await?);
        Ok(rows.into_iter().map(user).collect())
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
        let row: Option<SessionSql> = dispatch!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id_hash)
            .fetch_optional(p)
            .await?);
        Ok(row.map(|r| UserSessionRow {
            user: user((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10)),
            expires_at: r.11,
            revoked_at: r.12,
        }))
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
