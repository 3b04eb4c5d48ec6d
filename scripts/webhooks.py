#!/usr/bin/env python3
"""The webhook end-to-end test's helpers (scripts/webhooks.sh):

  receive  a receiving endpoint that verifies every delivery with the PyPI `standardwebhooks`
           library (the reference verifier) against each secret it knows, answers 204 when one
           verifies and 401 otherwise, and appends one JSON line per delivery to a log;
  produce  saves through /v1 at a steady rate: `records` prospects, each saved again and again
           with a new last name, so every record has many versions;
  check    reads the receiver's log and the database's events and says whether every event was
           delivered, duplicates were only retries with the same webhook-id and body, each
           record's versions were acknowledged in order, and every delivery verified (both
           secrets after a rotation).
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time

from standardwebhooks.webhooks import Webhook


def receive(args):
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)

    def secrets():
        # name=secret per line, re-read on every delivery: the script adds one at a rotation.
        with open(args.secrets) as f:
            return [line.strip().split("=", 1) for line in f if "=" in line]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = []
            for name, secret in secrets():
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(name)
                except Exception:
                    pass
            # An optional answer delay (seconds, in a file beside the secrets): a slow endpoint,
            # so that instances hold claims while the script kills one.
            try:
                with open(args.secrets + ".delay") as f:
                    time.sleep(float(f.read().strip() or 0))
            except (OSError, ValueError):
                pass
            status = 204 if verified else 401
            event = json.loads(body) if verified else {}
            data = event.get("data", {})
            with lock:
                log.write(json.dumps({
                    "id": headers.get("webhook-id"), "ts": int(headers.get("webhook-timestamp", "0")),
                    "at": time.time(), "status": status, "verified": verified,
                    "record": data.get("id"), "version": data.get("version"), "body": body.decode(),
                }) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"receiving on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


def produce(args):
    host, port = args.target.split(":")
    auth = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    start = time.monotonic()
    for n in range(args.count):
        due = start + n / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        record = f"{args.prefix}-{n % args.records}"
        body = json.dumps({"clubId": "club-001", "firstName": record, "lastName": f"v{n // args.records}"})
        for attempt in range(5):
            try:
                connection.request("PUT", f"/v1/prospects/by-external-id/{record}", body,
                                   {"Authorization": auth, "Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status in (200, 201):
                    break
                raise RuntimeError(f"save {n}: HTTP {response.status}")
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
                if attempt == 4:
                    raise RuntimeError(f"save {n} failed: {error}")
                time.sleep(0.2)
    print(f"produced {args.count} saves in {time.monotonic() - start:.1f} s", flush=True)


def events(database_url, client):
    out = subprocess.run(
        ["psql", database_url, "-At", "-F", "\t", "-c",
         f"SELECT 'evt_' || id, record_id, version FROM events WHERE client_id = '{client}' ORDER BY pos_xid, seq"],
        check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def check(args):
    expected = events(args.database_url, args.client)
    deliveries = [json.loads(line) for line in open(args.log)]
    problems = []
    acknowledged = [d for d in deliveries if d["status"] == 204]
    unverified = [d for d in deliveries if not d["verified"]]
    if unverified:
        problems.append(f"{len(unverified)} deliveries did not verify, e.g. {unverified[0]['id']}")
    got = {d["id"] for d in acknowledged}
    missing = [e for e in expected if e[0] not in got]
    if missing:
        problems.append(f"{len(missing)} of {len(expected)} events never delivered, e.g. {missing[:3]}")
    unknown = got - {e[0] for e in expected}
    if unknown:
        problems.append(f"{len(unknown)} deliveries of events that do not exist")
    bodies, counts = {}, {}
    for d in acknowledged:
        counts[d["id"]] = counts.get(d["id"], 0) + 1
        if bodies.setdefault(d["id"], d["body"]) != d["body"]:
            problems.append(f"{d['id']} was delivered with two different bodies")
    duplicates = sum(c - 1 for c in counts.values())
    # Per record, the versions in the order they were acknowledged never go back.
    last = {}
    disorder = 0
    for d in sorted(acknowledged, key=lambda d: d["at"]):
        if d["version"] < last.get(d["record"], 0):
            disorder += 1
        last[d["record"]] = max(last.get(d["record"], 0), d["version"])
    if disorder:
        problems.append(f"{disorder} acknowledgements of a record's version after a later one")
    if args.rotated_at:
        after = [d for d in acknowledged if d["ts"] >= args.rotated_at + 2]
        single = [d for d in after if set(d["verified"]) != {"old", "new"}]
        if not after:
            problems.append("no delivery after the rotation")
        if single:
            problems.append(f"{len(single)} deliveries after the rotation did not verify with both secrets, e.g. {single[0]['verified']}")
    refused = len(deliveries) - len(acknowledged)
    print(f"check: {len(expected)} events, {len(acknowledged)} acknowledged deliveries "
          f"({duplicates} repeated with the same webhook-id and body), {refused} answered 401, "
          f"{len(deliveries)} requests received", flush=True)
    if problems:
        for problem in problems:
            print("check: " + problem, file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("receive")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--secrets", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--target", required=True, help="host:port of a server")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--records", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--prefix", default="r")
    c = sub.add_parser("check")
    c.add_argument("--log", required=True)
    c.add_argument("--database-url", required=True)
    c.add_argument("--client", required=True)
    c.add_argument("--rotated-at", type=int, default=0)
    args = parser.parse_args()
    {"receive": receive, "produce": produce, "check": check}[args.command](args)


if __name__ == "__main__":
    main()
