-- The relay's PostgreSQL roles and database, with least privilege. Run once, as a superuser:
--
--   psql -v ON_ERROR_STOP=1 -v owner=relay_owner -v owner_password='…' -v app=relay -v app_password='…' \
--        -v db=relay -v app_connections=64 -f deploy/postgres/setup.sql postgres://postgres@db.internal/postgres
--
-- Two roles:
--   owner  owns the database and the schema's tables; only `careplan-relay migrate` connects as it (at install
--          and after each upgrade).
--   app    what every `serve` node connects as (database.migrate_at_start = false): it reads and writes rows,
--          and can neither change the schema nor drop or disable the triggers that keep the audit trail
--          append-only (only a table's owner can); deploy/postgres/grants.sql also takes UPDATE and DELETE on
--          the audit tables from it. Its connection limit bounds what all nodes together may open: keep it
--          above the sum of database.max_connections (default 16 per node) plus a few for commands.
-- Then: migrate as the owner, run grants.sql as the owner, and start the nodes as app (docs/OPERATIONS.md).

-- The owner inherits: the public schema belongs to pg_database_owner, whose rights reach it only by inheritance.
create role :"owner" login password :'owner_password' nosuperuser nocreatedb nocreaterole;
create role :"app" login password :'app_password' nosuperuser nocreatedb nocreaterole noinherit
    connection limit :app_connections;
create database :"db" owner :"owner";
revoke all on database :"db" from public;
grant connect, temporary on database :"db" to :"app";

\connect :"db"
-- PostgreSQL 15 and later: the public schema belongs to the database's owner and only it may create there.
revoke create on schema public from public;
grant usage on schema public to :"app";
-- Tables and sequences the owner's migrations create: rows only, for the app role.
set role :"owner";
alter default privileges in schema public grant select, insert, update, delete on tables to :"app";
alter default privileges in schema public grant usage, select on sequences to :"app";
reset role;
