"""A real server for the browser: moto in server mode and `chalice local`, each in its own process,
on free ports, and headless Chromium (Debian's) driven by Playwright."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


class LiveStack:
    def __init__(self, api_url: str, moto_url: str, env: dict):
        self.api_url = api_url
        self.moto_url = moto_url
        self.env = env  # the API's environment

    def send_announced(self, force_id: str, reference: str) -> None:
        """What the application's flow run does first: send the emails its request announced (the confirmation).
        This stack has no Prefect, so the test plays the run's part, in a process with the API's environment."""
        code = ("import sys; from chalicelib import bootstrap; c = bootstrap.container(); "
                "c.review.send_announced(c.repository.get(sys.argv[1], sys.argv[2]))")
        chalice = json.loads((ROOT / ".chalice" / "config.json").read_text())
        env = {**self.env, **chalice["environment_variables"], **chalice["stages"]["local"]["environment_variables"]}
        subprocess.run([str(BIN / "python"), "-c", code, force_id, reference], cwd=ROOT, env=env, check=True,
                       timeout=120)

    def emails(self) -> list[dict]:
        """Each with destinations, subject, body (the HTML part), in the order sent."""
        from tests.stack import Mailbox

        return [{"destinations": {"ToAddresses": m["to"]}, "subject": m["subject"], "body": m["body"]}
                for m in Mailbox(self.moto_url).messages()]

    def application(self, force_id: str, reference: str):
        """Read straight from the stack's DynamoDB, as the API stored it."""
        from chalicelib.adapters.dynamodb.applications import DynamoApplicationRepository
        point_models_at(self.moto_url)
        return DynamoApplicationRepository().get(force_id, reference)


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack")) as stack:
        yield stack


@contextlib.contextmanager
def running_stack(logs: Path, **env_changes: str):
    """moto and `chalice local` on free ports, with the operator pool; `env_changes` for the API (e.g. a fake
    Prefect's address). Stopped on leaving."""
    moto_port, api_port = free_port(), free_port()
    moto_url, api_url = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{api_port}"
    env = {**os.environ, "IAG_AWS_ENDPOINT": moto_url, "IAG_PUBLIC_BASE_URL": api_url, "IAG_STAGE": "local",
           "AWS_DEFAULT_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           **env_changes}
    processes = []
    try:
        # The local stack's moto (scripts/serial_moto.py): its mailbox is what emails() reads.
        moto = subprocess.Popen([str(BIN / "python"), "-m", "scripts.serial_moto", "127.0.0.1", str(moto_port)],
                                cwd=ROOT, env=env,
                                stdout=open(logs / "moto.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(moto)
        wait_for(f"{moto_url}/moto-api/iag/state", moto)
        pool = _prepare_moto(moto_url)
        env.update(IAG_COGNITO_POOL_ID=pool["pool_id"], IAG_COGNITO_CLIENT_ID=pool["client_id"])
        api = subprocess.Popen([str(BIN / "chalice"), "local", "--host", "127.0.0.1", "--port", str(api_port),
                                "--stage", "local", "--no-autoreload"], cwd=ROOT, env=env,
                               stdout=open(logs / "api.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(api)
        wait_for(f"{api_url}/forces", api)
        yield LiveStack(api_url, moto_url, env)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        from chalicelib.adapters import dynamodb
        for model in dynamodb.all_models():
            model._connection = None


def point_models_at(moto_url: str):
    from chalicelib.adapters import dynamodb
    from chalicelib.settings import Settings

    settings = Settings.from_env({"IAG_AWS_ENDPOINT": moto_url, "IAG_TABLE": "iag-backoffice", "IAG_STAGE": "local",
                                  "AWS_DEFAULT_REGION": "eu-west-2"})
    dynamodb.configure(settings)
    return settings


def _prepare_moto(moto_url: str) -> dict:
    """The table, a verified sender and the operator pool with its demo operators, as the local stack makes them."""
    from chalicelib.adapters import dynamodb
    from chalicelib.adapters.force_files import FileForceCatalogue
    from scripts.local_stack import ensure_operator_pool

    settings = point_models_at(moto_url)
    dynamodb.create_table_if_missing()
    boto3.client("ses", region_name="eu-west-2", endpoint_url=moto_url).verify_email_identity(
        EmailAddress=settings.mail_from)
    return ensure_operator_pool(settings, FileForceCatalogue().all())


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def choosers_caught(page):
    """The page's file choosers reach Playwright from the start. Playwright asks the browser to catch them only when
    a first listener is added, without waiting for the answer, so a key pressed at once (Space on a file input, in
    `with page.expect_file_chooser(): ...`) could open the headless browser's own dialog first, and the test waited
    30 s for a chooser that never came (once in a clean-clone run). Subscribed here, well before any key."""
    page.on("filechooser", lambda chooser: None)
    return page


@pytest.fixture
def page(browser):
    """A desktop page with JavaScript off: the service must work without it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    yield choosers_caught(context.new_page())
    context.close()


@pytest.fixture
def phone(browser):
    """A 320 px wide phone screen, JavaScript off."""
    context = browser.new_context(viewport={"width": 320, "height": 640}, java_script_enabled=False,
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    yield choosers_caught(context.new_page())
    context.close()


def loaded(page):
    """The page once it has loaded. A click that leads to another page returns when that page's navigation commits,
    before its HTML is parsed, so a read that does not wait (`count()`, `evaluate`, `content()`) could see a page
    half there: a clean-clone run found no Continue button on a page that had one. Helpers that read a page as a
    whole call this first; single checks use Playwright's `expect`, which waits (tests/web/test_reads_wait.py)."""
    page.wait_for_load_state()
    return page


def screenshot(page, name: str) -> Path:
    """Kept in test-artifacts/screenshots/ (ignored by git) for anyone to look at."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    loaded(page).screenshot(path=str(path), full_page=True)
    return path
