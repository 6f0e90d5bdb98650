-- Rejected submissions, so that the delivery log shows every submission and rejection (no file contents:
-- names, reason codes). Written in the same transaction as the submission.rejected event.
create table rejections (
    id text primary key,
    at integer not null,
    sender text not null,
    recipient text,
    sequence text,
    names text not null,
    codes text not null,
    request_id text
);
create index rejections_at on rejections (at);

-- Retention: the bytes of acknowledged sets are purged after a configured time; metadata, digests and events stay.
alter table files add column purged_at integer;
alter table deliveries add column purged_at integer;
create index deliveries_received on deliveries (received_at);
