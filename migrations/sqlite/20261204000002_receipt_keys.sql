-- The public keys that sign receipts and audit export manifests, from every node sharing this database: a key is
-- recorded here before it signs anything, so GET /v1/keys on any node lists every key any node signed with. The
-- private seeds stay in each node's <data-dir>/keys (mode 0600), where keys/current names the one that node signs
-- with. Rows are never changed or removed: a receipt stays verifiable for as long as it is kept.
-- key_id: the first 8 bytes of SHA-256(public key), lower-case hex. public_key: base64 of the 32-byte Ed25519 key.
-- created_at: when the key was made (Unix milliseconds, UTC); registered_at: when it was recorded here.
create table receipt_keys (
    key_id text primary key,
    public_key text not null,
    created_at integer not null,
    registered_at integer not null
);
