#!/usr/bin/env bash
# Prints the port a connector-receiver started with --port 0 listens on, read from its log's
# "listening on http://127.0.0.1:PORT" line, once it is there. Fails (status 1, nothing
# printed) when the process exits first or SECONDS pass: the caller says what did not start.
# Usage: scripts/listening-port.sh LOG PID [SECONDS]   (default 30)
set -uo pipefail
log=$1 pid=$2 seconds=${3:-30}
for _ in $(seq 1 $((seconds * 10))); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" 2>/dev/null | head -n 1)
    [ -n "$port" ] && { echo "$port"; exit 0; }
    kill -0 "$pid" 2>/dev/null || exit 1
    sleep 0.1
done
exit 1
