#!/usr/bin/env bash
# The OpenAPI conformance run: schemathesis against a live connector-receiver,
# every check on, on a fresh database of the test cluster. Needs
# TEST_DATABASE_URL (scripts/test.sh sets it) and a built executable.
# Usage: scripts/conformance.sh [max examples per operation, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${1:-20}
: "${TEST_DATABASE_URL:?TEST_DATABASE_URL is not set: run scripts/test.sh, or start scripts/test-postgres.sh}"
python3 -m pip --version >/dev/null 2>&1 || { echo "conformance: python3 with pip is required" >&2; exit 1; }
if ! command -v st >/dev/null 2>&1 && ! python3 -c "import schemathesis" 2>/dev/null; then
    echo "conformance: installing schemathesis (pip)"
    python3 -m pip install --quiet "schemathesis==4.32.5"
fi

database="conformance_$$"
psql "$TEST_DATABASE_URL" -q -c "CREATE DATABASE $database"
work=$(mktemp -d /tmp/connector-receiver-conformance.XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" || true
    rm -rf "$work"
}
trap cleanup EXIT

export RECEIVER_ADMIN_TOKEN="conformance-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
DATABASE_URL="$TEST_DATABASE_URL dbname=$database" \
    .build/debug/connector-receiver serve --host 127.0.0.1 --port 0 >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "conformance: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
base="http://127.0.0.1:$port"

turnup=$(curl -sf -X POST "$base/admin/v1/clients" -H "Authorization: Bearer $RECEIVER_ADMIN_TOKEN" \
    -H "Content-Type: application/json" \
    -d '{"clientId": "conformance", "name": "Conformance", "clubs": [{"clubId": "club-001", "name": "One"}, {"clubId": "club-002", "name": "Two"}]}')
export RECEIVER_TEST_USERNAME=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["credentials"]["username"])' <<<"$turnup")
export RECEIVER_TEST_PASSWORD=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["credentials"]["password"])' <<<"$turnup")

echo "conformance: schemathesis against $base, $examples examples per operation"
cd conformance
set +e
PYTHONPATH=. st --no-color --config-file schemathesis.toml run ../openapi.yaml --url "$base" \
    --checks all --phases examples,coverage,fuzzing,stateful \
    --max-examples "$examples" --workers 1 --seed "${CONFORMANCE_SEED:-20261125}"
status=$?
if grep -qE "status=500| error " "$work/serve.log"; then
    echo "conformance: the server answered 500 or logged errors:" >&2
    grep -E "status=500| error " "$work/serve.log" >&2
    exit 1
fi
exit $status
