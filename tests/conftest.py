"""Tests never reach real AWS: fake credentials, a fixed region, and moto in process."""
from __future__ import annotations

import os
from datetime import datetime, timezone

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2", "AWS_REGION": "eu-west-2", "IAG_TABLE": "iag-test", "IAG_STAGE": "local",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Nothing listens here: a test that forgets its fake workflow fails loudly instead of reaching a real Prefect.
    "IAG_PREFECT_API_URL": "http://127.0.0.1:9/api",
})
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "IAG_DYNAMODB_ENDPOINT"):
    os.environ.pop(name, None)

import contextlib  # noqa: E402
import functools  # noqa: E402

import boto3  # noqa: E402
import botocore.loaders  # noqa: E402
import botocore.session  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import bootstrap  # noqa: E402
from chalicelib.adapters import dynamodb  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from tests.moto_speed import copies_of_the_named_items_only, one_cognito_key_for_every_pool  # noqa: E402

# Every mock_aws() replaces boto3's default session, and pynamodb opens a botocore session per connection (reset
# per test): each new session re-read and re-parsed botocore's JSON (endpoints.json alone is 1.2 MB), about 1 s of
# CPU per test that uses the table. One loader per process parses each file once; what it loads is only read.
botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)
copies_of_the_named_items_only()  # tests/moto_speed.py: a refused transaction undone from copies of its items
one_cognito_key_for_every_pool()  # and moto's one signing key, built once rather than once per user pool


class FixedClock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


TODAY = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return FixedClock(TODAY)


@contextlib.contextmanager
def application_table():
    """An empty application table in moto, with the models pointed at it, and a verified sender."""
    with mock_aws():
        settings = Settings.from_env()
        dynamodb.configure(settings)
        dynamodb.create_table_if_missing()
        boto3.client("ses", region_name=settings.region).verify_email_identity(EmailAddress=settings.mail_from)
        yield
    for model in dynamodb.all_models():
        model._connection = None


@pytest.fixture
def table():
    with application_table():
        yield


class FakeWorkflow:
    """Prefect as the intake sees it: records the runs it was asked to start and resume."""

    def __init__(self):
        self.started: list[dict] = []
        self.resumed: list[tuple[str, dict]] = []
        self.retried: list[str] = []
        self.cancelled: list[str] = []
        self.states: dict[str, tuple[str, float]] = {}  # run id -> (state type, age in seconds); PAUSED by default

    def start(self, deployment, *, name, parameters, tags, idempotency_key):
        self.started.append({"deployment": deployment, "name": name, "parameters": parameters, "tags": tags})
        return f"run-{name}"

    def find_run(self, name):
        return f"run-{name}" if any(r["name"] == name for r in self.started) else None

    def resume(self, flow_run_id, run_input):
        self.resumed.append((flow_run_id, run_input))
        return True

    def state(self, flow_run_id):
        return self.states.get(flow_run_id, ("PAUSED", 0.0))

    def runs_in_trouble(self, flow_name, *, tags, stuck_after, failed_within):
        names = dict.fromkeys(r["name"] for r in self.started if set(tags) <= set(r["tags"]))
        states = {name: self.state(f"run-{name}") for name in names}
        return [name for name, (state, age) in states.items()
                if state in ("FAILED", "CRASHED") or (state == "RUNNING" and age > stuck_after)]

    def retry(self, flow_run_id):
        self.retried.append(flow_run_id)

    def runs(self, name):
        return [{"id": f"run-{name}", "state": "PAUSED", "state_name": "Suspended", "started": None, "ended": None,
                 "url": f"http://prefect.test/runs/flow-run/run-{name}"}] if self.find_run(name) else []

    def cancel(self, flow_run_id):
        self.cancelled.append(flow_run_id)


@pytest.fixture
def workflow():
    return FakeWorkflow()


@pytest.fixture
def api(table, clock, workflow):
    """The Chalice app in process, on moto, with a fixed clock and a fake Prefect."""
    from chalice.test import Client

    from app import app

    bootstrap.reset()
    bootstrap.override(clock=clock, workflow=workflow)
    with Client(app) as client:
        yield client
    bootstrap.reset()


def send_announced(force_id: str, reference: str) -> None:
    """What the application's flow run does first (reconciliation, for an ineligible one that has no run): send
    the emails the request announced, e.g. the confirmation. The request itself sends none."""
    from chalicelib import bootstrap

    container = bootstrap.container()
    container.review.send_announced(container.repository.get(force_id, reference))


def sent_emails() -> list:
    """What moto's SES has sent, oldest first (moto keeps the HTML body when both parts are sent)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].sent_messages)


def moto_pool_keys() -> dict:
    """The keys moto signs every pool's tokens with (what its JWKS URL serves)."""
    import gzip
    import json
    from pathlib import Path

    import moto.cognitoidp

    return json.loads(gzip.decompress((Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz")
                                      .read_bytes()))


class OperatorPool:
    """A Cognito user pool of operators in moto, as infra/resources.json creates it in AWS."""

    ROLES = ("platform", "force_admin", "coordinator", "auditor")

    def __init__(self):
        self.client = boto3.client("cognito-idp", region_name="eu-west-2")
        pool = self.client.create_user_pool(PoolName="iag-operators", Schema=[
            {"Name": "force_id", "AttributeDataType": "String", "Mutable": True},
            {"Name": "group_ids", "AttributeDataType": "String", "Mutable": True},
            {"Name": "signed_out_at", "AttributeDataType": "Number", "Mutable": True}])["UserPool"]
        self.pool_id = pool["Id"]
        self.client_id = self.client.create_user_pool_client(
            UserPoolId=self.pool_id, ClientName="admin", ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])["UserPoolClient"]["ClientId"]
        for role in self.ROLES:
            self.client.create_group(UserPoolId=self.pool_id, GroupName=role)

    def token(self, username: str, role: str, force_id: str = "", groups: str = "") -> str:
        """An ID token for a new operator with that role (created on first use)."""
        attributes = [{"Name": "email", "Value": f"{username}@operators.example"}]
        attributes += [{"Name": n, "Value": v} for n, v in (("custom:force_id", force_id), ("custom:group_ids", groups)) if v]
        try:
            self.client.admin_create_user(UserPoolId=self.pool_id, Username=username, UserAttributes=attributes,
                                          MessageAction="SUPPRESS")
            self.client.admin_set_user_password(UserPoolId=self.pool_id, Username=username, Password="Operator-Pass-1",
                                                Permanent=True)
            if role:
                self.client.admin_add_user_to_group(UserPoolId=self.pool_id, Username=username, GroupName=role)
        except self.client.exceptions.UsernameExistsException:
            pass
        answer = self.client.admin_initiate_auth(UserPoolId=self.pool_id, ClientId=self.client_id,
                                                 AuthFlow="ADMIN_NO_SRP_AUTH",
                                                 AuthParameters={"USERNAME": username, "PASSWORD": "Operator-Pass-1"})
        return answer["AuthenticationResult"]["IdToken"]

    def verifier(self):
        from chalicelib.adapters.cognito_standing import CognitoStanding
        from chalicelib.adapters.cognito_tokens import CognitoTokens, issuer_for

        return CognitoTokens(issuer_for("eu-west-2", self.pool_id), self.client_id, moto_pool_keys,
                             standing=CognitoStanding(self.pool_id, "eu-west-2", None))


@pytest.fixture
def operator_pool(api):
    """The operator pool, and the running app verifying its tokens (keys as moto publishes them)."""
    from dataclasses import replace

    pool = OperatorPool()
    container = bootstrap.container()
    bootstrap.override(operator_tokens=pool.verifier(), settings=replace(
        container.settings, operator_pool_id=pool.pool_id, operator_client_id=pool.client_id))
    return pool


# Session fixtures that start something costly, and the files whose tests use them. Under pytest-xdist
# (`make test`) each file is one unit of work and the files of one group go to the same worker, so each is
# started once per run, not once per worker. (xdist's own `xdist_group` marker cannot be used: it renames node
# ids, which pytest 9 no longer allows.) Collection fails if a test uses one from a file not listed here.
SHARED_ONCE = {"prefect_server": "prefect", "chalice_package": "package", "live_stack": "browser",
               "browser": "browser"}
SHARED_ONCE_FILES = {
    "tests/flows/test_log_context.py": "prefect", "tests/flows/test_reports.py": "prefect",
    "tests/flows/test_retention.py": "prefect", "tests/flows/test_strategic.py": "prefect",
    "tests/flows/test_housekeeping.py": "prefect", "tests/flows/test_member_life.py": "prefect",
    "tests/flows/test_alert_automation.py": "prefect",
    "tests/test_package.py": "package", "tests/adapters/test_infra_template.py": "package",
    "tests/web/test_browser.py": "browser", "tests/web/test_joining_browser.py": "browser",
    "tests/web/test_operator_pages_browser.py": "browser", "tests/web/test_console_browser.py": "browser",
    "tests/web/test_console_business_browser.py": "browser",
    # Each starts whole local stacks (Prefect server, moto, the API, the flows): one at a time, not side by side
    # on two cores, where their start-up timeouts would be at risk.
    "tests/test_local_stack.py": "stack", "tests/flows/test_review.py": "stack",
    "tests/test_day_one.py": "stack",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    root = config.rootpath
    for item in items:
        # The pure domain's tests are fast by nature (stdlib only): `make test-fast` selects them with `-m fast`.
        if item.path.parent.name == "domain":
            item.add_marker(pytest.mark.fast)
        path = item.path.relative_to(root).as_posix()
        for name in item.fixturenames:
            if name in SHARED_ONCE and SHARED_ONCE_FILES.get(path) != SHARED_ONCE[name]:
                raise pytest.UsageError(f"{item.nodeid} uses `{name}`: list {path} in tests/conftest.py's "
                                        f"SHARED_ONCE_FILES as \"{SHARED_ONCE[name]}\", so it is started once per run")


# The units that take longest (they start servers and stacks), longest first: they start before everything else,
# so the run does not end waiting for one that began last while the other worker sits idle.
LONGEST_FIRST = ("stack", "browser", "prefect", "package")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With `--dist loadgroup`: a file is a unit of work (its module fixtures start once), and the files of one
    SHARED_ONCE group are one unit. LONGEST_FIRST go first, then larger units before smaller ones."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from collections import OrderedDict

    from xdist.scheduler import LoadScopeScheduling

    def rank(unit: tuple[str, dict]) -> tuple[int, int]:
        scope, tests = unit
        return (LONGEST_FIRST.index(scope) if scope in LONGEST_FIRST else len(LONGEST_FIRST), -len(tests))

    class LongestFirstQueue(OrderedDict):
        """xdist takes the next unit with popitem(last=False): hand it the longest one left instead."""

        def popitem(self, last: bool = True):
            scope, _ = min(self.items(), key=rank)
            return scope, self.pop(scope)

    class SharedOnceScheduling(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            self.workqueue = LongestFirstQueue()

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return SHARED_ONCE_FILES.get(path, path)

    return SharedOnceScheduling(config, log)


@pytest.fixture(scope="session")
def prefect_server():
    """One Prefect test server for every flow test of the run (its files are one SHARED_ONCE group, so one worker
    starts it, once: each start is 10-30 s). Flow runs' heartbeats off: each costs about 1 s per flow exit."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # A shared 2-core machine under load took over the default 30 s to start the ephemeral server.
    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@pytest.fixture(scope="session")
def chalice_package(tmp_path_factory):
    """One `chalice package --stage prod --merge-template infra/resources.json` (as `make package`) for the whole
    run: (the finished process, its output folder with deployment.zip and sam.json). Each test judges the result."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-2")}
    result = subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", "prod",
                             "--merge-template", str(root / "infra" / "resources.json"), str(out)],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode == 0:  # then, as `make package`, prune botocore's models and compile the bytecode
        result = subprocess.run([sys.executable, "-m", "scripts.slim_package", str(out)],
                                cwd=root, env=env, capture_output=True, text=True, timeout=600)
    return result, out
