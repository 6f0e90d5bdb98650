-- The tamper-evident audit trail. Events are written with the change they record and queued in audit_pending;
-- a sealer appends them to audit_chain, each row carrying the SHA-256 of its predecessor's hash and of the event's
-- canonical content. Position order is seal order, so a transaction that commits late is sealed late, never lost.

-- The queue of events not yet sealed (a work queue, emptied by the sealer; not part of the trail).
create table audit_pending (
    event_seq integer primary key references events (seq)
);

create table audit_chain (
    position integer primary key,
    event_seq integer not null unique references events (seq),
    prev_hash text not null,
    hash text not null,
    sealed_at integer not null
);
create trigger audit_chain_no_update before update on audit_chain begin select raise(abort, 'the audit chain is append-only'); end;
create trigger audit_chain_no_delete before delete on audit_chain begin select raise(abort, 'the audit chain is append-only'); end;

-- Batches written for the care information platform. first_position is unique: two exporters cannot both
-- write the same batch; last_position is the watermark.
create table audit_exports (
    id text primary key,
    first_position integer not null unique,
    last_position integer not null,
    count integer not null,
    sha256 text not null,
    chain_head text not null,
    file text not null,
    created_at integer not null
);
