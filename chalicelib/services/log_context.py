"""What the log lines of a piece of work are about: the application reference, the force, the flow run.

Services say it with `about(reference=..., force=...)` around the work; the JSON log formatter
(adapters/logs.py) adds it to every line written meanwhile, including lines from adapters and
libraries. Only identifiers go here, never personal data.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, Optional

_about: ContextVar[dict[str, Any]] = ContextVar("iag_log_about")  # no shared mutable default: get({})


@contextmanager
def about(*, reference: Optional[str] = None, force: Optional[str] = None,
          flow_run_id: Optional[str] = None) -> Iterator[None]:
    fields = {"reference": reference, "force": force, "flow_run_id": flow_run_id}
    token = _about.set({**_about.get({}), **{k: str(v) for k, v in fields.items() if v}})
    try:
        yield
    finally:  # a warm Lambda runs the next request in the same context: never leave a reference behind
        _about.reset(token)


def current() -> dict[str, Any]:
    return _about.get({})
