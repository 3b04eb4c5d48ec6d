#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite.
#   scripts/test-postgres.sh start DIR   initialize and start a cluster in DIR; prints its connection string
#   scripts/test-postgres.sh stop DIR    stop it (immediately) and delete DIR
# The cluster listens on a Unix socket in DIR and on 127.0.0.1 at a free port, never elsewhere.
# initdb and postgres refuse to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail

command=${1:?usage: test-postgres.sh start|stop DIR}
dir=${2:?usage: test-postgres.sh start|stop DIR}
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
bindir=$(pg_config --bindir)

# From /: the current directory may be one postgres cannot enter (a clone under /root),
# which its programs would complain about.
as_cluster_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

case "$command" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_cluster_owner "$bindir/initdb" --pgdata="$dir/data" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_cluster_owner "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait --silent \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300" \
        start || { cat "$dir/postgres.log" >&2; exit 1; }
    echo "host=$dir port=$port user=postgres dbname=postgres"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_cluster_owner "$bindir/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait --silent stop || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: test-postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
