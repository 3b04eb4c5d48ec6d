#!/usr/bin/env python3
"""The benchmark: connector-receiver against references measured in the same run.

Starts a durable throwaway PostgreSQL, nginx (serving the same /healthz body)
and connector-receiver, all on loopback; turns up a client with staff and
prospects; then runs wrk (and pgbench, with the upsert a save amounts to)
against each workload in several interleaved rounds and prints one table.
Ratios are taken per round and the median is reported, since a shared 2-core
machine is noisy.

Usage: bench/run.py [--rounds N] [--seconds S] [--workloads a,b] [--idle N]
"""
import argparse
import base64
import http.client
import json
import re
import resource
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEALTHZ_BODY = '{"status":"ok"}'
STAFF = 200
PROSPECTS = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: nothing listening on 127.0.0.1:{port} after {timeout} s")


def cpu_seconds(pid):
    """User + system CPU time of a process and its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def postgres_cpu_seconds(postgres_dir):
    """CPU time of the PostgreSQL cluster: the postmaster, its children that have
    exited (counted in its cutime/cstime once reaped, like pgbench's backends) and
    every child now alive."""
    with open(os.path.join(postgres_dir, "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    with open(f"/proc/{postmaster}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    total = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            pass
    return total


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def current_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure_idle_connections(pid, port, count, url, seconds):
    """Opens `count` idle keep-alive connections (each sends one request and
    reads the answer, then stays open), measures the server's RSS growth, and
    serves a wrk run beside them to show they do not stall other clients."""
    request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
    before = current_rss_kib(pid)
    sockets = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(request)
            sockets.append(s)
        for s in sockets:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    raise SystemExit("bench: the server closed an idle connection during the measurement")
                data += chunk
        time.sleep(1)
        after = current_rss_kib(pid)
        beside = run_wrk(url, seconds, 64)
        still_open = 0
        for s in sockets:
            s.setblocking(False)
            try:
                still_open += 0 if s.recv(1) == b"" else 1
            except BlockingIOError:
                still_open += 1
        return before, after, beside, still_open
    finally:
        for s in sockets:
            s.close()


def start_nginx(workdir, port):
    conf = os.path.join(workdir, "nginx.conf")
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(f"""
{user}
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {workdir}/nginx-body;
    proxy_temp_path {workdir}/nginx-proxy;
    fastcgi_temp_path {workdir}/nginx-fastcgi;
    uwsgi_temp_path {workdir}/nginx-uwsgi;
    scgi_temp_path {workdir}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /healthz {{
            default_type application/json;
            return 200 '{HEALTHZ_BODY}';
        }}
    }}
}}
""")
    process = subprocess.Popen(["nginx", "-c", conf, "-p", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return process


def start_postgres(workdir):
    """A durable throwaway cluster (fsync and synchronous_commit on, as shipped)."""
    directory = os.path.join(workdir, "postgres")
    url = subprocess.run([os.path.join(ROOT, "scripts", "test-postgres.sh"), "start", directory],
                         capture_output=True, text=True, check=True).stdout.strip()
    return directory, url


def stop_postgres(directory):
    subprocess.run([os.path.join(ROOT, "scripts", "test-postgres.sh"), "stop", directory], check=False)


def receiver_binary():
    return os.path.join(ROOT, ".build", "release", "connector-receiver")


def start_receiver(workdir, port, database_url, admin_token):
    log = open(os.path.join(workdir, "receiver.log"), "w")
    env = dict(os.environ, RECEIVER_ACCESS_LOG="off", RECEIVER_LOG_LEVEL="warning",
               DATABASE_URL=database_url, RECEIVER_ADMIN_TOKEN=admin_token)
    process = subprocess.Popen(
        [receiver_binary(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_for_port(port)
    return process


def run_wrk(url, seconds, connections, threads=2, script="wrk-report.lua", script_args=()):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
               "-s", os.path.join(ROOT, "bench", script), url]
    if script_args:
        command += ["--", *script_args]
    env = dict(os.environ, BENCH_DIR=os.path.join(ROOT, "bench"))
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    line = next(l for l in output.splitlines() if l.startswith("WRK "))
    return {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}


def run_pgbench(database_url, seconds, clients, prefix, workdir):
    """pgbench running bench/upsert.sql; latency percentiles from its per-transaction log."""
    logs = os.path.join(workdir, "pgbench-log")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    output = subprocess.run(
        ["pgbench", "--no-vacuum", "-f", os.path.join(ROOT, "bench", "upsert.sql"), "-M", "prepared",
         "-c", str(clients), "-j", "2", "-T", str(seconds), "-D", f"prefix={prefix}",
         "-l", f"--log-prefix={logs}/tx", database_url],
        capture_output=True, text=True)
    if output.returncode != 0:
        raise SystemExit(f"bench: pgbench failed: {output.stderr.strip()}")
    output = output.stdout
    latencies = []
    for name in os.listdir(logs):
        with open(os.path.join(logs, name)) as f:
            latencies += [int(line.split()[2]) for line in f]
    latencies.sort()
    failed = int(re.search(r"number of failed transactions: (\d+)", output).group(1)) if "failed transactions" in output else 0
    tps = float(re.search(r"tps = ([0-9.]+)", output).group(1))
    return {"requests": len(latencies), "rps": tps, "p50_us": percentile(latencies, 50),
            "p99_us": percentile(latencies, 99), "errors": failed}


def save_counts(port):
    """(batches, saves in batches) of prospects so far, from the server's /metrics."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    def total(pattern):
        return sum(float(m.group(1)) for m in re.finditer(pattern + r"\s+([0-9.e+]+)$", text, re.MULTILINE))
    return (total(r'receiver_save_batches_total\{resource="prospect"\}'),
            total(r'receiver_saves_total\{(?=[^}]*path="batch")(?=[^}]*resource="prospect")[^}]*\}'))


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


class Client:
    """A turned-up client, its staff and some prospects, for the authenticated workloads."""

    def __init__(self, port, admin_token, workdir):
        self.port = port
        self.admin = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
        created = self.call("POST", "/admin/v1/clients", self.admin, {
            "clientId": "bench", "name": "Benchmark Fitness",
            "clubs": [{"clubId": "c1", "name": "Downtown", "enabled": True}],
            "connection": {"scheme": "https", "host": "bench.example.com", "port": 443}})
        credentials = created["credentials"]
        token = base64.b64encode(f"{credentials['username']}:{credentials['password']}".encode()).decode()
        self.authorization = f"Basic {token}"
        headers = {"Authorization": self.authorization, "Content-Type": "application/json"}
        staff_paths = []
        for n in range(STAFF):
            email = f"coach{n}@bench.example.com"
            self.call("PUT", f"/admin/v1/clients/bench/staff/{email}", self.admin,
                      {"firstName": "Coach", "lastName": str(n), "clubIds": ["c1"], "active": True})
            staff_paths.append(f"/v1/staff?email={email}")
        prospect_paths = []
        for n in range(1, PROSPECTS + 1):
            record = self.call("PUT", f"/v1/prospects/by-external-id/repeat-{n}", headers, {
                "clubId": "c1", "firstName": "Ada", "lastName": "Lovelace",
                "email": "ada.lovelace@example.com", "phones": {"mobile": "+1 555 0100"}, "notes": "first visit"})
            prospect_paths.append(f"/v1/prospects/{record['id']}")
        self.staff_file = os.path.join(workdir, "staff-paths")
        self.prospect_file = os.path.join(workdir, "prospect-paths")
        with open(self.staff_file, "w") as f:
            f.write("\n".join(staff_paths) + "\n")
        with open(self.prospect_file, "w") as f:
            f.write("\n".join(prospect_paths) + "\n")

    def call(self, method, path, headers, body):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=json.dumps(body), headers=headers)
            response = connection.getresponse()
            data = response.read()
            if response.status >= 300:
                raise SystemExit(f"bench: {method} {path} answered {response.status}: {data[:300]!r}")
            return json.loads(data)
        finally:
            connection.close()


WORKLOADS = ["healthz", "upsert-new", "upsert-repeat", "get-prospect", "get-staff"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64, help="wrk connections for /healthz")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients for the database workloads")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--idle", type=int, default=10000, help="idle keep-alive connections to hold (0: skip)")
    args = parser.parse_args()
    # Stopped from outside (SIGTERM, as `timeout` and CI send), still stop the
    # PostgreSQL, nginx and connector-receiver it started: the `finally` below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    chosen = [w for w in args.workloads.split(",") if w]
    unknown = set(chosen) - set(WORKLOADS)
    if unknown:
        raise SystemExit(f"bench: unknown workload(s) {', '.join(sorted(unknown))}; choose from {', '.join(WORKLOADS)}")

    # Room for the idle connections, in this process and in the servers it starts.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.idle * 2 + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    workdir = tempfile.mkdtemp(prefix="connector-receiver-bench.")
    os.chmod(workdir, 0o755)
    processes = []
    postgres_dir = None
    try:
        postgres_dir, database_url = start_postgres(workdir)
        subprocess.run([receiver_binary(), "migrate"], env=dict(os.environ, DATABASE_URL=database_url),
                       check=True, capture_output=True)
        nginx_port, receiver_port = free_port(), free_port()
        processes.append(start_nginx(workdir, nginx_port))
        admin_token = base64.b64encode(os.urandom(24)).decode()
        receiver = start_receiver(workdir, receiver_port, database_url, admin_token)
        processes.append(receiver)
        client = Client(receiver_port, admin_token, workdir)
        # Statistics for the tables the setup filled, as pgbench gathers them before
        # its runs (here it runs with --no-vacuum): plans made on a table the planner
        # still believes empty can pick any index that starts with client_id, and a
        # prepared statement keeps its plan until autovacuum's next ANALYZE, which a
        # run of a few seconds never sees.
        psql = os.path.join(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip(), "psql")
        subprocess.run([psql, "--quiet", database_url, "-c", "ANALYZE"], check=True)
        base = f"http://127.0.0.1:{receiver_port}"
        auth = client.authorization

        # (workload, server, run(round) -> result); the receiver's rows also get CPU per request.
        runs = []
        if "healthz" in chosen:
            runs += [
                ("GET /healthz", "nginx", lambda r: run_wrk(f"http://127.0.0.1:{nginx_port}/healthz", args.seconds, args.connections)),
                ("GET /healthz", "connector-receiver", lambda r: run_wrk(f"{base}/healthz", args.seconds, args.connections)),
            ]
        if "upsert-new" in chosen or "upsert-repeat" in chosen:
            runs.append(("durable upsert", "pgbench",
                         lambda r: run_pgbench(database_url, args.seconds, args.clients, f"pgbench-{r}", workdir)))
        if "upsert-new" in chosen:
            runs.append(("PUT by-external-id, new ids", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="save.lua", script_args=(auth, "new", f"new-{r}"))))
        if "upsert-repeat" in chosen:
            runs.append(("PUT by-external-id, repeated ids", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="save.lua",
                                           script_args=(auth, "repeat", "repeat", str(PROSPECTS)))))
        if "get-prospect" in chosen:
            runs.append(("GET /v1/prospects/{id}", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="get.lua", script_args=(auth, client.prospect_file))))
        if "get-staff" in chosen:
            runs.append(("GET /v1/staff?email=", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="get.lua", script_args=(auth, client.staff_file))))

        results = {(w, s): [] for w, s, _ in runs}
        cpu = {(w, s): [] for w, s, _ in runs}
        database_cpu = {(w, s): [] for w, s, _ in runs}
        batch_counts = {(w, s): [0, 0] for w, s, _ in runs}
        for round_number in range(1, args.rounds + 1):
            for workload, server, run in runs:
                before, database_before = cpu_seconds(receiver.pid), postgres_cpu_seconds(postgres_dir)
                saves_before = save_counts(receiver_port) if workload.startswith("PUT") else None
                result = run(round_number)
                if saves_before:
                    batches, saves = (after - b for after, b in zip(save_counts(receiver_port), saves_before))
                    batch_counts[(workload, server)][0] += batches
                    batch_counts[(workload, server)][1] += saves
                requests = max(result["requests"], 1)
                if server == "connector-receiver":
                    cpu[(workload, server)].append((cpu_seconds(receiver.pid) - before) / requests)
                if workload != "GET /healthz":
                    database_cpu[(workload, server)].append((postgres_cpu_seconds(postgres_dir) - database_before) / requests)
                results[(workload, server)].append(result)
                print(f"bench: round {round_number} {workload} ({server}): {result['rps']:.0f} req/s, "
                      f"p99 {result['p99_us'] / 1000:.2f} ms, errors {result['errors']:.0f}", file=sys.stderr)

        print()
        print(f"{args.rounds} interleaved rounds of {args.seconds} s, medians; /healthz at {args.connections} connections, "
              f"database workloads at {args.clients} clients; durable PostgreSQL (fsync, synchronous_commit on)")
        print()
        print("| workload | server | req/s | p50 ms | p99 ms | errors | server CPU µs/req | PostgreSQL CPU µs/req |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for workload, server, _ in runs:
            rows = results[(workload, server)]
            rps = statistics.median(r["rps"] for r in rows)
            p50 = statistics.median(r["p50_us"] for r in rows) / 1000
            p99 = statistics.median(r["p99_us"] for r in rows) / 1000
            errors = sum(r["errors"] for r in rows)
            cpu_text = f"{statistics.median(cpu[(workload, server)]) * 1e6:.1f}" if cpu[(workload, server)] else "—"
            database_text = (f"{statistics.median(database_cpu[(workload, server)]) * 1e6:.1f}"
                             if database_cpu[(workload, server)] else "—")
            print(f"| {workload} | {server} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {errors:.0f} | {cpu_text} | {database_text} |")
        print()
        for (workload, server), (batches, saves) in batch_counts.items():
            if batches:
                print(f"{workload}: {saves / batches:.1f} saves per batch ({saves:.0f} saves in {batches:.0f} batches)")
        print(f"connector-receiver peak RSS: {peak_rss_kib(receiver.pid) / 1024:.1f} MiB")

        def ratio(numerator, denominator, label, target):
            if numerator not in results or denominator not in results:
                return
            ratios = [a["rps"] / b["rps"] for a, b in zip(results[numerator], results[denominator])]
            median = statistics.median(ratios)
            verdict = "met" if median >= target else "not met"
            print(f"{label}: {median:.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target ≥ {target}: {verdict})")

        receiver_name = "connector-receiver"
        ratio(("GET /healthz", receiver_name), ("GET /healthz", "nginx"), "GET /healthz, connector-receiver / nginx", 0.8)
        ratio(("PUT by-external-id, new ids", receiver_name), ("durable upsert", "pgbench"),
              "upsert new ids, connector-receiver / pgbench", 1.5)
        ratio(("PUT by-external-id, repeated ids", receiver_name), ("durable upsert", "pgbench"),
              "upsert repeated ids, connector-receiver / pgbench", 1.5)

        json_benchmark = os.path.join(ROOT, ".build", "release", "json-benchmark")
        if os.path.exists(json_benchmark):
            print()
            print("JSON on the Connector's payloads (best of 5 runs, release build):")
            print()
            print(subprocess.run([json_benchmark], capture_output=True, text=True, check=True).stdout.rstrip())

        if args.idle:
            before, after, beside, still_open = measure_idle_connections(
                receiver.pid, receiver_port, args.idle, f"{base}/healthz", args.seconds)
            per_connection = (after - before) * 1024 / args.idle
            print()
            print(f"Idle keep-alive connections: {args.idle} held, {still_open} still open after the run beside them; "
                  f"server RSS {before / 1024:.1f} → {after / 1024:.1f} MiB = {per_connection:.0f} bytes each")
            print(f"Served beside them: {beside['rps']:.0f} req/s, p99 {beside['p99_us'] / 1000:.2f} ms, errors {beside['errors']:.0f}")
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        if postgres_dir:
            stop_postgres(postgres_dir)
        # The server runs at log level warning: anything it logged is worth seeing
        # next to the figures (a failing batch of saves, say).
        with open(os.path.join(workdir, "receiver.log"), errors="replace") as log:
            logged = [line.rstrip() for line in log if line.strip()]
        if logged:
            print(f"\nconnector-receiver logged {len(logged)} line(s) at warning or above; the first:")
            for line in logged[:5]:
                print(f"  {line[:300]}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
