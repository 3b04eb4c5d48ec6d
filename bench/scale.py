#!/usr/bin/env python3
"""The benchmark at real data shapes: one big client, loaded through the API.

Starts a durable throwaway PostgreSQL and connector-receiver (with its defaults)
on loopback, turns up a client with ten clubs (c1 … c10) and a small one, loads
--prospects prospects through PUT /v1/prospects/by-external-id (wrk,
bench/scale.lua), 50 into the small club, and --open-errors rejected saves (a club
the client does not have), each an open sync error. Then, in interleaved rounds:

- saves (new ids) with no open sync error, and with --open-errors open (the same
  errors closed and reopened between rounds, by SQL);
- list pages filtered by club: the small club, a big one;
- GET /v1/prospects/{id} of random loaded records, against pgbench's prepared
  SELECT of one prospect by its unique key.

Then the first --fresh-seconds of saves of a new client on the big database; and
on a brand-new database, the first --fresh-seconds of saves of a receiver started
on it, against the first seconds of a receiver started anew once the database is
analyzed (both start cold: only the statistics differ); and the fresh database's
first seconds with the receiver's early ANALYZE held off (another session holds
its advisory lock) and autovacuum not come yet (off for its tables), the control:
what a fresh database did before, until autovacuum first analyzed its tables.

Usage: bench/scale.py [--prospects N] [--open-errors N] [--rounds N] [--seconds S]
                      [--fresh-seconds S] [--clients N] [--receiver PATH] [--max-minutes M]
"""
import argparse
import base64
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (call, cpu_seconds, default_receiver, free_port, migrations_for, postgres_cpu_seconds,  # noqa: E402
                 psql_binary, psql_value, run_pgbench, run_wrk, start_postgres, start_receiver, stop_postgres)

CLIENT = "big"
SMALL_CLUB_RECORDS = 50
# TableStatistics.lockKey ("connstat"): held by another session, the receiver's early ANALYZE skips.
STATISTICS_LOCK = 0x636F_6E6E_7374_6174


def turn_up(port, admin_token, client_id, clubs):
    """Turns up a client with `clubs`; its Connector's Authorization header."""
    admin = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    created = call(port, "POST", "/admin/v1/clients", admin, {
        "clientId": client_id, "name": "Scale Fitness",
        "clubs": [{"clubId": club, "name": club, "enabled": True} for club in clubs],
        "connection": {"scheme": "https", "host": "bench.example.com", "port": 443}})
    credentials = created["credentials"]
    return "Basic " + base64.b64encode(f"{credentials['username']}:{credentials['password']}".encode()).decode()


def count(database_url, sql):
    return int(psql_value(database_url, sql))


def load(port, authorization, database_url, mode, prefix, target, counting, clients, max_seconds):
    """Runs bench/scale.lua in `mode` until `counting` (SQL) reaches `target`: (count, seconds)."""
    started = time.monotonic()
    first = 1
    while True:
        have = count(database_url, counting)
        if have >= target:
            return have, time.monotonic() - started
        if time.monotonic() - started > max_seconds:
            raise SystemExit(f"bench: {mode} reached {have} of {target} in {max_seconds} s")
        # Roughly what is missing, at a few thousand a second; never more than 10 s at once.
        seconds = max(1, min(10, (target - have) // 3000))
        result = run_wrk(f"http://127.0.0.1:{port}", seconds, clients, script="scale.lua",
                         script_args=(authorization, mode, prefix, str(first), "2"))
        # Numbers past those sent are free; a few sent may be counted twice, which
        # only repeats a save.
        first += int(result["requests"]) + 2 * clients


def saves(port, authorization, seconds, clients, prefix):
    return run_wrk(f"http://127.0.0.1:{port}", seconds, clients, script="save.lua", script_args=(authorization, "new", prefix))


def gets(port, authorization, seconds, clients, paths_file):
    return run_wrk(f"http://127.0.0.1:{port}", seconds, clients, script="get.lua", script_args=(authorization, paths_file))


def measured(postgres_dir, pid, run):
    """`run()`'s result with the CPU it cost per request: of PostgreSQL (`db_us`) and,
    given its pid, of the receiver (`server_us`). Under a shared machine's noise these
    hold better than the rates."""
    database, server = postgres_cpu_seconds(postgres_dir), cpu_seconds(pid) if pid else 0
    result = run()
    requests = max(result["requests"], 1)
    result["db_us"] = (postgres_cpu_seconds(postgres_dir) - database) / requests * 1e6
    result["server_us"] = (cpu_seconds(pid) - server) / requests * 1e6 if pid else None
    return result


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def fresh_database(name, database_url, postgres_dir, binary, workdir, admin_token, clients, seconds, hold_statistics=False):
    """A new database: the first `seconds` of saves of a new client by a receiver
    started on it; then (without the hold) the database analyzed and the first
    `seconds` of a receiver started anew on it. Both sides start cold (connections
    opened, statements prepared as the saves come): only the statistics differ."""
    psql_value(database_url, f"CREATE DATABASE {name}")
    url = " ".join([part for part in database_url.split() if not part.startswith("dbname=")] + [f"dbname={name}"])

    def first_seconds(prefix, authorization=None):
        port = free_port()
        receiver = start_receiver(binary, workdir, port, url, admin_token, "on")
        try:
            if hold_statistics:
                # Before as it was until autovacuum first came (within its minute, or
                # later on a busy cluster): no statistics at all, whenever it comes.
                psql_value(url, "DO $$ DECLARE t regclass; BEGIN FOR t IN SELECT oid FROM pg_class WHERE relkind = 'r' "
                                "AND relnamespace = 'public'::regnamespace LOOP "
                                "EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', t); END LOOP; END $$")
            authorization = authorization or turn_up(port, admin_token, "fresh", ["c1"])
            return authorization, measured(postgres_dir, receiver.pid, lambda: saves(port, authorization, seconds, clients, prefix))
        finally:
            receiver.terminate()
            receiver.wait(timeout=30)

    if hold_statistics:
        holder = subprocess.Popen([psql_binary(), "--quiet", url], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            holder.stdin.write(f"SELECT pg_advisory_lock({STATISTICS_LOCK});\n")
            holder.stdin.flush()
            return first_seconds("held")[1], None
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)
    authorization, first = first_seconds("fresh-first")
    subprocess.run([psql_binary(), "--quiet", url, "-c", "ANALYZE"], check=True)
    return first, first_seconds("fresh-analyzed", authorization)[1]


def row(name, result, note=""):
    server = f"{result['server_us']:.0f}" if result.get("server_us") is not None else "—"
    return (f"| {name} | {result['rps']:.0f} | {result['p50_us'] / 1000:.2f} | {result['p99_us'] / 1000:.2f} "
            f"| {result['errors']:.0f} | {server} | {result['db_us']:.0f} | {note} |")


def ratio(result, reference):
    """`result` against `reference`: rate, and PostgreSQL CPU per request."""
    return f"**{result['rps'] / reference['rps']:.2f}** × the rate, {result['db_us'] / reference['db_us']:.2f} × the database CPU"


def median(results):
    """The round with the median rate (whole, so its latencies go with it)."""
    ordered = sorted(results, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prospects", type=int, default=200_000)
    parser.add_argument("--open-errors", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--fresh-seconds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (wrk connections, pgbench clients)")
    parser.add_argument("--receiver", default=default_receiver())
    parser.add_argument("--max-minutes", type=float, default=10, help="stop (and clean up) after this long")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGALRM, lambda signum, frame: sys.exit(f"bench: over {args.max_minutes} minutes; stopped"))
    signal.alarm(int(args.max_minutes * 60))
    binary = os.path.abspath(args.receiver)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"bench: no receiver binary at {binary} (swift build -c release)")

    workdir = tempfile.mkdtemp(prefix="connector-receiver-scale.")
    os.chmod(workdir, 0o755)
    postgres_dir, receiver = None, None
    began = time.monotonic()
    try:
        postgres_dir, database_url = start_postgres(workdir)
        subprocess.run([binary, "migrate"], env=dict(os.environ, DATABASE_URL=database_url, RECEIVER_MIGRATIONS_DIR=migrations_for(binary)),
                       check=True, capture_output=True)
        admin_token = base64.b64encode(os.urandom(24)).decode()
        # First, on the cluster while it is idle: nothing else (autovacuum of the big
        # database after its load) counts in its CPU or competes for the disk.
        fresh, analyzed = fresh_database("fresh", database_url, postgres_dir, binary, workdir, admin_token, args.clients, args.fresh_seconds)
        print(f"bench: fresh database, first {args.fresh_seconds} s: {fresh['rps']:.0f} saves/s; analyzed: {analyzed['rps']:.0f}", file=sys.stderr)
        held, _ = fresh_database("held", database_url, postgres_dir, binary, workdir, admin_token, args.clients, args.fresh_seconds, hold_statistics=True)
        print(f"bench: fresh database without the early ANALYZE: {held['rps']:.0f} saves/s", file=sys.stderr)

        port = free_port()
        receiver = start_receiver(binary, workdir, port, database_url, admin_token, "on")
        auth = turn_up(port, admin_token, CLIENT, [f"c{n}" for n in range(1, 11)] + ["small"])

        loaded, load_seconds = load(port, auth, database_url, "load", "load", args.prospects,
                                    f"SELECT count(*) FROM prospects WHERE client_id = '{CLIENT}'", args.clients, 300)
        print(f"bench: loaded {loaded} prospects through the API in {load_seconds:.0f} s ({loaded / load_seconds:.0f}/s)", file=sys.stderr)
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        for n in range(SMALL_CLUB_RECORDS):
            call(port, "PUT", f"/v1/prospects/by-external-id/small-{n}", headers,
                 {"clubId": "small", "firstName": "Sam", "lastName": f"Small {n}"})
        open_sql = f"SELECT count(*) FROM sync_errors WHERE client_id = '{CLIENT}' AND resolved_at IS NULL"
        opened, reject_seconds = load(port, auth, database_url, "reject", "reject", args.open_errors, open_sql, args.clients, 180)
        print(f"bench: {opened} open sync errors made through the API in {reject_seconds:.0f} s", file=sys.stderr)
        # As a database in service is: vacuumed and analyzed (the fresh case is measured above).
        subprocess.run([psql_binary(), "--quiet", database_url, "-c", "VACUUM ANALYZE"], check=True)

        ids = psql_value(database_url, f"SELECT string_agg(id::text, ' ') FROM (SELECT id FROM prospects "
                                       f"WHERE client_id = '{CLIENT}' ORDER BY random() LIMIT 10000) r").split()
        record_paths = write_lines(os.path.join(workdir, "record-paths"), [f"/v1/prospects/{i}" for i in ids])
        small_paths = write_lines(os.path.join(workdir, "small-club"), ["/v1/prospects?clubId=small&limit=100"])
        big_paths = write_lines(os.path.join(workdir, "big-club"), ["/v1/prospects?clubId=c3&limit=100"])
        select_script = os.path.join(workdir, "select.sql")
        with open(select_script, "w") as f:
            f.write(f"\\set n random(1, {args.prospects})\n"
                    f"SELECT * FROM prospects WHERE client_id = '{CLIENT}' AND external_id = 'load-' || :n;\n")

        def errors_open(is_open):
            psql_value(database_url, f"UPDATE sync_errors SET resolved_at = {'NULL' if is_open else 'now()'} "
                                     f"WHERE client_id = '{CLIENT}' AND external_id LIKE 'reject-%' "
                                     f"AND (resolved_at IS NULL) = {'false' if is_open else 'true'}")
            psql_value(database_url, "VACUUM ANALYZE sync_errors")
            return count(database_url, open_sql)

        workloads = {
            "saves, 0 open sync errors": lambda r: (errors_open(False), saves(port, auth, args.seconds, args.clients, f"zero-{r}"))[1],
            f"saves, {opened} open sync errors": lambda r: (errors_open(True), saves(port, auth, args.seconds, args.clients, f"open-{r}"))[1],
            f"GET /v1/prospects?clubId= (small club, {SMALL_CLUB_RECORDS} records)": lambda r: gets(port, auth, args.seconds, args.clients, small_paths),
            f"GET /v1/prospects?clubId= (big club, {loaded // 10} records)": lambda r: gets(port, auth, args.seconds, args.clients, big_paths),
            "GET /v1/prospects/{id}": lambda r: gets(port, auth, args.seconds, args.clients, record_paths),
            "pgbench: SELECT of one prospect by unique key, prepared": lambda r: run_pgbench(
                database_url, args.seconds, args.clients, "unused", workdir, script=select_script),
        }
        results = {name: [] for name in workloads}
        for r in range(1, args.rounds + 1):
            for name, run in workloads.items():
                pid = None if name.startswith("pgbench") else receiver.pid
                result = measured(postgres_dir, pid, lambda: run(r))
                results[name].append(result)
                print(f"bench: round {r} {name}: {result['rps']:.0f} req/s, p50 {result['p50_us'] / 1000:.2f} ms, "
                      f"p99 {result['p99_us'] / 1000:.2f} ms, errors {result['errors']:.0f}", file=sys.stderr)
        errors_open(True)

        # The same state as the rounds began in: autovacuum has nothing left of them to do.
        subprocess.run([psql_binary(), "--quiet", database_url, "-c", "VACUUM ANALYZE"], check=True)
        newcomer_auth = turn_up(port, admin_token, "newcomer", ["c1"])
        newcomer = measured(postgres_dir, receiver.pid, lambda: saves(port, newcomer_auth, args.fresh_seconds, args.clients, "newcomer"))
        print(f"bench: a new client's first {args.fresh_seconds} s on the big database: {newcomer['rps']:.0f} saves/s", file=sys.stderr)
        receiver.terminate()
        receiver.wait(timeout=30)
        receiver = None

        print()
        print(f"{binary}: {loaded} prospects of one client loaded through the API ({loaded / load_seconds:.0f}/s), "
              f"{opened} open sync errors; {args.rounds} interleaved rounds of {args.seconds} s at {args.clients} clients, "
              f"the round with the median rate; durable PostgreSQL; the receiver's defaults (access log on); "
              f"{time.monotonic() - began:.0f} s in all")
        print()
        print("| workload | req/s | p50 ms | p99 ms | errors | server CPU µs/req | PostgreSQL CPU µs/req | |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        medians = {name: median(values) for name, values in results.items()}
        names = list(workloads)
        zero = medians[names[0]]
        for name in names:
            note = ""
            if name == names[1]:
                note = ratio(medians[name], zero) + " without"
            if name == "GET /v1/prospects/{id}":
                note = f"**{medians[name]['rps'] / medians[names[-1]]['rps']:.2f}** × pgbench"
            print(row(name, medians[name], note))
        print(row(f"saves, a new client's first {args.fresh_seconds} s on this database", newcomer,
                  ratio(newcomer, zero) + " of the big client's saves"))
        print(row(f"saves, a fresh database's first {args.fresh_seconds} s", fresh, ratio(fresh, analyzed) + " analyzed"))
        print(row(f"saves, the same database analyzed: a receiver's first {args.fresh_seconds} s", analyzed))
        print(row(f"saves, a fresh database's first {args.fresh_seconds} s, early ANALYZE held off and autovacuum not yet come (before)", held,
                  ratio(held, analyzed).replace("**", "") + " analyzed"))
    finally:
        if receiver:
            receiver.terminate()
            receiver.wait(timeout=30)
        if postgres_dir:
            stop_postgres(postgres_dir)


if __name__ == "__main__":
    main()
