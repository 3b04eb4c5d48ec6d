#!/usr/bin/env bash
# Webhook delivery end to end: two connector-receiver instances on one fresh database deliver
# a client's events to a receiving endpoint (scripts/webhooks.py) that verifies every delivery
# with the PyPI standardwebhooks library. The retry schedule is compressed by settings so the
# run takes a few minutes.
#   (a) 10,000 events saved at a steady rate; the endpoint is down (its process gone, connections
#       refused) for two minutes in the middle, then back: every event delivered, duplicates only
#       as retries with the same webhook-id and body, each record's versions in order;
#   (b) 3,000 more to an endpoint that now takes 50 ms an answer, while instance A is killed with
#       SIGKILL mid-stream, B running: A held claims, and every event is still delivered (A's
#       claims are taken over once their lease lapses);
#   (c) during (b), the endpoint's secret is rotated: from then on each delivery verifies with
#       the old and with the new secret, each on its own.
# Usage: scripts/webhooks.sh [outage-seconds]   (default 120)
# Environment: TEST_DATABASE_URL (scripts/test.sh sets it; else a throwaway cluster is started),
#              RECEIVER_BIN (default .build/debug/connector-receiver).
set -euo pipefail
cd "$(dirname "$0")/.."
outage=${1:-120}
bin=${RECEIVER_BIN:-.build/debug/connector-receiver}
[ -x "$bin" ] || { echo "webhooks: $bin is missing: swift build first" >&2; exit 1; }
python3 -c 'import standardwebhooks' || { echo "webhooks: python3 lacks standardwebhooks: scripts/bootstrap.sh test installs it" >&2; exit 1; }

work=$(mktemp -d /tmp/connector-receiver-webhooks.XXXXXX)
database="webhooks_e2e_$$"
cluster=
pids=()
receiver_pid=
cleanup() {
    local status=$?
    trap '' INT TERM HUP
    if [ $status -ne 0 ]; then
        echo "webhooks: FAILED; the last log lines:" >&2
        for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }; done
    fi
    for pid in "${pids[@]}" $receiver_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}" $receiver_pid; do wait "$pid" 2>/dev/null || true; done
    [ -n "${TEST_DATABASE_URL:-}" ] && psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    [ -n "$cluster" ] && scripts/test-postgres.sh stop "$cluster"
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "webhooks: $*" >&2; exit 1; }

if [ -z "${TEST_DATABASE_URL:-}" ]; then
    cluster=$(mktemp -d /tmp/connector-receiver-webhooks-pg.XXXXXX)
    TEST_DATABASE_URL=$(scripts/test-postgres.sh start "$cluster")
fi
psql "$TEST_DATABASE_URL" -q -c "CREATE DATABASE $database"
export DATABASE_URL="$TEST_DATABASE_URL dbname=$database"
db() { psql "$DATABASE_URL" -At -q -c "$1"; }

# Retries compressed: 16 attempts over 3.5 minutes, so the two-minute outage is ridden out.
launch() {  # launch NAME: an instance in the background; sets port_NAME and pid_NAME
    local name=$1
    RECEIVER_ACCESS_LOG=off RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=on \
        RECEIVER_WEBHOOK_RETRY_SCHEDULE=0,1s,2s,4s,8s,15s,15s,15s,15s,15s,15s,15s,15s,15s,15s,15s \
        RECEIVER_WEBHOOK_DISABLE_AFTER=1h \
        "$bin" serve --host 127.0.0.1 --port 0 >"$work/$name.log" 2>&1 &
    local pid=$! port
    pids+=($pid)
    eval "pid_$name=$pid"
    port=$(scripts/listening-port.sh "$work/$name.log" "$pid") || fail "instance $name did not start"
    eval "port_$name=$port"
}
launch a
launch b
echo "webhooks: instances a (port $port_a, pid $pid_a) and b (port $port_b, pid $pid_b) on database $database"

sheet=$("$bin" turnup add acme --name "Acme Fitness" --club club-001=Downtown --connection "http://127.0.0.1:$port_a" --json)
user=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["credentials"]["username"])' <<<"$sheet")
password=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["credentials"]["password"])' <<<"$sheet")

receiver_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
new_secret() { python3 -c 'import base64, os; print("whsec_" + base64.b64encode(os.urandom(32)).decode())'; }
old=$(new_secret)
echo "old=$old" >"$work/secrets"
start_receiver() {
    python3 scripts/webhooks.py receive --port "$receiver_port" --log "$work/deliveries.jsonl" --secrets "$work/secrets" \
        >>"$work/receiver.log" 2>&1 &
    receiver_pid=$!
    for _ in $(seq 1 100); do
        grep -q "receiving on" "$work/receiver.log" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "the receiver did not start"
}
: >"$work/receiver.log"
start_receiver
# The endpoint, straight in SQL (the admin API does the same through WebhookEndpointStore):
# its position starts below the change feed's horizon, as the store's create does.
db "INSERT INTO webhook_endpoints (client_id, id, url, secret) VALUES ('acme', gen_random_uuid(), 'http://127.0.0.1:$receiver_port/hook', '$old');
    INSERT INTO webhook_positions (client_id, endpoint_id, pos_xid, seq, micros)
    SELECT client_id, id, (pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text::xid8, 9223372036854775807,
           (extract(epoch FROM now()) * 1000000)::bigint FROM webhook_endpoints;"

# wait_delivered SECONDS [ROTATED_AT]: until the check passes, or fail with its report.
wait_delivered() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        python3 scripts/webhooks.py check --log "$work/deliveries.jsonl" --database-url "$DATABASE_URL" --client acme \
            --rotated-at "${2:-0}" >/dev/null 2>&1 && break
        sleep 2
    done
    python3 scripts/webhooks.py check --log "$work/deliveries.jsonl" --database-url "$DATABASE_URL" --client acme --rotated-at "${2:-0}"
}

# (a) 10,000 events over about 170 s; the endpoint is down from 20 s for $outage s.
echo "webhooks: (a) 10,000 saves at 60 a second; the endpoint goes down at 20 s for $outage s"
python3 scripts/webhooks.py produce --target "127.0.0.1:$port_a" --user "$user" --password "$password" \
    --count 10000 --records 1000 --rate 60 --prefix a >"$work/produce-a.log" 2>&1 &
producer=$!
sleep 20
kill -9 "$receiver_pid"
wait "$receiver_pid" 2>/dev/null || true
receiver_pid=
echo "webhooks: the endpoint is down"
sleep "$outage"
start_receiver
echo "webhooks: the endpoint is back"
wait "$producer" || fail "the producer failed: $(cat "$work/produce-a.log")"
failed=$(db "SELECT count(*) FROM webhook_attempts WHERE status IS NULL")
[ "$failed" -gt 0 ] || fail "no attempt failed while the endpoint was down"
wait_delivered 180 || fail "(a) not every event was delivered as it should be"
echo "webhooks: (a) passed; $failed attempts failed during the outage"

# (b) and (c): 3,000 more through b; the secret rotates at 8 s, a is killed at 15 s.
echo "webhooks: (b, c) 3,000 saves at 100 a second through b to an endpoint taking 50 ms an answer; rotation at 8 s, SIGKILL of a at 15 s (or as soon after as it holds claims)"
echo 0.05 >"$work/secrets.delay"
python3 scripts/webhooks.py produce --target "127.0.0.1:$port_b" --user "$user" --password "$password" \
    --count 3000 --records 300 --rate 100 --prefix b >"$work/produce-b.log" 2>&1 &
producer=$!
sleep 8
new=$(new_secret)
# Replaced in one rename: the receiver reads the file on every delivery, and one read
# between a truncation and the write found no secret at all (a 401 for a good signature).
printf 'old=%s\nnew=%s\n' "$old" "$new" >"$work/secrets.next"
mv "$work/secrets.next" "$work/secrets"
db "UPDATE webhook_endpoints SET previous_secret = secret, secret = '$new', previous_secret_expires_at = now() + interval '24 hours'"
rotated_at=$(date +%s)
sleep 7
# Killed while it holds claims: b, which takes the saves, is woken by each commit and may
# well be doing all the work, so the answers slow down to a second until a holds some.
echo 1 >"$work/secrets.delay"
for _ in $(seq 1 300); do
    [ "$(db "SELECT count(*) FROM webhook_deliveries WHERE claimed_by LIKE '%:$pid_a:%' AND status = 'pending'")" -gt 0 ] && break
    sleep 0.1
done
kill -9 "$pid_a"
wait "$pid_a" 2>/dev/null || true
echo 0.05 >"$work/secrets.delay"
left=$(db "SELECT count(*) FROM webhook_deliveries WHERE claimed_by LIKE '%:$pid_a:%' AND status = 'pending'")
echo "webhooks: killed a (pid $pid_a) holding $left claims"
[ "$left" -gt 0 ] || fail "the killed instance held no claims: nothing to take over"
wait "$producer" || fail "the producer failed: $(cat "$work/produce-b.log")"
wait_delivered 150 "$rotated_at" || fail "(b, c) not every event was delivered as it should be"
echo "webhooks: (b, c) passed: $left claims of the killed instance taken over, both secrets verified after the rotation"
