#!/usr/bin/env bash
# Runs the schemathesis API fuzzer (pinned, in a venv in the machine's cache) with every check against
# the OpenAPI document of a running taskd, as an outside judge of what the document promises. The
# settings, and the few Coder rules a schema cannot state, are in scripts/schemathesis.toml.
# test/fuzz/schemathesis.test.ts runs it in `npm test`. Usage:
#   scripts/schemathesis.sh [BASE_URL] [extra `st run` options…]      (BASE_URL default http://127.0.0.1:3000)
#   scripts/schemathesis.sh --install                                  (only install the venv)
# Authentication: $TASKD_SESSION_TOKEN, else the script creates the first user of a fresh server
# (fuzz@example.com) and signs in as it. Reports (JUnit, NDJSON) go to $SCHEMATHESIS_REPORT_DIR
# (default ./schemathesis-report). SCHEMATHESIS_MAX_EXAMPLES (30) and SCHEMATHESIS_SEED (1) bound the run.
# SCHEMATHESIS_EXTRA_CONFIG: optional TOML added to scripts/schemathesis.toml for this run, e.g.
# `[parameters]` with `"path.task" = "<id>"` so that operations on existing records reach more than
# their 404, or an `[[operations]]` entry with the agent token as the agent routes' header.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REQUIREMENTS=$HERE/schemathesis-requirements.txt
VERSION=$(sed -n 's/^schemathesis==//p' "$REQUIREMENTS")
CACHE=${TASKD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/taskd}
# a new set of pins gets a venv of its own
VENV=$CACHE/schemathesis-$VERSION-$(sha256sum "$REQUIREMENTS" | cut -c1-8)

installed() { [ -f "$VENV/.installed" ] && [ -x "$VENV/bin/st" ]; }
if ! installed; then
  mkdir -p "$CACHE"
  # one installer at a time per machine; the others wait and then find it done
  exec 9>"$CACHE/schemathesis.lock"
  flock 9
  if ! installed; then
    echo "schemathesis: installing schemathesis==$VERSION (pinned, $REQUIREMENTS) into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS"
    touch "$VENV/.installed"
  fi
  exec 9>&-
fi
if [ "${1:-}" = --install ]; then
  echo "schemathesis: $("$VENV/bin/st" --version) in $VENV"
  exit 0
fi

BASE=${1:-http://127.0.0.1:3000}
shift || true

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

CONFIG=$HERE/schemathesis.toml
if [ -n "${SCHEMATHESIS_EXTRA_CONFIG:-}" ]; then
  CONFIG=$(mktemp --suffix=.toml)
  trap 'rm -f "$CONFIG"' EXIT
  printf '%s\n\n# from SCHEMATHESIS_EXTRA_CONFIG\n%s\n' "$(cat "$HERE/schemathesis.toml")" "$SCHEMATHESIS_EXTRA_CONFIG" >"$CONFIG"
fi

# The document names no server, so the API's base path is given here; logging out would end the
# fuzzer's own session and leave every later request a 401. No `--checks`: every check runs by
# default, and naming them here would override the per-operation settings of the config.
"$VENV/bin/st" --config-file "$CONFIG" --no-color run "$BASE/api/v2/openapi.json" \
  --url "$BASE/api/v2" \
  --exclude-path /users/logout \
  --header "Coder-Session-Token: $TOKEN" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --report junit,ndjson \
  --report-dir "${SCHEMATHESIS_REPORT_DIR:-schemathesis-report}" \
  "$@"
