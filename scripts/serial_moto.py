"""moto in server mode with one AWS request at a time: `python -m scripts.serial_moto HOST PORT`.

moto 5.2.5's server is threaded, and two DynamoDB transactions at once race
inside it ("dictionary changed size during iteration"): the API answered 500
to 93 of 200 applications posted 8 at a time. Real DynamoDB has no such race.
Here AWS requests take turns (each takes milliseconds), while /moto-api/ stays
free: replaying the recording sends requests to this same server, which
would wait forever on a server that served one request at a time.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class OneAwsRequestAtATime:
    def __init__(self, app):
        self._app = app
        self._turn = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/moto-api/"):
            return self._app(environ, start_response)
        with self._turn:
            return list(self._app(environ, start_response))  # the whole answer, before the next request


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))  # moto builds some URLs from it, as its own launcher does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, OneAwsRequestAtATime(DomainDispatcherApplication(create_backend_app)), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
