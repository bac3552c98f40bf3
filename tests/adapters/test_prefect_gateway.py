"""The Prefect gateway against a small fake Prefect API on loopback: plain HTTP, as Lambda runs it."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.adapters.prefect_gateway import PrefectGateway
from chalicelib.services.ports import WorkflowUnavailable


class FakePrefect(BaseHTTPRequestHandler):
    script: list = []  # (status, body) answers, in order
    seen: list = []
    authorization: list = []  # each request's Authorization header

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, self.path, body))
        self.authorization.append(self.headers.get("Authorization"))
        status, answer = self.script.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def prefect():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePrefect)
    FakePrefect.script, FakePrefect.seen, FakePrefect.authorization = [], [], []
    # A short poll: shutdown() waits for it (0.5 s by default, per test).
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    pauses: list[float] = []
    FakePrefect.pauses = pauses
    yield FakePrefect, PrefectGateway(f"http://127.0.0.1:{server.server_port}/api", timeout=2, sleep=pauses.append)
    server.shutdown()


def test_a_run_is_created_by_deployment_name_with_its_name_tags_and_idempotency_key(prefect):
    fake, gateway = prefect
    fake.script = [(200, {"id": "dep-1"}), (201, {"id": "run-1"})]
    assert gateway.start("review-application/review-application", name="DBY-2026-AAAAAAAA",
                         parameters={"reference": "DBY-2026-AAAAAAAA"}, tags=["force:derbyshire"],
                         idempotency_key="review:DBY-2026-AAAAAAAA") == "run-1"
    (_, lookup, _), (_, create, body) = fake.seen
    assert lookup == "/api/deployments/name/review-application/review-application"
    assert create == "/api/deployments/dep-1/create_flow_run"
    assert body["idempotency_key"] == "review:DBY-2026-AAAAAAAA" and body["tags"] == ["force:derbyshire"]


def test_a_busy_prefect_is_asked_again_and_a_persistent_failure_is_reported(prefect):
    fake, gateway = prefect
    fake.script = [(503, {}), (503, {}), (200, {"status": "ACCEPT"})]
    assert gateway.resume("run-1", {"reason": "decision"}) is True
    assert len(fake.pauses) == 2 and all(0 < pause <= 0.8 for pause in fake.pauses)  # short pauses between asks
    fake.script = [(503, {})] * 5
    with pytest.raises(WorkflowUnavailable):
        gateway.resume("run-1", {"reason": "decision"})
    assert len(fake.pauses) == 2 + 4  # asked five times in all, pausing between


def test_a_resume_the_run_refuses_is_not_taken_for_success(prefect):
    fake, gateway = prefect
    fake.script = [(200, {"status": "REJECT", "details": {"reason": "not paused"}})]
    assert gateway.resume("run-1", {"reason": "decision"}) is False


def test_a_run_stopped_before_its_input_schema_was_stored_is_still_resumed(prefect):
    fake, gateway = prefect
    keyset = {"schema": "suspended-v1-d0-0-schema", "response": "suspended-v1-d0-0-response"}
    fake.script = [(200, {"status": "REJECT", "details": {"reason": "Run input schema not found."},
                          "state": {"type": "PAUSED", "state_details": {"run_input_keyset": keyset}}}),
                   (201, {}), (200, {"status": "ACCEPT"})]
    assert gateway.resume("run-1", {"reason": "decision"}) is True
    (_, _, first), (_, stored, schema), (_, again, second) = fake.seen
    assert stored == "/api/flow_runs/run-1/input" and schema["key"] == "suspended-v1-d0-0-schema"
    assert json.loads(schema["value"]) == {"type": "object"}
    assert again == "/api/flow_runs/run-1/resume" and first == second == {"run_input": {"reason": "decision"}}


def test_an_unreachable_prefect_is_reported_as_unavailable():
    with pytest.raises(WorkflowUnavailable):
        PrefectGateway("http://127.0.0.1:9/api", timeout=1).find_run("DBY-2026-AAAAAAAA")


def test_runs_in_trouble_asks_for_failed_and_long_running_runs_of_one_flow_and_force_in_filters_prefect_accepts(
        prefect):
    from prefect.server.schemas.filters import FlowFilter, FlowRunFilter

    fake, gateway = prefect
    fake.script = [(200, [{"name": "DBY-1"}]), (200, [{"name": "DBY-2"}, {"name": "DBY-1"}])]
    assert gateway.runs_in_trouble("review-application", tags=["force:derbyshire"], stuck_after=900,
                                   failed_within=3600) == ["DBY-1", "DBY-2"]
    (_, path, failed), (_, _, running) = fake.seen
    assert path == "/api/flow_runs/filter"
    for body in (failed, running):
        FlowFilter.model_validate(body["flows"])  # fields Prefect's server does not know are refused there
        FlowRunFilter.model_validate(body["flow_runs"])
        assert body["flows"] == {"name": {"any_": ["review-application"]}}
        assert body["flow_runs"]["tags"] == {"all_": ["force:derbyshire"]}
    assert failed["flow_runs"]["state"] == {"type": {"any_": ["FAILED", "CRASHED"]}} and "after_" in failed[
        "flow_runs"]["end_time"]
    assert running["flow_runs"]["state"] == {"type": {"any_": ["RUNNING"]}} and "before_" in running[
        "flow_runs"]["start_time"]


def test_a_runs_link_opens_the_ui_beside_the_api_or_the_one_configured(prefect):
    fake, gateway = prefect
    found = [(200, [{"id": "run-1", "state": {"type": "PAUSED", "name": "Suspended"}}])]
    fake.script = list(found)
    beside = gateway.runs("DBY-2026-AAAAAAAA")[0]["url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/runs/flow-run/run-1", beside)  # the self-hosted UI, not /api
    api_url = beside.removesuffix("/runs/flow-run/run-1") + "/api"
    cloud = PrefectGateway(api_url, timeout=2, ui_url="https://app.prefect.cloud/account/a/workspace/w/")
    fake.script = list(found)
    assert cloud.runs("DBY-2026-AAAAAAAA")[0]["url"] == \
        "https://app.prefect.cloud/account/a/workspace/w/runs/flow-run/run-1"


def test_a_self_hosted_servers_auth_string_goes_as_http_basic_and_a_cloud_key_as_a_bearer_token(prefect):
    fake, local = prefect
    api_url = local._api_url
    fake.script = [(200, []), (200, []), (200, [])]
    PrefectGateway(api_url, auth_string="iag:s3cret", timeout=2).find_run("DBY-2026-AAAAAAAA")
    PrefectGateway(api_url, "pnu_key", timeout=2).find_run("DBY-2026-AAAAAAAA")
    local.find_run("DBY-2026-AAAAAAAA")
    # What Prefect's server checks (PREFECT_SERVER_API_AUTH_STRING): "Basic " and the string in base64.
    assert fake.authorization == ["Basic aWFnOnMzY3JldA==", "Bearer pnu_key", None]


def test_the_container_sends_the_secret_as_the_settings_say():
    from chalicelib import bootstrap
    from chalicelib.settings import Misconfigured, Settings

    env = {"IAG_STAGE": "local", "IAG_PREFECT_API_KEY": "iag:s3cret"}
    basic = bootstrap._workflow(Settings.from_env({**env, "IAG_PREFECT_AUTH": "auth-string"}))
    assert basic._headers["Authorization"] == "Basic aWFnOnMzY3JldA=="
    assert bootstrap._workflow(Settings.from_env(env))._headers["Authorization"] == "Bearer iag:s3cret"
    with pytest.raises(Misconfigured, match="IAG_PREFECT_AUTH"):
        Settings.from_env({**env, "IAG_PREFECT_AUTH": "basic"})
