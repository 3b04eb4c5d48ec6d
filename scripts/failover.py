#!/usr/bin/env python3
"""PostgreSQL failover under load, against the topology of scripts/patroni-topology.sh.

One scenario per run (scripts/failover.sh runs both):

  kill     SIGKILL the primary's postmaster. Patroni (primary_start_timeout 0) fails over
           to the synchronous standby instead of restarting the primary in place; the
           old primary comes back as a standby (pg_rewind if its history diverged).
  freeze   SIGSTOP the primary's whole node, its Patroni and every PostgreSQL process:
           what the others see of a partitioned or hung host. The leader key expires
           (ttl), the standby is promoted; after --freeze-seconds the node is thawed
           (SIGCONT) and must demote itself and rejoin as a standby.

Throughout, --writers threads save prospects (PUT /v1/prospects/by-external-id/{id}),
each id of its own, and retry a save that got a 503 or no answer with the same id, as
the Connector does. A prober reads /readyz every 0.25 s. Another prober per node
commits a row straight into that node's `postgres` database every 0.2 s (superuser,
no statement timeout, a fresh connection each time, not waiting for an answer for
more than 3 s), recording which node acknowledged which commit and when.

Checks (exit 1 when one fails):
  - every acknowledged save is on the primary afterwards, and on the standby: 0 lost;
  - every answer that is not 2xx is a 503 with Retry-After; no 500, no request left
    without an answer for --request-timeout seconds (hung);
  - saves succeed again within --max-recovery seconds of the fault; the time from the
    fault to the first 2xx of a save begun after it is printed (the recovery time);
  - /readyz answered 503 during the outage and 200 afterwards;
  - no split brain: every commit a node acknowledged is on the final primary, and the
    old primary acknowledged no commit sent after the new one acknowledged its first;
  - the old primary is back as a streaming synchronous standby, on the new timeline.

Prints one `failover:` summary line per scenario, plus a JSON record with --json.
Usage: scripts/failover.py --env DIR/topology.env --scenario kill|freeze --username U (FAILOVER_PASSWORD=…)
"""
import argparse
import base64
import collections
import http.client
import json
import os
import signal
import sys
import threading
import time
import urllib.request

import psycopg2


def read_env(path):
    env = {}
    for line in open(path):
        line = line.strip()
        if not line or "=" not in line:
            continue
        key, _, value = line.partition("=")
        env[key] = value.strip('"')
    return env


class Node:
    def __init__(self, env, number):
        self.name = f"node{number}"
        self.dir = env[f"TOPOLOGY_NODE{number}_DIR"]
        self.port = int(env[f"TOPOLOGY_NODE{number}_PG_PORT"])
        self.api = env[f"TOPOLOGY_NODE{number}_API_URL"]

    def connect(self, timeout=2, dbname="postgres"):
        # Through the node's own Unix socket: trust for local connections.
        return psycopg2.connect(host=self.dir, port=self.port, user="postgres", dbname=dbname,
                                connect_timeout=timeout, application_name="failover-probe")

    def api_status(self, path):
        try:
            with urllib.request.urlopen(self.api + path, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def patroni(self):
        try:
            with urllib.request.urlopen(self.api + "/patroni", timeout=2) as response:
                return json.load(response)
        except (OSError, ValueError):
            return None

    def postmaster_pid(self):
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as file:
            return int(file.readline())

    def patroni_pid(self):
        with open(os.path.join(self.dir, "patroni.pid")) as file:
            return int(file.readline())


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return found


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.answers = []          # (begun, ended, status, retry_after, external id)
        self.acknowledged = set()
        self.readyz = []           # (begun, ended, status)
        self.probe_acks = []       # (begun, acknowledged, node name, seq)

    def answer(self, begun, ended, status, retry_after, external_id):
        with self.lock:
            self.answers.append((begun, ended, status, retry_after, external_id))
            if status is not None and 200 <= status < 300:
                self.acknowledged.add(external_id)


def writer(args, number, recorder, stop, authorization, prefix):
    body_template = '{"clubId": "club-001", "firstName": "Writer%d", "lastName": "Save%d", "email": "w%d-%d@example.com"}'
    sequence = 0
    connection = None
    while not stop.is_set() and sequence < args.max_saves_per_writer:
        external_id = f"{prefix}-w{number}-{sequence}"
        body = body_template % (number, sequence, number, sequence)
        while not stop.is_set():
            begun = time.monotonic()
            status, retry_after = None, None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.request_timeout)
                connection.request("PUT", f"/v1/prospects/by-external-id/{external_id}", body=body,
                                   headers={"Authorization": authorization, "Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                status = response.status
                retry_after = response.getheader("Retry-After")
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
            recorder.answer(begun, time.monotonic(), status, retry_after, external_id)
            if status is not None and 200 <= status < 300:
                break
            if status is not None and status != 503:
                break  # a failure the checks report; retrying would not change it
            time.sleep(args.retry_pause)
        sequence += 1
        time.sleep(args.pause)
    if connection is not None:
        connection.close()


def readyz_prober(args, recorder, stop):
    while not stop.is_set():
        status = None
        begun = time.monotonic()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.request_timeout)
            connection.request("GET", "/readyz")
            status = connection.getresponse().status
            connection.close()
        except (OSError, http.client.HTTPException):
            pass
        with recorder.lock:
            recorder.readyz.append((begun, time.monotonic(), status))
        stop.wait(0.25)


def probe_commit(node, seq, recorder):
    begun = time.monotonic()
    try:
        connection = node.connect(timeout=2)
        try:
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO failover_probe (node, seq) VALUES (%s, %s)", (node.name, seq))
            connection.commit()
            with recorder.lock:
                recorder.probe_acks.append((begun, time.monotonic(), node.name, seq))
        finally:
            connection.close()
    except psycopg2.Error:
        pass


def split_brain_prober(node, recorder, stop, offset):
    # Each attempt runs on a thread of its own, waited for at most 3 s: an attempt
    # stuck on a frozen node still records its acknowledgement if one ever comes.
    seq = offset
    pending = []
    while not stop.is_set():
        thread = threading.Thread(target=probe_commit, args=(node, seq, recorder), daemon=True)
        thread.start()
        pending.append(thread)
        thread.join(3)
        seq += 1
        stop.wait(0.2)
    for thread in pending:
        thread.join(5)


def primary_of(nodes):
    for node in nodes:
        if node.api_status("/primary") == 200:
            return node
    return None


def wait_until(predicate, seconds, step=0.25):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def freeze_pids(node):
    patroni = node.patroni_pid()
    postmaster = node.postmaster_pid()
    return patroni, postmaster


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", required=True, help="the topology.env of scripts/patroni-topology.sh")
    parser.add_argument("--scenario", choices=["kill", "freeze"], required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between a writer's saves")
    parser.add_argument("--retry-pause", type=float, default=0.25, help="seconds before retrying a 503 or an unanswered save")
    parser.add_argument("--max-saves-per-writer", type=int, default=4000)
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds of load before the fault")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of load after saves succeed again")
    parser.add_argument("--freeze-seconds", type=float, default=20.0)
    parser.add_argument("--max-recovery", type=float, default=30.0, help="fail when saves do not succeed again within this")
    parser.add_argument("--rejoin-timeout", type=float, default=60.0)
    parser.add_argument("--request-timeout", type=float, default=30.0, help="an answer later than this is a hung request")
    parser.add_argument("--json", help="append the run's figures as a JSON line to this file")
    args = parser.parse_args()

    env = read_env(args.env)
    args.port = int(env["TOPOLOGY_RECEIVER_PORTS"].split()[0])
    password = os.environ["FAILOVER_PASSWORD"]
    authorization = "Basic " + base64.b64encode(f"{args.username}:{password}".encode()).decode()
    nodes = [Node(env, 1), Node(env, 2)]
    failures = []

    old = primary_of(nodes)
    if old is None:
        sys.exit("failover: no primary before the fault")
    new_expected = [node for node in nodes if node is not old][0]
    if new_expected.api_status("/sync") != 200:
        sys.exit(f"failover: {new_expected.name} is not the synchronous standby before the fault")
    connection = old.connect()
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS failover_probe (node text, seq int, at timestamptz DEFAULT clock_timestamp(), PRIMARY KEY (node, seq))")
        cursor.execute("SELECT coalesce(max(seq), 0) + 1000 FROM failover_probe")
        probe_offset = cursor.fetchone()[0]
    connection.close()
    timeline_before = (old.patroni() or {}).get("timeline")

    recorder = Recorder()
    stop = threading.Event()
    probe_stop = threading.Event()
    prefix = f"{args.scenario}-{int(time.time())}"
    threads = [threading.Thread(target=writer, args=(args, i, recorder, stop, authorization, prefix)) for i in range(args.writers)]
    threads.append(threading.Thread(target=readyz_prober, args=(args, recorder, stop)))
    probers = [threading.Thread(target=split_brain_prober, args=(node, recorder, probe_stop, probe_offset)) for node in nodes]
    for thread in threads + probers:
        thread.start()

    time.sleep(args.warmup)
    with recorder.lock:
        acknowledged_before = len(recorder.acknowledged)
    if acknowledged_before == 0:
        failures.append("no save was acknowledged before the fault")

    frozen = []
    fault_at = time.monotonic()
    if args.scenario == "kill":
        os.kill(old.postmaster_pid(), signal.SIGKILL)
    else:
        patroni_pid, postmaster_pid = freeze_pids(old)
        os.kill(patroni_pid, signal.SIGSTOP)
        os.kill(postmaster_pid, signal.SIGSTOP)
        frozen = [patroni_pid, postmaster_pid]
        for child in children(postmaster_pid):
            os.kill(child, signal.SIGSTOP)
            frozen.append(child)
    print(f"failover: {args.scenario}: fault on {old.name} (primary) after {args.warmup:.0f} s of load, "
          f"{acknowledged_before} saves acknowledged so far", flush=True)

    def first_success_after_fault():
        with recorder.lock:
            times = [ended for begun, ended, status, _, _ in recorder.answers
                     if begun >= fault_at and status is not None and 200 <= status < 300]
        return min(times) if times else None

    # The freeze lasts its whole length whatever happens meanwhile (with
    # synchronous_mode_strict, saves only succeed again once the frozen node is back).
    thaw = {}
    def thaw_node():
        for pid in reversed(frozen):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        thaw["at"] = time.monotonic()
        print(f"failover: freeze: {old.name} thawed after {thaw['at'] - fault_at:.1f} s", flush=True)
    thawer = threading.Timer(args.freeze_seconds, thaw_node) if frozen else None
    if thawer:
        thawer.start()
    recovered_at = wait_until(first_success_after_fault, args.max_recovery + args.request_timeout)
    if thawer:
        thawer.join()
    thawed_at = thaw.get("at")
    if recovered_at is not None:
        remaining = max(recovered_at, thawed_at or 0) + args.after - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
    stop.set()
    for thread in threads:
        thread.join(args.request_timeout + 5)

    # The old primary must come back as a streaming synchronous standby.
    def rejoined():
        state = old.patroni()
        if state and state.get("role") == "replica" and state.get("state") == "running" and old.api_status("/sync") == 200:
            return state
        return None
    rejoined_state = wait_until(rejoined, args.rejoin_timeout)
    # From the kill, or from the thaw: when the node could start coming back.
    rejoin_seconds = time.monotonic() - (thawed_at or fault_at)
    probe_stop.set()
    for thread in probers:
        thread.join(15)
    new = primary_of(nodes)

    # --- checks ---------------------------------------------------------------------------
    answers = recorder.answers
    statuses = collections.Counter(status if status is not None else "no answer" for _, _, status, _, _ in answers)
    during = [a for a in answers if a[1] >= fault_at and (recovered_at is None or a[0] <= recovered_at)]
    if recovered_at is None:
        failures.append(f"saves did not succeed again within {args.max_recovery + args.request_timeout:.0f} s of the fault")
        recovery = None
    else:
        recovery = recovered_at - fault_at
        if recovery > args.max_recovery:
            failures.append(f"saves succeeded again only {recovery:.1f} s after the fault (bound {args.max_recovery:.0f} s)")
    for begun, ended, status, retry_after, external_id in answers:
        if status is None:
            failures.append(f"no answer to a save of {external_id} after {ended - begun:.1f} s (a hung request or a dropped connection)")
        elif not (200 <= status < 300) and status != 503:
            failures.append(f"a save of {external_id} got {status}")
        elif status == 503 and not retry_after:
            failures.append(f"a 503 for {external_id} without Retry-After")
    slowest = max((ended - begun for begun, ended, _, _, _ in answers), default=0)

    # A probe belongs to the outage if it was sent during it (one sent to a frozen
    # node is answered only at the statement deadline, about when saves recover).
    ready_during = [status for begun, _, status in recorder.readyz if begun >= fault_at and (recovered_at is None or begun < recovered_at)]
    ready_after = [status for begun, _, status in recorder.readyz if recovered_at is not None and begun > recovered_at + 1]
    if 503 not in ready_during:
        failures.append(f"/readyz never answered 503 during the outage ({collections.Counter(ready_during)})")
    if not ready_after or ready_after[-1] != 200:
        failures.append(f"/readyz did not answer 200 after the recovery ({ready_after[-3:]})")
    if any(status not in (200, 503) for status in ready_during + ready_after):
        failures.append(f"/readyz answered something other than 200 or 503: {collections.Counter(ready_during + ready_after)}")

    if new is None:
        failures.append("no primary at the end")
        missing = sorted(recorder.acknowledged)
        missing_on_standby = []
    else:
        if new is old:
            failures.append(f"{old.name} is primary again: no failover happened")
        acknowledged = sorted(recorder.acknowledged)
        connection = new.connect(dbname="receiver")
        with connection.cursor() as cursor:
            cursor.execute("SELECT external_id FROM prospects WHERE external_id = ANY(%s)", (acknowledged,))
            stored = {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT external_id, count(*) FROM prospects WHERE external_id LIKE %s GROUP BY 1 HAVING count(*) > 1", (prefix + "-%",))
            duplicates = cursor.fetchall()
        connection.close()
        missing = [external_id for external_id in acknowledged if external_id not in stored]
        if duplicates:
            failures.append(f"{len(duplicates)} external ids stored twice: {duplicates[:5]}")
        # The same on the rejoined standby, once it has replayed what the primary has.
        missing_on_standby = []
        if rejoined_state is not None:
            def standby_has_all():
                try:
                    connection = old.connect(dbname="receiver")
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT external_id FROM prospects WHERE external_id = ANY(%s)", (acknowledged,))
                        on_standby = {row[0] for row in cursor.fetchall()}
                    connection.close()
                except psycopg2.Error:
                    return None
                return on_standby if len(on_standby) == len(stored) else None
            on_standby = wait_until(standby_has_all, 10) or set()
            missing_on_standby = [external_id for external_id in acknowledged if external_id not in on_standby]
    if missing:
        failures.append(f"{len(missing)} acknowledged saves are not on the primary: {missing[:5]}")
    if missing_on_standby:
        failures.append(f"{len(missing_on_standby)} acknowledged saves are not on the rejoined standby: {missing_on_standby[:5]}")

    # Split brain: every commit any node acknowledged is on the final primary, and the
    # old primary acknowledged none after the new primary acknowledged its first.
    probe_acks = recorder.probe_acks
    acks_by_node = collections.Counter(node for _, _, node, _ in probe_acks)
    lost_probes = []
    overlap = []
    if new is not None:
        connection = new.connect()
        with connection.cursor() as cursor:
            cursor.execute("SELECT node, seq FROM failover_probe WHERE seq >= %s", (probe_offset,))
            stored_probes = set(cursor.fetchall())
        connection.close()
        lost_probes = [(node, seq) for _, _, node, seq in probe_acks if (node, seq) not in stored_probes]
        # A commit sent to the old primary after the new one had acknowledged one, and
        # acknowledged: two nodes taking writes at once. (A commit sent before the
        # fault may be acknowledged after the thaw, if the standby had confirmed it
        # just before the freeze: that one is on both, and the check above covers it.)
        first_on_new = min((at for _, at, node, _ in probe_acks if node == new.name and at > fault_at), default=None)
        if first_on_new is not None:
            overlap = [(at - fault_at, seq) for begun, at, node, seq in probe_acks if node == old.name and begun > first_on_new]
    if lost_probes:
        failures.append(f"split brain: {len(lost_probes)} commits acknowledged by a node are not on the final primary: {lost_probes[:5]}")
    if overlap:
        failures.append(f"split brain: {old.name} acknowledged {len(overlap)} commits after {new.name} had become primary: {overlap[:5]}")
    if not any(node == old.name and at < fault_at for _, at, node, _ in probe_acks):
        failures.append(f"the probe never committed on {old.name} before the fault (the split-brain check would prove nothing)")
    if acks_by_node[new.name if new else ""] == 0:
        failures.append("the probe never committed on the new primary")

    if rejoined_state is None:
        state = old.patroni() or {}
        failures.append(f"{old.name} did not rejoin as a synchronous standby within {args.rejoin_timeout:.0f} s (role {state.get('role')}, state {state.get('state')})")
    timeline_after = (new.patroni() or {}).get("timeline") if new else None
    if rejoined_state is not None and rejoined_state.get("timeline") != timeline_after:
        failures.append(f"{old.name} rejoined on timeline {rejoined_state.get('timeline')}, the primary is on {timeline_after}")

    rewound = False
    try:
        with open(os.path.join(old.dir, "patroni.log")) as file:
            rewound = "pg_rewind exit code=0" in file.read()
    except OSError:
        pass

    # What the receiver logged about its database meanwhile (an operator's view).
    log_counts = collections.Counter()
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(args.env)), "receiver-1.log")) as file:
            for line in file:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("level") in ("notice", "warning", "error", "critical") and event.get("message") != "request":
                    message = event.get("message", "")
                    log_counts[message if len(message) < 90 else message[:87] + "..."] += 1
    except OSError:
        pass
    status_text = ", ".join(f"{status} × {count}" for status, count in sorted(statuses.items(), key=lambda item: str(item[0])))
    record = {
        "scenario": args.scenario, "old_primary": old.name, "new_primary": new.name if new else None,
        "ttl": env.get("TOPOLOGY_PATRONI_TTL"), "loop_wait": env.get("TOPOLOGY_PATRONI_LOOP_WAIT"),
        "retry_timeout": env.get("TOPOLOGY_PATRONI_RETRY_TIMEOUT"), "strict": env.get("TOPOLOGY_SYNCHRONOUS_MODE_STRICT"),
        "writers": args.writers, "requests": len(answers), "statuses": {str(k): v for k, v in statuses.items()},
        "acknowledged_before_fault": acknowledged_before, "acknowledged": len(recorder.acknowledged),
        "lost": len(missing), "recovery_seconds": round(recovery, 2) if recovery is not None else None,
        "answers_during_outage": dict(collections.Counter(str(a[2]) for a in during)),
        "slowest_answer_seconds": round(slowest, 2), "readyz_during": dict(collections.Counter(str(s) for s in ready_during)),
        "probe_acks": dict(acks_by_node), "rejoin_seconds": round(rejoin_seconds, 1) if rejoined_state else None,
        "pg_rewind": rewound, "timeline": [timeline_before, timeline_after], "receiver_log": dict(log_counts), "failures": failures,
    }
    print(f"failover: {args.scenario}: {len(answers)} requests ({status_text}); "
          f"{len(recorder.acknowledged)} saves acknowledged ({acknowledged_before} before the fault), "
          f"{len(missing)} lost; saves succeeded again {recovery:.2f} s after the fault; " if recovery is not None else
          f"failover: {args.scenario}: {len(answers)} requests ({status_text}); saves never succeeded again; ", end="")
    print(f"slowest answer {slowest:.2f} s; /readyz during the outage {dict(collections.Counter(ready_during))}; "
          f"{old.name} -> {new.name if new else None}, timeline {timeline_before} -> {timeline_after}; "
          f"probe commits acknowledged {dict(acks_by_node)}, after the switch by the old primary: {len(overlap)}; "
          f"{old.name} back as synchronous standby {rejoin_seconds:.1f} s after the {'thaw' if thawed_at else 'kill'}"
          f"{' (pg_rewind)' if rewound else ''}", flush=True)
    if args.json:
        with open(args.json, "a") as file:
            file.write(json.dumps(record) + "\n")
    if failures:
        for failure in failures[:20]:
            print(f"failover: FAILED: {failure}", file=sys.stderr)
        if len(failures) > 20:
            print(f"failover: … and {len(failures) - 20} more failures", file=sys.stderr)
        sys.exit(1)
    print(f"failover: {args.scenario}: passed", flush=True)


if __name__ == "__main__":
    main()
