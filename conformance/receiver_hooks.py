"""Schemathesis hooks for the receiver's conformance run.

Generated Idempotency-Key values repeat across unrelated bodies, which the
contract answers with 422; every schema-valid key is replaced by a fresh one,
so the run checks the operations rather than the key-reuse rule (the Swift
tests cover that). Malformed keys are kept, so negative cases still exercise
the 400.
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
