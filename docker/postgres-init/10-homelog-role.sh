#!/bin/sh
# Run once by the postgres image's entrypoint, as the superuser, when the database cluster is created: homelog's
# own role owns homelog's database and tables and is no superuser. It may set session_replication_role
# (PostgreSQL 15+), which lets a large import check its foreign keys once per batch instead of once per row
# (readings/services.py, _keys_checked_once); without that grant homelog takes the ordinary per-row checks.
#
# HOMELOG_DB_USER, HOMELOG_DB_PASSWORD and HOMELOG_DB_NAME name the role and its database; psql quotes them.
set -eu

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v app_user="${HOMELOG_DB_USER:-homelog}" \
    -v app_password="${HOMELOG_DB_PASSWORD:?set HOMELOG_DB_PASSWORD}" \
    -v app_database="${HOMELOG_DB_NAME:-homelog}" <<'SQL'
CREATE ROLE :"app_user" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE :"app_database" OWNER :"app_user";
GRANT SET ON PARAMETER session_replication_role TO :"app_user";
\connect :"app_database"
-- The tables go into the public schema, which the database's owner owns since PostgreSQL 15.
ALTER SCHEMA public OWNER TO :"app_user";
SQL
