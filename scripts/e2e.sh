#!/usr/bin/env bash
# End to end through the production topology (scripts/topology.sh): the Connector's
# calls over https:// to nginx, balanced over two connector-receiver instances, whose
# database goes through PgBouncer in transaction mode. Turns a client up with the
# CLI, saves and reads prospects, lists staff and lead sources, checks that both
# instances served /v1 calls, that plain http refuses credentials, that the logs are
# JSON, and that PgBouncer kept the server connections within its budget.
# Stops everything whatever happens. Usage: scripts/e2e.sh   (RECEIVER_BIN as topology.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d /tmp/connector-receiver-e2e.XXXXXX)
cleanup() {
    local status=$?
    trap '' INT TERM HUP  # a second signal must not cut the clean-up short
    if [ $status -ne 0 ] && [ -d "$dir" ]; then
        echo "e2e: FAILED; the last log lines:" >&2
        for log in "$dir"/receiver-*.log "$dir"/nginx/error.log "$dir"/pgbouncer/pgbouncer.log; do
            [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
        done
    fi
    scripts/topology.sh stop "$dir"
    exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "e2e: $*" >&2
    exit 1
}

echo "e2e: starting the topology in $dir"
scripts/topology.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/topology.env"
bin=${RECEIVER_BIN:-.build/debug/connector-receiver}
base=$TOPOLOGY_HTTPS_URL
read -r -a ports <<<"$TOPOLOGY_RECEIVER_PORTS"

# /v1 requests an instance has answered, from its own /metrics.
v1_requests() {
    curl -sf --max-time 5 "http://127.0.0.1:$1/metrics" \
        | awk '/^http_requests_total\{route="\/v1/ { sum += $NF } END { print sum + 0 }'
}
declare -a before
for i in "${!ports[@]}"; do before[i]=$(v1_requests "${ports[i]}"); done

# Turn up a client with the CLI, through PgBouncer like the instances.
export DATABASE_URL='' DATABASE_URL_FILE=$TOPOLOGY_DATABASE_URL_FILE RECEIVER_DATABASE_POOL_MODE=transaction
sheet=$("$bin" turnup add acme --name "Acme Fitness" --club club-001=Downtown --club club-002=Uptown \
    --connection "$base" --json)
username=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["credentials"]["username"])' <<<"$sheet")
python3 -c 'import json, sys; print(json.load(sys.stdin)["credentials"]["password"])' <<<"$sheet" >"$dir/secrets/acme.password"
"$bin" turnup staff set acme kim@example.com --first-name Kim --last-name Lee --role trainer --club club-001 >/dev/null
echo "e2e: turned up client acme ($username)"

# call METHOD PATH [BODY]: one /v1 call over https; sets $status and $body.
call() {
    local method=$1 path=$2 data=${3:-}
    local args=(-sS --max-time 10 --cacert "$TOPOLOGY_CA_FILE" -u "$username:$(cat "$dir/secrets/acme.password")"
        -X "$method" -o "$dir/body" -w '%{http_code}')
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data "$data")
    status=$(curl "${args[@]}" "$base$path")
    body=$(cat "$dir/body")
}
expect() {  # expect STATUS WHAT
    [ "$status" = "$1" ] || fail "$2: expected $1, got $status: $body"
}
field() {  # field NAME: a top-level member of the last body
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$body"
}

call PUT /v1/prospects/by-external-id/ext-1 \
    '{"clubId": "club-001", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}'
expect 201 "save a new prospect"
id=$(field id)
call PUT /v1/prospects/by-external-id/ext-1 \
    '{"clubId": "club-001", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}'
expect 200 "save the same prospect again"
[ "$(field id)" = "$id" ] || fail "the second save made another record: $body"
call POST /v1/lead-sources '{"name": "Website"}'
expect 201 "create a lead source"
lead_source=$(field id)
call POST /v1/prospects "{\"clubId\": \"club-002\", \"firstName\": \"Grace\", \"externalId\": \"ext-2\", \"leadSourceId\": \"$lead_source\"}"
expect 201 "create a prospect"
# Several reads, so that round robin spreads them over both instances.
for _ in 1 2 3 4 5 6; do
    call GET "/v1/prospects/$id"
    expect 200 "read the prospect back"
    [ "$(field email)" = "ada@example.com" ] || fail "read back another prospect: $body"
done
call GET "/v1/prospects?externalId=ext-2"
expect 200 "list prospects by external id"
python3 -c 'import json, sys; items = json.load(sys.stdin)["items"]; assert [p["firstName"] for p in items] == ["Grace"], items' <<<"$body" \
    || fail "the list by external id is wrong: $body"
call GET /v1/staff
expect 200 "list staff"
[[ "$body" == *kim@example.com* ]] || fail "staff list lacks kim@example.com: $body"
call GET /v1/lead-sources
expect 200 "list lead sources"
[[ "$body" == *Website* ]] || fail "lead source list lacks Website: $body"
status=$(curl -sS --max-time 10 --cacert "$TOPOLOGY_CA_FILE" -u "$username:wrong-password" -o /dev/null -w '%{http_code}' "$base/v1/staff")
[ "$status" = 401 ] || fail "a wrong password through nginx: expected 401, got $status"
echo "e2e: /v1 over https: saved, created, read back and listed"

# Both instances answered /v1 calls.
for i in "${!ports[@]}"; do
    after=$(v1_requests "${ports[i]}")
    served=$((after - before[i]))
    echo "e2e: instance $((i + 1)) (port ${ports[i]}) served $served /v1 requests"
    [ "$served" -gt 0 ] || fail "instance $((i + 1)) served no /v1 request: nginx did not balance"
done

# Plain http: credentials are refused, not forwarded and not redirected.
http=$TOPOLOGY_HTTP_URL
status=$(curl -sS --max-time 10 -u "$username:x" -o "$dir/body" -w '%{http_code}' "$http/v1/staff")
[ "$status" = 403 ] || fail "http /v1 with credentials: expected 403, got $status"
grep -q "HTTPS required" "$dir/body" || fail "http /v1 refusal does not say why: $(cat "$dir/body")"
status=$(curl -sS --max-time 10 -H 'Authorization: Bearer whatever' -o /dev/null -w '%{http_code}' "$http/healthz")
[ "$status" = 403 ] || fail "http with an Authorization header: expected 403, got $status"
status=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' "$http/healthz")
[[ "$status" == "301 https://"* ]] || fail "http without credentials: expected a redirect to https, got $status"
status=$(curl -sS --max-time 10 --cacert "$TOPOLOGY_CA_FILE" -o /dev/null -w '%{http_code}' "$base/metrics")
[ "$status" = 404 ] || fail "/metrics through nginx: expected 404, got $status"
echo "e2e: plain http refuses credentials (403) and redirects the rest; /metrics is not public"

# The instances log JSON, one object per line.
for log in "$dir"/receiver-*.log; do
    python3 -c '
import json, sys
lines = [line for line in open(sys.argv[1]) if line.strip()]
for line in lines:
    event = json.loads(line)
    assert {"timestamp", "level", "label", "message"} <= event.keys(), line
assert any(event.get("message") == "request" for event in map(json.loads, lines)), "no access log line"
' "$log" || fail "$log is not JSON lines"
done

# PgBouncer kept the server connections within its budget (max_db_connections = 10)
# although the two pools may open 2 x 10 client connections.
server=$(psql "$TOPOLOGY_DIRECT_DATABASE_URL" -X -A -t -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'receiver'")
[ "$server" -le 10 ] || fail "$server server connections for the receivers, more than PgBouncer's 10"
echo "e2e: $server PostgreSQL connections serve both instances (PgBouncer, transaction mode)"
echo "e2e: passed"
