#!/usr/bin/env bash
# The Java library (clients/java): builds the jar with javac --release 8 and jar (no Maven,
# nothing downloaded), checks it is Java 8 bytecode with no dependency outside the JDK, and
# runs its JUnit 5 tests against real connector-receiver servers on a fresh database of a real
# PostgreSQL. Three servers share that database: the main one (idle timeout 2 s, so the
# stale-connection tests wait 2.5 s, not a minute), one that sheds (one worker thread, no
# queue: 503 with Retry-After) and one that rate-limits (1 request a second: 429 with
# Retry-After). Each client the tests use is turned up through POST /admin/v1/clients.
#
# Usage: scripts/java-test.sh [--build-only]   (--build-only: the jar and its Javadoc, no tests)
# Environment:
#   TEST_DATABASE_URL  a PostgreSQL to create the test database in (scripts/test.sh sets it);
#                      without it a throwaway cluster is started and removed afterwards.
#   RECEIVER_BIN       the server executable (default .build/debug/connector-receiver, which
#                      scripts/test.sh has just built; .build/release/connector-receiver works too).
# Prints "java-test: N passed, 0 failed" last, and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

version=$(sed -n 's/.*String VERSION = "\(.*\)";/\1/p' clients/java/src/main/java/com/connectorreceiver/client/ReceiverClient.java)
build=clients/java/build
jar="$build/connector-receiver-client-$version.jar"
junit=/usr/share/java/junit-platform-console-standalone.jar
apache=/usr/share/java/httpclient.jar:/usr/share/java/httpcore.jar:/usr/share/java/commons-logging.jar:/usr/share/java/commons-codec.jar
for tool in javac jar javap jdeps javadoc keytool java; do
    command -v "$tool" >/dev/null || { echo "java-test: $tool is missing: scripts/bootstrap.sh test installs it" >&2; exit 1; }
done
if [ "${1:-}" != --build-only ]; then
    for file in $junit ${apache//:/ }; do
        [ -f "$file" ] || { echo "java-test: $file is missing: scripts/bootstrap.sh test installs it" >&2; exit 1; }
    done
fi

build_only=false
[ "${1:-}" = --build-only ] && build_only=true

if ! $build_only; then
    # The main server starts (and migrates the fresh database) while the jar builds.
    binary=${RECEIVER_BIN:-.build/debug/connector-receiver}
    [ -x "$binary" ] || { echo "java-test: $binary is missing: swift build first" >&2; exit 1; }
    work=$(mktemp -d /tmp/connector-receiver-java.XXXXXX)
    cluster=
    pids=()
    database="java_client_$$"
    cleanup() {
        for pid in "${pids[@]}"; do
            kill "$pid" 2>/dev/null || true
        done
        for pid in "${pids[@]}"; do
            wait "$pid" 2>/dev/null || true
        done
        if [ -n "${TEST_DATABASE_URL:-}" ]; then
            psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
        fi
        [ -n "$cluster" ] && scripts/test-postgres.sh stop "$cluster"
        rm -rf "$work"
    }
    trap cleanup EXIT
    if [ -z "${TEST_DATABASE_URL:-}" ]; then
        cluster=$(mktemp -d /tmp/connector-receiver-java-pg.XXXXXX)
        TEST_DATABASE_URL=$(scripts/test-postgres.sh start "$cluster")
    fi
    psql "$TEST_DATABASE_URL" -q -c "CREATE DATABASE $database"
    export RECEIVER_ADMIN_TOKEN="java-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

    # Starts a server with extra flags, in the background; wait_for NAME then sets $port.
    launch() {
        local name=$1
        shift
        DATABASE_URL="$TEST_DATABASE_URL dbname=$database" RECEIVER_ACCESS_LOG=off \
            "$binary" serve --host 127.0.0.1 --port 0 "$@" >"$work/$name.log" 2>&1 &
        pids+=($!)
        eval "pid_$name=$!"
    }
    wait_for() {
        local name=$1 pid
        eval "pid=\$pid_$name"
        port=$(scripts/listening-port.sh "$work/$name.log" "$pid") && return 0
        echo "java-test: the $name server did not start" >&2
        cat "$work/$name.log" >&2
        exit 1
    }
    launch main --idle-timeout 2
fi

echo "java-test: building $jar (javac --release 8)"
rm -rf "$build"
mkdir -p "$build/classes" "$build/test-classes"
javac --release 8 -encoding UTF-8 -Xlint:all -Werror -d "$build/classes" \
    $(find clients/java/src/main/java -name '*.java' | sort)
printf 'Implementation-Title: connector-receiver Java client\nImplementation-Version: %s\nAutomatic-Module-Name: com.connectorreceiver.client\n' \
    "$version" >"$build/MANIFEST.MF"
jar --create --file "$jar" --manifest "$build/MANIFEST.MF" -C "$build/classes" .
# The Javadoc of the public API, every warning an error (a missing @param, a broken link).
javadoc -quiet -Xdoclint:all -Werror --release 8 -d "$build/javadoc" -sourcepath clients/java/src/main/java \
    com.connectorreceiver.client
major=$(javap -v -cp "$jar" com.connectorreceiver.client.ReceiverClient | sed -n 's/.*major version: \([0-9]*\).*/\1/p')
[ "$major" = 52 ] || { echo "java-test: class file major version $major, not 52 (Java 8)" >&2; exit 1; }
python3 - "$jar" <<'EOF_CLASSES' || exit 1
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as jar:
    others = [(n, int.from_bytes(jar.read(n)[6:8], "big")) for n in jar.namelist() if n.endswith(".class")]
others = [(n, v) for n, v in others if v != 52]
if others:
    sys.exit(f"java-test: classes not Java 8 bytecode: {others}")
EOF_CLASSES
dependencies=$(jdeps -summary "$jar" | sed 's/.*-> //' | sort -u | tr '\n' ' ')
[ "$dependencies" = "java.base " ] || { echo "java-test: the jar depends on $dependencies, not only java.base" >&2; exit 1; }
echo "java-test: $jar: $(stat -c %s "$jar") bytes, class file major version $major (Java 8), depends on $dependencies"
$build_only && exit 0

classpath="$jar:$junit:$apache"
# The tests compile while the servers start.
javac --release 17 -encoding UTF-8 -Xlint:all,-processing,-path -Werror -cp "$classpath" -d "$build/test-classes" \
    $(find clients/java/src/test/java -name '*.java' | sort) &
compiling=$!

wait_for main
main_port=$port
launch shedding --worker-threads 1 --max-queued-requests 0
launch limited --client-rate-limit 1 --client-rate-burst 1
wait_for shedding
shedding_port=$port
wait_for limited
limited_port=$port
echo "java-test: three servers up after $(($(date +%s) - started)) s"

# Turns up a client with clubs club-001, club-002, a switched-off club-003 and club-004 (which
# one test switches off); prints
# "username password".
turn_up() {
    curl -sf --max-time 10 -X POST "http://127.0.0.1:$main_port/admin/v1/clients" \
        -H "Authorization: Bearer $RECEIVER_ADMIN_TOKEN" -H "Content-Type: application/json" \
        -d "{\"clientId\": \"$1\", \"name\": \"Java client $1\", \"clubs\": [{\"clubId\": \"club-001\", \"name\": \"One\"}, {\"clubId\": \"club-002\", \"name\": \"Two\"}, {\"clubId\": \"club-003\", \"name\": \"Off\", \"enabled\": false}, {\"clubId\": \"club-004\", \"name\": \"Four\"}]}" \
        | python3 -c 'import json,sys; c=json.load(sys.stdin)["credentials"]; print(c["username"], c["password"])'
}
turnups=()
for tenant in main other shed limited feed; do
    turn_up "java-$tenant" >"$work/credentials-$tenant" &
    turnups+=($!)
done
for pid in "${turnups[@]}"; do
    wait "$pid" || { echo "java-test: turning up a client failed" >&2; exit 1; }
done
read -r user password <"$work/credentials-main"
read -r other_user other_password <"$work/credentials-other"
read -r shed_user shed_password <"$work/credentials-shed"
read -r limited_user limited_password <"$work/credentials-limited"
read -r feed_user feed_password <"$work/credentials-feed"

# A certificate for localhost (and only that name), for the TLS tests' terminator.
tls_password="java-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
keytool -genkeypair -alias receiver -keyalg EC -groupname secp256r1 -dname CN=localhost -ext SAN=dns:localhost \
    -validity 2 -keystore "$work/tls.p12" -storetype PKCS12 -storepass "$tls_password" -keypass "$tls_password" \
    >/dev/null 2>&1

wait "$compiling" || { echo "java-test: the tests do not compile" >&2; exit 1; }

echo "java-test: running the JUnit tests against http://127.0.0.1:$main_port (and :$shedding_port shedding, :$limited_port rate-limited)"
set +e
timeout 120 java -Dsun.net.http.retryPost=false \
    -Dreceiver.url="http://127.0.0.1:$main_port" -Dreceiver.username="$user" -Dreceiver.password="$password" \
    -Dreceiver.clientId=java-main -Dreceiver.adminToken="$RECEIVER_ADMIN_TOKEN" -Dreceiver.idleTimeoutSeconds=2 \
    -Dreceiver.other.username="$other_user" -Dreceiver.other.password="$other_password" \
    -Dreceiver.feed.username="$feed_user" -Dreceiver.feed.password="$feed_password" \
    -Dreceiver.shedding.url="http://127.0.0.1:$shedding_port" -Dreceiver.shedding.username="$shed_user" \
    -Dreceiver.shedding.password="$shed_password" \
    -Dreceiver.limited.url="http://127.0.0.1:$limited_port" -Dreceiver.limited.username="$limited_user" \
    -Dreceiver.limited.password="$limited_password" \
    -Dreceiver.tls.keystore="$work/tls.p12" -Dreceiver.tls.password="$tls_password" \
    -jar "$junit" --class-path "$build/test-classes:$classpath" --scan-class-path "$build/test-classes" \
    --include-classname='^.*(Test|IT)$' --exclude-engine=junit-vintage \
    --disable-banner --disable-ansi-colors --details=tree --details-theme=ascii \
    --config=junit.jupiter.execution.parallel.enabled=true --config=junit.jupiter.execution.parallel.mode.classes.default=concurrent \
    --reports-dir="$build/test-reports" 2>&1 | tee "$work/junit.log"
status=${PIPESTATUS[0]}
set -e
succeeded=$(sed -n 's/.*\[ *\([0-9]*\) tests successful *\].*/\1/p' "$work/junit.log" | tail -1)
failed=$(sed -n 's/.*\[ *\([0-9]*\) tests failed *\].*/\1/p' "$work/junit.log" | tail -1)
elapsed=$(($(date +%s) - started))
if [ "$status" -ne 0 ] || [ "${failed:-1}" != 0 ] || [ -z "$succeeded" ] || [ "$succeeded" -eq 0 ]; then
    echo "java-test: FAILED (exit $status, ${succeeded:-?} passed, ${failed:-?} failed) in ${elapsed} s; server logs:" >&2
    tail -n 20 "$work"/*.log >&2
    exit 1
fi
echo "java-test: $succeeded passed, 0 failed (${elapsed} s)"
