#!/usr/bin/env bash
# One-shot Temporal setup for docker-compose.yml, run by the
# `temporal-admin-tools` service before the api and worker start.
#
#   1. waits until the frontend serves;
#   2. makes sure $TEMPORAL_NAMESPACE exists (temporalio/server creates no
#      namespace of its own; this creates it on the first `up`);
#   3. registers the custom search attributes in $TASKD_SEARCH_ATTRIBUTES
#      ("Name=Type Name=Type ...", the list workflows/contracts.ts exports);
#   4. waits until a visibility query naming every attribute is accepted, i.e.
#      the frontend's namespace cache has the new aliases. Without this, the
#      first task created right after `up` can fail with "unknown search attribute".
#
# Every step is idempotent (on SQL visibility an existing alias is skipped), so
# the service can run on every `docker compose up`.
set -euo pipefail

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be set}"
: "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE must be set}"
: "${TASKD_SEARCH_ATTRIBUTES:?TASKD_SEARCH_ATTRIBUTES must be set}"
attempts="${TEMPORAL_SETUP_ATTEMPTS:-90}"
delay="${TEMPORAL_SETUP_DELAY_SECONDS:-2}"

client=(--address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE")

# retry DESCRIPTION COMMAND...: run COMMAND until it succeeds or attempts run out.
retry() {
  local what=$1 i
  shift
  for ((i = 1; i <= attempts; i++)); do
    if "$@"; then
      return 0
    fi
    echo "temporal-setup: waiting for ${what} (${i}/${attempts})" >&2
    sleep "$delay"
  done
  echo "temporal-setup: gave up waiting for ${what}" >&2
  return 1
}

ensure_namespace() {
  temporal operator namespace describe "${client[@]}" >/dev/null 2>&1 ||
    temporal operator namespace create "${client[@]}" >/dev/null 2>&1
}

create_args=()
probe=()
for pair in $TASKD_SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  if [[ -z $name || $name == "$pair" || -z $type ]]; then
    echo "temporal-setup: bad entry '${pair}' in TASKD_SEARCH_ATTRIBUTES (want Name=Type)" >&2
    exit 2
  fi
  create_args+=(--name "$name" --type "$type")
  # A comparison the query parser accepts for the attribute's type.
  case $type in
    Keyword | Text | KeywordList) probe+=("${name} = '__taskd_setup_probe__'") ;;
    Int | Double) probe+=("${name} = 0") ;;
    Bool) probe+=("${name} = true") ;;
    Datetime) probe+=("${name} = '2000-01-01T00:00:00Z'") ;;
    *)
      echo "temporal-setup: unknown search attribute type '${type}' for ${name}" >&2
      exit 2
      ;;
  esac
done
query=$(printf '%s AND ' "${probe[@]}")
query=${query% AND }

retry "the Temporal frontend at ${TEMPORAL_ADDRESS}" \
  temporal operator cluster health --address "$TEMPORAL_ADDRESS"
retry "namespace ${TEMPORAL_NAMESPACE}" ensure_namespace
retry "search attributes to be registered" \
  temporal operator search-attribute create "${client[@]}" "${create_args[@]}"
retry "search attributes to become queryable" \
  temporal workflow list "${client[@]}" --limit 1 --query "$query"

temporal operator search-attribute list "${client[@]}"
echo "temporal-setup: namespace ${TEMPORAL_NAMESPACE} is ready with: ${TASKD_SEARCH_ATTRIBUTES}"
