#!/usr/bin/env python3
"""The benchmark: connector-receiver against references measured in the same run.

Starts a durable throwaway PostgreSQL, nginx (serving the same /healthz body)
and connector-receiver, all on loopback; turns up a client with staff and
prospects; then runs wrk (and pgbench, with the upsert a save amounts to)
against each workload in several interleaved rounds and prints one table.
Ratios are taken per round and the median is reported, since a shared 2-core
machine is noisy. Then the change feed (GET /v1/changes): reading it to the
end in pages of 500, commit-to-reader latency of a long poll, and 1,000 long
polls waiting at once. Then webhook delivery to nginx answering 204
(bench/webhooks.py): deliveries a second, and commit-to-delivery latency at a
steady 1,000 saves a second.

Usage: bench/run.py [--rounds N] [--seconds S] [--workloads a,b] [--idle N]
                    [--receiver PATH] [--access-log on|off]
"""
import argparse
import base64
import http.client
import json
import re
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import webhooks

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
        location = {webhooks.WEBHOOK_PATH} {{
            return 204;
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


def default_receiver():
    return os.path.join(ROOT, ".build", "release", "connector-receiver")


def migrations_for(binary):
    """The migrations of the checkout a receiver binary was built in (the first
    parent directory of it with a migrations folder): a binary built from another
    commit migrates to its own schema, whatever directory the bench runs from."""
    directory = os.path.dirname(os.path.abspath(binary))
    while directory != os.path.dirname(directory):
        if os.path.isdir(os.path.join(directory, "migrations")):
            return os.path.join(directory, "migrations")
        directory = os.path.dirname(directory)
    raise SystemExit(f"bench: no migrations directory above {binary}")


def receiver_environment(binary, database_url, **extra):
    return dict(os.environ, DATABASE_URL=database_url, RECEIVER_MIGRATIONS_DIR=migrations_for(binary), **extra)


def start_receiver(binary, workdir, port, database_url, admin_token, access_log):
    log = open(os.path.join(workdir, "receiver.log"), "w")
    # The access log's lines are at level info: with it on, the server runs at its
    # default level (info) and writes them to this file; with it off, at warning.
    env = receiver_environment(binary, database_url, RECEIVER_ACCESS_LOG=access_log,
                               RECEIVER_LOG_LEVEL="info" if access_log == "on" else "warning",
                               RECEIVER_ADMIN_TOKEN=admin_token,
                               # The webhook workloads deliver to nginx on loopback.
                               RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="on")
    # Its log is on standard error; standard output only says what to do next (the admin URL, turnup).
    process = subprocess.Popen(
        [binary, "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=log, env=env)
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


def run_pgbench(database_url, seconds, clients, prefix, workdir, script="upsert.sql"):
    """pgbench running bench/upsert.sql (or `script`); latency percentiles from its per-transaction log."""
    logs = os.path.join(workdir, "pgbench-log")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    output = subprocess.run(
        ["pgbench", "--no-vacuum", "-f", os.path.join(ROOT, "bench", script), "-M", "prepared",
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


def save_counts(port, kind="save"):
    """(batches, saves in batches) of prospects so far, from the server's /metrics
    (kind "read": the batches of GET /v1/prospects/{id} and the reads in them)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    def total(pattern):
        return sum(float(m.group(1)) for m in re.finditer(pattern + r"\s+([0-9.e+]+)$", text, re.MULTILINE))
    if kind == "read":
        return (total(r'receiver_read_batches_total\{resource="prospect"\}'),
                total(r'receiver_reads_total\{(?=[^}]*path="batch")(?=[^}]*resource="prospect")[^}]*\}'))
    return (total(r'receiver_save_batches_total\{resource="prospect"\}'),
            total(r'receiver_saves_total\{(?=[^}]*path="batch")(?=[^}]*resource="prospect")[^}]*\}'))


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def call(port, method, path, headers, body=None, timeout=30):
    """One request on a connection of its own; the decoded JSON answer (or None), or exits on a non-2xx."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise SystemExit(f"bench: {method} {path} answered {response.status}: {data[:300]!r}")
        return json.loads(data) if data else None
    finally:
        connection.close()


def turn_up(port, admin_token, client_id):
    """Turns up a client with one club, c1; its Connector's Authorization header."""
    admin = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    created = call(port, "POST", "/admin/v1/clients", admin, {
        "clientId": client_id, "name": "Benchmark Fitness",
        "clubs": [{"clubId": "c1", "name": "Downtown", "enabled": True}],
        "connection": {"scheme": "https", "host": "bench.example.com", "port": 443}})
    credentials = created["credentials"]
    token = base64.b64encode(f"{credentials['username']}:{credentials['password']}".encode()).decode()
    return f"Basic {token}"


def prospect_body(notes):
    return {"clubId": "c1", "firstName": "Ada", "lastName": "Lovelace", "email": "ada.lovelace@example.com",
            "phones": {"mobile": "+1 555 0100"}, "notes": notes}


class Client:
    """A turned-up client, its staff and some prospects, for the authenticated workloads."""

    def __init__(self, port, admin_token, workdir):
        self.port = port
        self.admin = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
        self.authorization = turn_up(port, admin_token, "bench")
        headers = {"Authorization": self.authorization, "Content-Type": "application/json"}
        staff_paths = []
        for n in range(STAFF):
            email = f"coach{n}@bench.example.com"
            call(port, "PUT", f"/admin/v1/clients/bench/staff/{email}", self.admin,
                 {"firstName": "Coach", "lastName": str(n), "clubIds": ["c1"], "active": True})
            staff_paths.append(f"/v1/staff?email={email}")
        prospect_paths = []
        for n in range(1, PROSPECTS + 1):
            record = call(port, "PUT", f"/v1/prospects/by-external-id/repeat-{n}", headers, prospect_body("first visit"))
            prospect_paths.append(f"/v1/prospects/{record['id']}")
        self.staff_file = os.path.join(workdir, "staff-paths")
        self.prospect_file = os.path.join(workdir, "prospect-paths")
        with open(self.staff_file, "w") as f:
            f.write("\n".join(staff_paths) + "\n")
        with open(self.prospect_file, "w") as f:
            f.write("\n".join(prospect_paths) + "\n")
        # A list page as a Connector finds a record by its own id: one item, by an index.
        self.list_file = os.path.join(workdir, "list-paths")
        with open(self.list_file, "w") as f:
            f.write("\n".join(f"/v1/prospects?externalId=repeat-{n}" for n in range(1, PROSPECTS + 1)) + "\n")


# The change feed ------------------------------------------------------------

FEED_READ = "GET /v1/changes to the end, pages of 500"
FEED_PAGE = 500


def psql_value(database_url, sql):
    output = subprocess.run([psql_binary(), "--quiet", "-At", database_url, "-c", sql],
                            capture_output=True, text=True, check=True).stdout
    return output.strip()


def psql_binary():
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(bindir, "psql")


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def thread_names(pid):
    """{name: count} of a process's threads (their comm, numbers left out: http-worker-#)."""
    names = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        name = re.sub(r"\d+$", "#", name)
        names[name] = names.get(name, 0) + 1
    return names


def database_backends(database_url):
    """(open, not idle) client backends on the database, this query's own left out."""
    row = psql_value(database_url, """
        SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND datname = current_database() AND pid <> pg_backend_pid()""")
    open_count, busy = row.split("|")
    return int(open_count), int(busy)


def metric(connection, name):
    """The value of an unlabelled gauge in /metrics (0 when absent)."""
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    found = re.search(rf"^{name}\s+([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def changes_path(after=None, limit=FEED_PAGE, wait=None):
    query = [("limit", str(limit))]
    if after is not None:
        query.append(("after", after))
    if wait is not None:
        query.append(("wait", str(wait)))
    return "/v1/changes?" + urllib.parse.urlencode(query)


def feed_end(port, authorization, max_pages=10000):
    """The cursor at the end of a client's feed (read to the end, pages of 500)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        cursor = None
        for _ in range(max_pages):
            connection.request("GET", changes_path(cursor), headers={"Authorization": authorization})
            response = connection.getresponse()
            page = json.loads(response.read())
            if response.status != 200:
                raise SystemExit(f"bench: GET /v1/changes answered {response.status}: {page}")
            cursor = page["nextCursor"]
            if len(page["items"]) < FEED_PAGE:
                return cursor
        raise SystemExit(f"bench: the feed did not end within {max_pages} pages")
    finally:
        connection.close()


def load_events(port, authorization, database_url, client_id, target, clients, max_seconds=120):
    """Saves new prospects of `client_id` through the API (wrk, bench/save.lua) until
    its feed holds at least `target` events; the number it holds."""
    deadline = time.monotonic() + max_seconds
    events, part = 0, 0
    while True:
        events = int(psql_value(database_url, f"SELECT count(*) FROM events WHERE client_id = '{client_id}'"))
        if events >= target:
            return events
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: loading the feed reached {events} of {target} events in {max_seconds} s")
        part += 1
        # About a second's worth of saves at a time, so the count overshoots little.
        seconds = 1 if target - events < 20000 else 2
        run_wrk(f"http://127.0.0.1:{port}", seconds, clients, script="save.lua",
                script_args=(authorization, "new", f"{client_id}-{part}"))


def read_feed(port, authorization, expected, max_seconds=300):
    """Reads a client's feed from the start to its end, pages of 500, one reader
    following nextCursor: events a second, page latency, errors (pages not 200,
    or a count other than `expected`)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": authorization}
    latencies, events, errors, cursor = [], 0, 0, None
    start = time.perf_counter()
    deadline = time.monotonic() + max_seconds
    try:
        for _ in range(expected // FEED_PAGE + 10):
            sent = time.perf_counter()
            connection.request("GET", changes_path(cursor), headers=headers)
            response = connection.getresponse()
            body = response.read()
            latencies.append(int((time.perf_counter() - sent) * 1e6))
            if response.status != 200:
                errors += 1
                break
            page = json.loads(body)
            events += len(page["items"])
            cursor = page["nextCursor"]
            if len(page["items"]) < FEED_PAGE or time.monotonic() > deadline:
                break
    finally:
        connection.close()
    elapsed = time.perf_counter() - start
    if events != expected:
        errors += 1
        print(f"bench: read {events} events where the feed holds {expected}", file=sys.stderr)
    latencies.sort()
    return {"requests": events, "rps": events / elapsed, "p50_us": percentile(latencies, 50),
            "p99_us": percentile(latencies, 99), "errors": errors, "pages": len(latencies), "seconds": elapsed}


def wait_for_gauge(connection, name, predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = metric(connection, name)
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.001)


WAITING_GAUGE = "receiver_change_feed_waiting_readers"


def feed_latency(port, authorization, tries, wait=5, max_seconds=300):
    """Commit-to-reader latency: a reader waits on the feed (wait=), and once the
    server holds it as a waiting reader (the waiting-readers gauge), a writer saves
    one new prospect. Per try: from just before the save is sent, and from the
    save's 2xx, to the reader's complete answer (which must carry that record)."""
    headers = {"Authorization": authorization}
    save_headers = {"Authorization": authorization, "Content-Type": "application/json"}
    cursor = feed_end(port, authorization)
    reader = http.client.HTTPConnection("127.0.0.1", port, timeout=wait + 10)
    writer = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    metrics = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    from_send, from_answer = [], []
    missed, wrong, not_waiting = 0, 0, 0
    deadline = time.monotonic() + max_seconds
    try:
        for n in range(1, tries + 1):
            if time.monotonic() > deadline:
                print(f"bench: feed-latency stopped after {n - 1} tries ({max_seconds} s)", file=sys.stderr)
                break
            # The previous reader is gone from the gauge once the waiters' thread has
            # looked again (within its 50 ms check): so a 1 below is this try's reader.
            wait_for_gauge(metrics, WAITING_GAUGE, lambda v: v == 0, 1)
            answer = {}

            def read():
                try:
                    reader.request("GET", changes_path(cursor, wait=wait), headers=headers)
                    response = reader.getresponse()
                    body = response.read()
                    answer["at"] = time.perf_counter()
                    answer["status"], answer["body"] = response.status, body
                except Exception as error:  # reported as a miss below
                    answer["error"] = error

            thread = threading.Thread(target=read)
            thread.start()
            if wait_for_gauge(metrics, WAITING_GAUGE, lambda v: v >= 1, 2) < 1:
                not_waiting += 1
            external_id = f"latency-{n}"
            sent = time.perf_counter()
            writer.request("PUT", f"/v1/prospects/by-external-id/{external_id}",
                           body=json.dumps(prospect_body(f"try {n}")), headers=save_headers)
            response = writer.getresponse()
            response.read()
            answered = time.perf_counter()
            if response.status >= 300:
                raise SystemExit(f"bench: a save answered {response.status}")
            thread.join(wait + 15)
            if "at" not in answer or answer["status"] != 200:
                missed += 1
                reader.close()
                continue
            page = json.loads(answer["body"])
            cursor = page["nextCursor"]
            if not page["items"] or page["items"][-1]["data"].get("externalId") != external_id:
                wrong += 1
                continue
            from_send.append(int((answer["at"] - sent) * 1e6))
            from_answer.append(int((answer["at"] - answered) * 1e6))
    finally:
        for connection in (reader, writer, metrics):
            connection.close()
    from_send.sort()
    from_answer.sort()
    return {"tries": len(from_send) + missed + wrong, "measured": len(from_send), "missed": missed, "wrong": wrong,
            "not_waiting": not_waiting,
            "send_p50_us": percentile(from_send, 50), "send_p99_us": percentile(from_send, 99),
            "send_max_us": from_send[-1] if from_send else 0,
            "answer_p50_us": percentile(from_answer, 50), "answer_p99_us": percentile(from_answer, 99)}


def http_responses(sockets, deadline):
    """Reads one HTTP/1.1 response (Content-Length framed) from each socket:
    {socket: (perf_counter when complete, status, body)}; those not complete by
    `deadline` (monotonic) are left out."""
    selector = selectors.DefaultSelector()
    buffers = {}
    for s in sockets:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
        buffers[s] = b""
    done = {}
    try:
        while len(done) < len(sockets):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(min(remaining, 1)):
                s = key.fileobj
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    done[s] = (time.perf_counter(), 0, buffers[s])
                    selector.unregister(s)
                    continue
                buffers[s] += chunk
                head, separator, body = buffers[s].partition(b"\r\n\r\n")
                if not separator:
                    continue
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if length and len(body) >= int(length.group(1)):
                    status = int(head.split(b" ", 2)[1])
                    done[s] = (time.perf_counter(), status, body[:int(length.group(1))])
                    selector.unregister(s)
    finally:
        selector.close()
    return done


def feed_waiters(pid, port, authorization, database_url, count, beside=None, wait=30, group=100):
    """`count` readers long-polling the feed at once (wait=30 s, one connection
    each, arriving `group` at a time as the server admits them): the server's
    threads and the database's backends before and while they wait, optionally a
    wrk run of other requests beside them, then one save that answers them all."""
    cursor = feed_end(port, authorization)
    metrics = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    before_threads, before_names = thread_count(pid), thread_names(pid)
    before_backends = database_backends(database_url)
    request = (f"GET {changes_path(cursor, wait=wait)} HTTP/1.1\r\nHost: bench\r\n"
               f"Authorization: {authorization}\r\n\r\n").encode()
    sockets = []
    result = {"count": count, "threads_before": before_threads, "names_before": before_names,
              "backends_before": before_backends}
    try:
        started = time.monotonic()
        while len(sockets) < count:
            for _ in range(min(group, count - len(sockets))):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(request)
                sockets.append(s)
            wait_for_gauge(metrics, WAITING_GAUGE, lambda v: v >= len(sockets), 10)
            if "threads_first" not in result:
                # The first group waiting: from here on, more waiters must add nothing.
                time.sleep(0.2)
                result["first"] = len(sockets)
                result["threads_first"] = thread_count(pid)
                result["backends_first"] = database_backends(database_url)
        result["ramp_seconds"] = time.monotonic() - started
        # While they wait: a few samples over a second, the highest of each.
        samples = []
        for _ in range(5):
            samples.append((metric(metrics, WAITING_GAUGE), thread_count(pid), *database_backends(database_url)))
            time.sleep(0.2)
        result["waiting"] = min(sample[0] for sample in samples)
        result["threads_waiting"] = max(sample[1] for sample in samples)
        result["names_waiting"] = thread_names(pid)
        result["backends_waiting"] = (max(sample[2] for sample in samples), max(sample[3] for sample in samples))
        if beside and time.monotonic() - started < wait - beside[0] - 5:
            result["beside"] = beside[1]()
            result["threads_beside"] = thread_count(pid)
            result["waiting_after_beside"] = metric(metrics, WAITING_GAUGE)
        # Anything answered before the save (an error, or a wait that ended) counts against it.
        early = http_responses(sockets, time.monotonic() + 0.05)
        result["answered_early"] = len(early)
        pending = [s for s in sockets if s not in early]
        sent = time.perf_counter()
        call(port, "PUT", "/v1/prospects/by-external-id/waiters-1",
             {"Authorization": authorization, "Content-Type": "application/json"}, prospect_body("the one write"))
        answers = http_responses(pending, time.monotonic() + wait + 5)
        with_event = sorted(int((at - sent) * 1e6) for at, status, body in answers.values()
                            if status == 200 and b'"waiters-1"' in body)
        result["answered"] = len(with_event)
        result["answer_p50_us"] = percentile(with_event, 50)
        result["answer_p99_us"] = percentile(with_event, 99)
        result["answer_max_us"] = with_event[-1] if with_event else 0
        result["threads_after"] = thread_count(pid)
        result["backends_after"] = database_backends(database_url)
    finally:
        metrics.close()
        for s in sockets:
            s.close()
    return result


WORKLOADS = ["healthz", "upsert-new", "upsert-repeat", "get-prospect", "get-staff", "list-prospects",
             "feed-read", "feed-latency", "feed-waiters", "webhook-throughput", "webhook-latency"]
FEED_WORKLOADS = {"feed-read", "feed-latency", "feed-waiters", "upsert-event-sql"}
WEBHOOK_WORKLOADS = {"webhook-throughput", "webhook-latency"}
# Not run unless named: pgbench's upsert with the event a save records, beside the plain one.
EXTRA_WORKLOADS = ["upsert-event-sql"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64, help="wrk connections for /healthz")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients for the database workloads")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--idle", type=int, default=10000, help="idle keep-alive connections to hold (0: skip)")
    parser.add_argument("--receiver", default=default_receiver(),
                        help="the connector-receiver binary to measure (default: this checkout's release build); "
                             "it migrates the database with the migrations of the checkout it was built in")
    parser.add_argument("--access-log", choices=["on", "off"], default="on",
                        help="the server's access log: on (the default, as shipped: the server logs at its default "
                             "level, info, a line per request) or off (RECEIVER_ACCESS_LOG=off and level warning, "
                             "the old comparison)")
    parser.add_argument("--feed-events", type=int, default=50000, help="events in the feed that feed-read reads")
    parser.add_argument("--feed-tries", type=int, default=1000, help="commit-to-reader measurements of feed-latency")
    parser.add_argument("--feed-waiters", type=int, default=1000, help="readers waiting at once in feed-waiters")
    parser.add_argument("--webhook-events", type=int, default=50000, help="events delivered per round of webhook-throughput")
    parser.add_argument("--webhook-rate", type=int, default=1000, help="saves a second during webhook-latency")
    parser.add_argument("--webhook-seconds", type=int, default=20, help="seconds of steady saves in webhook-latency")
    args = parser.parse_args()
    # Stopped from outside (SIGTERM, as `timeout` and CI send), still stop the
    # PostgreSQL, nginx and connector-receiver it started: the `finally` below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    chosen = [w for w in args.workloads.split(",") if w]
    unknown = set(chosen) - set(WORKLOADS) - set(EXTRA_WORKLOADS)
    if unknown:
        raise SystemExit(f"bench: unknown workload(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(WORKLOADS + EXTRA_WORKLOADS)}")
    receiver_path = os.path.abspath(args.receiver)
    if not os.access(receiver_path, os.X_OK):
        raise SystemExit(f"bench: no receiver binary at {receiver_path} (swift build -c release)")

    # Room for the idle connections and the waiting readers, in this process and in the servers it starts.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, max(args.idle, args.feed_waiters) * 2 + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    # The latency probe's reader is a thread of this process: let it run at once when its answer comes.
    sys.setswitchinterval(0.0005)

    workdir = tempfile.mkdtemp(prefix="connector-receiver-bench.")
    os.chmod(workdir, 0o755)
    processes = []
    postgres_dir = None
    try:
        postgres_dir, database_url = start_postgres(workdir)
        subprocess.run([receiver_path, "migrate"], env=receiver_environment(receiver_path, database_url),
                       check=True, capture_output=True)
        nginx_port, receiver_port = free_port(), free_port()
        processes.append(start_nginx(workdir, nginx_port))
        admin_token = base64.b64encode(os.urandom(24)).decode()
        receiver = start_receiver(receiver_path, workdir, receiver_port, database_url, admin_token, args.access_log)
        processes.append(receiver)
        print(f"bench: measuring {receiver_path} (access log {args.access_log})", file=sys.stderr)
        client = Client(receiver_port, admin_token, workdir)
        has_feed = psql_value(database_url, "SELECT to_regclass('events') IS NOT NULL") == "t"
        if FEED_WORKLOADS & set(chosen) and not has_feed and args.workloads == ",".join(WORKLOADS):
            # The defaults, against a binary from before the change feed: what it has.
            chosen = [w for w in chosen if w not in FEED_WORKLOADS]
            print(f"bench: {receiver_path} has no change feed (no events table): "
                  f"running {','.join(chosen)}", file=sys.stderr)
        if FEED_WORKLOADS & set(chosen) and not has_feed:
            raise SystemExit(f"bench: {receiver_path} has no change feed (no events table); "
                             f"choose from --workloads {','.join(w for w in WORKLOADS if w not in FEED_WORKLOADS)}")
        has_webhooks = psql_value(database_url, "SELECT to_regclass('webhook_deliveries') IS NOT NULL") == "t"
        if WEBHOOK_WORKLOADS & set(chosen) and not has_webhooks:
            chosen = [w for w in chosen if w not in WEBHOOK_WORKLOADS]
            print(f"bench: {receiver_path} has no webhook delivery: leaving the webhook workloads out", file=sys.stderr)
        feed_client = None
        if "feed-read" in chosen:
            feed_authorization = turn_up(receiver_port, admin_token, "feed")
            started = time.monotonic()
            feed_events = load_events(receiver_port, feed_authorization, database_url, "feed", args.feed_events, args.clients)
            print(f"bench: loaded {feed_events} events into the feed of client feed through the API "
                  f"in {time.monotonic() - started:.0f} s", file=sys.stderr)
            feed_client = (feed_authorization, feed_events)
        # Statistics for the tables the setup filled, as pgbench gathers them before
        # its runs (here it runs with --no-vacuum): plans made on a table the planner
        # still believes empty can pick any index that starts with client_id, and a
        # prepared statement keeps its plan until autovacuum's next ANALYZE, which a
        # run of a few seconds never sees.
        subprocess.run([psql_binary(), "--quiet", database_url, "-c", "ANALYZE"], check=True)
        base = f"http://127.0.0.1:{receiver_port}"
        auth = client.authorization

        # (workload, server, run(round) -> result); the receiver's rows also get CPU per request.
        runs = []
        if "healthz" in chosen:
            runs += [
                ("GET /healthz", "nginx", lambda r: run_wrk(f"http://127.0.0.1:{nginx_port}/healthz", args.seconds, args.connections)),
                ("GET /healthz", "connector-receiver", lambda r: run_wrk(f"{base}/healthz", args.seconds, args.connections)),
            ]
        if "upsert-new" in chosen or "upsert-repeat" in chosen or "upsert-event-sql" in chosen:
            runs.append(("durable upsert", "pgbench",
                         lambda r: run_pgbench(database_url, args.seconds, args.clients, f"pgbench-{r}", workdir)))
        if "upsert-event-sql" in chosen:
            runs.append(("durable upsert + its event", "pgbench",
                         lambda r: run_pgbench(database_url, args.seconds, args.clients, f"pgbench-event-{r}", workdir,
                                               script="upsert-event.sql")))
        if "upsert-new" in chosen:
            runs.append(("PUT by-external-id, new ids", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="save.lua", script_args=(auth, "new", f"new-{r}"))))
        if "upsert-repeat" in chosen:
            runs.append(("PUT by-external-id, repeated ids", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="save.lua",
                                           script_args=(auth, "repeat", "repeat", str(PROSPECTS)))))
        if "get-prospect" in chosen:
            runs.append(("primary-key SELECT", "pgbench",
                         lambda r: run_pgbench(database_url, args.seconds, args.clients, f"select-{r}", workdir,
                                               script="select.sql")))
            runs.append(("GET /v1/prospects/{id}", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="get.lua", script_args=(auth, client.prospect_file))))
        if "get-staff" in chosen:
            runs.append(("GET /v1/staff?email=", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="get.lua", script_args=(auth, client.staff_file))))
        if "list-prospects" in chosen:
            runs.append(("GET /v1/prospects?externalId=", "connector-receiver",
                         lambda r: run_wrk(base, args.seconds, args.clients, script="get.lua", script_args=(auth, client.list_file))))
        if feed_client:
            runs.append((FEED_READ, "connector-receiver", lambda r: read_feed(receiver_port, *feed_client)))

        results = {(w, s): [] for w, s, _ in runs}
        cpu = {(w, s): [] for w, s, _ in runs}
        database_cpu = {(w, s): [] for w, s, _ in runs}
        batch_counts = {(w, s): [0, 0] for w, s, _ in runs}
        wal = {(w, s): [] for w, s, _ in runs}
        events_before = int(psql_value(database_url, "SELECT count(*) FROM events WHERE client_id = 'bench'")) if has_feed else 0
        for round_number in range(1, args.rounds + 1):
            for workload, server, run in runs:
                before, database_before = cpu_seconds(receiver.pid), postgres_cpu_seconds(postgres_dir)
                counted = ("save" if workload.startswith("PUT") else "read" if workload.startswith("GET /v1/prospects/")
                           else None) if server == "connector-receiver" else None
                saves_before = save_counts(receiver_port, counted) if counted else None
                wal_before = psql_value(database_url, "SELECT pg_current_wal_insert_lsn()") if workload != "GET /healthz" else None
                result = run(round_number)
                if wal_before:
                    written = float(psql_value(database_url, f"SELECT pg_current_wal_insert_lsn() - '{wal_before}'::pg_lsn"))
                    wal[(workload, server)].append(written / max(result["requests"], 1))
                if saves_before:
                    batches, saves = (after - b for after, b in zip(save_counts(receiver_port, counted), saves_before))
                    batch_counts[(workload, server)][0] += batches
                    batch_counts[(workload, server)][1] += saves
                requests = max(result["requests"], 1)
                if server == "connector-receiver":
                    cpu[(workload, server)].append((cpu_seconds(receiver.pid) - before) / requests)
                if workload != "GET /healthz":
                    database_cpu[(workload, server)].append((postgres_cpu_seconds(postgres_dir) - database_before) / requests)
                results[(workload, server)].append(result)
                unit = "events/s" if workload == FEED_READ else "req/s"
                print(f"bench: round {round_number} {workload} ({server}): {result['rps']:.0f} {unit}, "
                      f"p99 {result['p99_us'] / 1000:.2f} ms, errors {result['errors']:.0f}", file=sys.stderr)

        table_runs = [(w, s) for w, s, _ in runs if w != FEED_READ]
        print()
        print(f"{receiver_path}: " + ("the defaults, as shipped (access log on, log level info, written to a file)"
                                      if args.access_log == "on" else
                                      "access log off (RECEIVER_ACCESS_LOG=off, log level warning), not the default"))
        if table_runs:
            print()
            print(f"{args.rounds} interleaved rounds of {args.seconds} s, medians; /healthz at {args.connections} connections, "
                  f"database workloads at {args.clients} clients; durable PostgreSQL (fsync, synchronous_commit on)")
            print()
            print("| workload | server | req/s | p50 ms | p99 ms | errors | server CPU µs/req | PostgreSQL CPU µs/req |")
            print("|---|---|---:|---:|---:|---:|---:|---:|")
        for workload, server in table_runs:
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
                noun = "saves" if workload.startswith("PUT") else "reads"
                print(f"{workload}: {saves / batches:.1f} {noun} per batch ({saves:.0f} {noun} in {batches:.0f} batches)")
        written = [f"{workload} ({server}) {statistics.median(values):.0f}" for (workload, server), values in wal.items()
                   if values and (workload.startswith("PUT") or server == "pgbench")]
        if written:
            print(f"WAL bytes per request (median of the rounds): {'; '.join(written)}")
        if has_feed and any(w.startswith("PUT") for w, _ in batch_counts):
            # The saves the server counted in batches (/metrics), which includes those
            # still in flight when wrk stopped counting.
            saves = sum(saves for (w, _), (batches, saves) in batch_counts.items() if w.startswith("PUT"))
            # Less the events pgbench wrote itself (upsert-event-sql), one a transaction.
            by_pgbench = sum(r["requests"] for r in results.get(("durable upsert + its event", "pgbench"), []))
            events = int(psql_value(database_url, "SELECT count(*) FROM events WHERE client_id = 'bench'")) - events_before - by_pgbench
            size = psql_value(database_url, "SELECT coalesce(round(avg(length(data))), 0) FROM events WHERE client_id = 'bench'")
            print(f"Events on: {events} events recorded with the {saves:.0f} saves made in batches during the rounds "
                  f"(their record's JSON {size} bytes on average)")
        print(f"connector-receiver peak RSS: {peak_rss_kib(receiver.pid) / 1024:.1f} MiB")

        def ratio(numerator, denominator, label, target):
            if numerator not in results or denominator not in results:
                return
            ratios = [a["rps"] / b["rps"] for a, b in zip(results[numerator], results[denominator])]
            median = statistics.median(ratios)
            verdict = "met" if median >= target else "not met"
            print(f"{label}: {median:.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target ≥ {target}: {verdict})")

        receiver_name = "connector-receiver"
        ratio(("GET /healthz", receiver_name), ("GET /healthz", "nginx"), "GET /healthz, connector-receiver / nginx", 0.9)
        ratio(("PUT by-external-id, new ids", receiver_name), ("durable upsert", "pgbench"),
              "upsert new ids, connector-receiver / pgbench (aim 1.5)", 1.0)
        ratio(("PUT by-external-id, repeated ids", receiver_name), ("durable upsert", "pgbench"),
              "upsert repeated ids, connector-receiver / pgbench (aim 1.5)", 1.0)
        ratio(("GET /v1/prospects/{id}", receiver_name), ("primary-key SELECT", "pgbench"),
              "GET /v1/prospects/{id}, connector-receiver / pgbench prepared SELECT", 0.5)
        ratio(("GET /v1/staff?email=", receiver_name), ("primary-key SELECT", "pgbench"),
              "GET /v1/staff?email=, connector-receiver / pgbench prepared SELECT", 0.5)
        ratio(("GET /v1/prospects?externalId=", receiver_name), ("primary-key SELECT", "pgbench"),
              "GET /v1/prospects?externalId=, connector-receiver / pgbench prepared SELECT", 0.5)
        if ("durable upsert + its event", "pgbench") in results:
            ratios = [a["rps"] / b["rps"] for a, b in zip(results[("durable upsert + its event", "pgbench")],
                                                         results[("durable upsert", "pgbench")])]
            print(f"pgbench, upsert with its event / plain upsert: {statistics.median(ratios):.2f} "
                  f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")

        feed_rows = []  # (workload, figure, target, met)
        if feed_client:
            rows = results[(FEED_READ, receiver_name)]
            rate = statistics.median(r["rps"] for r in rows)
            feed_rows.append((
                "feed-read", f"{FEED_READ}: {feed_client[1]} events in {rows[0]['pages']} pages, "
                f"{rate:.0f} events/s (rounds: {', '.join(format(r['rps'], '.0f') for r in rows)}); "
                f"page p50 {statistics.median(r['p50_us'] for r in rows) / 1000:.1f} ms, "
                f"p99 {statistics.median(r['p99_us'] for r in rows) / 1000:.1f} ms; "
                f"server {statistics.median(cpu[(FEED_READ, receiver_name)]) * 1e6:.1f} + PostgreSQL "
                f"{statistics.median(database_cpu[(FEED_READ, receiver_name)]) * 1e6:.1f} µs CPU/event; "
                f"errors {sum(r['errors'] for r in rows)}",
                "≥ 20,000 events/s", rate >= 20000))
        if "feed-latency" in chosen:
            latency_authorization = turn_up(receiver_port, admin_token, "latency")
            started = time.monotonic()
            latency = feed_latency(receiver_port, latency_authorization, args.feed_tries)
            print(f"bench: feed-latency: {latency['tries']} tries in {time.monotonic() - started:.0f} s", file=sys.stderr)
            feed_rows.append((
                "feed-latency", f"commit to waiting reader, {latency['measured']} of {latency['tries']} tries: "
                f"from just before the save is sent p50 {latency['send_p50_us'] / 1000:.2f} ms, "
                f"p99 {latency['send_p99_us'] / 1000:.2f} ms, max {latency['send_max_us'] / 1000:.2f} ms; "
                f"from the save's 2xx p50 {latency['answer_p50_us'] / 1000:.2f} ms, p99 {latency['answer_p99_us'] / 1000:.2f} ms; "
                f"missed {latency['missed']}, wrong record {latency['wrong']}, reader not yet waiting {latency['not_waiting']}",
                "p99 ≤ 100 ms (from the send)",
                latency["send_p99_us"] <= 100000 and latency["missed"] == 0 and latency["wrong"] == 0
                and latency["measured"] == args.feed_tries))
        if "feed-waiters" in chosen:
            waiters_authorization = turn_up(receiver_port, admin_token, "waiters")
            beside = None
            if "get-prospect" in chosen:
                beside_seconds = min(args.seconds, 5)
                beside = (beside_seconds, lambda: run_wrk(base, beside_seconds, args.clients, script="get.lua",
                                                          script_args=(auth, client.prospect_file)))
            waiters = feed_waiters(receiver.pid, receiver_port, waiters_authorization, database_url, args.feed_waiters, beside)
            (open_before, _), (open_waiting, busy_waiting) = waiters["backends_before"], waiters["backends_waiting"]
            open_first, busy_first = waiters["backends_first"]
            figure = (f"{args.feed_waiters} readers sent (wait=30) {min(100, args.feed_waiters)} at a time, "
                      f"{waiters['waiting']:.0f} waiting after {waiters['ramp_seconds']:.1f} s; "
                      f"server threads {waiters['threads_before']} with none waiting, {waiters['threads_first']} with "
                      f"{waiters['first']}, {waiters['threads_waiting']} with {waiters['waiting']:.0f}; "
                      f"PostgreSQL client backends open {open_before} / {open_first} / {open_waiting}, "
                      f"busy while they wait {busy_waiting}")
            if "beside" in waiters:
                figure += (f"; served beside them: GET /v1/prospects/{{id}} {waiters['beside']['rps']:.0f} req/s, "
                           f"p99 {waiters['beside']['p99_us'] / 1000:.2f} ms, errors {waiters['beside']['errors']:.0f}, "
                           f"{waiters['waiting_after_beside']:.0f} still waiting")
            figure += (f"; answered before the write {waiters['answered_early']}; one save answered "
                       f"{waiters['answered']} with its event, p50 {waiters['answer_p50_us'] / 1000:.0f} ms, "
                       f"p99 {waiters['answer_p99_us'] / 1000:.0f} ms, last {waiters['answer_max_us'] / 1000:.0f} ms after the save was sent")
            feed_rows.append((
                "feed-waiters", figure,
                "threads do not grow with waiters (one thread checks for them all); ≤ 5 backends busy",
                waiters["threads_waiting"] <= waiters["threads_first"] <= waiters["threads_before"] + 1
                and busy_waiting <= 5
                and waiters["waiting"] >= args.feed_waiters and waiters["answered"] == args.feed_waiters))
            print(f"bench: feed-waiters threads by name before {waiters['names_before']}, while waiting {waiters['names_waiting']}",
                  file=sys.stderr)
        webhook_rows = []  # (workload, figure, target, met)
        if "webhook-throughput" in chosen:
            hooks_authorization = turn_up(receiver_port, admin_token, "hooks")
            loaded = load_events(receiver_port, hooks_authorization, database_url, "hooks", args.webhook_events, args.clients)
            subprocess.run([psql_binary(), "--quiet", database_url, "-c", "ANALYZE"], check=True)
            rounds = []
            for round_number in range(1, args.rounds + 1):
                before, database_before = cpu_seconds(receiver.pid), postgres_cpu_seconds(postgres_dir)
                result = webhooks.throughput(psql_value, database_url, "hooks", loaded, nginx_port)
                result["cpu"] = (cpu_seconds(receiver.pid) - before) / max(result["requests"], 1)
                result["database_cpu"] = (postgres_cpu_seconds(postgres_dir) - database_before) / max(result["requests"], 1)
                rounds.append(result)
                print(f"bench: round {round_number} webhook-throughput: {result['requests']} deliveries in "
                      f"{result['seconds']:.1f} s, {result['rps']:.0f}/s, errors {result['errors']}", file=sys.stderr)
            rate = statistics.median(r["rps"] for r in rounds)
            webhook_rows.append((
                "webhook-throughput", f"{loaded} events to a new endpoint (nginx, 204), {args.rounds} rounds: "
                f"{rate:.0f} deliveries/s (rounds: {', '.join(format(r['rps'], '.0f') for r in rounds)}); "
                f"server {statistics.median(r['cpu'] for r in rounds) * 1e6:.1f} + PostgreSQL "
                f"{statistics.median(r['database_cpu'] for r in rounds) * 1e6:.1f} µs CPU/delivery; "
                f"errors {sum(r['errors'] for r in rounds)}",
                "≥ 5,000 deliveries/s", rate >= 5000 and sum(r["errors"] for r in rounds) == 0))
        if "webhook-latency" in chosen:
            latency_authorization = turn_up(receiver_port, admin_token, "hooklat")
            result = webhooks.latency(psql_value, database_url, receiver_port, latency_authorization, "hooklat", nginx_port,
                                      args.webhook_rate, args.webhook_seconds, "hooklat")
            webhook_rows.append((
                "webhook-latency", f"{result['requests']} saves at {args.webhook_rate}/s for {args.webhook_seconds} s "
                f"({result['late']} sent more than 50 ms late, {result['failed_saves']} failed); commit to delivery of "
                f"{result['measured']} first attempts: p50 {result['p50_us'] / 1000:.1f} ms, p99 {result['p99_us'] / 1000:.1f} ms, "
                f"max {result['max_us'] / 1000:.1f} ms; {result['delivered']} delivered",
                "p50 ≤ 50 ms", result["p50_us"] <= 50000 and result["errors"] == 0))
        if webhook_rows:
            print()
            print("Webhook delivery (to nginx answering 204):")
            print()
            print("| workload | measured | target | met |")
            print("|---|---|---|---|")
            for workload, figure, target, met in webhook_rows:
                print(f"| {workload} | {figure} | {target} | {'yes' if met else 'no'} |")

        if feed_rows:
            print()
            print("The change feed (GET /v1/changes):")
            print()
            print("| workload | measured | target | met |")
            print("|---|---|---|---|")
            for workload, figure, target, met in feed_rows:
                print(f"| {workload} | {figure} | {target} | {'yes' if met else 'no'} |")

        json_benchmark = os.path.join(os.path.dirname(receiver_path), "json-benchmark")
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
        # Anything the server logged at warning or above is worth seeing next to
        # the figures (a failing batch of saves, say); with the access log on, the
        # log also holds a line per request, at info.
        with open(os.path.join(workdir, "receiver.log"), errors="replace") as log:
            logged = [line.rstrip() for line in log
                      if line.strip() and not re.match(r"\S+ (trace|debug|info|notice) ", line)]
        if logged:
            print(f"\nconnector-receiver logged {len(logged)} line(s) at warning or above; the first:")
            for line in logged[:5]:
                print(f"  {line[:300]}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
