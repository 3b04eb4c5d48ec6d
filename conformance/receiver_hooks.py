"""Schemathesis hooks for the receiver's conformance run.

Generated Idempotency-Key values repeat across unrelated bodies, which the
contract answers with 422; every schema-valid key is replaced by a fresh one,
so the run checks the operations rather than the key-reuse rule (the Swift
tests cover that). Malformed keys are kept, so negative cases still exercise
the 400.

A change feed read with a valid `wait` waits up to that many seconds when the
feed is caught up: a valid wait is cut to at most one second, so that the run
checks the answers rather than sitting out long polls (the Swift tests and the
benchmark cover waiting). Invalid values are kept, for the 400.
"""
import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        key = headers[name]
        if name.lower() == "idempotency-key" and isinstance(key, str) \
                and 1 <= len(key) <= 255 and all(0x21 <= ord(c) <= 0x7E for c in key):
            headers[name] = str(uuid.uuid4())
    case.headers = headers

    query = case.query or {}
    wait = query.get("wait")
    if isinstance(wait, int) and not isinstance(wait, bool) and 1 < wait <= 30:
        query["wait"] = 1
    case.query = query
