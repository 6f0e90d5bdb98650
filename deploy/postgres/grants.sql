-- After each `careplan-relay migrate`, as the schema's owner (deploy/postgres/setup.sql made the roles):
--
--   psql -v ON_ERROR_STOP=1 -v app=relay -f deploy/postgres/grants.sql postgres://relay_owner@db.internal/relay
--
-- The app role gets rows of every table the migrations made, and loses what it never needs: changing or
-- deleting audit events and the chain that seals them (their triggers refuse it anyway), and writing the
-- migrations' own table.

grant select, insert, update, delete on all tables in schema public to :"app";
grant usage, select on all sequences in schema public to :"app";
revoke update, delete, truncate on events, audit_chain from :"app";
revoke insert, update, delete, truncate on _sqlx_migrations from :"app";
