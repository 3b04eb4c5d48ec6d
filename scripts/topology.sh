#!/usr/bin/env bash
# The production topology on loopback, without containers (the same as
# docker/compose.yaml): PostgreSQL, PgBouncer in transaction mode, two
# connector-receiver instances whose DATABASE_URL goes through PgBouncer, and nginx
# terminating TLS (self-signed certificate) and balancing over the instances.
#   scripts/topology.sh start DIR   start everything in DIR (created); prints the https base URL
#   scripts/topology.sh stop DIR    stop everything started in DIR, then delete DIR
# DIR/topology.env (shell syntax) tells the ports, the files and the URLs. Everything
# listens on 127.0.0.1 only and writes a pid file in DIR. As root, PostgreSQL and
# PgBouncer run as the `postgres` user and nginx as `www-data`.
# Environment:
#   RECEIVER_BIN         the connector-receiver executable (default .build/debug/connector-receiver)
#   TOPOLOGY_INSTANCES   how many receiver instances (default 2)
#   TOPOLOGY_POOL_SIZE   each instance's --pool-size (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

command=${1:?usage: topology.sh start|stop DIR}
dir=${2:?usage: topology.sh start|stop DIR}

run_as() {  # run_as USER COMMAND…: as that user when root, else as ourselves
    local user=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (bounded) until a URL answers 200.
wait_for() {
    local url=$1 what=$2 tries=${3:-300}
    for _ in $(seq "$tries"); do
        if curl -sf -o /dev/null --max-time 2 "${@:4}" "$url"; then return 0; fi
        sleep 0.2
    done
    echo "topology: $what did not come up ($url)" >&2
    return 1
}

# Sends SIGTERM to the process in a pid file, waits up to 10 s, then SIGKILL.
stop_pidfile() {
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

start() {
    local bin=${RECEIVER_BIN:-.build/debug/connector-receiver}
    local instances=${TOPOLOGY_INSTANCES:-2} pool_size=${TOPOLOGY_POOL_SIZE:-10}
    [ -x "$bin" ] || { echo "topology: no executable at $bin (swift build, or set RECEIVER_BIN)" >&2; exit 1; }
    bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 755 "$dir"
    mkdir -p "$dir/secrets" "$dir/pgbouncer" "$dir/nginx/cache"
    chmod 700 "$dir/secrets"

    # PostgreSQL, with the receiver's role and database. The statement timeout is the
    # role's: through PgBouncer in transaction mode the receiver sends no session settings.
    local direct password
    direct=$(scripts/test-postgres.sh start "$dir/postgres")
    password=$(openssl rand -hex 24)
    psql "$direct" -X -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE receiver LOGIN PASSWORD '$password'" \
        -c "ALTER ROLE receiver SET statement_timeout = '10s'" \
        -c "CREATE DATABASE receiver OWNER receiver" >/dev/null
    local pg_port
    pg_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$direct")

    # PgBouncer: clients authenticate with SCRAM against the role's SCRAM secret
    # (copied from pg_authid, so no clear password on disk); transaction pooling.
    local pgb_port
    pgb_port=$(free_port)
    psql "$direct" -X -A -t -c "SELECT format('\"%s\" \"%s\"', rolname, rolpassword) FROM pg_authid WHERE rolname = 'receiver'" \
        >"$dir/pgbouncer/userlist.txt"
    # docker/pgbouncer.ini with loopback addresses and paths in DIR, and a smaller
    # budget: at most 10 server connections for all the instances together.
    python3 - "$repo/docker/pgbouncer.ini" "$dir" "$pg_port" "$pgb_port" >"$dir/pgbouncer/pgbouncer.ini" <<'EOF'
import sys
source, d, pg_port, pgb_port = sys.argv[1:]
text = open(source).read()
replacements = [
    ("host=postgres port=5432", f"host=127.0.0.1 port={pg_port}"),
    ("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1"),
    ("listen_port = 6432", f"listen_port = {pgb_port}"),
    ("/run/secrets/pgbouncer_userlist", f"{d}/pgbouncer/userlist.txt"),
    ("default_pool_size = 20", "default_pool_size = 10"),
    ("max_db_connections = 40", "max_db_connections = 10"),
]
for old, new in replacements:
    if old not in text:
        sys.exit(f"topology: docker/pgbouncer.ini no longer contains {old!r}")
    text = text.replace(old, new)
text += f"logfile = {d}/pgbouncer/pgbouncer.log\npidfile = {d}/pgbouncer/pgbouncer.pid\n"
sys.stdout.write(text)
EOF
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir/pgbouncer"
    chmod 600 "$dir/pgbouncer/userlist.txt"
    run_as postgres pgbouncer -d -q "$dir/pgbouncer/pgbouncer.ini" </dev/null >/dev/null 2>&1 \
        || { cat "$dir/pgbouncer/pgbouncer.log" >&2 2>/dev/null; echo "topology: pgbouncer did not start" >&2; exit 1; }

    # The receivers' secrets, as files (as Docker secrets are).
    printf 'postgresql://receiver:%s@127.0.0.1:%s/receiver\n' "$password" "$pgb_port" >"$dir/secrets/database_url"
    openssl rand -hex 24 >"$dir/secrets/admin_token"
    chmod 600 "$dir/secrets/"*

    # nginx's certificate: self-signed, for 127.0.0.1 and localhost.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/nginx/tls.key" -out "$dir/nginx/tls.crt" 2>/dev/null
    local https_port http_port
    https_port=$(free_port)
    http_port=$(free_port)

    # The receivers, through PgBouncer. Both migrate at start, concurrently, through
    # PgBouncer: the migrator keeps no session state (transaction-scoped lock).
    local ports=()
    for i in $(seq "$instances"); do
        local port
        port=$(free_port)
        ports+=("$port")
        DATABASE_URL='' DATABASE_URL_FILE="$dir/secrets/database_url" RECEIVER_DATABASE_POOL_MODE=transaction \
            RECEIVER_ADMIN_TOKEN='' RECEIVER_ADMIN_TOKEN_FILE="$dir/secrets/admin_token" \
            RECEIVER_PUBLIC_URL="https://127.0.0.1:$https_port" RECEIVER_LOG_FORMAT=json \
            RECEIVER_MIGRATIONS_DIR="$repo/migrations" RECEIVER_OPENAPI_FILE="$repo/openapi.yaml" \
            setsid "$bin" serve --host 127.0.0.1 --port "$port" --pool-size "$pool_size" \
            </dev/null >"$dir/receiver-$i.log" 2>&1 &
        echo $! >"$dir/receiver-$i.pid"
    done

    # nginx: docker/nginx.conf with loopback addresses and paths in DIR.
    python3 - "$repo/docker/nginx.conf" "$dir" "$https_port" "$http_port" "${ports[@]}" >"$dir/nginx/nginx.conf" <<'EOF'
import re, sys
source, d, https_port, http_port, *ports = sys.argv[1:]
text = open(source).read()
servers = "".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;\n" for p in ports)
text = re.sub(r"(        server receiver\d+:8080 [^\n]*\n)+", lambda m: servers, text)
replacements = [
    ("user nginx;\n", ""),
    ("/var/run/nginx.pid", f"{d}/nginx/nginx.pid"),
    ("/var/log/nginx/", f"{d}/nginx/"),
    ("/var/cache/nginx/", f"{d}/nginx/cache/"),
    ("/run/secrets/tls_cert", f"{d}/nginx/tls.crt"),
    ("/run/secrets/tls_key", f"{d}/nginx/tls.key"),
    ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
    ("listen 80;", f"listen 127.0.0.1:{http_port};"),
    ("return 301 https://$host$request_uri;", f"return 301 https://$host:{https_port}$request_uri;"),
]
for old, new in replacements:
    if old not in text:
        sys.exit(f"topology: docker/nginx.conf no longer contains {old!r}")
    text = text.replace(old, new)
sys.stdout.write(text)
EOF
    [ "$(id -u)" -eq 0 ] && chown -R www-data: "$dir/nginx"
    run_as www-data nginx -q -t -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf"
    run_as www-data nginx -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" </dev/null >/dev/null 2>&1

    cat >"$dir/topology.env" <<EOF
TOPOLOGY_HTTPS_URL=https://127.0.0.1:$https_port
TOPOLOGY_HTTP_URL=http://127.0.0.1:$http_port
TOPOLOGY_CA_FILE=$dir/nginx/tls.crt
TOPOLOGY_RECEIVER_PORTS="${ports[*]}"
TOPOLOGY_DATABASE_URL_FILE=$dir/secrets/database_url
TOPOLOGY_DIRECT_DATABASE_URL="${direct/dbname=postgres/dbname=receiver}"
TOPOLOGY_ADMIN_TOKEN_FILE=$dir/secrets/admin_token
TOPOLOGY_PGBOUNCER_PORT=$pgb_port
EOF

    for i in $(seq "$instances"); do
        wait_for "http://127.0.0.1:${ports[$((i - 1))]}/readyz" "receiver $i" 300 \
            || { tail -n 20 "$dir/receiver-$i.log" >&2; exit 1; }
    done
    wait_for "https://127.0.0.1:$https_port/readyz" "nginx" 50 --cacert "$dir/nginx/tls.crt" \
        || { cat "$dir/nginx/error.log" >&2; exit 1; }
    echo "https://127.0.0.1:$https_port"
}

stop() {
    [ -d "$dir" ] || return 0
    stop_pidfile "$dir/nginx/nginx.pid"
    for file in "$dir"/receiver-*.pid; do
        [ -e "$file" ] && stop_pidfile "$file"
    done
    stop_pidfile "$dir/pgbouncer/pgbouncer.pid"
    scripts/test-postgres.sh stop "$dir/postgres"
    rm -rf "$dir"
}

case "$command" in
start)
    # A failed start leaves nothing running.
    trap 'status=$?; if [ $status -ne 0 ]; then stop; fi' EXIT
    trap 'exit 1' INT TERM HUP
    start
    ;;
stop) stop ;;
*)
    echo "usage: topology.sh start|stop DIR" >&2
    exit 2
    ;;
esac
