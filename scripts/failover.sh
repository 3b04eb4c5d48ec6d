#!/usr/bin/env bash
# PostgreSQL failover under load (issue: losing the database server loses nothing).
# Starts scripts/patroni-topology.sh (etcd, two PostgreSQL nodes under Patroni in
# synchronous mode, one connector-receiver on a multi-host DATABASE_URL), turns up a
# client, then runs scripts/failover.py twice on the same topology:
#   kill    SIGKILL of the primary's postmaster under load
#   freeze  SIGSTOP of the new primary's whole node (Patroni and PostgreSQL) for
#           FAILOVER_FREEZE_SECONDS, then SIGCONT
# Each checks 0 acknowledged saves lost, only 503s with Retry-After meanwhile, the
# recovery time, /readyz, no split brain and the old primary back as a synchronous
# standby. Stops everything whatever happens.
# Usage: scripts/failover.sh   (RECEIVER_BIN and the PATRONI_* timings as patroni-topology.sh)
# Environment: FAILOVER_SCENARIOS (default "kill freeze"), FAILOVER_FREEZE_SECONDS (default 20),
#   FAILOVER_MAX_RECOVERY (seconds, default 30), FAILOVER_JSON (append each run's figures there)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d /tmp/connector-receiver-failover.XXXXXX)
cleanup() {
    local status=$?
    trap '' INT TERM HUP  # a second signal must not cut the clean-up short
    if [ $status -ne 0 ] && [ -d "$dir" ]; then
        echo "failover: FAILED; the last log lines:" >&2
        for log in "$dir"/receiver-*.log "$dir"/node1/patroni.log "$dir"/node2/patroni.log; do
            [ -f "$log" ] && { echo "--- $log" >&2; grep -v 'failover_probe\|read-only transaction' "$log" | tail -n 15 >&2; }
        done
    fi
    scripts/patroni-topology.sh stop "$dir"
    exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

started=$(date +%s)
echo "failover: starting etcd, two PostgreSQL nodes under Patroni and a receiver in $dir"
scripts/patroni-topology.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/topology.env"
echo "failover: Patroni ttl=$TOPOLOGY_PATRONI_TTL loop_wait=$TOPOLOGY_PATRONI_LOOP_WAIT retry_timeout=$TOPOLOGY_PATRONI_RETRY_TIMEOUT" \
    "synchronous_mode=true synchronous_mode_strict=$TOPOLOGY_SYNCHRONOUS_MODE_STRICT primary_start_timeout=0; up in $(($(date +%s) - started)) s"

bin=${RECEIVER_BIN:-.build/debug/connector-receiver}
sheet=$(DATABASE_URL='' DATABASE_URL_FILE=$TOPOLOGY_DATABASE_URL_FILE \
    "$bin" turnup add acme --name "Acme Fitness" --club club-001=Downtown \
    --connection "http://127.0.0.1:${TOPOLOGY_RECEIVER_PORTS%% *}" --json)
username=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["credentials"]["username"])' <<<"$sheet")
FAILOVER_PASSWORD=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["credentials"]["password"])' <<<"$sheet")
export FAILOVER_PASSWORD

# psycopg2 comes with Debian's patroni package, for the system's Python.
python=/usr/bin/python3
json_args=()
[ -n "${FAILOVER_JSON:-}" ] && json_args=(--json "$FAILOVER_JSON")
for scenario in ${FAILOVER_SCENARIOS:-kill freeze}; do
    timeout --signal=TERM --kill-after=10 300 "$python" scripts/failover.py --env "$dir/topology.env" \
        --scenario "$scenario" --username "$username" \
        --freeze-seconds "${FAILOVER_FREEZE_SECONDS:-20}" --max-recovery "${FAILOVER_MAX_RECOVERY:-30}" \
        "${json_args[@]}"
done
echo "failover: passed in $(($(date +%s) - started)) s"
