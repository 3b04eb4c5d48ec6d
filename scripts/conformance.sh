#!/usr/bin/env bash
# The OpenAPI conformance run: schemathesis against a live connector-receiver, every
# check on, on a fresh database of the test cluster, once per tenant — two clients
# turned up with their own credentials and the same club ids — then a cross-tenant
# replay (conformance/cross_tenant.py): every record of one tenant is requested,
# patched, converted, deleted and saved with the other tenant's credentials, which
# must answer exactly as for an id that never existed (404) and leave the owner's
# data unchanged. Needs TEST_DATABASE_URL (scripts/test.sh sets it) and a built
# executable.
#
# The runs: tenant A on the /v1 operations, tenant B on the /v1 operations, the
# replay, and last the admin API with the operational endpoints (last because it
# learns the tenants' client ids from its own listings and rotates their
# credentials). The stateful phase follows the links written in openapi.yaml
# (create → get, patch, save, convert, …). Every check runs but use_after_free:
# this API's only DELETEs deactivate (lead sources, staff), and a deactivated
# record stays readable by contract (a per-operation switch in schemathesis.toml
# does not hold against --checks all).
#
# Usage: scripts/conformance.sh [max examples per operation, default 20]
# Environment: CONFORMANCE_SEED (default 20261125), CONFORMANCE_PHASES (default
# examples,coverage,fuzzing,stateful), CONFORMANCE_REPORT (a file: the counts as JSON).
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${1:-20}
phases=${CONFORMANCE_PHASES:-examples,coverage,fuzzing,stateful}
seed=${CONFORMANCE_SEED:-20261125}
: "${TEST_DATABASE_URL:?TEST_DATABASE_URL is not set: run scripts/test.sh, or start scripts/test-postgres.sh}"
python3 -m pip --version >/dev/null 2>&1 || { echo "conformance: python3 with pip is required" >&2; exit 1; }
if ! command -v st >/dev/null 2>&1 && ! python3 -c "import schemathesis" 2>/dev/null; then
    echo "conformance: installing schemathesis (pip)"
    python3 -m pip install --quiet "schemathesis==4.32.5"
fi

database="conformance_$$"
psql "$TEST_DATABASE_URL" -q -c "CREATE DATABASE $database"
work=$(mktemp -d /tmp/connector-receiver-conformance.XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" || true
    rm -rf "$work"
}
trap cleanup EXIT

export RECEIVER_ADMIN_TOKEN="conformance-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export CONFORMANCE_DATABASE_URL="$TEST_DATABASE_URL dbname=$database"
# Webhook endpoints at any address (generated URLs name loopback and private hosts, and
# none is looked up), and no delivery: no request ever leaves for a generated URL.
DATABASE_URL="$CONFORMANCE_DATABASE_URL" \
    .build/debug/connector-receiver serve --host 127.0.0.1 --port 0 \
    --webhook-allow-private-addresses --webhook-delivery off >"$work/serve.log" 2>&1 &
server_pid=$!
port=$(scripts/listening-port.sh "$work/serve.log" "$server_pid") \
    || { echo "conformance: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
base="http://127.0.0.1:$port"

# Turns up a client with clubs club-001 and club-002; prints "username password".
turn_up() {
    local answer
    answer=$(curl -sf -X POST "$base/admin/v1/clients" -H "Authorization: Bearer $RECEIVER_ADMIN_TOKEN" \
        -H "Content-Type: application/json" \
        -d "{\"clientId\": \"$1\", \"name\": \"Conformance $1\", \"clubs\": [{\"clubId\": \"club-001\", \"name\": \"One\"}, {\"clubId\": \"club-002\", \"name\": \"Two\"}]}")
    python3 -c 'import json,sys; c=json.load(sys.stdin)["credentials"]; print(c["username"], c["password"])' <<<"$answer"
}
tenant_a=conformance-a
tenant_b=conformance-b
read -r user_a password_a < <(turn_up "$tenant_a")
read -r user_b password_b < <(turn_up "$tenant_b")

access_lines() { grep -c '\[HTTPServer\] request$' "$work/serve.log" || true; }

# Both tenants as Web Fuzzing Commons users, each run as one of them with the other
# as its peer: schemathesis's object_level_authorization check replays a tenant's
# reads of its own records as the other. (One authentication method per
# configuration: the [auth.openapi.*] sections go.)
python3 - "$work/tenants.wfc.json" "$tenant_a" "$user_a" "$password_a" "$tenant_b" "$user_b" "$password_b" <<'EOF_WFC'
import base64, json, sys
path, *tenants = sys.argv[1:]
users = [tenants[i:i + 3] for i in range(0, len(tenants), 3)]
auth = [{"name": name, "fixedHeaders": [{"name": "Authorization",
         "value": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}]}
        for name, user, password in users]
json.dump({"auth": auth}, open(path, "w"))
EOF_WFC
tenant_config() {
    awk '/^\[auth\.openapi\./ { skip = 1; next } /^\[/ { skip = 0 } !skip' conformance/schemathesis.toml
    printf '\n[auth.wfc]\npath = "%s"\nuser = "%s"\npeers = ["%s", "%s"]\n' "$work/tenants.wfc.json" "$1" "$1" "$2"
}
tenant_config "$tenant_a" "$tenant_b" >"$work/schemathesis-$tenant_a.toml"
tenant_config "$tenant_b" "$tenant_a" >"$work/schemathesis-$tenant_b.toml"

# Runs schemathesis as <label> with a configuration; extra arguments narrow the operations.
# Keeps its output in $work/st-<label>.log and the requests it made in $work/requests-<label>.
run_tenant() {
    local tenant=$1 config=$2
    shift 2
    local before status
    before=$(access_lines)
    echo "conformance: schemathesis as $tenant against $base, $examples examples per operation, phases $phases"
    set +e
    (cd conformance && RECEIVER_TEST_USERNAME="$user_a" RECEIVER_TEST_PASSWORD="$password_a" PYTHONPATH=. \
        st --no-color --config-file "$config" run ../openapi.yaml --url "$base" \
        --checks all --exclude-checks use_after_free --phases "$phases" \
        --max-examples "$examples" --workers 1 --seed "$seed" "$@") 2>&1 | tee "$work/st-$tenant.log"
    status=${PIPESTATUS[0]}
    set -e
    echo $(($(access_lines) - before)) >"$work/requests-$tenant"
    return "$status"
}

failed=0
run_tenant "$tenant_a" "$work/schemathesis-$tenant_a.toml" --include-path-regex '^/v1/' || failed=1
run_tenant "$tenant_b" "$work/schemathesis-$tenant_b.toml" --include-path-regex '^/v1/' || failed=1

echo "conformance: cross-tenant replay ($tenant_a's records with $tenant_b's credentials, and the reverse)"
before=$(access_lines)
set +e
python3 conformance/cross_tenant.py --base "$base" \
    --tenant="$tenant_a:$user_a:$password_a" --tenant="$tenant_b:$user_b:$password_b" \
    --report "$work/cross-tenant.json"
replay_status=$?
set -e
[ "$replay_status" -eq 0 ] || failed=1
replay_requests=$(($(access_lines) - before))

# The admin API (and /healthz, /readyz, /metrics, /openapi.yaml) last: it learns the
# turned-up client ids from its own listings and rotates, suspends and edits them.
run_tenant admin schemathesis.toml --exclude-path-regex '^/v1/' || failed=1

# The figures of the run, per tenant: operations, generated test cases, requests, failures.
python3 - "$work" "$replay_requests" "${CONFORMANCE_REPORT:-}" "$tenant_a" "$tenant_b" admin <<'EOF'
import json, re, sys
work, replay_requests, report_path, *runs = sys.argv[1:]
report = {"tenants": {}, "crossTenant": None}
for tenant in runs:
    text = open(f"{work}/st-{tenant}.log", encoding="utf-8", errors="replace").read()
    def number(pattern, default=0):
        match = re.search(pattern, text)
        return int(match.group(1)) if match else default
    report["tenants"][tenant] = {
        "operationsTested": number(r"Tested: (\d+)"),
        "testCases": number(r"(\d+) generated"),
        "passed": number(r"generated, (\d+) passed"),
        "failed": number(r"(\d+) failed"),
        "statefulScenarios": number(r"Scenarios:\s+(\d+)"),
        "linksCovered": number(r"API Links:\s+(\d+) covered"),
        "linksSelected": number(r"covered / (\d+) selected"),
        "requests": int(open(f"{work}/requests-{tenant}").read()),
    }
try:
    report["crossTenant"] = json.load(open(f"{work}/cross-tenant.json"))
    report["crossTenant"]["serverRequests"] = int(replay_requests)
except FileNotFoundError:
    pass
print("conformance: run              operations  test cases  passed  failed  scenarios  links     requests")
for tenant, t in report["tenants"].items():
    print(f"conformance: {tenant:16} {t['operationsTested']:10}  {t['testCases']:10}  {t['passed']:6}  {t['failed']:6}"
          f"  {t['statefulScenarios']:9}  {t['linksCovered']:3}/{t['linksSelected']:<4} {t['requests']:8}")
if report["crossTenant"]:
    c = report["crossTenant"]
    print(f"conformance: cross-tenant replay: {c['probes']} probes ({c['serverRequests']} requests) over "
          f"{c['records']} records, {c['failures']} failures")
if report_path:
    json.dump(report, open(report_path, "w"), indent=2)
EOF

if grep -qE "status=500| error " "$work/serve.log"; then
    echo "conformance: the server answered 500 or logged errors:" >&2
    grep -E "status=500| error " "$work/serve.log" >&2
    exit 1
fi
exit $failed
