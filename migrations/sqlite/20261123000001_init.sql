-- The relay's tables (SQLite). Times are Unix milliseconds (UTC). Never edit an applied migration; add one.

-- Registered offices (事業所): the 10-digit number, a kind, the service types they offer.
create table offices (
    number text primary key,
    name text not null,
    kind text not null check (kind in ('care_manager', 'prevention_center', 'provider')),
    -- comma-separated 2-character service-type codes, e.g. '43' or '11,15'
    service_types text not null,
    enabled integer not null default 1,
    created_at integer not null,
    updated_at integer not null
);

-- Bearer tokens: only the SHA-256 of the token is kept. An office token has `office`; an admin token has admin = 1.
create table tokens (
    id text primary key,
    office text references offices (number),
    admin integer not null default 0,
    hash text not null unique,
    created_at integer not null,
    revoked_at integer,
    check ((office is null) = (admin = 1))
);

-- A set as the sender sent it. (sender, names_key) makes retries idempotent: the same names and bytes replay
-- `response` with 200; the same names with other bytes (another digest) are a 409.
create table submissions (
    id text primary key,
    sender text not null,
    sender_type text,
    recipient text not null,
    recipient_type text,
    sequence text not null,
    month text,
    names_key text not null,
    digest text not null,
    response text not null,
    accepted_at integer not null,
    unique (sender, names_key)
);

-- The original bytes of every file of a submission.
create table files (
    submission_id text not null references submissions (id),
    position integer not null,
    name text not null,
    kind text not null,
    csv_version text,
    records integer not null,
    size integer not null,
    sha256 text not null,
    body blob not null,
    primary key (submission_id, name)
);

-- The set in the recipient's inbox. `seq` orders deliveries for cursors.
create table deliveries (
    seq integer primary key autoincrement,
    id text not null unique,
    submission_id text not null unique references submissions (id),
    recipient text not null,
    sender text not null,
    sender_type text,
    sequence text not null,
    month text,
    status text not null check (status in ('queued', 'downloaded', 'acknowledged')),
    received_at integer not null,
    downloaded_at integer,
    acknowledged_at integer
);
create index deliveries_inbox on deliveries (recipient, status, sequence, seq);
create index deliveries_inbox_all on deliveries (recipient, sequence, seq);
create index deliveries_outbox on deliveries (sender, seq);

-- What happened, in order. Written in the same transaction as the change it records; never file contents.
create table events (
    seq integer primary key autoincrement,
    at integer not null,
    kind text not null,
    office text,
    submission_id text,
    request_id text,
    detail text not null
);
create trigger events_no_update before update on events begin select raise(abort, 'events are append-only'); end;
create trigger events_no_delete before delete on events begin select raise(abort, 'events are append-only'); end;
