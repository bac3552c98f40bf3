"""Running the local stack (`python -m scripts.local_stack up`) from tests, on free ports."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # local URLs: no proxy


class Stack:
    """One `up` process, its output in a file so a full pipe can never block it."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "scripts.local_stack", "up"], cwd=ROOT,
                                            env=env, stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        return self.process.wait(timeout=40)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def request(method: str, url: str, payload=None, timeout: float = 5, headers: dict | None = None):
    """(status, headers, body); an HTTP error status is an answer too."""
    data = None if payload is None else json.dumps(payload).encode()
    headers = {**({"Content-Type": "application/json"} if data else {}), **(headers or {})}
    try:
        with _http.open(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()




def state_dir(prefix: str = "iag-stack-") -> Path:
    """A folder for a stack's state, outside pytest's temporary root: pytest sets that back to 0700 whenever a
    session starts (several run at once on a shared machine), and PostgreSQL, which runs as its own user when we
    are root, must pass through every folder above its data. The caller removes it."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o711)  # search only: nothing in it becomes listable
    return folder


def stack_environment(local_dir: Path, checked: bool = True) -> dict:
    """The stack's own environment: free ports, its own state directory, none of the test process's AWS settings.
    `checked` (tests): moto checks each Query on an index against a walk of the table (benches leave it off: it
    costs what the kept partitions save)."""
    import os

    moto, prefect, api, postgres = free_ports(4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IAG_", "PREFECT_", "MOTO_", "PG_"))}
    env.update(IAG_LOCAL_DIR=str(local_dir), MOTO_PORT=str(moto), PREFECT_PORT=str(prefect), API_PORT=str(api),
               PG_PORT=str(postgres), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               **({"IAG_MOTO_CHECK_INDEXES": "1"} if checked else {}))
    return env


def urls(env: dict) -> tuple[str, str, str]:
    """(api, prefect, moto) base URLs of the stack started with `env`."""
    return tuple(f"http://127.0.0.1:{env[name]}" for name in ("API_PORT", "PREFECT_PORT", "MOTO_PORT"))


def start_ready(env: dict, log: Path, timeout: float = 150) -> Stack:
    """Start `up` and wait for its "ready" line (every service, flows included, answered)."""
    import time

    stack = Stack(env, log)
    deadline = time.monotonic() + timeout
    while "Local stack ready" not in stack.output():
        if stack.process.poll() is not None or time.monotonic() > deadline:
            stack.stop() if stack.process.poll() is None else None
            raise RuntimeError(f"the local stack did not start:\n{stack.output()}")
        time.sleep(0.5)
    return stack


def stop(stack: Stack, env: dict) -> None:
    """Stop whatever the test did: Ctrl-C, then `down` for anything left."""
    if stack.process.poll() is None:
        try:
            stack.stop()
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    subprocess.run([sys.executable, "-m", "scripts.local_stack", "down"], cwd=ROOT, env=env, timeout=60)


class BenchStack:
    """A bench's own local stack: free ports and its state in a temporary folder, never .local/ or the default
    ports; on leaving the `with`, stopped (Ctrl-C to `up`, then `down`) and the folder removed (kept with keep=True,
    for its logs). start() may be called again to time a restart."""

    def __init__(self, prefix: str, keep: bool = False, **env):
        self.tmp = state_dir(prefix)
        self.local = self.tmp / "local"
        self.env = {**stack_environment(self.local, checked=False), **env}
        self.api, self.prefect, self.moto = urls(self.env)
        self.keep, self.stack, self.starts = keep, None, 0

    def start(self, timeout: float = 150) -> float:
        """Start `up` and wait until it is ready; the seconds it took. RuntimeError (with its output) if it did not."""
        import time

        if self.stack is not None:
            stop(self.stack, self.env)
        self.starts += 1
        began = time.monotonic()
        self.stack = start_ready(self.env, self.tmp / f"up-{self.starts}.out", timeout)
        return time.monotonic() - began

    def stop(self) -> None:
        """Ctrl-C to `up`, as a developer stops it (the state is written); start() brings it back."""
        if self.stack is not None and self.stack.process.poll() is None:
            self.stack.stop()

    def pgids(self) -> dict[str, int]:
        """Each running service's process group, from the stack's pid file."""
        return {name: pid for name, pid in json.loads((self.local / "stack.pids").read_text()).items() if name != "up"}

    def output(self) -> str:
        return self.stack.output() if self.stack else ""

    def __enter__(self) -> "BenchStack":
        return self

    def __exit__(self, *exc) -> None:
        import shutil

        if self.stack is not None:
            stop(self.stack, self.env)
        else:  # a start that failed: anything it left
            subprocess.run([sys.executable, "-m", "scripts.local_stack", "down"], cwd=ROOT, env=self.env, timeout=60)
        print(f"kept {self.tmp}") if self.keep else shutil.rmtree(self.tmp, ignore_errors=True)


def venue(number: int, per_venue: int = 40) -> dict:
    """Headers saying which venue's connection applicant `number` uses, `per_venue` to an address (the local stack
    takes the client address from X-Forwarded-For: scripts/chalice_local.py), so a surge bench is many people, as a
    campaign's is, not one address the per-client limit stops at 60 an hour."""
    return {"X-Forwarded-For": f"198.51.100.{number // per_venue % 250 + 1}"}  # TEST-NET-2: no real address


def post_form(url: str, fields: dict, timeout: float = 15):
    """A person pressing a button on a page: (status, body text)."""
    from urllib.parse import urlencode

    data = urlencode(fields).encode()
    try:
        with _http.open(urllib.request.Request(url, data=data, method="POST", headers={
                "Content-Type": "application/x-www-form-urlencoded"}), timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Mailbox:
    """The emails moto's SES has accepted from the stack, from our moto wrapper's paged mailbox."""

    def __init__(self, moto_url: str):
        self.moto_url = moto_url

    def messages(self, newest: int | None = None) -> list[dict]:
        """Each as {"to": [...], "subject", "body" (HTML when there is one), "attachments": [file names]}, in the
        order sent; only the `newest` ones if given."""
        from chalicelib.web.dev import sent_page

        found: list[dict] = []
        while newest is None or len(found) < newest:
            limit = 500 if newest is None else min(500, newest - len(found))
            page = sent_page(self.moto_url, len(found), limit, timeout=10)
            found += page["messages"]
            if len(found) >= page["total"] or not page["messages"]:
                break
        return found[::-1]

    def about(self, reference: str) -> list[dict]:
        return [m for m in self.messages() if reference in m["subject"]]

    def wait(self, condition, timeout: float = 60, what: str = "emails"):
        """Poll until condition(messages) is truthy; returns its value."""
        import time

        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            result = condition(self.messages())
            if result:
                warn_if_slow(what, time.monotonic() - started, timeout)
                return result
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}; mailbox has: "
                             f"{[(m['to'], m['subject']) for m in self.messages()]}")


class SlowWait(UserWarning):
    """A wait that passed with less than half its time to spare: under CI's load it may not pass."""


def warn_if_slow(what: str, waited: float, timeout: float) -> None:
    # Seen: a restart's decisions took 58 s of a 60 s wait on an idle machine (a crashed run waiting for
    # reconciliation), and failed in CI. The warnings summary names such waits before they fail.
    if waited > timeout / 2:
        import warnings

        warnings.warn(SlowWait(f"waited {waited:.0f} s of {timeout:.0f} s for {what}"), stacklevel=3)


class SharedMailbox(Mailbox):
    """The same mailbox for many threads polling at once. moto parses each email of a page it serves (its MIME
    parser, about a millisecond or more each, in the one process every AWS request waits for), so a look here asks
    for the newest email only, then for just the emails sent since the last look; and looks less than `every`
    seconds apart share one answer."""

    def __init__(self, moto_url: str, every: float = 0.5):
        import threading

        super().__init__(moto_url)
        self.every = every
        self._lock = threading.Lock()
        self._looked = float("-inf")
        self._seen: list[dict] = []
        self._ids: set[str] = set()

    def messages(self, newest: int | None = None) -> list[dict]:
        import time

        from chalicelib.web.dev import sent_page

        if newest is not None:
            return super().messages(newest)
        with self._lock:
            if time.monotonic() - self._looked < self.every:
                return list(self._seen)
            last = self._seen[-1]["id"] if self._seen else None
            probe = sent_page(self.moto_url, 0, 1, timeout=10)
            if [m["id"] for m in probe["messages"]] != ([last] if last else []):
                fresh: list[dict] = []  # newest first
                limit = min(100, probe["total"] - len(self._seen) + 1)  # the new ones and the newest seen
                while True:
                    page = sent_page(self.moto_url, len(fresh), max(1, limit), timeout=10)
                    ids = [m["id"] for m in page["messages"]]
                    if last in ids:
                        fresh += page["messages"][:ids.index(last)]
                        break
                    fresh += page["messages"]
                    if not page["messages"] or len(fresh) >= page["total"]:
                        if last is not None:  # the newest seen is gone (moto restarted without it): read all again
                            self._seen, self._ids = [], set()
                        break
                    limit = 100
                for message in reversed(fresh):  # an email sent while paging can be on two pages: once each
                    if message["id"] not in self._ids:
                        self._ids.add(message["id"])
                        self._seen.append(message)
            self._looked = time.monotonic()
            return list(self._seen)


def links_in(message: dict, kind: str) -> list[str]:
    import re
    from html import unescape

    return [unescape(h) for h in re.findall(r'href="(http[^"]+)"', message["body"]) if f"/{kind}/" in h]
