-- Office users of the browser portal (/office/). An admin creates them for an office; the password is kept only
-- as an Argon2id PHC string. must_change: the first (or a reset) password must be changed at the next login.
-- failed_logins counts wrong passwords since the last success; at the limit locked_until is set (Unix ms) and
-- the user is refused until then or until `user unlock`. disabled_at ends every session and refuses logins.
create table office_users (
    id text primary key,
    office text not null references offices (number),
    login text not null,
    password_hash text not null,
    must_change integer not null default 1,
    failed_logins integer not null default 0,
    locked_until integer,
    created_at integer not null,
    password_changed_at integer,
    disabled_at integer
);
-- A login ID names one user across the relay, so the login form needs no office number.
create unique index office_users_login on office_users (login);
create index office_users_office on office_users (office);

-- Admin page sessions become sessions in general: an admin session has token_id, an office user's session has
-- user_id (and so an office). The cookie holds a random id; only its SHA-256 is kept.
create table sessions (
    id_hash text primary key,
    token_id text references tokens (id),
    user_id text references office_users (id),
    created_at integer not null,
    expires_at integer not null,
    revoked_at integer,
    check ((token_id is null) <> (user_id is null))
);
insert into sessions (id_hash, token_id, created_at, expires_at, revoked_at)
    select id_hash, token_id, created_at, expires_at, revoked_at from admin_sessions;
drop table admin_sessions;
create index sessions_token on sessions (token_id);
create index sessions_user on sessions (user_id);
