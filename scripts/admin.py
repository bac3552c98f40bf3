"""The operators' command line, over the same services as the API and the flows.

    .venv/bin/python -m scripts.admin --operator you@force incident raise --force northamptonshire \\
        --title "Disorder after the match" --summary "Advice on reassurance" --within 2h \\
        --lead-name "Supt Lead" --lead-email lead@force.example [--group northampton]
    ... incident answers|close --force northamptonshire --id INC-20261122-ABCD1234
    ... incident list --force F
    ... meetings list|plan --force F --group G
    ... meetings move --force F --group G --uid UID --to "2027-01-18 18:30" --note "Room double-booked"
    ... meetings cancel --force F --group G --uid UID --note "..."
    ... meetings extra --force F --group G --at "2026-11-24 19:00" --minutes 90 --venue "..." [--online] --purpose "..."
    ... election open --force F --group G --office chair --nominate-days 14 --vote-days 14
    ... election list --force F --group G;  election show|start-voting|declare --force F --group G --id ID
    ... strategic start|list --force F;  strategic show --force F --cycle ID
    ... strategic date --force F --cycle ID --at "2027-03-11 14:00"   (only when no date had a quorum)
    ... applications list --force F --group G [--stage awaiting_review] [--limit 25] [--next TOKEN]
    ... applications show|retry|cancel|resend --force F --ref REF
    ... reviewers list --force F --group G
    ... reviewers set --force F --group G --role iag_chair --name "..." --email ...
    ... roles list --force F
    ... roles set --force F --scope GROUP|appeal|force --role ROLE --name "..." --email ...
    ... members import --force F --file members.csv [--apply]
    ... export --force F --group G [--out FILE.csv]
    ... access-log --force F [--month 2026-11]

`--token ID_TOKEN` (or IAG_OPERATOR_TOKEN; `login` prints one) is the normal way: every command is a request to
the admin API over HTTP (scripts/admin_api.py) at `--api URL` (or IAG_API_URL, else IAG_PUBLIC_BASE_URL: the
deployed API, or the local stack's), so the server verifies the token, asks that operator's role for the force and
group, records who did what and keeps each force apart; a refusal (4xx) is printed and exits 2, changing nothing.
`--operator NAME` acts in process with the platform role through the stack's AWS credentials: it is kept for the
local stack and for break-glass only (`--break-glass` outside the local stack), and is recorded as cli:NAME.

Times are London times. It uses the environment's settings (IAG_AWS_ENDPOINT for the local stack: `make admin`).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", text)
    if not match:
        raise argparse.ArgumentTypeError("a duration like 90m, 2h or 1d")
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: int(match[1])})


def _london(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)
    except ValueError:
        raise argparse.ArgumentTypeError("a London time like '2027-01-18 18:30'") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="scripts.admin", description="IAG Back Office operations")
    who = top.add_mutually_exclusive_group()
    who.add_argument("--operator", help="who is acting with the platform role and the stack's AWS credentials "
                                        "(recorded): the local stack, or break-glass with --break-glass")
    who.add_argument("--token", default=os.environ.get("IAG_OPERATOR_TOKEN"),
                     help="an operator pool ID token (see `login`): every command goes to the admin API over HTTP "
                          "as that operator (their role, force and groups, checked and recorded by the server); "
                          "the normal way")
    top.add_argument("--api", help="the admin API's base URL for --token (default IAG_API_URL, else "
                                   "IAG_PUBLIC_BASE_URL, else the local stack's http://127.0.0.1:8000)")
    top.add_argument("--break-glass", action="store_true",
                     help="allow --operator outside the local stack (an emergency: say why in your records)")
    kinds = top.add_subparsers(dest="kind", required=True)

    login = kinds.add_parser("login", help="print an ID token for an operator of the pool")
    login.add_argument("--username", required=True)
    login.add_argument("--password", help="asked for when not given (the local stack's demo password otherwise)")

    applications = kinds.add_parser("applications").add_subparsers(dest="action", required=True)
    listing = applications.add_parser("list")
    listing.add_argument("--force", required=True)
    listing.add_argument("--group", required=True)
    listing.add_argument("--stage", default="awaiting_review")
    listing.add_argument("--limit", type=int, default=25)
    listing.add_argument("--next")
    for name in ("show", "retry", "cancel", "resend"):
        one = applications.add_parser(name)
        one.add_argument("--force", required=True)
        one.add_argument("--ref", required=True)

    reviewers = kinds.add_parser("reviewers").add_subparsers(dest="action", required=True)
    for name in ("list", "set"):
        command = reviewers.add_parser(name)
        command.add_argument("--force", required=True)
        command.add_argument("--group", required=True)
        if name == "set":
            command.add_argument("--role", required=True)
            command.add_argument("--name", required=True)
            command.add_argument("--email", required=True)

    export = kinds.add_parser("export")
    export.add_argument("--force", required=True)
    export.add_argument("--group", required=True)
    export.add_argument("--out", help="write the CSV here instead of printing it")

    subject = kinds.add_parser("subject-access", help="send one person a single-use link to everything held "
                                                      "about them (the operator sees only the request)")
    subject.add_argument("--force", required=True)
    found_by = subject.add_mutually_exclusive_group(required=True)
    found_by.add_argument("--email")
    found_by.add_argument("--ref")

    requests = kinds.add_parser("subject-access-requests", help="who asked for whose package, and when it was "
                                                                "delivered")
    requests.add_argument("--force", required=True)

    erase = kinds.add_parser("erase", help="erasure on request (identity removed, anonymised audit kept)")
    erase.add_argument("--force", required=True)
    erase.add_argument("--ref", required=True)
    erase.add_argument("--reason", required=True, help="the request's date and channel")
    erase.add_argument("--confirm", required=True, help="the reference again")

    report = kinds.add_parser("report")
    report.add_argument("which", choices=["equality", "recruitment"])
    report.add_argument("--force", required=True)
    report.add_argument("--group", help="one group (recruitment only)")
    report.add_argument("--period", help="an ended quarter (2026-Q3) or campaign-<id> (equality only; "
                                         "default: the latest ended quarter or campaign)")
    report.add_argument("--html", help="write the page with its charts here")

    access = kinds.add_parser("access-log")
    access.add_argument("--force", required=True)
    access.add_argument("--month", type=lambda text: datetime.strptime(text, "%Y-%m"))

    incident = kinds.add_parser("incident").add_subparsers(dest="action", required=True)
    raise_ = incident.add_parser("raise")
    raise_.add_argument("--force", required=True)
    raise_.add_argument("--title", required=True)
    raise_.add_argument("--summary", required=True)
    raise_.add_argument("--within", type=_duration, required=True)
    raise_.add_argument("--lead-name", required=True)
    raise_.add_argument("--lead-email", required=True)
    raise_.add_argument("--group", action="append")
    for name in ("answers", "close"):
        one = incident.add_parser(name)
        one.add_argument("--force", required=True)
        one.add_argument("--id", required=True)
    incident.add_parser("list").add_argument("--force", required=True)

    meetings = kinds.add_parser("meetings").add_subparsers(dest="action", required=True)
    for name in ("list", "plan", "move", "cancel", "extra"):
        command = meetings.add_parser(name)
        command.add_argument("--force", required=True)
        command.add_argument("--group", required=True)
        if name in ("move", "cancel"):
            command.add_argument("--uid", required=True)
            command.add_argument("--note", default="")
        if name == "move":
            command.add_argument("--to", type=_london, required=True)
        if name == "extra":
            command.add_argument("--at", type=_london, required=True)
            command.add_argument("--minutes", type=int, default=120)
            command.add_argument("--venue", required=True)
            command.add_argument("--online", action="store_true")
            command.add_argument("--purpose", required=True)

    election = kinds.add_parser("election").add_subparsers(dest="action", required=True)
    open_ = election.add_parser("open")
    open_.add_argument("--force", required=True)
    open_.add_argument("--group", required=True)
    open_.add_argument("--office", choices=["chair", "vice_chair"], required=True)
    open_.add_argument("--nominate-days", type=int, default=14)
    open_.add_argument("--vote-days", type=int, default=14)
    for name in ("list", "show", "start-voting", "declare"):
        one = election.add_parser(name)
        one.add_argument("--force", required=True)
        one.add_argument("--group", required=True)
        if name != "list":
            one.add_argument("--id", required=True)

    strategic = kinds.add_parser("strategic").add_subparsers(dest="action", required=True)
    strategic.add_parser("start").add_argument("--force", required=True)
    strategic.add_parser("list").add_argument("--force", required=True)
    for name in ("show", "date"):
        one = strategic.add_parser(name)
        one.add_argument("--force", required=True)
        one.add_argument("--cycle", required=True)
        if name == "date":
            one.add_argument("--at", type=_london, required=True, help="one of the dates offered (London time)")

    roles = kinds.add_parser("roles", help="every role the force's documents name, and who holds it").add_subparsers(
        dest="action", required=True)
    roles.add_parser("list").add_argument("--force", required=True)
    set_role = roles.add_parser("set")
    set_role.add_argument("--force", required=True)
    set_role.add_argument("--scope", required=True, help="a group id, 'appeal' (the appeal panel) or 'force'")
    set_role.add_argument("--role", required=True)
    set_role.add_argument("--name", required=True)
    set_role.add_argument("--email", required=True)

    members = kinds.add_parser("members", help="bring a force's serving members in").add_subparsers(
        dest="action", required=True)
    import_ = members.add_parser("import", help="a dry run unless --apply (docs/people.md lists the columns)")
    import_.add_argument("--force", required=True)
    import_.add_argument("--file", required=True, help="the CSV file")
    import_.add_argument("--apply", action="store_true", help="write the members (all or nothing)")
    return top


def _local_pool() -> None:
    """The local stack writes its operator pool's ids to .local/operators.json: use them unless told otherwise."""
    pool_file = Path(os.environ.get("IAG_LOCAL_DIR") or Path(__file__).resolve().parent.parent / ".local") / \
        "operators.json"
    if not os.environ.get("IAG_COGNITO_POOL_ID") and pool_file.exists():
        pool = json.loads(pool_file.read_text())
        os.environ.update(IAG_COGNITO_POOL_ID=pool["pool_id"], IAG_COGNITO_CLIENT_ID=pool["client_id"])


def _login(args, out) -> int:
    import getpass

    from chalicelib.adapters.cognito_sign_in import CognitoSignIn, SignInRefused
    from chalicelib.settings import Settings

    settings = Settings.from_env()
    if not settings.operator_client_id:
        raise ValueError("IAG_COGNITO_POOL_ID and IAG_COGNITO_CLIENT_ID are not set (is the local stack up?)")
    password = args.password or (os.environ.get("IAG_OPERATOR_PASSWORD") if settings.is_local else None) \
        or getpass.getpass(f"password for {args.username}: ")
    try:
        step = CognitoSignIn(settings.operator_client_id, settings.region, settings.aws_endpoint).sign_in(
            args.username, password)
    except SignInRefused as refused:
        raise PermissionError(str(refused)) from None
    if not step.id_token:  # a code or a new password: the pages (/admin/sign-in) take a person through those
        raise PermissionError(f"the pool asks for {step.challenge}: sign in on /admin/sign-in first")
    out(step.id_token)
    return 0


def run(args, out=print) -> int:
    from chalicelib import bootstrap
    from chalicelib.services.operators import Operator, Role

    _local_pool()
    if args.kind == "login":
        return _login(args, out)
    if not (args.token or args.operator):
        raise ValueError("say who is acting: --operator NAME (platform) or --token ID_TOKEN")
    if args.token:  # through the admin API, as that operator: the server checks, records and keeps forces apart
        from scripts import admin_api

        return admin_api.run(admin_api.AdminApi(admin_api.api_url(args.api), args.token), args, out)
    container = bootstrap.container()
    if container.settings.is_local or args.break_glass:
        # The stack's AWS credentials can read the table anyway: the platform role, recorded as cli:NAME.
        operator = Operator(f"cli:{args.operator}", Role.PLATFORM)
    else:
        raise PermissionError("--operator acts with the platform's AWS credentials: use --token (see `login`), "
                              "or --break-glass in an emergency")
    if args.kind in ADMIN_KINDS:
        return _admin(container.admin, operator, args, out, container.clock)
    if args.kind in PEOPLE_KINDS:
        return _people(container, operator, args, out)
    return _business(container.business_admin, operator, args, out)


def _business(business, operator, args, out) -> int:
    """Call-outs, meetings, elections and Strategic IAG cycles, through the same checks as the API and console."""
    if args.kind == "incident" and args.action == "raise":
        incident = business.raise_incident(
            operator, args.force, title=args.title, summary=args.summary, respond_within=args.within,
            police_lead_name=args.lead_name, police_lead_email=args.lead_email, groups=args.group)
        out(f"{incident.id}: members asked; answers close {incident.respond_by.astimezone(LONDON):%Y-%m-%d %H:%M}")
    elif args.kind == "incident" and args.action == "list":
        for incident in business.incidents(operator, args.force):
            out(f"{incident.id}  {incident.respond_by.astimezone(LONDON):%Y-%m-%d %H:%M}  {incident.title}")
    elif args.kind == "incident":
        if args.action == "close":
            business.close_incident(operator, args.force, args.id)
        _, responses = business.incident(operator, args.force, args.id)
        for response in responses:
            out(f"{response.name:<32} {response.group_id:<28} "
                f"{response.answer.value if response.answer else 'no answer':<16} {response.note}")
        from chalicelib.domain.callouts import tally
        out(f"{tally(responses)}")
    elif args.kind == "meetings":
        if args.action == "plan":
            out(f"{business.plan_meetings(operator, args.force, args.group)[1]} invitations sent")
        elif args.action == "move":
            business.move_meeting(operator, args.force, args.group, args.uid, args.to, args.note)
        elif args.action == "cancel":
            business.cancel_meeting(operator, args.force, args.group, args.uid, args.note)
        elif args.action == "extra":
            planned = business.extraordinary_meeting(operator, args.force, args.group, args.at, args.minutes,
                                                     args.venue, args.online, args.purpose)
            out(planned.meeting.uid_key)
        for planned in business.meetings(operator, args.force, args.group):
            state = "cancelled" if planned.cancelled else f"sequence {planned.sequence}"
            out(f"{planned.meeting.starts_at.astimezone(LONDON):%Y-%m-%d %H:%M}  {planned.meeting.uid_key}  {state}")
    elif args.kind == "election" and args.action == "open":
        election = business.open_election(operator, args.force, args.group, args.office, args.nominate_days,
                                          args.vote_days)
        out(f"{election.id}: nominations close {election.nominations_close.astimezone(LONDON):%Y-%m-%d %H:%M}")
    elif args.kind == "election" and args.action == "list":
        for election in business.elections(operator, args.force, args.group):
            out(f"{election.id}  {election.office.value}  {election.status.value}")
    elif args.kind == "election":
        act = {"show": business.election, "start-voting": business.start_voting, "declare": business.declare}
        followed = act[args.action](operator, args.force, args.group, args.id)
        out(f"{followed['election'].id}: {followed['phase'].value}; candidates: "
            f"{', '.join(c.name for c in followed['candidates']) or 'none'}"
            + (f"; elected: {', '.join(followed['result']['winners']) or 'nobody'}" if followed["result"] else ""))
    elif args.kind == "strategic" and args.action == "start":
        cycle, status = business.start_cycle(operator, args.force)
        out(f"{cycle.id}: {status}")
    elif args.kind == "strategic" and args.action == "list":
        for cycle in business.cycles(operator, args.force):
            out(f"{cycle.id}: {cycle.status.value}")
    elif args.kind == "strategic":
        if args.action == "date":
            business.set_cycle_date(operator, args.force, args.cycle, args.at)
        followed = business.cycle(operator, args.force, args.cycle)
        cycle = followed["cycle"]
        out(f"{cycle.id}: {cycle.status.value}" + (f", {cycle.chosen.astimezone(LONDON):%Y-%m-%d %H:%M}"
                                                  if cycle.chosen else ""))
        for slot, available in followed["slots"]:
            out(f"  {slot.astimezone(LONDON):%Y-%m-%d %H:%M}  {available} can come")
    return 0


ADMIN_KINDS = ("applications", "reviewers", "export", "access-log", "subject-access", "subject-access-requests",
               "erase", "report")
PEOPLE_KINDS = ("roles", "members")


def _people(container, operator, args, out) -> int:
    """Roles and member imports, answered as the API answers them (JSON); 1 when an import found problems."""
    if args.kind == "roles" and args.action == "set":
        answer = container.roles.set(operator, args.force, args.scope, args.role, args.name, args.email)
    elif args.kind == "roles":
        answer = container.roles.list(operator, args.force)
    else:
        text = Path(args.file).read_text(encoding="utf-8-sig")
        answer = container.member_import.run(operator, args.force, text, dry_run=not args.apply)
    out(json.dumps(answer, indent=2, ensure_ascii=False))
    return 1 if answer.get("problems") else 0


def _admin(service, operator, args, out, clock) -> int:
    """The admin service's answers, as the API gives them (JSON), or the CSV for an export."""
    if args.kind == "applications" and args.action == "list":
        answer = service.applications(operator, args.force, args.group, args.stage, limit=args.limit,
                                      next_token=args.next)
    elif args.kind == "applications":
        call = {"show": service.application, "retry": service.retry, "cancel": service.cancel,
                "resend": service.resend}[args.action]
        answer = call(operator, args.force, args.ref)
    elif args.kind == "reviewers" and args.action == "set":
        answer = service.set_reviewer(operator, args.force, args.group, args.role, args.name, args.email)
    elif args.kind == "reviewers":
        answer = service.reviewers(operator, args.force, args.group)
    elif args.kind == "export":
        text = service.export(operator, args.force, args.group)
        from scripts.admin_api import write_export

        return write_export(text, args.out, out)
    elif args.kind == "subject-access":
        answer = service.request_subject_access(operator, args.force, email=args.email, reference=args.ref)
    elif args.kind == "subject-access-requests":
        answer = service.subject_access_requests(operator, args.force)
    elif args.kind == "erase":
        answer = service.erase(operator, args.force, args.ref, reason=args.reason, confirm=args.confirm)
    elif args.kind == "report":
        answer = _report(service, operator, args, out)
    else:
        answer = service.access_log(operator, args.force, args.month or clock.now())
    out(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def _report(service, operator, args, out) -> dict:
    from chalicelib.adapters import admin_pages
    from chalicelib.adapters.force_files import FileForceCatalogue

    force = FileForceCatalogue().require(args.force)
    if args.which == "equality":
        report = service.equality_report(operator, args.force, args.period)
        if args.html:
            _write(args.html, admin_pages.render_equality_page(force, report, static_url=STATIC_URL), out)
        return report.to_dict()
    answer = service.recruitment(operator, args.force, args.group)
    if args.group:  # one group: already plain counts
        return answer
    if args.html:
        _write(args.html, admin_pages.render_recruitment_page(force, answer["funnel"], answer["queues"],
                                                              static_url=STATIC_URL), out)
    return {"funnel": answer["funnel"].to_dict(), "queues": answer["queues"].to_dict()}


# A saved page has no server beside it: its stylesheet link points at the local stack's copy.
STATIC_URL = f"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}/static/local"


def _write(path: str, text: str, out) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    out(f"written to {path}")


def main(argv=None) -> int:
    from chalicelib.services.admin import AdminConflict, InvalidRequest, NotFound
    from chalicelib.services.elections import ElectionRefused
    from chalicelib.services.operators import OperatorRefused
    from chalicelib.services.operators import Unauthenticated

    from scripts.admin_api import ApiFailed, ApiRefused

    args = parser().parse_args(argv)
    try:
        return run(args)
    except ApiRefused as refused:  # the API's problem+json: nothing changed
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    except ApiFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    except (ValueError, PermissionError, OperatorRefused, ElectionRefused, AdminConflict, InvalidRequest, NotFound,
            Unauthenticated) as refused:  # the services' refusals: nothing changed
        print(f"refused: {getattr(refused, 'message', refused)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
