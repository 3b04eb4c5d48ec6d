#!/usr/bin/env bash
# The admin console in a real browser: starts connector-receiver (the admin API on, the
# console served from console/) on a fresh database of a real PostgreSQL, then walks an
# admin's day in headless Chromium driven by Selenium (scripts/console_test.py).
#
# Usage: scripts/console-test.sh
# Environment:
#   TEST_DATABASE_URL    a PostgreSQL to create the test database in (scripts/test.sh sets it);
#                        without it a throwaway cluster is started and removed afterwards.
#   RECEIVER_BIN         the server executable (default .build/debug/connector-receiver, which
#                        scripts/test.sh has just built; .build/release/connector-receiver works too).
#   CONSOLE_SCREENSHOTS  where the screenshots go (default .build/console-screenshots, not committed).
# Prints "console-test: N checks passed" last, and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${RECEIVER_BIN:-.build/debug/connector-receiver}
screenshots=${CONSOLE_SCREENSHOTS:-.build/console-screenshots}
[ -x "$binary" ] || { echo "console-test: $binary is missing: swift build first" >&2; exit 1; }
for tool in chromium chromedriver psql; do
    command -v "$tool" >/dev/null || { echo "console-test: $tool is missing: scripts/bootstrap.sh test installs it" >&2; exit 1; }
done
python3 -c 'import selenium' 2>/dev/null || { echo "console-test: the selenium package is missing: scripts/bootstrap.sh test installs it" >&2; exit 1; }

work=$(mktemp -d /tmp/connector-receiver-console.XXXXXX)
cluster=
pid=
database="console_$$"
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ -n "${TEST_DATABASE_URL:-}" ]; then
        psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    [ -n "$cluster" ] && scripts/test-postgres.sh stop "$cluster"
    rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${TEST_DATABASE_URL:-}" ]; then
    cluster=$(mktemp -d /tmp/connector-receiver-console-pg.XXXXXX)
    TEST_DATABASE_URL=$(scripts/test-postgres.sh start "$cluster")
fi
psql "$TEST_DATABASE_URL" -q -c "CREATE DATABASE $database"

# A fresh token each run, handed over in the environment (never on a command line).
export RECEIVER_ADMIN_TOKEN="console-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# Private addresses allowed: the webhook step delivers to a receiver of the test on 127.0.0.1.
RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=on DATABASE_URL="$TEST_DATABASE_URL dbname=$database" "$binary" serve --host 127.0.0.1 --port 0 >"$work/serve.log" 2>&1 &
pid=$!
port=$(scripts/listening-port.sh "$work/serve.log" "$pid") || port=
if [ -z "$port" ]; then
    echo "console-test: the server did not start" >&2
    cat "$work/serve.log" >&2
    exit 1
fi
grep -q "admin console at http://127.0.0.1:$port/admin/" "$work/serve.log" \
    || { echo "console-test: the server does not serve the console" >&2; cat "$work/serve.log" >&2; exit 1; }

rm -rf "$screenshots"
mkdir -p "$screenshots"
echo "console-test: the console at http://127.0.0.1:$port/admin/, screenshots in $screenshots"
if ! python3 scripts/console_test.py "http://127.0.0.1:$port" "$screenshots"; then
    echo "console-test: the server's log:" >&2
    tail -n 40 "$work/serve.log" >&2
    exit 1
fi
rm -rf "$screenshots/chromium-profile"
# The token never reaches the server's log (nor the screenshots' pages).
if grep -qF "$RECEIVER_ADMIN_TOKEN" "$work/serve.log"; then
    echo "console-test: the admin token appears in the server's log" >&2
    exit 1
fi
