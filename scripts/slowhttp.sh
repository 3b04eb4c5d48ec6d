#!/usr/bin/env bash
# Slow-client resistance: slowhttptest in slow-header (Slowloris), slow-body
# (R-U-Dead-Yet) and slow-read modes against a live connector-receiver on
# loopback, while a probe checks /healthz every 0.2 s. Passes when every probe
# is answered within 2 s throughout. Needs a built executable and
# TEST_DATABASE_URL (scripts/test.sh sets it).
# Usage: scripts/slowhttp.sh [seconds per mode, default 15] [connections, default 1000]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-15}
connections=${2:-1000}
: "${TEST_DATABASE_URL:?TEST_DATABASE_URL is not set: run scripts/test.sh, or start scripts/test-postgres.sh}"
command -v slowhttptest >/dev/null || { echo "slowhttp: slowhttptest is missing: apt-get install -y slowhttptest" >&2; exit 1; }

work=$(mktemp -d /tmp/connector-receiver-slowhttp.XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "${KEEP_SLOWHTTP_LOGS:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

ulimit -n 65536 2>/dev/null || true
# Short header and body timeouts, as an operator facing slow clients would set them.
DATABASE_URL="$TEST_DATABASE_URL" RECEIVER_ACCESS_LOG=off \
    .build/debug/connector-receiver serve --host 127.0.0.1 --port 0 --header-timeout 5 --body-timeout 10 \
    --write-timeout 10 >"$work/serve.log" 2>&1 &
server_pid=$!
port=$(scripts/listening-port.sh "$work/serve.log" "$server_pid") \
    || { echo "slowhttp: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
url="http://127.0.0.1:$port/healthz"

failed=0
for mode in H B X; do
    case $mode in
        H) name="slow headers"; options=(-H -i 10 -x 24 -t GET) ;;
        B) name="slow body"; options=(-B -i 10 -s 8192 -x 10 -t POST) ;;
        X) name="slow read"; options=(-X -k 10 -n 5 -w 1 -y 8 -z 4 -t GET) ;;
    esac
    slowhttptest "${options[@]}" -c "$connections" -r 500 -l "$seconds" -p 2 -u "$url" >"$work/slow-$mode.log" 2>&1 &
    attack=$!
    probes=0; misses=0
    end=$((SECONDS + seconds))
    while [ $SECONDS -lt $end ]; do
        probes=$((probes + 1))
        curl -sf -m 2 -o /dev/null "$url" || misses=$((misses + 1))
        sleep 0.2
    done
    wait "$attack" || true
    verdict=$(sed "s/\x1b\[[0-9;]*m//g" "$work/slow-$mode.log" | grep -o "service available: *[A-Z]*" | tail -1 || true)
    echo "slowhttp: $name, $connections connections, ${seconds} s: $((probes - misses))/$probes probes answered; slowhttptest: ${verdict:-no verdict}"
    if [ "$misses" -gt 0 ] || [[ "$verdict" == *NO ]] || ! kill -0 "$server_pid" 2>/dev/null; then failed=1; fi
done
exit $failed
