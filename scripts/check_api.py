"""schemathesis against /openapi.json of the running app: no 5xx, and every answer as the document says.

    python -m scripts.check_api [--max-examples N] [--seed S]

Starts moto (in this process, on a free port) and `chalice local` (local stage, a free port), prepares
them as `make up` does (table, verified sender, documents, demo reviewers) plus an operator pool, runs
schemathesis (settings in scripts/schemathesis.toml) with the
checks not_a_server_error and response_schema_conformance, then stops both. Prefect is not started:
its URL points at a closed port, so the API's "Prefect is down" path is what gets exercised.
Exit code: schemathesis's (0 when every check passed).
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.local_stack import (BIN, HOST, MOTO_ENDPOINTS, ROOT, Failed, Service, chalice_stage_env, prepare_data,
                                 stop_groups, wait_ready)

CHECKS = "not_a_server_error,response_schema_conformance"
CONFIG = ROOT / "scripts" / "schemathesis.toml"
BANNER = re.compile(r"^=+ .* in [0-9.]+s =+$")
CLOSED_PORT = 9  # discard: nothing listens, so a call to Prefect fails at once


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_moto():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    server = ThreadedMotoServer(ip_address=HOST, port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def api_environment(moto_url: str, api_url: str) -> dict[str, str]:
    return {**chalice_stage_env(), **{key: moto_url for key in MOTO_ENDPOINTS}, "IAG_PUBLIC_BASE_URL": api_url,
            "IAG_PREFECT_API_URL": f"http://{HOST}:{CLOSED_PORT}/api"}


def schemathesis(argv: list[str]) -> int:
    """Run it, echoing its output except its closing banner ("=== 2 warnings in 78s ==="): CI reads a line of
    that shape as pytest's summary, and `make check` runs after `make test`."""
    with subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout or ():
            if not BANNER.match(line):
                print(line, end="")
    return process.returncode


def platform_token(env: dict[str, str]) -> str:
    from chalicelib.adapters.cognito_sign_in import CognitoSignIn
    from scripts.local_stack import DEMO_PASSWORD

    signer = CognitoSignIn(env["IAG_COGNITO_CLIENT_ID"], env["AWS_DEFAULT_REGION"], env[MOTO_ENDPOINTS[0]])
    return str(signer.sign_in("platform.demo", DEMO_PASSWORD).id_token)


def run(max_examples: int, seed: int) -> int:
    moto, moto_url = start_moto()
    api_port = free_port()
    api_url = f"http://{HOST}:{api_port}"
    env = api_environment(moto_url, api_url)
    log = Path(tempfile.mkdtemp(prefix="check-api-")) / "chalice-local.log"
    api = None
    try:
        prepare_data(env, pool_file=None)  # adds the operator pool's ids to env
        service = Service("api", [str(BIN / "chalice"), "local", "--host", HOST, "--port", str(api_port),
                                  "--stage", "local", "--no-autoreload"], env, f"{api_url}/forces", api_port)
        # Its own session, so stopping the group stops any child chalice starts; its request lines go to a file.
        with open(log, "wb") as out:
            api = subprocess.Popen(service.argv, cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(service, api)
        began = time.monotonic()
        # The admin routes are tried signed in (as the platform's demo operator), so their handlers are reached.
        token = platform_token(env)
        code = schemathesis([str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run", f"{api_url}/openapi.json",
                             "--header", f"Authorization: {token}",
                             "--checks", CHECKS, "--max-examples", str(max_examples), "--seed", str(seed),
                             "--workers", "1", "--request-timeout", "10", "--no-color"])
        print(f"schemathesis: exit {code} in {time.monotonic() - began:.0f} s (API log: {log})")
        return code
    except Failed as failure:
        print(f"error: {failure}\n{log.read_text(errors='replace')[-3000:] if log.exists() else ''}", file=sys.stderr)
        return 1
    finally:
        if api is not None:
            stop_groups({"api": api.pid}, [api])
        moto.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25, help="test cases per operation (default 25)")
    parser.add_argument("--seed", type=int, default=20261122, help="the same cases on every run")
    arguments = parser.parse_args(argv)
    return run(arguments.max_examples, arguments.seed)


if __name__ == "__main__":
    sys.exit(main())
