"""Schemathesis hooks for the receiver's conformance run.

Generated Idempotency-Key values repeat across different bodies, which the
server rightly answers with 422; each call gets a fresh key instead, so the
run checks the operations rather than the key reuse rule (which the Swift
tests cover).
"""
import uuid

import schemathesis


@schemathesis.hook
def before_call(context, case, *args, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            headers[name] = str(uuid.uuid4())
    case.headers = headers
