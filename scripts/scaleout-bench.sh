#!/usr/bin/env bash
# Throughput of the production topology with one, then two receiver instances:
# wrk through nginx (TLS) for a fixed time against GET /readyz (a database round
# trip through PgBouncer) and an authenticated GET /v1/prospects/{id} (credential
# check plus the read). On a small machine everything shares the same cores, so
# this shows where the CPU goes more than what more hardware would give.
# Usage: scripts/scaleout-bench.sh [SECONDS] [CONNECTIONS]   (defaults 10, 32)
# Needs a release build (swift build -c release) and wrk (scripts/bootstrap.sh bench).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
export RECEIVER_BIN=${RECEIVER_BIN:-.build/release/connector-receiver}
export TOPOLOGY_POOL_SIZE=${TOPOLOGY_POOL_SIZE:-10}

dir=""
trap '[ -z "$dir" ] || scripts/topology.sh stop "$dir"' EXIT

rate() {  # rate URL [wrk options]: "requests/s p50 p99"
    local url=$1
    shift
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" "$url" >"$dir/wrk.txt"
    if grep -q "Non-2xx\|Socket errors" "$dir/wrk.txt"; then
        cat "$dir/wrk.txt" >&2
        echo "scaleout-bench: errors in the run" >&2
        exit 1
    fi
    awk '/^Requests\/sec/ { r = int($2) } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 } END { print r, p50, p99 }' "$dir/wrk.txt"
}

printf '%-10s %-32s %10s %10s %10s\n' instances endpoint "req/s" p50 p99
for instances in 1 2; do
    dir=$(mktemp -d /tmp/connector-receiver-bench.XXXXXX)
    TOPOLOGY_INSTANCES=$instances scripts/topology.sh start "$dir" >/dev/null
    # shellcheck disable=SC1091
    source "$dir/topology.env"
    sheet=$(DATABASE_URL='' DATABASE_URL_FILE=$TOPOLOGY_DATABASE_URL_FILE RECEIVER_DATABASE_POOL_MODE=transaction \
        "$RECEIVER_BIN" turnup add bench --name Bench --club club-001=Main --json)
    credentials=$(python3 -c 'import base64, json, sys; c = json.load(sys.stdin)["credentials"]; print(base64.b64encode((c["username"] + ":" + c["password"]).encode()).decode())' <<<"$sheet")
    id=$(curl -sf --cacert "$TOPOLOGY_CA_FILE" -H "Authorization: Basic $credentials" -X PUT \
        -H 'Content-Type: application/json' --data '{"clubId": "club-001", "firstName": "Ada"}' \
        "$TOPOLOGY_HTTPS_URL/v1/prospects/by-external-id/bench-1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    # shellcheck disable=SC2046
    printf '%-10s %-32s %10s %10s %10s\n' "$instances" "GET /readyz" $(rate "$TOPOLOGY_HTTPS_URL/readyz")
    # shellcheck disable=SC2046
    printf '%-10s %-32s %10s %10s %10s\n' "$instances" "GET /v1/prospects/{id} (Basic)" \
        $(rate "$TOPOLOGY_HTTPS_URL/v1/prospects/$id" -H "Authorization: Basic $credentials")
    scripts/topology.sh stop "$dir"
    dir=""
done
