#!/usr/bin/env python3
"""Soak and overload test of a running connector-receiver (scripts/soak.sh starts one).

Drives a fixed request rate, open loop: request i is due at start + i/rate whatever happened
to earlier requests, and its latency is measured from that due time, so a stall shows up in
the latency of every request it delayed (no coordinated omission). The mix is what a
Connector sends: prospect and member saves by external id (new and repeated ids), gets by id,
filtered lists, staff by email, lead-source creates and updates, a few invalid bodies (422)
and wrong credentials (401).

Phases:
  steady     --minutes at --rate; every minute the server's RSS and descriptors are sampled
             and the minute's p50/p99 and status counts recorded
  overload   --overload-seconds: the same steady traffic while wrk (scripts/soak-flood.lua)
             floods the server from --flood-connections connections at about --flood-rate,
             far beyond what it admits: the excess must be answered 503/429 with Retry-After,
             quickly, /healthz must answer, and no request may hang
  recovery   --recovery-seconds at --rate: service must be normal again within a few seconds

Throughout, a probe thread sends one /healthz and one /v1 request every 100 ms on its own
connection: what a fresh request experiences, apart from the generator's own backlog.

Prints one table per phase and exits 1 when a check fails: an unexpected status or error,
memory or descriptors growing beyond the tolerance after warm-up, p99 drifting, shed
responses that are slow or lack Retry-After, or no recovery.

Usage: SOAK_PASSWORD=W scripts/soak.py --port P --pid PID --username U [--minutes 10] ...
"""
import argparse
import asyncio
import base64
import collections
import http.client
import json
import os
import random
import re
import resource
import statistics
import sys
import threading
import time

SHED = (503, 429)
NOT_SENT = "not sent: every client connection was busy (the load generator is saturated)"


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 over asyncio protocols: keep-alive connections, responses framed by Content-Length.

class Connection(asyncio.Protocol):
    def __init__(self, loop):
        self.loop = loop
        self.transport = None
        self.buffer = bytearray()
        self.waiter = None
        self.closed = False
        self.reusable = True
        self.last_used = time.monotonic()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            self._complete()

    def _complete(self):
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4:end + 4 + length])
        del self.buffer[:end + 4 + length]
        if headers.get("connection", "").lower() == "close":
            self.reusable = False
        self.waiter.set_result((status, headers, body))

    def connection_lost(self, exc):
        self.closed = True
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost ({exc or 'closed by the server'})"))

    def send(self, data):
        self.waiter = self.loop.create_future()
        self.transport.write(data)
        return self.waiter

    def close(self):
        if not self.closed and self.transport is not None:
            self.transport.close()


class Pool:
    """Keep-alive connections, opened on demand up to a maximum; beyond it requests wait."""

    def __init__(self, loop, host, port, maximum):
        self.loop, self.host, self.port, self.maximum = loop, host, port, maximum
        self.idle = []
        self.open = 0
        self.waiters = collections.deque()

    async def acquire(self):
        while True:
            while self.idle:
                connection = self.idle.pop()
                # The server closes keep-alive connections idle for 60 s: never reuse one near that.
                if connection.closed or time.monotonic() - connection.last_used > 45:
                    connection.close()
                    self.open -= 1
                    continue
                return connection
            if self.open < self.maximum:
                self.open += 1
                try:
                    _, connection = await asyncio.wait_for(
                        self.loop.create_connection(lambda: Connection(self.loop), self.host, self.port), 10)
                except BaseException:
                    self.open -= 1
                    self._hand_over(None)
                    raise
                return connection
            waiter = self.loop.create_future()
            self.waiters.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                # Timed out, possibly just after being handed a connection (or a free slot):
                # pass it on rather than lose it.
                if waiter.done() and not waiter.cancelled():
                    handed = waiter.result()
                    if handed is not None:
                        self.release(handed)
                    else:
                        self._hand_over(None)
                raise
            if connection is not None:
                return connection

    def _hand_over(self, connection):
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self.idle.append(connection)

    def release(self, connection):
        connection.last_used = time.monotonic()
        if connection.reusable and not connection.closed:
            self._hand_over(connection)
        else:
            connection.close()
            self.open -= 1
            self._hand_over(None)  # a waiter may open a new one

    def discard(self, connection):
        connection.reusable = False
        if connection.transport is not None:
            connection.transport.abort()
        self.release(connection)

    def close_all(self):
        for connection in self.idle:
            connection.close()
            self.open -= 1
        self.idle = []


# ---------------------------------------------------------------------------------------------
# The workload.

class Workload:
    """Builds the next request of the mix and learns from responses (ids to reuse)."""

    MIX = [  # (kind, weight)
        ("prospect-save-new", 18), ("prospect-save-repeat", 14), ("prospect-get", 14),
        ("prospect-list", 10), ("member-save-new", 8), ("member-save-repeat", 7), ("member-get", 4),
        ("staff-by-email", 6), ("lead-source-create", 2), ("lead-source-update", 4),
        ("lead-source-list", 3), ("invalid-body", 2), ("wrong-credentials", 2),
    ]
    EXPECTED = {
        "prospect-save-new": {201}, "prospect-save-repeat": {200}, "prospect-get": {200},
        "prospect-list": {200}, "member-save-new": {201}, "member-save-repeat": {200},
        "member-get": {200}, "staff-by-email": {200}, "lead-source-create": {201},
        "lead-source-update": {200}, "lead-source-list": {200}, "invalid-body": {422},
        "wrong-credentials": {401},
    }

    def __init__(self, host, port, username, password, clubs, staff_emails, seed):
        self.host_header = f"{host}:{port}"
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.bad_auth = "Basic " + base64.b64encode(f"{username}:not-the-password".encode()).decode()
        self.clubs = clubs
        self.staff_emails = staff_emails
        self.random = random.Random(seed)
        self.kinds = [kind for kind, _ in self.MIX]
        self.weights = [weight for _, weight in self.MIX]
        self.run_tag = f"{int(time.time()) % 100000:05d}"
        self.counter = 0
        self.prospects = []  # (externalId, id, email)
        self.members = []  # (externalId, id)
        self.lead_sources = []  # id
        self.version = 0

    def _raw(self, method, path, body=None, content_type="application/json", auth=None):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host_header}", f"Authorization: {auth or self.auth}"]
        if body is not None:
            data = body.encode()
            lines += [f"Content-Type: {content_type}", f"Content-Length: {len(data)}"]
            return ("\r\n".join(lines) + "\r\n\r\n").encode() + data
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _person(self, n, member=False, note=""):
        club = self.clubs[n % len(self.clubs)]
        body = {
            "clubId": club, "firstName": f"First{n}", "lastName": f"Soak{self.run_tag}",
            "email": f"p{self.run_tag}.{n}@example.com", "phones": {"mobile": f"+1 555 {n % 10000:04d}"},
            "address": {"line1": f"{n} Main Street", "city": "Springfield", "country": "US"},
            "gender": "female" if n % 2 else "male", "notes": note or None,
        }
        if member:
            body.update({"memberNumber": f"{n:06d}", "membershipType": "Monthly", "membershipStatus": "active",
                         "joinDate": "2025-03-01", "expiryDate": "2027-02-28"})
        elif self.staff_emails:
            body["staffOwnerEmail"] = self.staff_emails[n % len(self.staff_emails)]
        return json.dumps(body)

    def next(self):
        """(kind, raw request bytes, on_response(status, body) or None)."""
        kind = self.random.choices(self.kinds, self.weights)[0]
        # Until there is something to reuse, create it.
        if kind in ("prospect-save-repeat", "prospect-get", "prospect-list") and not self.prospects:
            kind = "prospect-save-new"
        if kind in ("member-save-repeat", "member-get") and not self.members:
            kind = "member-save-new"
        if kind == "lead-source-update" and not self.lead_sources:
            kind = "lead-source-create"
        self.counter += 1
        n = self.counter
        r = self.random
        if kind == "prospect-save-new":
            external = f"P-{self.run_tag}-{n}"
            email = f"p{self.run_tag}.{n}@example.com"

            def learn(status, body, external=external, email=email):
                if status == 201:
                    self.prospects.append((external, json.loads(body)["id"], email))
            return kind, self._raw("PUT", f"/v1/prospects/by-external-id/{external}", self._person(n)), learn
        if kind == "prospect-save-repeat":
            external, _, _ = r.choice(self.prospects)
            index = int(external.rsplit("-", 1)[1])
            # Half identical (nothing changes), half with a changed note (a new version).
            note = f"call back ({n})" if r.random() < 0.5 else ""
            return kind, self._raw("PUT", f"/v1/prospects/by-external-id/{external}", self._person(index, note=note)), None
        if kind == "prospect-get":
            return kind, self._raw("GET", f"/v1/prospects/{r.choice(self.prospects)[1]}"), None
        if kind == "prospect-list":
            choice = r.random()
            if choice < 0.4:
                path = f"/v1/prospects?clubId={r.choice(self.clubs)}&limit=20"
            elif choice < 0.7:
                path = f"/v1/prospects?email={r.choice(self.prospects)[2]}"
            elif choice < 0.85:
                path = f"/v1/prospects?externalId={r.choice(self.prospects)[0]}"
            else:
                since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 30))
                path = f"/v1/prospects?updatedSince={since}&limit=50"
            return kind, self._raw("GET", path), None
        if kind == "member-save-new":
            external = f"M-{self.run_tag}-{n}"

            def learn(status, body, external=external):
                if status == 201:
                    self.members.append((external, json.loads(body)["id"]))
            return kind, self._raw("PUT", f"/v1/members/by-external-id/{external}", self._person(n, member=True)), learn
        if kind == "member-save-repeat":
            external, _ = r.choice(self.members)
            index = int(external.rsplit("-", 1)[1])
            note = f"renewed ({n})" if r.random() < 0.5 else ""
            return kind, self._raw("PUT", f"/v1/members/by-external-id/{external}", self._person(index, member=True, note=note)), None
        if kind == "member-get":
            return kind, self._raw("GET", f"/v1/members/{r.choice(self.members)[1]}"), None
        if kind == "staff-by-email":
            email = r.choice(self.staff_emails) if self.staff_emails else "nobody@example.com"
            return kind, self._raw("GET", f"/v1/staff?email={email}"), None
        if kind == "lead-source-create":
            def learn(status, body):
                if status == 201:
                    self.lead_sources.append(json.loads(body)["id"])
            body = json.dumps({"name": f"Source {self.run_tag}-{n}", "externalId": f"LS-{self.run_tag}-{n}"})
            return kind, self._raw("POST", "/v1/lead-sources", body), learn
        if kind == "lead-source-update":
            body = json.dumps({"name": f"Source {self.run_tag}-{n} renamed"})
            return kind, self._raw("PATCH", f"/v1/lead-sources/{r.choice(self.lead_sources)}", body,
                                   content_type="application/merge-patch+json"), None
        if kind == "lead-source-list":
            return kind, self._raw("GET", "/v1/lead-sources?limit=20"), None
        if kind == "invalid-body":
            body = json.dumps({"clubId": self.clubs[0], "email": "not-an-email", "birthDate": "1990-13-40"})
            return kind, self._raw("PUT", f"/v1/prospects/by-external-id/BAD-{self.run_tag}-{n}", body), None
        if kind == "wrong-credentials":
            return kind, self._raw("GET", "/v1/prospects?limit=1", auth=self.bad_auth), None
        raise AssertionError(kind)


# ---------------------------------------------------------------------------------------------
# Measurement.

class Probe(threading.Thread):
    """A fresh request's experience, independent of the generator's backlog: on its own
    thread and connection, every `interval` a GET /healthz and a GET /v1/lead-sources?limit=1,
    one at a time. (The generator's thread holds the interpreter lock most of the time under
    overload; a 1 ms switch interval keeps the probe's added delay to about that.)"""

    def __init__(self, host, port, auth, interval=0.1):
        super().__init__(daemon=True)
        self.host, self.port, self.auth, self.interval = host, port, auth, interval
        self.samples = []  # (monotonic start, path, status or "error", seconds)
        self.stopping = threading.Event()

    def run(self):
        connection = None
        while not self.stopping.is_set():
            for path, headers in (("/healthz", {}), ("/v1/lead-sources?limit=1", {"Authorization": self.auth})):
                start = time.monotonic()
                try:
                    if connection is None:
                        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        connection.close()
                        connection = None
                except (OSError, http.client.HTTPException):
                    status = "error"
                    if connection is not None:
                        connection.close()
                    connection = None
                self.samples.append((start, path, status, time.monotonic() - start))
            self.stopping.wait(self.interval)

    def between(self, start, end, path):
        return [(status, seconds) for t, p, status, seconds in self.samples if p == path and start <= t < end]


def server_log_durations(path):
    """Status → durations (seconds) of the server's access log lines."""
    durations = collections.defaultdict(list)
    if not path:
        return durations
    status_pattern = re.compile(r"\bstatus=(\d+)")
    duration_pattern = re.compile(r"\bduration_ms=([0-9.]+)")
    with open(path, errors="replace") as f:
        for line in f:
            if "duration_ms=" not in line:
                continue
            status, duration = status_pattern.search(line), duration_pattern.search(line)
            if status and duration:
                durations[int(status.group(1))].append(float(duration.group(1)) / 1000)
    return durations

class Record:
    __slots__ = ("phase", "kind", "due", "sent", "done", "status", "retry_after", "error")

    def __init__(self, phase, kind, due):
        self.phase, self.kind, self.due = phase, kind, due
        self.sent = self.done = None
        self.status = None
        self.retry_after = None
        self.error = None


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(postmaster):
    """CPU of the cluster: the postmaster and its children (backends, writers)."""
    if not postmaster:
        return 0.0
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
            if int(entry) == postmaster or int(stat[1]) == postmaster:
                total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


POSTMASTER = None


def process_sample(pid, port):
    """RSS (KiB), open descriptors, client connections (established sockets on the server's
    port), threads and CPU seconds of the server."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    clients = 0
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[1].endswith(suffix) and fields[3] == "01":
                        clients += 1
        except FileNotFoundError:
            pass
    cpu = cpu_seconds(pid)
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"rss": rss, "fds": fds, "clients": clients, "threads": threads, "cpu": cpu, "load": load,
            "time": time.monotonic(), "generator_cpu": usage.ru_utime + usage.ru_stime,
            "postgres_cpu": postgres_cpu_seconds(POSTMASTER)}


class Runner:
    def __init__(self, args, workload):
        self.args = args
        self.workload = workload
        self.loop = asyncio.get_running_loop()
        self.pool = Pool(self.loop, args.host, args.port, args.max_connections)
        self.records = []
        self.outstanding = set()

    async def one(self, record, raw, learn):
        connection = None
        timeout = self.args.request_timeout
        try:
            try:
                async with asyncio.timeout(timeout):
                    connection = await self.pool.acquire()
            except TimeoutError:
                record.done = self.loop.time()
                record.error = NOT_SENT
                return
            record.sent = self.loop.time()
            try:
                async with asyncio.timeout(timeout):
                    status, headers, body = await connection.send(raw)
            except TimeoutError:
                record.done = self.loop.time()
                record.error = "no response in time (hung)"
                return
            record.done = self.loop.time()
            record.status = status
            record.retry_after = headers.get("retry-after")
            self.pool.release(connection)
            connection = None
            if learn is not None:
                learn(status, body)
        except (ConnectionError, OSError) as error:
            record.done = self.loop.time()
            record.error = f"connection error: {error}"
        finally:
            if connection is not None:
                self.pool.discard(connection)

    async def drive(self, phase, rate, seconds):
        """Issues requests at `rate` per second for `seconds`, open loop."""
        start = self.loop.time()
        total = int(rate * seconds)
        issued = 0
        while issued < total:
            now = self.loop.time()
            due_count = min(total, int((now - start) * rate) + 1)
            while issued < due_count:
                due = start + issued / rate
                kind, raw, learn = self.workload.next()
                record = Record(phase, kind, due)
                self.records.append(record)
                task = self.loop.create_task(self.one(record, raw, learn))
                self.outstanding.add(task)
                task.add_done_callback(self.outstanding.discard)
                issued += 1
            next_due = start + issued / rate
            await asyncio.sleep(max(0.0, min(next_due - self.loop.time(), 0.05)))
        return start

    async def settle(self):
        """Waits for the requests in flight; any still unanswered after the timeout hung."""
        if self.outstanding:
            await asyncio.wait(list(self.outstanding), timeout=2 * self.args.request_timeout + 5)
        for task in list(self.outstanding):
            task.cancel()
        for record in self.records:
            if record.done is None:
                record.done = self.loop.time()
                record.error = "unfinished (hung)"


# ---------------------------------------------------------------------------------------------
# Reports and checks.

def ms(value):
    return "-" if value != value else f"{value * 1000:.1f}"


def status_summary(records):
    counts = collections.Counter(r.status if r.error is None else "error" for r in records)
    return " ".join(f"{k}:{v}" for k, v in sorted(counts.items(), key=lambda item: str(item[0])))


def unexpected(records, allow_shed):
    problems = []
    for record in records:
        if record.error is not None:
            problems.append(f"{record.kind}: {record.error}")
        elif record.status in SHED and allow_shed:
            if record.retry_after is None or not record.retry_after.isdigit():
                problems.append(f"{record.kind}: {record.status} without Retry-After")
        elif record.status not in Workload.EXPECTED[record.kind]:
            problems.append(f"{record.kind}: status {record.status}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server's process id (for /proc)")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", default=os.environ.get("SOAK_PASSWORD"),
                        help="default: the environment variable SOAK_PASSWORD")
    parser.add_argument("--clubs", default="club-001,club-002")
    parser.add_argument("--staff", default="", help="comma-separated staff emails turned up for the client")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=300, help="requests per second, steady phase")
    parser.add_argument("--max-connections", type=int, default=256, help="the generator's connections at most")
    parser.add_argument("--request-timeout", type=float, default=30, help="seconds; longer counts as a hang")
    parser.add_argument("--warmup-minutes", type=int, default=None, help="default: 2 (1 for runs under 4 minutes)")
    parser.add_argument("--rss-tolerance-mib", type=float, default=16)
    parser.add_argument("--rss-tolerance-percent", type=float, default=15)
    parser.add_argument("--fd-tolerance", type=int, default=24, help="descriptors besides client connections (the database pool grows lazily to 20)")
    parser.add_argument("--p99-factor", type=float, default=2.0)
    parser.add_argument("--p99-slack-ms", type=float, default=20)
    parser.add_argument("--overload-seconds", type=float, default=30)
    parser.add_argument("--flood-connections", type=int, default=512,
                        help="wrk connections of the overload phase (by default the server admits 32 requests running on "
                             "workers + 128 waiting, and besides them 2 batches of up to 32 saves + 128 saves waiting)")
    parser.add_argument("--flood-threads", type=int, default=2)
    parser.add_argument("--flood-rate", type=float, default=3000,
                        help="requests per second the flood aims at (each connection pauses connections/rate on average between requests); 0: back to back")
    parser.add_argument("--shed-p99-max-ms", type=float, default=1000,
                        help="p99 of shed answers, and of the probe's /v1 request, during the overload")
    parser.add_argument("--server-shed-p99-max-ms", type=float, default=5,
                        help="p99 of the server's own time for a 503 (its access log)")
    parser.add_argument("--recovery-seconds", type=float, default=30)
    parser.add_argument("--recovery-max-seconds", type=float, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-log", help="the server's log, for its own time per status (access log lines)")
    parser.add_argument("--postgres-pid", type=int, help="the cluster's postmaster, for its CPU")
    args = parser.parse_args()
    if not args.password:
        parser.error("give --password or set SOAK_PASSWORD")
    global POSTMASTER
    POSTMASTER = args.postgres_pid
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return asyncio.run(run(args))


async def run(args):
    workload = Workload(args.host, args.port, args.username, args.password, args.clubs.split(","),
                        [e for e in args.staff.split(",") if e], args.seed)
    runner = Runner(args, workload)
    failures = []
    minutes = max(1, int(round(args.minutes)))
    warmup = args.warmup_minutes if args.warmup_minutes is not None else (2 if minutes >= 4 else 1)
    warmup = min(warmup, minutes - 1) if minutes > 1 else 0

    sys.setswitchinterval(0.001)
    probe = Probe(args.host, args.port, workload.auth)
    probe.start()

    # --- steady phase, one minute at a time, sampling the server between minutes.
    samples = [process_sample(args.pid, args.port)]
    print(f"soak: steady phase, {minutes} min at {args.rate:g} req/s (open loop); warm-up {warmup} min", flush=True)
    minute_starts = []
    for minute in range(minutes):
        minute_starts.append(await runner.drive(f"steady-{minute + 1}", args.rate, 60))
        samples.append(process_sample(args.pid, args.port))
        done = [r for r in runner.records if r.phase == f"steady-{minute + 1}" and r.done is not None]
        lat = [r.done - r.due for r in done if r.error is None]
        print(f"soak: minute {minute + 1}: p50 {ms(percentile(lat, .5))} ms p99 {ms(percentile(lat, .99))} ms, "
              f"rss {samples[-1]['rss'] // 1024} MiB, fds {samples[-1]['fds']}, {status_summary(done)}", flush=True)
    await runner.settle()

    rows = []
    for minute in range(minutes):
        phase = f"steady-{minute + 1}"
        records = [r for r in runner.records if r.phase == phase]
        lat = [r.done - r.due for r in records if r.error is None and r.done is not None]
        before, after = samples[minute], samples[minute + 1]
        elapsed = max(1e-9, after["time"] - before["time"])
        cpu = (after["cpu"] - before["cpu"]) / elapsed
        generator_cpu = (after["generator_cpu"] - before["generator_cpu"]) / elapsed
        postgres_cpu = (after["postgres_cpu"] - before["postgres_cpu"]) / elapsed
        lag = [r.sent - r.due for r in records if r.sent is not None]
        rows.append({
            "minute": minute + 1, "requests": len(records), "p50": percentile(lat, .5), "p99": percentile(lat, .99),
            "lag": percentile(lag, .99),
            "max": max(lat) if lat else float("nan"), "rss": after["rss"], "fds": after["fds"], "clients": after["clients"],
            "threads": after["threads"], "cpu": cpu, "generator_cpu": generator_cpu, "postgres_cpu": postgres_cpu,
            "load": after["load"],
            "statuses": status_summary(records),
        })
    print()
    print(f"Steady phase: {args.rate:g} req/s offered, open loop; latency from each request's scheduled time")
    print("(send lag: how late the load generator sent, part of the latency; large values mean a starved generator)")
    print("(CPU: share of one core; the machine has {}; load avg: the machine's 1-minute load average)".format(os.cpu_count()))
    print("| min | requests | p50 ms | p99 ms | max ms | send lag p99 ms | RSS MiB | fds | client conns | fds - conns | threads | server CPU | PostgreSQL CPU | generator CPU | load avg | statuses |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['minute']} | {row['requests']} | {ms(row['p50'])} | {ms(row['p99'])} | {ms(row['max'])} | {ms(row['lag'])} | "
              f"{row['rss'] / 1024:.1f} | {row['fds']} | {row['clients']} | {row['fds'] - row['clients']} | {row['threads']} | "
              f"{row['cpu'] * 100:.0f}% | {row['postgres_cpu'] * 100:.0f}% | {row['generator_cpu'] * 100:.0f}% | "
              f"{row['load']:.1f} | {row['statuses']} |")
    steady = [r for r in runner.records if r.phase.startswith("steady")]
    kinds = collections.defaultdict(list)
    for record in steady:
        if record.error is None and record.done is not None:
            kinds[record.kind].append(record.done - record.due)
    print()
    print("| request kind | count | p50 ms | p99 ms | statuses |")
    print("|---|---|---|---|---|")
    for kind, _ in Workload.MIX:
        records = [r for r in steady if r.kind == kind]
        print(f"| {kind} | {len(records)} | {ms(percentile(kinds[kind], .5))} | {ms(percentile(kinds[kind], .99))} | {status_summary(records)} |")

    problems = unexpected(steady, allow_shed=False)
    if problems:
        failures.append(f"steady phase: {len(problems)} unexpected outcomes, e.g. " + "; ".join(
            f"{k} ×{v}" for k, v in collections.Counter(problems).most_common(5)))
    if warmup < minutes:
        base, last = rows[warmup - 1] if warmup > 0 else rows[0], rows[-1]
        growth = (last["rss"] - base["rss"]) / 1024
        allowed = max(args.rss_tolerance_mib, base["rss"] / 1024 * args.rss_tolerance_percent / 100)
        print(f"\nRSS after warm-up (end of minute {base['minute']}): {base['rss'] / 1024:.1f} MiB; at the end: "
              f"{last['rss'] / 1024:.1f} MiB ({growth:+.1f} MiB, allowed +{allowed:.1f})")
        if growth > allowed:
            failures.append(f"RSS grew {growth:.1f} MiB after warm-up (allowed {allowed:.1f})")
        other_base, other_last = base["fds"] - base["clients"], last["fds"] - last["clients"]
        print(f"Descriptors besides client connections: {other_base} after warm-up, {other_last} at the end "
              f"(allowed +{args.fd_tolerance})")
        if other_last - other_base > args.fd_tolerance:
            failures.append(f"descriptors besides client connections grew from {other_base} to {other_last}")
        after_warmup = rows[warmup:]
        early = statistics.median(r["p99"] for r in after_warmup[:3])
        late = statistics.median(r["p99"] for r in after_warmup[-3:])
        limit = early * args.p99_factor + args.p99_slack_ms / 1000
        print(f"p99 drift: median of the first three minutes after warm-up {ms(early)} ms, of the last three "
              f"{ms(late)} ms (allowed {ms(limit)} ms)")
        if late > limit:
            failures.append(f"p99 drifted from {ms(early)} ms to {ms(late)} ms")

    # --- overload phase: the steady traffic goes on while wrk floods the server; then recovery.
    flood_pace = f"aiming at {args.flood_rate:g} req/s" if args.flood_rate > 0 else "back to back"
    print(f"\nsoak: overload phase, {args.overload_seconds:g} s: {args.rate:g} req/s as before plus a wrk flood on "
          f"{args.flood_connections} connections {flood_pace}; then {args.recovery_seconds:g} s at {args.rate:g} req/s", flush=True)
    before = process_sample(args.pid, args.port)
    flood = await asyncio.create_subprocess_exec(
        "wrk", f"-t{args.flood_threads}", f"-c{args.flood_connections}", f"-d{args.overload_seconds:g}s", "--timeout", "10s",
        "-s", os.path.join(os.path.dirname(os.path.abspath(__file__)), "soak-flood.lua"), f"http://{args.host}:{args.port}",
        env={**os.environ, "SOAK_AUTH": workload.auth, "SOAK_TAG": workload.run_tag,
             "SOAK_DELAY_MS": str(int(args.flood_connections / args.flood_rate * 1000) if args.flood_rate > 0 else 0)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    overload_start = await runner.drive("overload", args.rate, args.overload_seconds)
    flood_output = (await flood.communicate())[0].decode(errors="replace")
    overload_end = runner.loop.time()
    during = process_sample(args.pid, args.port)
    recovery_start = await runner.drive("recovery", args.rate, args.recovery_seconds)
    await runner.settle()
    probe.stopping.set()

    line = next((text for text in flood_output.splitlines() if text.startswith("FLOOD ")), None)
    print()
    if line is None:
        print(flood_output)
        failures.append("overload phase: wrk printed no summary")
    else:
        floods = dict(item.split("=", 1) for item in line.split()[1:])
        flood_statuses = dict(item.split(":") for item in floods["statuses"].split(",") if item)
        flood_shed = sum(int(v) for k, v in flood_statuses.items() if int(k) in SHED)
        requests, seconds = int(floods["requests"]), float(floods["seconds"])
        print(f"Overload phase, the flood: wrk, {args.flood_connections} connections {flood_pace} for {seconds:.1f} s: "
              f"{requests} requests ({requests / seconds:.0f}/s), {flood_shed} shed ({flood_shed / seconds:.0f}/s), "
              f"{requests - flood_shed} served ({(requests - flood_shed) / seconds:.0f}/s); latency p50 "
              f"{int(floods['p50_us']) / 1000:.1f} ms, p99 {int(floods['p99_us']) / 1000:.1f} ms, max "
              f"{int(floods['max_us']) / 1000:.1f} ms; statuses {floods['statuses']}; errors: connect "
              f"{floods['connect_errors']}, read {floods['read_errors']}, write {floods['write_errors']}, "
              f"timeouts {floods['timeouts']}; 503/429 without Retry-After: {floods['missing_retry_after']}")
        for key in ("connect_errors", "read_errors", "write_errors", "timeouts", "missing_retry_after"):
            if int(floods[key]) != 0:
                failures.append(f"overload phase: the flood saw {key.replace('_', ' ')}: {floods[key]}")
        odd = {k: v for k, v in flood_statuses.items() if int(k) not in (200, 201) + SHED}
        if odd:
            failures.append(f"overload phase: the flood got unexpected statuses {odd}")
        if flood_shed == 0:
            failures.append("overload phase: nothing of the flood was shed; it did not exceed capacity (raise --flood-connections)")
    elapsed = max(1e-9, during["time"] - before["time"])
    print(f"The server during the flood: RSS {before['rss'] // 1024} → {during['rss'] // 1024} MiB, fds {before['fds']} → "
          f"{during['fds']}, CPU {(during['cpu'] - before['cpu']) / elapsed * 100:.0f}%; PostgreSQL CPU "
          f"{(during['postgres_cpu'] - before['postgres_cpu']) / elapsed * 100:.0f}%; generator CPU "
          f"{(during['generator_cpu'] - before['generator_cpu']) / elapsed * 100:.0f}%; load avg {during['load']:.1f}")

    overload = [r for r in runner.records if r.phase == "overload"]
    answered = [r for r in overload if r.error is None]
    shed = [r for r in answered if r.status in SHED]
    served = [r for r in answered if r.status not in SHED]

    def row(name, records):
        service = [r.done - r.sent for r in records]
        due = [r.done - r.due for r in records]
        return (f"| {name} | {len(records)} | {ms(percentile(service, .5))} | {ms(percentile(service, .99))} | "
                f"{ms(max(service) if service else float('nan'))} | {ms(percentile(due, .5))} | {ms(percentile(due, .99))} |")
    print(f"The steady traffic ({args.rate:g} req/s, open loop) during the flood: {len(overload)} requests, "
          f"statuses {status_summary(overload)}, Retry-After {dict(collections.Counter(r.retry_after for r in shed))}")
    print("| outcome | count | sent→answer p50 ms | p99 ms | max ms | scheduled→answer p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    print(row("served", served))
    print(row("shed (503/429)", shed))
    print("Probe (one request at a time on its own connection, every 100 ms):")
    print("| phase | path | count | p50 ms | p99 ms | max ms | statuses |")
    print("|---|---|---|---|---|---|---|")
    probe_windows = [("steady (last minute)", minute_starts[-1], minute_starts[-1] + 60), ("overload", overload_start, overload_end),
                     ("recovery", recovery_start, recovery_start + args.recovery_seconds)]
    for name, window_start, window_end in probe_windows:
        for path in ("/healthz", "/v1/lead-sources?limit=1"):
            probed = probe.between(window_start, window_end, path)
            latencies = [seconds for _, seconds in probed]
            statuses = collections.Counter(status for status, _ in probed)
            print(f"| {name} | {path} | {len(probed)} | {ms(percentile(latencies, .5))} | {ms(percentile(latencies, .99))} | "
                  f"{ms(max(latencies) if latencies else float('nan'))} | "
                  f"{' '.join(f'{k}:{v}' for k, v in sorted(statuses.items(), key=lambda i: str(i[0])))} |")
            if name == "overload" and path == "/healthz" and any(status != 200 for status, _ in probed):
                failures.append("/healthz did not answer 200 during the overload")
            if name == "overload" and path != "/healthz" and latencies and percentile(latencies, .99) * 1000 > args.shed_p99_max_ms:
                failures.append(f"during the overload a fresh /v1 request waited {ms(percentile(latencies, .99))} ms at p99 "
                                f"(allowed {args.shed_p99_max_ms:g})")
    durations = server_log_durations(args.server_log)
    if durations:
        print("The server's own time per request (access log: parsed to response queued), whole run:")
        print("| status | count | p50 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|")
        for status in sorted(durations):
            values = durations[status]
            print(f"| {status} | {len(values)} | {percentile(values, .5) * 1000:.3f} | {percentile(values, .99) * 1000:.3f} | "
                  f"{max(values) * 1000:.3f} |")
        # 429s run on a worker (after authentication); 503s of the overload are answered by the loop.
        if durations.get(503) and percentile(durations[503], .99) * 1000 > args.server_shed_p99_max_ms:
            failures.append(f"the server took {percentile(durations[503], .99) * 1000:.1f} ms at p99 to answer a 503 "
                            f"(allowed {args.server_shed_p99_max_ms:g})")
    problems = unexpected(overload, allow_shed=True)
    if problems:
        failures.append(f"overload phase: {len(problems)} unexpected outcomes of the steady traffic, e.g. " + "; ".join(
            f"{k} ×{v}" for k, v in collections.Counter(problems).most_common(5)))
    shed_service = [r.done - r.sent for r in shed]
    if shed_service and percentile(shed_service, .99) * 1000 > args.shed_p99_max_ms:
        failures.append(f"shed responses were slow: p99 {ms(percentile(shed_service, .99))} ms")

    # Recovery: per second from the end of the overload; recovered at the start of the first
    # second after which nothing was shed, unexpected or unsent.
    recovery = [r for r in runner.records if r.phase == "recovery"]
    by_second = collections.defaultdict(list)
    for record in recovery:
        by_second[int(record.due - recovery_start)].append(record)
    bad_seconds = [second for second, records in by_second.items() if unexpected(records, allow_shed=False)]
    recovered_at = (max(bad_seconds) + 1) if bad_seconds else 0
    normal = [r.done - r.due for r in recovery if int(r.due - recovery_start) >= recovered_at and r.error is None]
    per_second = " ".join(
        f"{second}s:{sum(1 for r in by_second[second] if r.status in SHED)}" for second in sorted(by_second)
        if any(r.status in SHED or r.error for r in by_second[second]))
    print()
    print(f"Recovery at {args.rate:g} req/s right after the overload: normal service from second {recovered_at} "
          f"(allowed {args.recovery_max_seconds:g}); from then p50 {ms(percentile(normal, .5))} ms, p99 "
          f"{ms(percentile(normal, .99))} ms; statuses {status_summary(recovery)}"
          + (f"; shed per second: {per_second}" if per_second else ""))
    if recovered_at > args.recovery_max_seconds:
        failures.append(f"service was not normal again until {recovered_at} s after the overload")
    if recovered_at >= args.recovery_seconds:
        failures.append("service did not recover within the recovery phase")

    # Descriptors once every client connection is closed.
    runner.pool.close_all()
    await asyncio.sleep(3)
    final = process_sample(args.pid, args.port)
    print(f"After closing every client connection: server fds {final['fds']} (client connections {final['clients']}), "
          f"RSS {final['rss'] / 1024:.1f} MiB, threads {final['threads']}")
    if final["fds"] - final["clients"] > samples[0]["fds"] - samples[0]["clients"] + args.fd_tolerance:
        failures.append(f"descriptors at rest grew from {samples[0]['fds']} to {final['fds']}")

    print()
    if failures:
        for failure in failures:
            print(f"soak: FAIL: {failure}")
        return 1
    print("soak: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
