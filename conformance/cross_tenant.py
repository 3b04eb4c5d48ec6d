#!/usr/bin/env python3
"""Cross-tenant replay for scripts/conformance.sh.

After the schemathesis runs, every record each tenant owns (read from the
database, so nothing is missed) is attacked with the other tenant's credentials:

* By id — GET, PATCH (also with the owner's ETag in If-Match), convert, DELETE:
  each answer must be exactly the answer for an id that never existed (404, same
  problem document, no ETag), so neither the record nor its existence leaks.
* By the owner's identifiers in the intruder's own namespace — save by the owner's
  external id, create with it, list filtered by it, smart-match save with the
  owner's names, email and phones, a prospect naming the owner's lead source —
  which must never return, adopt or reveal an owner's record.

The owner's rows (every table with a client_id) must be unchanged afterwards, and
the intruder's too after the by-id probes (a refused request writes nothing).

Exit status 0 when every probe passed. --report FILE writes the counts as JSON.
"""
import argparse
import base64
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse
import uuid

CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Tenant:
    def __init__(self, client_id, username, password):
        assert CLIENT_ID.match(client_id), client_id
        self.client_id = client_id
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.authorization = f"Basic {token}"


class Replay:
    def __init__(self, base, database_url):
        parsed = urllib.parse.urlsplit(base)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        self.database_url = database_url
        self.probes = 0
        self.failures = []
        self.counts = {}
        self.baselines = {}

    # -- HTTP ---------------------------------------------------------------

    def call(self, tenant, method, path, body=None, content_type="application/json", headers=None):
        fields = {"Authorization": tenant.authorization, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            fields["Content-Type"] = content_type
        fields.update(headers or {})
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=data, headers=fields)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()  # the server closed a kept-alive connection: once more
                if attempt:
                    raise
        self.probes += 1
        document = None
        if payload:
            try:
                document = json.loads(payload)
            except ValueError:
                document = payload.decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, document

    # -- Database -----------------------------------------------------------

    def query(self, sql):
        output = subprocess.run(
            ["psql", self.database_url, "-X", "-q", "-At", "-F", "\t", "-c", sql],
            check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in output.splitlines() if line]

    # The record of each client's own calls (connection health), written from memory every
    # few seconds: it moves with the intruder's calls as its own and with the owner's earlier
    # calls being written, and holds no data of either.
    NOT_DATA = ("client_call_health",)

    def tables_with_client_id(self):
        return [row[0] for row in self.query(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'client_id' ORDER BY table_name")
            if row[0] not in self.NOT_DATA]

    def snapshot(self, tenant):
        """Per table: row count and a digest of every row of the tenant."""
        result = {}
        for table in self.tables_with_client_id():
            count, digest = self.query(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f"FROM {table} t WHERE client_id = '{tenant.client_id}'")[0]
            result[table] = (int(count), digest)
        return result

    def records(self, tenant):
        where = f"WHERE client_id = '{tenant.client_id}'"
        # External ids come from the fuzzer and may hold tabs or line breaks, which
        # would split psql's rows: they travel hex-encoded.
        def people(table):
            rows = self.query(f"SELECT id, encode(convert_to(coalesce(external_id, ''), 'UTF8'), 'hex'), "
                              f"external_id IS NULL FROM {table} {where} ORDER BY id")
            return [(identifier, bytes.fromhex(external_id).decode(), no_external_id)
                    for identifier, external_id, no_external_id in rows]
        return {
            "prospects": people("prospects"),
            "members": people("members"),
            "lead-sources": self.query(f"SELECT id FROM lead_sources {where} ORDER BY id"),
        }

    # -- Checks -------------------------------------------------------------

    def record(self, category, ok, message):
        passed, failed = self.counts.get(category, (0, 0))
        self.counts[category] = (passed + (1 if ok else 0), failed + (0 if ok else 1))
        if not ok:
            self.failures.append(f"{category}: {message}")

    @staticmethod
    def comparable(document, identifier):
        """A problem document without what differs between any two requests (and the id)."""
        if not isinstance(document, dict):
            return document
        text = json.dumps({k: v for k, v in document.items() if k not in ("instance", "requestId")}, sort_keys=True)
        return text.replace(identifier, "<id>")

    def baseline(self, intruder, method, template, body, content_type, headers):
        """The answer for an id that never existed, per method and route."""
        key = (intruder.client_id, method, template, json.dumps(body, sort_keys=True), content_type,
               json.dumps(headers, sort_keys=True))
        if key not in self.baselines:
            fresh = str(uuid.uuid4())
            status, fields, document = self.call(intruder, method, template.format(id=fresh), body, content_type, headers)
            self.baselines[key] = (status, "etag" in fields, self.comparable(document, fresh))
        return self.baselines[key]

    def probe_by_id(self, category, intruder, method, template, identifier, body=None,
                    content_type="application/json", headers=None):
        expected = self.baseline(intruder, method, template, body, content_type, headers)
        status, fields, document = self.call(intruder, method, template.format(id=identifier), body, content_type, headers)
        actual = (status, "etag" in fields, self.comparable(document, identifier))
        ok = status == 404 and actual == expected
        self.record(category, ok, f"{method} {template.format(id=identifier)} answered {status} {document!r}, "
                                  f"an unknown id answers {expected[0]} {expected[2]!r}")

    def owner_view(self, owner, kind, identifier):
        status, fields, document = self.call(owner, "GET", f"/v1/{kind}/{identifier}")
        return (document if status == 200 else None), fields.get("etag")

    # -- The replay ---------------------------------------------------------

    def by_id(self, owner, intruder, records):
        for kind, noun in (("prospects", "prospect"), ("members", "member")):
            template = f"/v1/{kind}/{{id}}"
            patch = {"notes": "cross-tenant"}
            for identifier, _, _ in records[kind]:
                _, etag = self.owner_view(owner, kind, identifier)
                self.probe_by_id(f"GET {noun}", intruder, "GET", template, identifier)
                self.probe_by_id(f"PATCH {noun}", intruder, "PATCH", template, identifier, patch,
                                 "application/merge-patch+json")
                if etag:
                    self.probe_by_id(f"PATCH {noun} with the owner's ETag", intruder, "PATCH", template, identifier,
                                     patch, "application/merge-patch+json", {"If-Match": etag})
                if kind == "prospects":
                    self.probe_by_id("convert prospect", intruder, "POST", "/v1/prospects/{id}/convert", identifier,
                                     {"externalId": f"xt-{uuid.uuid4()}"})
        for (identifier,) in records["lead-sources"]:
            self.probe_by_id("GET lead source", intruder, "GET", "/v1/lead-sources/{id}", identifier)
            self.probe_by_id("PATCH lead source", intruder, "PATCH", "/v1/lead-sources/{id}", identifier,
                             {"name": f"cross-tenant {uuid.uuid4()}"}, "application/merge-patch+json")
            self.probe_by_id("DELETE lead source", intruder, "DELETE", "/v1/lead-sources/{id}", identifier)

    def by_identifiers(self, owner, intruder, records):
        owned = {row[0] for kind in records.values() for row in kind}
        for kind in ("prospects", "members"):
            for identifier, external_id, no_external_id in records[kind]:
                view, _ = self.owner_view(owner, kind, identifier)
                if no_external_id == "f":
                    quoted = urllib.parse.quote(external_id, safe="")
                    # Saving under the owner's external id makes (or updates) the intruder's own record.
                    status, _, document = self.call(intruder, "PUT", f"/v1/{kind}/by-external-id/{quoted}",
                                                    {"clubId": "club-001", "firstName": "Cross", "lastName": "Tenant"})
                    returned = document.get("id") if isinstance(document, dict) else None
                    self.record(f"save {kind} by the owner's external id", status in (200, 201) and returned not in owned,
                                f"PUT /v1/{kind}/by-external-id/{quoted} answered {status} {document!r}")
                    # Creating with it: a new record, or a conflict with the intruder's own.
                    status, _, document = self.call(intruder, "POST", f"/v1/{kind}",
                                                    {"clubId": "club-002", "firstName": "Cross", "externalId": external_id})
                    existing = document.get("existingId") if isinstance(document, dict) else None
                    returned = document.get("id") if isinstance(document, dict) else None
                    self.record(f"create {kind} with the owner's external id",
                                (status == 201 and returned not in owned) or (status == 409 and existing not in owned),
                                f"POST /v1/{kind} externalId={external_id!r} answered {status} {document!r}")
                    self.list_excludes(f"list {kind} by the owner's external id", intruder, kind,
                                       {"externalId": external_id, "includeDisabledClubs": "true"}, owned)
                if view and view.get("email"):
                    self.list_excludes(f"list {kind} by the owner's email", intruder, kind,
                                       {"email": view["email"], "includeDisabledClubs": "true"}, owned)
                if no_external_id == "t" and view:
                    # Smart matching adopts a record without an external id by name, email and
                    # mobile: only ever one of the intruder's own.
                    body = {key: view[key] for key in ("firstName", "lastName", "email", "phones") if view.get(key) is not None}
                    body["clubId"] = "club-001"
                    quoted = f"xt-{uuid.uuid4()}"
                    status, _, document = self.call(intruder, "PUT", f"/v1/{kind}/by-external-id/{quoted}", body)
                    returned = document.get("id") if isinstance(document, dict) else None
                    self.record(f"smart-match save of {kind} with the owner's names", status in (200, 201) and returned not in owned,
                                f"PUT /v1/{kind}/by-external-id/{quoted} {body!r} answered {status} {document!r}")
        for (identifier,) in records["lead-sources"]:
            # The owner's lead source does not exist for the intruder: the same 422 as an unknown id.
            body = {"clubId": "club-001", "firstName": "Cross", "leadSourceId": identifier}
            fresh = str(uuid.uuid4())
            expected_status, _, expected = self.call(intruder, "POST", "/v1/prospects", dict(body, leadSourceId=fresh))
            status, _, document = self.call(intruder, "POST", "/v1/prospects", body)
            self.record("prospect naming the owner's lead source",
                        status == 422 == expected_status and self.comparable(document, identifier) == self.comparable(expected, fresh),
                        f"POST /v1/prospects leadSourceId={identifier} answered {status} {document!r}, "
                        f"an unknown one answers {expected_status} {expected!r}")

    def list_excludes(self, category, intruder, kind, query, owned):
        path = f"/v1/{kind}?" + urllib.parse.urlencode(query)
        status, _, document = self.call(intruder, "GET", path)
        items = document.get("items", []) if isinstance(document, dict) else []
        leaked = [item.get("id") for item in items if item.get("id") in owned]
        self.record(category, status == 200 and not leaked, f"GET {path} answered {status}, owner's records {leaked}")

    def feed_excludes(self, intruder, owned):
        """The intruder's change feed, read to the end, holds none of the owner's records."""
        cursor, leaked, pages = None, [], 0
        while pages < 1000:
            path = "/v1/changes?limit=500" + (f"&after={cursor}" if cursor else "")
            status, _, document = self.call(intruder, "GET", path)
            if status != 200 or not isinstance(document, dict):
                self.record("change feed holds only the caller's events", False, f"GET {path} answered {status} {document!r}")
                return
            items = document.get("items", [])
            leaked += [item.get("data", {}).get("id") for item in items if item.get("data", {}).get("id") in owned]
            cursor, pages = document.get("nextCursor"), pages + 1
            if len(items) < 500:
                break
        self.record("change feed holds only the caller's events", not leaked, f"owner's records in the intruder's feed: {leaked}")

    def run(self, owner, intruder):
        records = self.records(owner)
        owned = {row[0] for rows in records.values() for row in rows}
        self.feed_excludes(intruder, owned)
        owner_before = self.snapshot(owner)
        intruder_before = self.snapshot(intruder)
        self.by_id(owner, intruder, records)
        self.record("intruder's data unchanged by refused requests", self.snapshot(intruder) == intruder_before,
                    f"{intruder.client_id}'s rows changed")
        self.by_identifiers(owner, intruder, records)
        after = self.snapshot(owner)
        changed = [table for table in owner_before if owner_before[table] != after.get(table)]
        self.record("owner's data unchanged", not changed, f"{owner.client_id}'s rows changed in {changed}")
        return sum(len(rows) for rows in records.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--database-url", default=os.environ.get("CONFORMANCE_DATABASE_URL"))
    # One value, given as --tenant=…: a password may begin with "-", which argparse
    # would take for an option if it came as an argument of its own.
    parser.add_argument("--tenant", action="append", metavar="CLIENT_ID:USERNAME:PASSWORD", required=True)
    parser.add_argument("--report")
    arguments = parser.parse_args()
    if len(arguments.tenant) != 2 or not arguments.database_url:
        parser.error("two --tenant and a database URL (--database-url or CONFORMANCE_DATABASE_URL) are required")
    tenants = [value.split(":", 2) for value in arguments.tenant]
    if any(len(values) != 3 for values in tenants):
        parser.error("--tenant takes CLIENT_ID:USERNAME:PASSWORD")
    first, second = (Tenant(*values) for values in tenants)
    replay = Replay(arguments.base, arguments.database_url)
    records = replay.run(first, second) + replay.run(second, first)

    for category, (passed, failed) in sorted(replay.counts.items()):
        print(f"cross-tenant: {category:55} {passed:5} passed {failed:3} failed")
    for failure in replay.failures[:50]:
        print(f"cross-tenant: FAILED {failure}", file=sys.stderr)
    print(f"cross-tenant: {records} records, {replay.probes} requests, {len(replay.failures)} failures")
    if arguments.report:
        with open(arguments.report, "w") as report:
            json.dump({"records": records, "probes": replay.probes, "failures": len(replay.failures),
                       "checks": {k: {"passed": p, "failed": f} for k, (p, f) in sorted(replay.counts.items())}},
                      report, indent=2)
    return 1 if replay.failures else 0


if __name__ == "__main__":
    sys.exit(main())
