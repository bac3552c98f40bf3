"""moto in server mode, one request at a time: `python -m scripts.serial_moto HOST PORT`.

moto 5.2.5's server is threaded, and two DynamoDB transactions at once race
inside it ("dictionary changed size during iteration"): the API answered 500
to 93 of 200 applications posted 8 at a time. Real DynamoDB has no such race;
serving moto's requests one by one (each takes milliseconds) removes it locally.
"""
from __future__ import annotations

import os
import signal
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))  # moto builds some URLs from it, as its own launcher does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
