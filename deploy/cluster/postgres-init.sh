#!/usr/bin/env bash
# Run by the postgres image at its first start (docker-entrypoint-initdb.d): the relay's roles and database
# with least privilege, from deploy/postgres/setup.sql (docs/OPERATIONS.md, "Roles and database").
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner=relay_owner -v owner_password="$RELAY_OWNER_PASSWORD" \
  -v app=relay -v app_password="$RELAY_DB_PASSWORD" \
  -v db=relay -v app_connections=64 \
  -f /deploy/postgres/setup.sql
