#!/usr/bin/env bash
# Installs the system packages connector-receiver needs to build, run and test,
# but only those that are missing. Usage: scripts/bootstrap.sh [run|test|bench|soak|java]
#   java            a JDK only: what building the Java library's jar needs (make java-jar)
#   run  (default)  libpq, libcurl, libsodium, PostgreSQL server, pkg-config, and curl
#                   (the README's quick start calls the server with it)
#   test            the above plus the tools the test suite drives (openssl,
#                   slowhttptest; pgbouncer, nginx, docker-compose for the topology test;
#                   patroni, etcd-server and their Python clients for the failover test;
#                   a JDK, JUnit 5 and Apache HttpClient 4 for the Java library's tests;
#                   python3 with the standardwebhooks package from PyPI, the reference
#                   verifier the webhook signatures are checked against; Chromium, its
#                   WebDriver and selenium from PyPI for the admin console's browser test)
#   bench           the above plus nginx and wrk (pgbench comes with postgresql)
#   soak            run plus wrk
set -euo pipefail

profile=${1:-run}
packages=(pkg-config libpq-dev libcurl4-openssl-dev libsodium-dev postgresql curl)
case "$profile" in
    test) packages+=(openssl slowhttptest pgbouncer nginx-light docker-compose
        patroni etcd-server python3-etcd python3-psycopg2
        openjdk-17-jdk-headless junit5 libhttpclient-java python3-pip
        chromium chromium-driver) ;;
    bench) packages+=(nginx-light wrk) ;;
    soak) packages+=(wrk) ;;
    java) packages=(openjdk-17-jdk-headless) ;;
esac

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done

# From PyPI, into the python3 first on PATH (the one the tests run): the official Standard
# Webhooks verifier, for the webhook signing tests, and selenium, for the admin console's
# browser test. Debian's own python3 refuses a plain `pip install` (PEP 668), so a user
# install is the fallback there.
python_packages() {
    [ "$profile" = test ] || return 0
    local package
    for package in standardwebhooks selenium; do
        if python3 -c "import $package" 2>/dev/null; then
            echo "bootstrap: python package $package present"
            continue
        fi
        echo "bootstrap: installing $package (pip)"
        python3 -m pip install --quiet "$package" 2>/dev/null \
            || python3 -m pip install --quiet --user --break-system-packages "$package"
        python3 -c "import $package"
    done
}

if [ ${#missing[@]} -eq 0 ]; then
    echo "bootstrap: system packages present (${packages[*]})"
    python_packages
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "bootstrap: missing packages: ${missing[*]}" >&2
        echo "bootstrap: install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

echo "bootstrap: installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: installed ${missing[*]}"

# On a machine run by systemd, Debian starts a service when its package is installed:
# nginx would listen on port 80 of every address, PgBouncer on 6432, etcd on 2379. The tests and
# the benchmark start their own on loopback, so the services just installed are
# stopped and disabled again.
if [ -d /run/systemd/system ]; then
    for package in "${missing[@]}"; do
        case "$package" in
            nginx-light) service=nginx ;;
            pgbouncer) service=pgbouncer ;;
            etcd-server) service=etcd ;;
            patroni) service=patroni ;;
            *) continue ;;
        esac
        "${sudo[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true
        echo "bootstrap: stopped and disabled the $service service the package started (the tests run their own)"
    done
fi

python_packages
