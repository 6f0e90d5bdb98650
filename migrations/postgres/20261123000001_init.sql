-- The relay's tables (PostgreSQL). Times are Unix milliseconds (UTC). Never edit an applied migration; add one.

-- Registered offices (事業所): the 10-digit number, a kind, the service types they offer.
create table offices (
    number text primary key,
    name text not null,
    kind text not null check (kind in ('care_manager', 'prevention_center', 'provider')),
    -- comma-separated 2-character service-type codes, e.g. '43' or '11,15'
    service_types text not null,
    enabled boolean not null default true,
    created_at bigint not null,
    updated_at bigint not null
);

-- Bearer tokens: only the SHA-256 of the token is kept. An office token has `office`; an admin token has admin.
create table tokens (
    id text primary key,
    office text references offices (number),
    admin boolean not null default false,
    hash text not null unique,
    created_at bigint not null,
    revoked_at bigint,
    check ((office is null) = admin)
);

-- A set as the sender sent it. (sender, names_key) makes retries idempotent.
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
    accepted_at bigint not null,
    unique (sender, names_key)
);

-- The original bytes of every file of a submission.
create table files (
    submission_id text not null references submissions (id),
    position integer not null,
    name text not null,
    kind text not null,
    csv_version text,
    records bigint not null,
    size bigint not null,
    sha256 text not null,
    body bytea not null,
    primary key (submission_id, name)
);

-- The set in the recipient's inbox. `seq` orders deliveries for cursors.
create table deliveries (
    seq bigserial primary key,
    id text not null unique,
    submission_id text not null unique references submissions (id),
    recipient text not null,
    sender text not null,
    sender_type text,
    sequence text not null,
    month text,
    status text not null check (status in ('queued', 'downloaded', 'acknowledged')),
    received_at bigint not null,
    downloaded_at bigint,
    acknowledged_at bigint
);
create index deliveries_inbox on deliveries (recipient, status, sequence, seq);
create index deliveries_inbox_all on deliveries (recipient, sequence, seq);
create index deliveries_outbox on deliveries (sender, seq);

-- What happened, in order. Written in the same transaction as the change it records; never file contents.
create table events (
    seq bigserial primary key,
    at bigint not null,
    kind text not null,
    office text,
    submission_id text,
    request_id text,
    detail text not null
);
create function events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'events are append-only';
end;
$$;
create trigger events_no_update before update or delete on events
    for each row execute function events_append_only();
