#!/usr/bin/env bash
# Runs the schemathesis API fuzzer (pinned, in a venv in the machine's cache) with every check against
# the OpenAPI document of a running taskd, as an outside judge of what the document promises.
# Not part of `npm test` yet. Usage:
#   scripts/schemathesis.sh [BASE_URL] [extra `st run` options…]      (BASE_URL default http://127.0.0.1:3000)
# Authentication: $TASKD_SESSION_TOKEN, else the script creates the first user of a fresh server
# (fuzz@example.com) and signs in as it. Reports (JUnit, NDJSON) go to $SCHEMATHESIS_REPORT_DIR
# (default ./schemathesis-report). SCHEMATHESIS_MAX_EXAMPLES (30) and SCHEMATHESIS_SEED (1) bound the run.
set -euo pipefail

VERSION=4.32.5
BASE=${1:-http://127.0.0.1:3000}
shift || true
CACHE=${TASKD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/taskd}
VENV=$CACHE/schemathesis-$VERSION

if [ ! -x "$VENV/bin/st" ]; then
  echo "schemathesis: installing schemathesis==$VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi

json_field() { python3 -c "import sys, json; print(json.load(sys.stdin).get('$1', ''))" 2>/dev/null; }

TOKEN=${TASKD_SESSION_TOKEN:-}
if [ -z "$TOKEN" ]; then
  account='{"email":"fuzz@example.com","username":"fuzz","password":"fuzz-password-1"}'
  curl -fsS -X POST "$BASE/api/v2/users/first" -H 'Content-Type: application/json' -d "$account" >/dev/null 2>&1 || true
  TOKEN=$(curl -fsS -X POST "$BASE/api/v2/users/login" -H 'Content-Type: application/json' \
    -d '{"email":"fuzz@example.com","password":"fuzz-password-1"}' | json_field session_token) || true
  if [ -z "$TOKEN" ]; then
    echo "schemathesis: could not sign in as fuzz@example.com; set TASKD_SESSION_TOKEN to a site owner's token" >&2
    exit 2
  fi
fi

# the document names no server, so the API's base path is given here; logging out would end the
# fuzzer's own session and leave every later request a 401
exec "$VENV/bin/st" run "$BASE/api/v2/openapi.json" \
  --url "$BASE/api/v2" \
  --checks all \
  --exclude-path /users/logout \
  --header "Coder-Session-Token: $TOKEN" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --report junit,ndjson \
  --report-dir "${SCHEMATHESIS_REPORT_DIR:-schemathesis-report}" \
  --no-color \
  "$@"
