"""Structured logs: one JSON object per line, with the application reference, force and flow run id when known.

    {"time": "2026-11-22T10:30:00.000+00:00", "level": "INFO", "logger": "chalicelib.services.review",
     "message": "decision recorded: approve from the iag_chair", "reference": "DER-2026-7K3M9Q", "force": "derbyshire"}

Personal data never belongs in a log line: messages carry references and roles, not names or addresses.
As a second line of defence the formatter replaces anything shaped like an email address or a UK postcode.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import datetime, timezone
from typing import IO, Optional

from chalicelib.services.log_context import about as log_context  # noqa: F401 (for entry points and flows)
from chalicelib.services.log_context import current

FIELDS = ("reference", "force", "flow_run_id")

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Outward code (AA9A, A9A, A9, A99, AA9, AA99) then inward code (9AA), with or without the space.
POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b", re.IGNORECASE)

# At DEBUG these libraries log whole requests, and request bodies carry applications: never below WARNING.
QUIET = ("botocore", "boto3", "urllib3", "pynamodb", "s3transfer", "requests")


def redact(text: str) -> str:
    return POSTCODE.sub("[postcode]", EMAIL.sub("[email]", text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (a bad format string must not lose the line)
            message = str(record.msg)
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": redact(message)}
        context = current()
        for name in FIELDS:
            value = getattr(record, name, None) or context.get(name)
            if value:
                entry[name] = str(value)
        request_id = getattr(record, "aws_request_id", None)  # set on each record by the Lambda runtime
        if request_id:
            entry["aws_request_id"] = request_id
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(stream: Optional[IO[str]] = None, level: Optional[str] = None) -> logging.Handler:
    """JSON lines on the root logger. In Lambda the runtime's own handler gets the formatter (a second handler
    would print each line twice); elsewhere one handler of ours, added once, writes to `stream` (stderr)."""
    root = logging.getLogger()
    root.setLevel(level or os.environ.get("IAG_LOG_LEVEL", "INFO"))
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    if stream is None and os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and root.handlers:
        for lambda_handler in root.handlers:
            lambda_handler.setFormatter(JsonFormatter())
        return root.handlers[0]
    if stream is None:
        ours = [h for h in root.handlers if getattr(h, "iag_json", False)]
        if ours:
            return ours[0]
    handler: logging.Handler = logging.StreamHandler(stream) if stream else _Stderr()
    handler.setFormatter(JsonFormatter())
    handler.iag_json = True  # type: ignore[attr-defined]  # marks ours: configuring again finds it
    root.addHandler(handler)
    return handler


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (as logging's last resort does), so a test runner that swaps
    it does not leave the handler holding a closed file."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass
