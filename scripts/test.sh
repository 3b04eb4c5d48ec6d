#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway PostgreSQL,
# builds, runs every test against it, and stops it afterwards whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh test

cluster=$(mktemp -d /tmp/connector-receiver-test.XXXXXX)
trap 'scripts/test-postgres.sh stop "$cluster"' EXIT
echo "test: starting a throwaway PostgreSQL in $cluster"
TEST_DATABASE_URL=$(scripts/test-postgres.sh start "$cluster")
export TEST_DATABASE_URL
echo "test: TEST_DATABASE_URL=$TEST_DATABASE_URL"

echo "test: building"
swift build --build-tests
if [ $# -gt 0 ]; then
    echo "test: running the tests (swift test $*)"
    swift test --skip-build "$@"
    exit
fi

# This test lowers the process's descriptor limit to provoke EMFILE, which would
# break tests running beside it in the same process: it runs alone, after the rest.
alone="outOfDescriptorsPausesAcceptingAndRecovers"
# These suites wait seconds at a time for deliveries to arrive (retries, outages, rate
# limits), each wait holding one of the few threads of Swift's cooperative pool (one per
# core): beside the rest they would hold up other tests' async steps long enough to break
# their timing. They run in a process of their own, after the rest.
webhooks="WebhookDeliveryEngineTests|WebhookAdminDeliveryTests|WebhookAdminReadmeTests"
log="$cluster/swift-test.log"
echo "test: running the tests"
swift test --skip-build --skip "$alone" --skip "$webhooks" 2>&1 | tee "$log"
echo "test: running the webhook delivery suites on their own"
swift test --skip-build --filter "$webhooks" 2>&1 | tee -a "$log"
echo "test: running $alone on its own"
swift test --skip-build --filter "$alone" 2>&1 | tee -a "$log"

echo "test: OpenAPI conformance (schemathesis against a live server)"
scripts/conformance.sh 15
echo "test: slow clients (slowhttptest: slow headers, slow body, slow read)"
scripts/slowhttp.sh 10 1000
echo "test: docker/compose.yaml is valid, with and without the ha profile (docker-compose config)"
docker-compose -f docker/compose.yaml config -q
docker-compose -f docker/compose.yaml --profile ha config -q
echo "test: the production topology end to end (nginx TLS, two instances, PgBouncer transaction mode)"
scripts/e2e.sh
echo "test: webhook delivery end to end (two instances, standardwebhooks verifier; outage, SIGKILL, rotation)"
scripts/webhooks.sh
echo "test: the admin console in headless Chromium (Selenium), an admin's day against the real server"
scripts/console-test.sh 2>&1 | tee "$cluster/console-test.log"
echo "test: the Java library (clients/java) against the real server"
scripts/java-test.sh 2>&1 | tee "$cluster/java-test.log"
echo "test: PostgreSQL failover under load (Patroni, synchronous standby; SIGKILL and SIGSTOP of the primary)"
scripts/failover.sh

# Every step above stops the script on a failure, so reaching here means all passed.
passed=0
for count in $(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} in .* passed after.*/\1/p' "$log"); do
    passed=$((passed + count))
done
java_passed=$(sed -n 's/^java-test: \([0-9]*\) passed, 0 failed.*/\1/p' "$cluster/java-test.log")
passed=$((passed + ${java_passed:-0}))
console_passed=$(sed -n 's/^console-test: \([0-9]*\) checks passed.*/\1/p' "$cluster/console-test.log")
passed=$((passed + ${console_passed:-0}))
echo "test: $passed passed, 0 failed"
