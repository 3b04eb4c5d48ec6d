#!/usr/bin/env bash
# The soak test: a release build of connector-receiver on a throwaway PostgreSQL, driven at
# a fixed request rate (open loop) with the Connector's mix for N minutes (default 10), then
# overloaded for 30 s, then watched while it recovers. scripts/soak.py does the driving and
# prints the tables; this script exits with its status.
#
#   scripts/soak.sh [minutes]
#   SOAK_ARGS="--rate 300 --overload-rate 4000" scripts/soak.sh 2      (flags of scripts/soak.py)
#   SOAK_SERVE_ARGS="--client-rate-limit 2000" scripts/soak.sh         (flags of serve)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
scripts/bootstrap.sh soak
echo "soak: building the release binary"
swift build -c release
bin=$(swift build -c release --show-bin-path)/connector-receiver

work=$(mktemp -d /tmp/connector-receiver-soak.XXXXXX)
cluster=$(mktemp -d /tmp/connector-receiver-soak-pg.XXXXXX)
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    scripts/test-postgres.sh stop "$cluster"
    rm -rf "$work"
}
trap cleanup EXIT

echo "soak: starting a throwaway PostgreSQL in $cluster"
DATABASE_URL=$(scripts/test-postgres.sh start "$cluster")
export DATABASE_URL

# Production defaults (32 workers, pool of 20, access log on), on loopback.
# shellcheck disable=SC2086
"$bin" serve --host 127.0.0.1 --port 0 ${SOAK_SERVE_ARGS:-} >"$work/serve.log" 2>&1 &
server_pid=$!
port=$(scripts/listening-port.sh "$work/serve.log" "$server_pid" 120) \
    || { cat "$work/serve.log" >&2; echo "soak: serve did not start listening" >&2; exit 1; }
echo "soak: serve (pid $server_pid) listening on 127.0.0.1:$port"

"$bin" turnup add soak --name "Soak Fitness" --club club-001=Downtown --club club-002=Uptown \
    --connection "http://127.0.0.1:$port" --json >"$work/turnup.json"
staff=()
for n in 1 2 3; do
    "$bin" turnup staff set soak "coach$n@example.com" --first-name Coach --last-name "No$n" \
        --club club-001 --club club-002 >/dev/null
    staff+=("coach$n@example.com")
done
username=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"]["username"])' "$work/turnup.json")
SOAK_PASSWORD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"]["password"])' "$work/turnup.json")
export SOAK_PASSWORD

status=0
# shellcheck disable=SC2086
python3 scripts/soak.py --port "$port" --pid "$server_pid" --username "$username" \
    --staff "$(IFS=,; echo "${staff[*]}")" --minutes "$minutes" --server-log "$work/serve.log" \
    --postgres-pid "$(head -n 1 "$cluster/data/postmaster.pid")" ${SOAK_ARGS:-} || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "soak: FAIL: the server died" >&2
    tail -n 50 "$work/serve.log" >&2
    exit 1
fi
echo "soak: server log: $(grep -c '' "$work/serve.log") lines, $(grep -c -E 'warning|error|critical' "$work/serve.log" || true) at warning or above:"
grep -E 'warning|error|critical' "$work/serve.log" | cut -c1-300 | sort | uniq -c | sort -rn | head -n 10 || true
kill -TERM "$server_pid"
for _ in $(seq 1 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
    echo "soak: FAIL: the server did not stop within 20 s of SIGTERM" >&2
    status=1
else
    wait "$server_pid" || { code=$?; echo "soak: FAIL: the server exited with status $code on SIGTERM" >&2; status=1; }
fi
server_pid=
exit $status
