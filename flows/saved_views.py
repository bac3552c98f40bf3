"""Saved views of the Prefect UI's Runs page, by run tag (flows/serve.py): "Applications' runs" shows only each
application's own run, "Housekeeping runs" the scheduled passes and alerts. `make up` saves them (flows/serve.py);
against another server: `PREFECT_API_URL=... python -m flows.saved_views`. Saving again replaces a view of the same
name (Prefect's PUT /saved_searches/), so this is safe to repeat.
"""
from __future__ import annotations

import json
import urllib.request

VIEWS = {"Applications' runs": ["application"], "Housekeeping runs": ["housekeeping"],
         "Call-outs and Strategic IAG runs": ["group-business"]}
PAST_WEEK = {"type": "span", "seconds": -7 * 24 * 3600}  # the UI's own default range


def view(name: str, tags: list[str]) -> dict:
    """A saved search as the UI's "Save View" writes it (its filters are a list of flowRun properties)."""
    return {"name": name, "filters": [
        {"object": "flowRun", "property": "tag", "value": tags, "type": "", "operation": ""},
        {"object": "flowRun", "property": "range", "value": PAST_WEEK, "type": "", "operation": ""}]}


def save_views(api_url: str, headers: dict | None = None) -> list[str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a local URL: no proxy
    saved = []
    for name, tags in VIEWS.items():
        request = urllib.request.Request(f"{api_url.rstrip('/')}/saved_searches/", method="PUT",
                                         data=json.dumps(view(name, tags)).encode(),
                                         headers={"Content-Type": "application/json", **(headers or {})})
        with opener.open(request, timeout=10) as response:
            saved.append(json.loads(response.read())["id"])
    return saved


if __name__ == "__main__":
    from prefect.settings import PREFECT_API_KEY, PREFECT_API_URL

    key = PREFECT_API_KEY.value()
    print(save_views(PREFECT_API_URL.value(), {"Authorization": f"Bearer {key.get_secret_value()}"} if key else None))
