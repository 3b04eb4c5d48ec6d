"""Webhook delivery workloads of bench/run.py, against the nginx it starts (answering 204 at
/webhook) as the receiving endpoint:

  webhook-throughput  a client's feed holds N events; an endpoint is created with its position
                      at the start of the feed, and the clock runs until every delivery has
                      succeeded: deliveries a second, fan-out, claims, sends and bookkeeping all in.
  webhook-latency     saves at a steady rate (1,000 a second) for some seconds with an endpoint
                      following: commit to delivery per event, from the event's recorded time (its
                      transaction's start, so a little before its commit) to the end of its first
                      attempt, as the engine logged it.
"""
import base64
import http.client
import json
import threading
import time

WEBHOOK_PATH = "/webhook"


def create_endpoint(psql_value, database_url, client_id, url, at_start):
    """An endpoint straight in SQL (the engine's bench needs no admin API): its position at the
    start of the feed, or below the current horizon as the store's create does."""
    position = ("'0'::xid8, 0, -9223372036854775808" if at_start else
                "(pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text::xid8, 9223372036854775807, "
                "(extract(epoch FROM now()) * 1000000)::bigint")
    secret = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    return psql_value(database_url, f"""
        WITH e AS (INSERT INTO webhook_endpoints (client_id, id, url, secret)
                   VALUES ('{client_id}', gen_random_uuid(), '{url}', '{secret}') RETURNING client_id, id)
        , p AS (INSERT INTO webhook_positions (client_id, endpoint_id, pos_xid, seq, micros) SELECT client_id, id, {position} FROM e)
        SELECT id FROM e""")


def delivered(psql_value, database_url, endpoint):
    """The endpoint's succeeded deliveries, or 0 while some are pending. Polled five times a
    second: the pending ones are counted first, from their small index, since counting the
    succeeded ones reads every delivery of the endpoint, which would weigh on what is measured."""
    pending = int(psql_value(database_url,
                             f"SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '{endpoint}' AND status = 'pending'"))
    if pending:
        return 0
    return int(psql_value(database_url,
                          f"SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '{endpoint}' AND status = 'succeeded'"))


def throughput(psql_value, database_url, client_id, events, nginx_port, max_seconds=300):
    """Delivers the client's `events` events to a new endpoint; deliveries a second. The
    endpoints of earlier rounds stay (idle, everything delivered): deleting their deliveries
    would leave the next round vacuuming them."""
    endpoint = create_endpoint(psql_value, database_url, client_id, f"http://127.0.0.1:{nginx_port}{WEBHOOK_PATH}", True)
    started = time.monotonic()
    deadline = started + max_seconds
    done = 0
    while time.monotonic() < deadline:
        done = delivered(psql_value, database_url, endpoint)
        if done >= events:
            break
        time.sleep(0.2)
    # The engine's own times: from the endpoint's creation to the last success.
    seconds = float(psql_value(database_url, f"""
        SELECT extract(epoch FROM max(d.finished_at) - min(e.created_at)) FROM webhook_deliveries d
        JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.endpoint_id = '{endpoint}'""") or 0)
    failed = int(psql_value(database_url, f"SELECT count(*) FROM webhook_attempts WHERE endpoint_id = '{endpoint}' AND status IS DISTINCT FROM 204"))
    errors = (events - done) + failed
    return {"requests": done, "rps": done / seconds if seconds > 0 else 0, "seconds": seconds, "errors": errors,
            "p50_us": 0, "p99_us": 0}


def steady_saves(port, authorization, rate, seconds, prefix, threads=8):
    """PUTs of new prospects at `rate` a second in all, open loop (each thread keeps its own
    schedule); how many were saved and how many failed."""
    counts = {"saved": 0, "failed": 0, "late": 0}
    lock = threading.Lock()
    start = time.monotonic() + 0.2

    def run(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": authorization, "Content-Type": "application/json"}
        n = 0
        while True:
            due = start + (n * threads + index) / rate
            if due > start + seconds:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.05:
                with lock:
                    counts["late"] += 1
            body = json.dumps({"clubId": "c1", "firstName": "Ada", "lastName": f"{prefix}-{index}-{n}"})
            try:
                connection.request("PUT", f"/v1/prospects/by-external-id/{prefix}-{index}-{n}", body, headers)
                response = connection.getresponse()
                response.read()
                ok = response.status in (200, 201)
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            with lock:
                counts["saved" if ok else "failed"] += 1
            n += 1
        connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts


def latency(psql_value, database_url, port, authorization, client_id, nginx_port, rate, seconds, prefix, max_wait=60):
    """Commit-to-delivery at a steady `rate` of saves for `seconds`: p50/p99 in µs."""
    psql_value(database_url, f"DELETE FROM webhook_endpoints WHERE client_id = '{client_id}'")
    endpoint = create_endpoint(psql_value, database_url, client_id, f"http://127.0.0.1:{nginx_port}{WEBHOOK_PATH}", False)
    counts = steady_saves(port, authorization, rate, seconds, prefix)
    deadline = time.monotonic() + max_wait
    succeeded = 0
    while time.monotonic() < deadline:
        succeeded = delivered(psql_value, database_url, endpoint)
        if succeeded >= counts["saved"]:
            break
        time.sleep(0.2)
    rows = psql_value(database_url, f"""
        SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.99) WITHIN GROUP (ORDER BY x), max(x), count(*)
        FROM (SELECT extract(epoch FROM a.at - d.occurred_at) * 1000000 + a.latency_ms * 1000 AS x
              FROM webhook_deliveries d JOIN webhook_attempts a ON a.endpoint_id = d.endpoint_id AND a.delivery_id = d.id AND a.attempt = 1
              WHERE d.endpoint_id = '{endpoint}') t""").split("|")
    p50, p99, worst, measured = (float(v or 0) for v in rows)
    return {"requests": counts["saved"], "rps": counts["saved"] / seconds, "p50_us": p50, "p99_us": p99, "max_us": worst,
            "measured": int(measured), "delivered": succeeded, "failed_saves": counts["failed"], "late": counts["late"],
            "errors": counts["failed"] + (counts["saved"] - succeeded)}
