-- Admin page sessions. The cookie holds a random session id; only its SHA-256 is kept here. A session ends at
-- expires_at, at logout (revoked_at), or when its admin token is revoked. Times are Unix milliseconds (UTC).
create table admin_sessions (
    id_hash text primary key,
    token_id text not null references tokens (id),
    created_at bigint not null,
    expires_at bigint not null,
    revoked_at bigint
);
create index admin_sessions_token on admin_sessions (token_id);
