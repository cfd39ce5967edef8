#!/usr/bin/env bash
# One-shot schema job for docker-compose.yml, run by the `temporal-schema`
# service (temporalio/admin-tools) before the Temporal server starts: creates
# Temporal's two databases on the postgres service and brings each schema to the
# version the server needs, with the schemas built into temporal-sql-tool.
#
# These are the steps devstack/temporal-cluster.ts runs with the same tool (built
# from the same Temporal version) for the tests on a real Temporal server, and
# test/compose/compose.test.ts checks that they stay the same. Every step is
# idempotent: an existing database is kept and a current schema left as it is, so
# the job runs on every `docker compose up` and upgrades the schema after the
# server's image version is raised.
set -euo pipefail

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must be set}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set (the tool reads the password from it)}"
port="${DB_PORT:-5432}"
plugin="${DB:-postgres12}"

# schema DATABASE SCHEMA_NAME
schema() {
  local db=$1 name=$2 out
  local tool=(temporal-sql-tool --plugin "$plugin" --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" --db "$db")
  if ! out=$("${tool[@]}" create-database 2>&1); then
    grep -q 'already exists' <<<"$out" || { echo "$out" >&2; return 1; }
  fi
  "${tool[@]}" setup-schema -v 0.0
  "${tool[@]}" update-schema --schema-name "$name"
  echo "temporal-schema: database ${db} is at the current ${name} schema"
}

schema "${DBNAME:-temporal}" postgresql/v12/temporal
schema "${VISIBILITY_DBNAME:-temporal_visibility}" postgresql/v12/visibility
