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
echo "test: running the tests"
swift test --skip-build "$@"

# The contract check runs only for a full test run, not a filtered one.
if [ $# -eq 0 ]; then
    echo "test: OpenAPI conformance (schemathesis against a live server)"
    scripts/conformance.sh 15
fi
