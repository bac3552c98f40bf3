"""The CLI's `--token` path: every command is a call to the admin API over HTTP, as that operator.

The server then does everything a change needs (the token's verification, the role for the force and group, the
access log, tenancy); the CLI only turns arguments into a request and the answer into lines. Each change is one
request, so a refusal changes nothing; where the CLI shows a list after a change, that is a second, read-only
request. It needs no AWS credentials: only the API's address and the operator's ID token.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
LOCAL_API = "http://127.0.0.1:8000"  # the local stack's API (API_PORT)


class ApiRefused(Exception):
    """The API answered 4xx (a problem+json): nothing was changed."""

    def __init__(self, status: int, message: str, body: Any = None):
        super().__init__(f"{message} (HTTP {status})")
        self.status, self.message, self.body = status, message, body


class ApiFailed(Exception):
    """The API could not be reached, or failed (5xx): whether a change was made is for the server's log."""


def api_url(flag: Optional[str], env=os.environ) -> str:
    """`--api`, else IAG_API_URL, else IAG_PUBLIC_BASE_URL (the deployed API's address, or the local stack's)."""
    return (flag or env.get("IAG_API_URL") or env.get("IAG_PUBLIC_BASE_URL") or LOCAL_API).rstrip("/")


def path(*segments: str) -> str:
    return "/" + "/".join(urllib.parse.quote(str(s), safe="") for s in segments)


class AdminApi:
    def __init__(self, base_url: str, token: str, timeout: float = 60):
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def call(self, method: str, where: str, body: Optional[dict] = None, query: Optional[dict] = None) -> Any:
        """The answer's JSON (or text, for a CSV); ApiRefused on 4xx, ApiFailed otherwise."""
        query = {k: v for k, v in (query or {}).items() if v is not None}
        url = self._base + where + (f"?{urllib.parse.urlencode(query)}" if query else "")
        if not url.startswith(("http://", "https://")):
            raise ApiFailed(f"the API's address must start with http:// or https://, not {self._base!r}")
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        # A local stack's API is on loopback: never through a proxy the environment names for the internet.
        loopback = urllib.parse.urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
        opener = urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if loopback else []))
        try:
            with opener.open(request, timeout=self._timeout) as answer:  # nosec B310
                return _read(answer.headers.get("Content-Type", ""), answer.read())
        except urllib.error.HTTPError as error:
            content = _read(error.headers.get("Content-Type", ""), error.read())
            detail = (content.get("detail") or content.get("title")) if isinstance(content, dict) else None
            if 400 <= error.code < 500:
                raise ApiRefused(error.code, detail or str(content)[:300] or error.reason, content) from None
            raise ApiFailed(f"the API failed: HTTP {error.code} {detail or error.reason}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise ApiFailed(f"cannot reach the API at {self._base}: {getattr(error, 'reason', error)}") from None


def _read(content_type: str, data: bytes) -> Any:
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return json.loads(text or "null")
        except ValueError:
            return text
    return text


def _london(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(LONDON):%Y-%m-%d %H:%M}"


def run(api: AdminApi, args, out: Callable[[str], object] = print) -> int:
    """One command over the API; the exit code (1 when an import found problems)."""
    kind, action = args.kind, getattr(args, "action", None)
    handler = BUSINESS.get(kind)
    if handler is not None:
        return handler(api, args, out) or 0
    if kind == "members":
        return _import(api, args, out)
    if kind == "export":
        text = api.call("GET", path("admin", "forces", args.force, "groups", args.group, "export"))
        return write_export(text, args.out, out)
    if kind == "report":
        answer = _report(api, args, out)
    else:
        method, where, body, query = _admin_request(args, kind, action)
        answer = api.call(method, where, body, query)
    out(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def _admin_request(args, kind: str, action: Optional[str]) -> tuple[str, str, Optional[dict], Optional[dict]]:
    force = ("admin", "forces", args.force)
    if kind == "applications" and action == "list":
        return "GET", path(*force, "groups", args.group, "applications"), None, {
            "stage": args.stage, "limit": args.limit, "next": args.next}
    if kind == "applications":
        tail = () if action == "show" else (action,)
        return ("GET" if action == "show" else "POST"), path(*force, "applications", args.ref, *tail), None, None
    if kind == "reviewers" and action == "set":
        return "PUT", path(*force, "groups", args.group, "reviewers", args.role), {
            "name": args.name, "email": args.email}, None
    if kind == "reviewers":
        return "GET", path(*force, "groups", args.group, "reviewers"), None, None
    if kind == "subject-access":
        return "POST", path(*force, "subject-access"), {"email": args.email, "reference": args.ref}, None
    if kind == "subject-access-requests":
        return "GET", path(*force, "subject-access"), None, None
    if kind == "erase":
        return "POST", path(*force, "applications", args.ref, "erasure"), {
            "reason": args.reason, "confirm": args.confirm}, None
    if kind == "roles" and action == "set":
        return "PUT", path(*force, "roles", args.scope, args.role), {"name": args.name, "email": args.email}, None
    if kind == "roles":
        return "GET", path(*force, "roles"), None, None
    if kind == "access-log":
        return "GET", path(*force, "access-log"), None, {"month": args.month and f"{args.month:%Y-%m}"}
    raise ValueError(f"no admin API call for {kind} {action or ''}".strip())


def _import(api: AdminApi, args, out) -> int:
    text = Path(args.file).read_text(encoding="utf-8-sig")
    try:
        answer = api.call("POST", path("admin", "forces", args.force, "members", "import"),
                          {"csv": text, "dry_run": not args.apply})
    except ApiRefused as refused:
        if refused.status != 422 or not isinstance(refused.body, dict) or "report" not in refused.body:
            raise
        answer = refused.body["report"]  # a real run that found problems: nothing was written
    out(json.dumps(answer, indent=2, ensure_ascii=False))
    return 1 if answer.get("problems") else 0


def _report(api: AdminApi, args, out) -> dict:
    where = path("admin", "forces", args.force, "reports", args.which)
    if args.which == "equality":
        answer = api.call("GET", where, query={"period": args.period})
        if args.html:
            from chalicelib.domain.equality_report import EqualityReport
            _page(args, out, lambda force, admin_pages, static: admin_pages.render_equality_page(
                force, EqualityReport.from_dict(answer), static_url=static))
        return answer
    answer = api.call("GET", where, query={"group": args.group})
    if args.html and not args.group:
        from chalicelib.domain.recruitment import Funnel, Queues
        _page(args, out, lambda force, admin_pages, static: admin_pages.render_recruitment_page(
            force, Funnel.from_dict(answer["funnel"]), Queues.from_dict(answer["queues"]), static_url=static))
    return answer


def _page(args, out, render) -> None:
    from chalicelib.adapters import admin_pages
    from chalicelib.adapters.force_files import FileForceCatalogue
    from scripts.admin import STATIC_URL

    with open(args.html, "w", encoding="utf-8") as file:
        file.write(render(FileForceCatalogue().require(args.force), admin_pages, STATIC_URL))
    out(f"written to {args.html}")


# --- call-outs, meetings, elections and Strategic IAG cycles: the same lines the CLI printed before ---

def _incident(api: AdminApi, args, out) -> None:
    base = ("admin", "forces", args.force, "incidents")
    if args.action == "raise":
        incident = api.call("POST", path(*base), {
            "title": args.title, "summary": args.summary,
            "respond_within_minutes": int(args.within.total_seconds() // 60),
            "police_lead_name": args.lead_name, "police_lead_email": args.lead_email, "groups": args.group})
        out(f"{incident['id']}: members asked; answers close {_london(incident['respond_by'])}")
        return
    if args.action == "list":
        for incident in api.call("GET", path(*base))["incidents"]:
            out(f"{incident['id']}  {_london(incident['respond_by'])}  {incident['title']}")
        return
    if args.action == "close":
        api.call("POST", path(*base, args.id, "close"))
    shown = api.call("GET", path(*base, args.id))
    for response in shown["responses"]:
        out(f"{response['name']:<32} {response['group_id']:<28} {response['answer'] or 'no answer':<16} "
            f"{response['note']}")
    out(f"{shown['counts']}")


def _meetings(api: AdminApi, args, out) -> None:
    group = ("admin", "forces", args.force, "groups", args.group)
    if args.action == "plan":
        out(f"{api.call('POST', path(*group, 'meeting-plan'))['sent']} invitations sent")
    elif args.action == "move":
        api.call("POST", path(*group, "meetings", args.uid, "move"),
                 {"starts_at": args.to.isoformat(), "note": args.note})
    elif args.action == "cancel":
        api.call("POST", path(*group, "meetings", args.uid, "cancel"), {"note": args.note})
    elif args.action == "extra":
        out(api.call("POST", path(*group, "extraordinary-meetings"), {
            "starts_at": args.at.isoformat(), "minutes": args.minutes, "venue": args.venue, "online": args.online,
            "purpose": args.purpose})["uid_key"])
    for meeting in api.call("GET", path(*group, "meetings"))["meetings"]:
        state = "cancelled" if meeting["cancelled"] else f"sequence {meeting['sequence']}"
        out(f"{_london(meeting['starts_at'])}  {meeting['uid_key']}  {state}")


def _election(api: AdminApi, args, out) -> None:
    base = ("admin", "forces", args.force, "groups", args.group, "elections")
    if args.action == "open":
        election = api.call("POST", path(*base), {"office": args.office, "nominations_days": args.nominate_days,
                                                  "voting_days": args.vote_days})
        out(f"{election['id']}: nominations close {_london(election['nominations_close'])}")
        return
    if args.action == "list":
        for election in api.call("GET", path(*base))["elections"]:
            out(f"{election['id']}  {election['office']}  {election['status']}")
        return
    if args.action == "show":
        followed = api.call("GET", path(*base, args.id))
    else:
        followed = api.call("POST", path(*base, args.id, args.action))  # start-voting | declare
    result = followed.get("result")
    out(f"{followed['id']}: {followed['phase']}; candidates: "
        f"{', '.join(c['name'] for c in followed['candidates']) or 'none'}"
        + (f"; elected: {', '.join(result['winners']) or 'nobody'}" if result else ""))


def _strategic(api: AdminApi, args, out) -> None:
    base = ("admin", "forces", args.force, "strategic-cycles")
    if args.action == "start":
        cycle = api.call("POST", path(*base))
        out(f"{cycle['id']}: {cycle['status']}")
        return
    if args.action == "list":
        for cycle in api.call("GET", path(*base))["cycles"]:
            out(f"{cycle['id']}: {cycle['status']}")
        return
    if args.action == "date":
        api.call("POST", path(*base, args.cycle, "date"), {"starts_at": args.at.isoformat()})
    followed = api.call("GET", path(*base, args.cycle))
    out(f"{followed['id']}: {followed['status']}" + (f", {_london(followed['chosen'])}" if followed["chosen"] else ""))
    for slot in followed["availability"]:
        out(f"  {_london(slot['slot'])}  {slot['available']} can come")


BUSINESS: dict[str, Callable[[AdminApi, Any, Callable], Optional[int]]] = {
    "incident": _incident, "meetings": _meetings, "election": _election, "strategic": _strategic}


def write_export(text: str, path: Optional[str], out: Callable[[str], Any]) -> int:
    """An export's CSV to `path` (as is: its own line endings), else to the terminal; the same over HTTP or not."""
    if path:
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        rows = text.count("\n") - 1  # less the header
        out(f"{rows} application{'' if rows == 1 else 's'} written to {path}")
    else:
        out(text.rstrip("\n"))
    return 0
