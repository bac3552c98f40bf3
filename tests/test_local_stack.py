"""`make up`: the local stack serves, keeps its data across a restart, and stops cleanly.

Runs `python -m scripts.local_stack up` on free ports with its state in a temporary
directory (IAG_LOCAL_DIR), so it never touches a developer's .local/ or servers.
Starts the stack three times (cold, after a clean stop, after moto was killed): about a minute in all.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import application_payload
from tests.stack import ROOT, Stack, port_free, request, stack_environment, state_dir

FORCES = {"derbyshire", "thames-valley", "northamptonshire", "greater-manchester", "avon-and-somerset"}


@pytest.fixture
def stack_env():
    """The stack's own environment: free ports, a temporary state directory, none of the test process's AWS settings."""
    folder = state_dir()
    yield stack_environment(folder / "local")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def start_stack(stack_env, tmp_path):
    started: list[Stack] = []

    def start() -> Stack:
        started.append(Stack(stack_env, tmp_path / f"up-{len(started) + 1}.out"))
        return started[-1]

    yield start
    # Whatever the test did, leave nothing running.
    for stack in started:
        if stack.process.poll() is None:
            stack.process.send_signal(signal.SIGINT)
            try:
                stack.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                stack.process.kill()
                stack.process.wait()
    subprocess.run([sys.executable, "-m", "scripts.local_stack", "down"], cwd=ROOT, env=stack_env, timeout=60)


def wait_for_forces(api: str, stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            pytest.fail(f"`up` exited with {stack.process.returncode} before the API answered:\n{stack.output()}")
        try:
            status, _, body = request("GET", f"{api}/forces")
            if status == 200 and {f["id"] for f in json.loads(body)["forces"]} == FORCES:
                return
        except (OSError, http.client.HTTPException):
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(f"GET {api}/forces did not list the five forces within {timeout} s:\n{stack.output()}")


def wait_for_everything(stack: Stack, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while "Local stack ready" not in stack.output():
        if stack.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the stack was not ready within {timeout} s:\n{stack.output()}")
        time.sleep(0.5)


def operator_token(env: dict, username: str) -> str:
    """Sign in as one of the local stack's demo operators, as `make admin ARGS="login ..."` does."""
    import subprocess
    import sys

    moto = f"http://127.0.0.1:{env['MOTO_PORT']}"
    done = subprocess.run([sys.executable, "-m", "scripts.admin", "login", "--username", username, "--password",
                           "Local-Operator-1"], cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                          text=True, timeout=60, env={**env, "IAG_STAGE": "local", "IAG_AWS_ENDPOINT": moto,
                                                      "AWS_ACCESS_KEY_ID": "local",
                                                      "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-2"})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def admin_me(env: dict, token):
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {"Authorization": token} if token else {}
    try:
        with opener.open(urllib.request.Request(f"http://127.0.0.1:{env['API_PORT']}/admin/me", headers=headers),
                         timeout=10) as response:
            body = json.loads(response.read())
            return response.status, {"role": body["role"], "force": body["force"]}
    except urllib.error.HTTPError as error:
        return error.code, None


@pytest.mark.slow
def test_the_local_stack_serves_keeps_data_across_a_restart_and_a_moto_killed_mid_work_and_stops(stack_env,
                                                                                                   start_stack):
    """One stack's life: a cold start, a clean restart, moto killed mid-work, and the start after it. (One test, so
    that the Prefect server's database is created once: a cold start is the costliest part.)"""
    import threading

    interval = 2
    stack_env["MOTO_SNAPSHOT_SECONDS"] = str(interval)
    api = f"http://127.0.0.1:{stack_env['API_PORT']}"
    prefect = f"http://127.0.0.1:{stack_env['PREFECT_PORT']}"
    ports = [int(stack_env[name]) for name in ("MOTO_PORT", "PREFECT_PORT", "API_PORT", "PG_PORT")]
    pids = Path(stack_env["IAG_LOCAL_DIR"]) / "stack.pids"

    # --- It serves ---
    first = start_stack()
    wait_for_forces(api, first, timeout=120)  # a cold Prefect server creates its database
    # The Prefect server keeps its runs in PostgreSQL, as production does (`make test` installs it).
    assert "postgres: up in" in first.output() and "SQLite" not in first.output()
    wait_for_everything(first)  # the flows too, so the application's run is started by its POST
    status, headers, _ = request("GET", f"{prefect}/")
    assert (status, headers.get_content_type()) == (200, "text/html")
    assert request("GET", f"{prefect}/api/health")[0] == 200
    assert pids.exists()

    status, headers, body = request("POST", f"{api}/forces/derbyshire/applications", application_payload())
    assert status == 201, body
    location, reference = headers["Location"], json.loads(body)["reference"]
    assert admin_me(stack_env, None)[0] == 401  # chalice local alone would have let this through
    token = operator_token(stack_env, "admin.derbyshire")
    assert admin_me(stack_env, token) == (200, {"role": "force_admin", "force": "derbyshire"})

    # --- Ctrl-C stops it cleanly, and the next start has everything ---
    assert first.stop() == 0, first.output()
    assert [p for p in ports if not port_free(p)] == [], first.output()
    assert "still running after" not in first.output()  # each service stopped when asked, none had to be killed

    second = start_stack()
    wait_for_forces(api, second, timeout=90)
    assert "moto: restored" in second.output()
    status, _, body = request("GET", f"{api}{location}")
    assert status == 200, body
    assert json.loads(body)["reference"] == reference
    assert admin_me(stack_env, token) == (200, {"role": "force_admin", "force": "derbyshire"})  # same pool after replay
    wait_for_everything(second)  # the API answers before the Prefect server it starts beside
    # The application's flow run is still in the Prefect server's database after the restart.
    status, _, body = request("POST", f"{prefect}/api/flow_runs/filter",
                              {"flow_runs": {"name": {"any_": [reference]}}})
    assert status == 200 and [run["name"] for run in json.loads(body)] == [reference], body

    # --- moto killed mid-work: at most the last interval is lost, and the stack still starts ---
    answered: list[tuple[float, str]] = []  # (when the 201 came, the application's location)
    killed = threading.Event()

    def keep_applying() -> None:  # the work moto is in the middle of
        number = 0
        while not killed.is_set():
            number += 1
            payload = application_payload(applicant={"email": f"applicant-{number}@example.org"})
            try:
                status, headers, _ = request("POST", f"{api}/forces/derbyshire/applications", payload)
            except OSError:
                continue
            if status == 201:
                answered.append((time.time(), headers["Location"]))

    applying = threading.Thread(target=keep_applying, daemon=True)
    applying.start()
    time.sleep(4 * interval)
    moto_group = json.loads(pids.read_text())["moto"]
    killed_at = time.time()
    os.killpg(moto_group, signal.SIGKILL)
    killed.set()
    applying.join(timeout=30)
    assert second.process.wait(timeout=60) != 0  # `up` saw moto die and stopped the rest
    assert "moto exited" in second.output()

    third = start_stack()
    wait_for_forces(api, third, timeout=120)
    assert "moto: restored" in third.output()
    # Everything answered more than one interval (and the write) before the kill is there, and what came before.
    settled = [location for at, location in answered if at < killed_at - 2 * interval]
    assert len(settled) >= 3, answered
    missing = [where for where in [location, *settled] if request("GET", f"{api}{where}")[0] != 200]
    assert missing == []

    assert third.stop() == 0, third.output()
    assert [p for p in ports if not port_free(p)] == [], third.output()
    assert "still running after" not in third.output()
    assert not pids.exists()
