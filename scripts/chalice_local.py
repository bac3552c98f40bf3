"""`chalice local` as the local stack runs it: a request's client address is its X-Forwarded-For when it has one.

chalice local reports every request as coming from 127.0.0.1, so the per-client limits
(chalicelib/domain/rate_limits.py: 60 applications an hour from one address) counted a whole campaign-surge bench
as one person and refused 140 of its 200 applications. The benches say which venue each applicant is at with
X-Forwarded-For; without the header nothing changes. Only the local stack uses this (it listens on loopback);
in AWS, API Gateway sets the address itself.

Requests are also handled one at a time, as one Lambda instance handles them: chalice local serves each on its own
thread, but the app keeps the request being handled in one attribute (`app.current_request`, aws/chalice#759), so
two at once could each read the other's body, headers or token. Connections are still accepted on threads (what
browsers' keep-alive needs).

    python -m scripts.chalice_local local --host 127.0.0.1 --port 8000 --stage local --no-autoreload
"""
from __future__ import annotations

import sys
import threading

from chalice import local
from chalice.cli import main

_create_lambda_event = local.LambdaEventConverter.create_lambda_event


def create_lambda_event(self, method, path, headers, body=None):
    event = _create_lambda_event(self, method, path, headers, body)
    forwarded = next((value for name, value in headers.items() if name.lower() == "x-forwarded-for"), "")
    if forwarded.strip():
        event["requestContext"]["identity"]["sourceIp"] = forwarded.split(",")[0].strip()
    return event


local.LambdaEventConverter.create_lambda_event = create_lambda_event  # type: ignore[method-assign]

_handle_request = local.LocalGateway.handle_request
_one_at_a_time = threading.Lock()


def handle_request(self, method, path, headers, body):
    with _one_at_a_time:
        return _handle_request(self, method, path, headers, body)


local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
