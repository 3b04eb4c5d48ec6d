#!/usr/bin/env bash
# A highly available database on loopback, without containers (the same as the `ha`
# profile of docker/compose.yaml): etcd as Patroni's DCS, two PostgreSQL nodes under
# Patroni with streaming replication, synchronous_mode on (a commit is acknowledged
# only once it is on both nodes) and pg_rewind, and connector-receiver instances whose
# DATABASE_URL names both nodes with target_session_attrs=read-write, so that libpq
# connects to whichever node is the writable primary.
#   scripts/patroni-topology.sh start DIR   start everything in DIR (created); prints the first receiver's URL
#   scripts/patroni-topology.sh stop DIR    stop everything started in DIR, then delete DIR
# DIR/topology.env (shell syntax) tells the ports, the files and the URLs. Everything
# listens on 127.0.0.1 only and writes a pid file in DIR. As root, etcd, Patroni and
# PostgreSQL run as the `postgres` user.
# Environment:
#   RECEIVER_BIN            the connector-receiver executable (default .build/debug/connector-receiver)
#   TOPOLOGY_INSTANCES      how many receiver instances (default 1; 0: the database only)
#   TOPOLOGY_POOL_SIZE      each instance's --pool-size (default 10)
#   PATRONI_TTL, PATRONI_LOOP_WAIT, PATRONI_RETRY_TIMEOUT
#                           Patroni's timings in seconds (default 10, 2, 4; Patroni's own
#                           defaults are 30, 10, 10). ttl >= loop_wait + 2 * retry_timeout.
#   PATRONI_SYNCHRONOUS_MODE_STRICT   true or false (default false: a lone survivor takes writes)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

command=${1:?usage: patroni-topology.sh start|stop DIR}
dir=${2:?usage: patroni-topology.sh start|stop DIR}
bindir=$(pg_config --bindir)

run_as() {  # run_as USER COMMAND…: as that user when root, else as ourselves
    local user=$1
    shift
    # From /: the user may not be able to enter the directory we run in (a clone under a
    # mode-700 home), and PostgreSQL's programs and Python's multiprocessing need to.
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u "$user" -- "$@"); else "$@"; fi
}

# Long-running processes as `postgres` when root: setpriv execs the command, so the
# process is the daemon itself. (runuser stays as its parent, and stops itself when
# its child is stopped: a frozen node would leave a stopped runuser behind.)
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then
    as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql)
fi
# The launched process writes its own pid (the daemon's, whoever started it), and runs
# from / (see run_as: Patroni's multiprocessing fails in a directory it cannot enter).
launch='cd / && echo $$ >"$1" && shift && exec "$@"'

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (bounded) until a URL answers 200.
wait_for() {
    local url=$1 what=$2 tries=${3:-300}
    for _ in $(seq "$tries"); do
        if curl -sf -o /dev/null --max-time 2 "$url"; then return 0; fi
        sleep 0.2
    done
    echo "patroni-topology: $what did not come up ($url)" >&2
    return 1
}

# Sends SIGCONT (a frozen process cannot stop) and SIGTERM to the process in a pid
# file, waits up to 15 s, then SIGKILL.
stop_pidfile() {
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(head -n 1 "$file" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

start() {
    local bin=${RECEIVER_BIN:-.build/debug/connector-receiver}
    local instances=${TOPOLOGY_INSTANCES:-1} pool_size=${TOPOLOGY_POOL_SIZE:-10}
    local ttl=${PATRONI_TTL:-10} loop_wait=${PATRONI_LOOP_WAIT:-2} retry_timeout=${PATRONI_RETRY_TIMEOUT:-4}
    local strict=${PATRONI_SYNCHRONOUS_MODE_STRICT:-false}
    if [ "$instances" -gt 0 ]; then
        [ -x "$bin" ] || { echo "patroni-topology: no executable at $bin (swift build, or set RECEIVER_BIN)" >&2; exit 1; }
        bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
    fi
    command -v patroni >/dev/null || { echo "patroni-topology: patroni is not installed (scripts/bootstrap.sh test)" >&2; exit 1; }
    command -v etcd >/dev/null || { echo "patroni-topology: etcd is not installed (scripts/bootstrap.sh test)" >&2; exit 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 755 "$dir"
    mkdir -p "$dir/secrets" "$dir/etcd" "$dir/node1" "$dir/node2"
    chmod 700 "$dir/secrets" "$dir/etcd" "$dir/node1" "$dir/node2"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/etcd" "$dir/node1" "$dir/node2"

    # etcd: one member, the DCS both Patroni nodes hold the leader key in.
    local etcd_client etcd_peer
    etcd_client=$(free_port)
    etcd_peer=$(free_port)
    "${as_postgres[@]}" sh -c "$launch" etcd-launcher "$dir/etcd/etcd.pid" \
        etcd --name etcd --data-dir "$dir/etcd/data" \
        --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
        --initial-cluster "etcd=http://127.0.0.1:$etcd_peer" --initial-cluster-state new --enable-v2=true \
        </dev/null >"$dir/etcd/etcd.log" 2>&1 &
    for _ in $(seq 50); do [ -s "$dir/etcd/etcd.pid" ] && break; sleep 0.1; done
    wait_for "http://127.0.0.1:$etcd_client/health" "etcd" 150 || { tail -n 20 "$dir/etcd/etcd.log" >&2; exit 1; }

    # Patroni: the same cluster settings for both nodes (the bootstrap.dcs part is
    # written to etcd by the node that initializes the cluster).
    local superuser_password replication_password rewind_password password
    superuser_password=$(openssl rand -hex 24)
    replication_password=$(openssl rand -hex 24)
    rewind_password=$(openssl rand -hex 24)
    password=$(openssl rand -hex 24)
    declare -a pg_ports api_ports
    local i
    for i in 1 2; do
        pg_ports[i]=$(free_port)
        api_ports[i]=$(free_port)
    done
    for i in 1 2; do
        cat >"$dir/node$i/patroni.yml" <<EOF
scope: connector-receiver
namespace: /db/
name: node$i
log:
  level: INFO
  format: '%(asctime)s %(levelname)s: %(message)s'
restapi:
  listen: 127.0.0.1:${api_ports[i]}
  connect_address: 127.0.0.1:${api_ports[i]}
# The etcd v2 API: Patroni 3.0.2 (Debian 12) renews its leader key there with a
# compare-and-swap on the key's value; its etcd3 client overwrites the key
# unconditionally, which let a node thawed after a freeze longer than ttl take the
# leadership back from the node promoted meanwhile (split brain, see RELIABILITY.md).
etcd:
  host: 127.0.0.1:$etcd_client
bootstrap:
  dcs:
    ttl: $ttl
    loop_wait: $loop_wait
    retry_timeout: $retry_timeout
    maximum_lag_on_failover: 1048576
    # A crashed primary is failed over at once instead of restarted in place: with a
    # synchronous standby that loses nothing, and it is quicker than crash recovery.
    primary_start_timeout: 0
    synchronous_mode: true
    synchronous_mode_strict: $strict
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        synchronous_commit: 'on'
        wal_log_hints: 'on'
        max_connections: 200
        max_wal_senders: 5
        max_replication_slots: 5
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:${pg_ports[i]}
  connect_address: 127.0.0.1:${pg_ports[i]}
  data_dir: $dir/node$i/data
  bin_dir: $bindir
  pgpass: $dir/node$i/pgpass
  authentication:
    superuser:
      username: postgres
      password: $superuser_password
    replication:
      username: replicator
      password: $replication_password
    rewind:
      username: rewinder
      password: $rewind_password
  parameters:
    unix_socket_directories: $dir/node$i
    password_encryption: scram-sha-256
EOF
        chmod 600 "$dir/node$i/patroni.yml"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/node$i/patroni.yml"
    done
    # node1 first, so that it initializes the cluster; node2 then clones it.
    for i in 1 2; do
        "${as_postgres[@]}" sh -c "$launch" patroni-launcher "$dir/node$i/patroni.pid" \
            patroni "$dir/node$i/patroni.yml" </dev/null >"$dir/node$i/patroni.log" 2>&1 &
        for _ in $(seq 50); do [ -s "$dir/node$i/patroni.pid" ] && break; sleep 0.1; done
        if [ "$i" -eq 1 ]; then
            wait_for "http://127.0.0.1:${api_ports[1]}/primary" "node1 as primary" 300 \
                || { tail -n 30 "$dir/node1/patroni.log" >&2; exit 1; }
        fi
    done
    wait_for "http://127.0.0.1:${api_ports[2]}/sync" "node2 as synchronous standby" 300 \
        || { tail -n 30 "$dir/node2/patroni.log" >&2; exit 1; }

    # The receiver's role and database, on the primary (replicated to the standby).
    # The statement timeout is the role's as well as the receiver's own option, so
    # that a pooler in transaction mode in front of the nodes would keep it.
    psql "host=$dir/node1 port=${pg_ports[1]} user=postgres dbname=postgres" -X -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE receiver LOGIN PASSWORD '$password'" \
        -c "ALTER ROLE receiver SET statement_timeout = '10s'" \
        -c "CREATE DATABASE receiver OWNER receiver" >/dev/null
    # libpq tries the hosts in order, skipping one that refuses the connection or is
    # read-only (a standby); connect_timeout applies to each host, so a frozen first
    # host costs that much on every new connection: 2 s (libpq's shortest) instead of
    # the receiver's default 5 s.
    local url="postgresql://receiver:$password@127.0.0.1:${pg_ports[1]},127.0.0.1:${pg_ports[2]}/receiver?target_session_attrs=read-write&connect_timeout=2"
    printf '%s\n' "$url" >"$dir/secrets/database_url"
    openssl rand -hex 32 >"$dir/secrets/admin_token"

    declare -a ports=()
    for i in $(seq "$instances"); do
        local port
        port=$(free_port)
        ports+=("$port")
        DATABASE_URL='' DATABASE_URL_FILE="$dir/secrets/database_url" \
            RECEIVER_ADMIN_TOKEN_FILE="$dir/secrets/admin_token" RECEIVER_LOG_FORMAT=json \
            RECEIVER_MIGRATIONS_DIR="$repo/migrations" RECEIVER_OPENAPI_FILE="$repo/openapi.yaml" \
            setsid "$bin" serve --host 127.0.0.1 --port "$port" --pool-size "$pool_size" \
            </dev/null >"$dir/receiver-$i.log" 2>&1 &
        echo $! >"$dir/receiver-$i.pid"
    done

    cat >"$dir/topology.env" <<EOF
TOPOLOGY_RECEIVER_PORTS="${ports[*]}"
TOPOLOGY_DATABASE_URL_FILE=$dir/secrets/database_url
TOPOLOGY_ADMIN_TOKEN_FILE=$dir/secrets/admin_token
TOPOLOGY_ETCD_URL=http://127.0.0.1:$etcd_client
TOPOLOGY_NODE1_PG_PORT=${pg_ports[1]}
TOPOLOGY_NODE2_PG_PORT=${pg_ports[2]}
TOPOLOGY_NODE1_API_URL=http://127.0.0.1:${api_ports[1]}
TOPOLOGY_NODE2_API_URL=http://127.0.0.1:${api_ports[2]}
TOPOLOGY_NODE1_DIR=$dir/node1
TOPOLOGY_NODE2_DIR=$dir/node2
TOPOLOGY_PATRONI_TTL=$ttl
TOPOLOGY_PATRONI_LOOP_WAIT=$loop_wait
TOPOLOGY_PATRONI_RETRY_TIMEOUT=$retry_timeout
TOPOLOGY_SYNCHRONOUS_MODE_STRICT=$strict
EOF

    for i in $(seq "$instances"); do
        wait_for "http://127.0.0.1:${ports[$((i - 1))]}/readyz" "receiver $i" 300 \
            || { tail -n 20 "$dir/receiver-$i.log" >&2; exit 1; }
    done
    if [ "$instances" -gt 0 ]; then echo "http://127.0.0.1:${ports[0]}"; fi
}

stop() {
    [ -d "$dir" ] || return 0
    for file in "$dir"/receiver-*.pid; do
        [ -e "$file" ] && stop_pidfile "$file"
    done
    local i stopping=()
    for i in 1 2; do
        # Thaw a node a test froze (Patroni and its PostgreSQL), then stop both Patroni
        # at once (each stops its PostgreSQL).
        local postmaster
        postmaster=$(head -n 1 "$dir/node$i/data/postmaster.pid" 2>/dev/null || true)
        if [ -n "$postmaster" ]; then
            kill -CONT "$postmaster" 2>/dev/null || true
            for child in $(pgrep -P "$postmaster" 2>/dev/null || true); do kill -CONT "$child" 2>/dev/null || true; done
        fi
        stop_pidfile "$dir/node$i/patroni.pid" &
        stopping+=($!)
    done
    # These two only: a bare `wait` would also wait for etcd when this shell started it
    # (a failed start stops from its own EXIT trap), which never ends by itself.
    wait "${stopping[@]}"
    for i in 1 2; do
        if [ -f "$dir/node$i/data/postmaster.pid" ]; then
            run_as postgres "$bindir/pg_ctl" --pgdata="$dir/node$i/data" --mode=immediate --wait --silent stop 2>/dev/null || true
        fi
    done
    stop_pidfile "$dir/etcd/etcd.pid"
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
    echo "usage: patroni-topology.sh start|stop DIR" >&2
    exit 2
    ;;
esac
