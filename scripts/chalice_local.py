"""`chalice local` as the local stack runs it: a request's client address is its X-Forwarded-For when it has one.

chalice local reports every request as coming from 127.0.0.1, so the per-client limits
(chalicelib/domain/rate_limits.py: 60 applications an hour from one address) counted a whole campaign-surge bench
as one person and refused 140 of its 200 applications. The benches say which venue each applicant is at with
X-Forwarded-For; without the header nothing changes. Only the local stack uses this (it listens on loopback);
in AWS, API Gateway sets the address itself.

Requests on different threads each see their own `app.current_request` and `app.lambda_context`: chalice local
serves each request on its own thread, but the app keeps the request being handled in one attribute (aws/chalice#759),
so two at once could each read the other's body, headers or token. Here those two attributes are per thread. (Handling
one request at a time instead, as a Lambda instance does, made a request that waits, such as a decision asking a busy
run again for a few seconds, hold back every other request of the whole stack.)

    python -m scripts.chalice_local local --host 127.0.0.1 --port 8000 --stage local --no-autoreload
"""
from __future__ import annotations

import sys
import threading

from chalice import app as chalice_app
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

_creating = threading.Lock()


def _per_thread(app) -> threading.local:
    """The app's own per-thread attributes (each Chalice app its own, as each had its own attribute)."""
    try:
        return vars(app)["_iag_per_thread"]
    except KeyError:
        with _creating:
            return vars(app).setdefault("_iag_per_thread", threading.local())


def _per_thread_attribute(name: str) -> property:
    def get(self):
        return getattr(_per_thread(self), name, None)

    def set_(self, value) -> None:
        setattr(_per_thread(self), name, value)

    return property(get, set_)


chalice_app.Chalice.current_request = _per_thread_attribute("current_request")  # type: ignore[assignment]
chalice_app.Chalice.lambda_context = _per_thread_attribute("lambda_context")  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main())
