"""Starting and resuming flow runs over the Prefect REST API: plain HTTP, no `import prefect`.

Prefect is the orchestrator, not the record: every caller writes to DynamoDB
first, so when Prefect cannot be reached these raise WorkflowUnavailable and a
scheduled reconciliation catches up later.
"""
from __future__ import annotations

import base64
import json
import random
import time
from datetime import datetime, timedelta, timezone
import urllib.error
import urllib.request
from typing import Callable, Optional

from chalicelib.services.ports import WorkflowUnavailable

_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
BUSY_RETRIES = 4


def _iso(now: datetime, offset_seconds: float) -> str:
    return (now + timedelta(seconds=offset_seconds)).isoformat()


class PrefectGateway:
    def __init__(self, api_url: str, api_key: Optional[str] = None, timeout: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep, ui_url: Optional[str] = None,
                 auth_string: Optional[str] = None):
        self._api_url = api_url.rstrip("/")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        # As Prefect's own client: a self-hosted server's PREFECT_SERVER_API_AUTH_STRING is sent as HTTP Basic
        # (the server refuses anything else), Prefect Cloud's API key as a bearer token.
        if auth_string:
            self._headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
        elif api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._sleep = sleep  # tests pass their own, so a retry costs them no time
        self._deployment_ids: dict[str, str] = {}
        # The UI lives beside the API on a self-hosted server; Prefect Cloud's is elsewhere (IAG_PREFECT_UI_URL, e.g.
        # https://app.prefect.cloud/account/<id>/workspace/<id>): a run is at <ui>/runs/flow-run/<run id> in both.
        self._ui_url = (ui_url or self._api_url.removesuffix("/api")).rstrip("/")

    def start(self, deployment: str, *, name: str, parameters: dict, tags: list[str], idempotency_key: str) -> str:
        """Create a run of `flow/deployment`, or find the one this key already created; returns its id."""
        run = self._call("POST", f"/deployments/{self._deployment_id(deployment)}/create_flow_run",
                         {"name": name, "parameters": parameters, "tags": tags, "idempotency_key": idempotency_key})
        return run["id"]

    def find_run(self, name: str) -> Optional[str]:
        runs = self._call("POST", "/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}, "limit": 1,
                                                        "sort": "EXPECTED_START_TIME_DESC"})
        return runs[0]["id"] if runs else None

    def resume(self, flow_run_id: str, run_input: dict) -> bool:
        """Resume a suspended run with input. False when the run is not waiting (it will look again itself)."""
        try:
            answer = self._call("POST", f"/flow_runs/{flow_run_id}/resume", {"run_input": run_input})
        except WorkflowUnavailable as error:
            if error.status in (404, 409, 422):
                return False
            raise
        if answer.get("status") == "REJECT" and "schema not found" in str((answer.get("details") or {}).get("reason")):
            # Prefect's suspend records PAUSED before it stores the input's schema, so a stop between the two (seen
            # with `make down` under load) left a run that no input could ever resume. Store a schema accepting any
            # object (the flow checks its input itself) and ask once more.
            keyset = ((answer.get("state") or {}).get("state_details") or {}).get("run_input_keyset") or {}
            if keyset.get("schema"):
                self._call("POST", f"/flow_runs/{flow_run_id}/input",
                           {"key": keyset["schema"], "value": json.dumps({"type": "object"})})
                answer = self._call("POST", f"/flow_runs/{flow_run_id}/resume", {"run_input": run_input})
        # Prefect answers 200 with status REJECT when the run is not paused or the input is refused.
        return answer.get("status") == "ACCEPT"

    def state(self, flow_run_id: str) -> tuple[str, float]:
        """The run's state type (SCHEDULED, RUNNING, PAUSED, COMPLETED, FAILED, CRASHED...) and its age in seconds."""
        state = self._call("GET", f"/flow_runs/{flow_run_id}")["state"]
        since = datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00"))
        return state["type"], (datetime.now(timezone.utc) - since).total_seconds()

    def runs_in_trouble(self, flow_name: str, *, tags: list[str], stuck_after: float, failed_within: float) -> list[str]:
        """Names of the flow's runs that failed or crashed recently, or have been running longer than `stuck_after`
        seconds since they first started (the caller checks the state's own age): two filtered calls."""
        now = datetime.now(timezone.utc)
        failed = self._runs_matching(flow_name, tags, {"state": {"type": {"any_": ["FAILED", "CRASHED"]}},
                                                       "end_time": {"after_": _iso(now, -failed_within)}})
        running = self._runs_matching(flow_name, tags, {"state": {"type": {"any_": ["RUNNING"]}},
                                                        "start_time": {"before_": _iso(now, -stuck_after)}})
        return list(dict.fromkeys(r["name"] for r in failed + running))

    def _runs_matching(self, flow_name: str, tags: list[str], flow_runs: dict) -> list[dict]:
        return self._call("POST", "/flow_runs/filter", {
            "flows": {"name": {"any_": [flow_name]}}, "flow_runs": {**flow_runs, "tags": {"all_": tags}},
            "limit": 200, "sort": "EXPECTED_START_TIME_DESC"})

    def retry(self, flow_run_id: str) -> None:
        """Schedule a failed or crashed run again: it reruns from the top, as the Prefect UI's Retry does."""
        self._call("POST", f"/flow_runs/{flow_run_id}/set_state",
                   {"state": {"type": "SCHEDULED", "name": "AwaitingRetry"}, "force": True})

    def runs(self, name: str) -> list[dict]:
        runs = self._call("POST", "/flow_runs/filter", {"flow_runs": {"name": {"any_": [name]}}, "limit": 20,
                                                        "sort": "EXPECTED_START_TIME_DESC"})
        return [{"id": r["id"], "state": (r.get("state") or {}).get("type"),
                 "state_name": (r.get("state") or {}).get("name"), "started": r.get("start_time"),
                 "ended": r.get("end_time"), "url": f"{self._ui_url}/runs/flow-run/{r['id']}"} for r in runs]

    def cancel(self, flow_run_id: str) -> None:
        """Stop a run: a running one is told to cancel (its runner ends the process); any other ends now."""
        state = self._call("GET", f"/flow_runs/{flow_run_id}")["state"]["type"]
        target = "CANCELLING" if state == "RUNNING" else "CANCELLED"
        self._call("POST", f"/flow_runs/{flow_run_id}/set_state",
                   {"state": {"type": target, "message": "Cancelled by an operator"}, "force": True})

    def _deployment_id(self, deployment: str) -> str:
        if deployment not in self._deployment_ids:
            self._deployment_ids[deployment] = self._call("GET", f"/deployments/name/{deployment}")["id"]
        return self._deployment_ids[deployment]

    def _call(self, method: str, path: str, body: Optional[dict] = None):
        request = urllib.request.Request(f"{self._api_url}{path}", method=method, headers=self._headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        for attempt in range(BUSY_RETRIES + 1):
            try:
                with _http.open(request, timeout=self._timeout) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as error:
                # A busy server (SQLite "database is locked" shows as 503) is worth a short retry;
                # every call here is safe to repeat (creation carries an idempotency key).
                if error.code in (429, 503) and attempt < BUSY_RETRIES:
                    self._sleep(random.uniform(0.1, 0.4) * (attempt + 1))  # nosec B311 # retry jitter, not a secret
                    continue
                raise WorkflowUnavailable(f"Prefect answered {error.code} to {method} {path}", error.code) from None
            except (OSError, ValueError) as error:
                raise WorkflowUnavailable(f"Prefect unreachable: {error}") from None
