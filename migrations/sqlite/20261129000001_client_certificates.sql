-- Client certificates issued by `cert issue`: one row per certificate, keyed by its serial number (lower-case hex,
-- no leading zero octets). A certificate whose serial has revoked_at is refused at authentication. Certificates
-- from the operator's own CA that were never issued here have no row and are accepted while the CA trusts them.
-- Times are Unix milliseconds (UTC).
create table client_certificates (
    serial text primary key,
    office text not null,
    not_before integer not null,
    not_after integer not null,
    issued_at integer not null,
    revoked_at integer
);
create index client_certificates_office on client_certificates (office, issued_at);
