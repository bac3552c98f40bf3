"""A force's first day, on the real local stack (moto, a Prefect server, the flows served, the API), for five forces.

The operator imports the force's serving members (a dry run that finds the planted errors first), gives every role
its holder, plans the meetings with an online link, agenda and papers, records who came to an extra meeting and
publishes its minutes, raises a call-out, runs an election and ends terms; the members act only through the links in
their emails. The operator acts through the admin API as the force's administrator (signed in with the CLI, `make
admin ARGS="login ..."`). The daily `member-life` flow is run on the stack's Prefect; the two steps only days can move
on (an election's nominations and voting closing) are run on the stack's data with a clock days ahead
(tests/day_one_later.py, for one force at a time).

The five forces' days run side by side on the one stack, each in its own thread, as five forces would use one
service; each force's test reports its own day. The daily run acts on every force, so it runs once, when every force
has reached it. Each force's people have their own addresses, so what one force's day finds in the mailbox is its own.
"""
from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from html import unescape
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.domain.member_import import member_id_for
from chalicelib.domain.roles import office_role
from tests.stack import (
    ROOT, SharedMailbox, links_in, post_form, request, stack_environment, start_ready, state_dir, stop, urls,
)

pytestmark = pytest.mark.slow
LONDON = ZoneInfo("Europe/London")
# The group each force's day is run in; Avon and Somerset's Counter Terrorism IAG is its only one that screens.
GROUP = {"derbyshire": "derbyshire-iag", "thames-valley": "reading", "northamptonshire": "northampton",
         "greater-manchester": "city-of-manchester", "avon-and-somerset": "counter-terrorism"}
# The flows' process keeps the contacts operators set this long (IAG_CONTACTS_TTL_SECONDS; a minute by default).
CONTACTS_TTL = 1.0
WAIT = 300  # s: the longest any one email, run or page may take on a loaded 2-core machine
TOGETHER = 900  # s: the longest a force may wait for the others at a step run once for all
DAY = 1800  # s: a whole day at most; every wait in it is bounded, this only stops a thread that hangs
# From planning the extra meeting to its start: its invitation and a member's apologies must come first (4-6 s of
# five forces' days on a loaded 2-core machine); the day's other steps go on meanwhile, so a longer lead is waited for.
EXTRA_MEETING_LEAD = timedelta(seconds=90)
HEADER = ("name,email,phone,group,role,joined_on,term_ends_on,screening_outcome,screening_level,screening_date,"
          "screening_expires,agreement_signed_on")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = state_dir("iag-day-one-")  # not under pytest's root, which PostgreSQL must pass through
    env = {**stack_environment(folder / "local"), "IAG_CONTACTS_TTL_SECONDS": str(CONTACTS_TTL)}
    api, prefect, moto = urls(env)
    stack = {"env": env, "api": api, "prefect": prefect, "mailbox": SharedMailbox(moto)}
    logs = tmp_path_factory.mktemp("logs")
    stack["later"] = Later(admin_env(stack), logs / "later.err")  # its imports overlap the stack's start
    try:
        running = start_ready(env, logs / "up.out")
        try:
            yield stack
        finally:
            stop(running, env)
    finally:
        stack["later"].close()
        shutil.rmtree(folder, ignore_errors=True)


def admin_env(stack) -> dict:
    """What `make admin` sets, for this stack's ports."""
    return {**stack["env"], "IAG_STAGE": "local", "IAG_AWS_ENDPOINT": stack["mailbox"].moto_url,
            "IAG_PREFECT_API_URL": f"{stack['prefect']}/api", "IAG_PUBLIC_BASE_URL": stack["api"],
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-2",
            "IAG_OPERATOR_PASSWORD": "Local-Operator-1"}


def run(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=admin_env(stack), capture_output=True, text=True,
                          timeout=180)


class Later:
    """tests/day_one_later.py serving the "days later" steps from one process started with the stack: the forces'
    steps side by side, each on a container of its own, without a new interpreter's imports (two steps per force)."""

    def __init__(self, env: dict, errors: Path):
        self.errors = errors
        with open(errors, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "tests.day_one_later", "--serve"], cwd=ROOT,
                                            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=out,
                                            text=True)
        self._lock = threading.Lock()
        self._asked = 0
        self._waiting: dict[str, queue.Queue] = {}  # a step's id -> where its answer goes
        self._ready = threading.Event()
        self._ended = ""
        threading.Thread(target=self._read, name="day-one-later", daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue  # not an answer (answers come by id; a step left without one times out, saying so)
            if answer.get("ready"):
                self._ready.set()
            elif answer.get("id") in self._waiting:
                self._waiting.pop(answer["id"]).put(answer)
        self._ended = f"the days-later process ended:\n{self.errors.read_text(errors='replace')[-3000:]}"
        self._ready.set()
        for waiting in list(self._waiting.values()):
            waiting.put({"failed": self._ended})

    def step(self, force_id: str, days: float, step: str) -> dict:
        assert self._ready.wait(timeout=180) and not self._ended, self._ended or "the days-later process never started"
        answers: queue.Queue = queue.Queue()
        with self._lock:
            self._asked += 1
            ident = f"{force_id}-{self._asked}"
            self._waiting[ident] = answers
            self.process.stdin.write(f"{ident} {force_id} {days} {step}\n")
            self.process.stdin.flush()
        try:
            answer = answers.get(timeout=180)  # as a step's own process was given
        except queue.Empty:
            raise AssertionError(f"no answer to {step} {days} days later for {force_id} within 180 s") from None
        assert "failed" not in answer, f"{step} {days} days later for {force_id}: {answer['failed']}"
        return answer["ok"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # it ends when its input does and the steps asked have answered
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def days_later(stack, force_id: str, days: float, step: str) -> dict:
    return stack["later"].step(force_id, days, step)


class Admin:
    """The admin API as one force's administrator (a demo operator of the stack's pool)."""

    def __init__(self, stack, force_id: str):
        self.base = f"{stack['api']}/admin/forces/{force_id}"
        done = run(stack, "-m", "scripts.admin", "login", "--username", f"admin.{force_id}")
        assert done.returncode == 0, done.stderr
        self.token = done.stdout.strip()

    def __call__(self, method: str, path: str, body=None):
        status, _, answer = request(method, f"{self.base}{path}", body, timeout=WAIT,
                                    headers={"Authorization": self.token})
        return status, json.loads(answer or b"null")


def prefect_run(stack, run_id: str, until: tuple[str, ...], what: str) -> str:
    """Wait for a flow run on the stack's Prefect to reach one of the state types `until`; the one it reached."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        state = json.loads(request("GET", f"{stack['prefect']}/api/flow_runs/{run_id}", timeout=60)[2])["state"]
        if state and state["type"] in until + ("FAILED", "CRASHED", "CANCELLED"):
            assert state["type"] in until, f"{what}: {state['type']} {state.get('message')}"
            return state["type"]
        time.sleep(1)
    raise AssertionError(f"{what} did not reach {until} within {WAIT} s")


def member_life(stack) -> None:
    """Run the daily `member-life` deployment now on the stack's Prefect, and wait for it to finish."""
    prefect = stack["prefect"]
    deployment = json.loads(request("GET", f"{prefect}/api/deployments/name/member-life/member-life",
                                    timeout=60)[2])["id"]
    status, _, body = request("POST", f"{prefect}/api/deployments/{deployment}/create_flow_run", {}, timeout=60)
    assert status == 201, body
    prefect_run(stack, json.loads(body)["id"], ("COMPLETED",), "the member-life run")


def callout_asked(stack, incident_id: str) -> None:
    """Wait until the call-out's run (named by the incident) has asked everyone it asks and waits for answers."""
    deadline = time.monotonic() + WAIT
    while not (runs := json.loads(request("POST", f"{stack['prefect']}/api/flow_runs/filter", {
            "flow_runs": {"name": {"any_": [incident_id]}}, "limit": 1}, timeout=60)[2])):
        assert time.monotonic() < deadline, f"no run for the call-out {incident_id} within {WAIT} s"
        time.sleep(1)
    prefect_run(stack, runs[0]["id"], ("PAUSED",), f"the call-out {incident_id}'s run")


class Together:
    """The forces' days side by side, each in its own thread. A step that acts on every force (the daily run) runs
    once, when every force has reached it; a force that fails releases the others (they fail there, saying why)
    rather than leaving them waiting."""

    def __init__(self, stack, forces: list[str]):
        self.stack, self.forces = stack, forces
        self.outcomes: dict[str, BaseException | None] = {}
        self.took: dict[str, float] = {}
        self.steps: dict[str, list[tuple[str, float]]] = {f: [] for f in forces}  # (step, when it ended)
        self._lock = threading.Lock()
        self._roles_set = 0.0
        self._why: str = ""
        self._daily = threading.Barrier(len(forces), action=self._member_life, timeout=TOGETHER)

    def run_all(self) -> None:
        threads = [threading.Thread(target=self._day, args=(f,), name=f"day-one-{f}", daemon=True)
                   for f in self.forces]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + DAY
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for force_id in self.forces:
            self.outcomes.setdefault(force_id, AssertionError(f"{force_id}'s day did not end within {DAY} s"))

    def done(self, force_id: str, step: str) -> None:
        self.steps[force_id].append((step, time.monotonic()))

    def timeline(self, force_id: str) -> str:
        """Each step's seconds, e.g. "import 30, roles 12, ..."."""
        marks = self.steps[force_id]
        return ", ".join(f"{step} {end - start:.0f}" for (_, start), (step, end) in pairwise(marks))

    def daily_run(self, roles_set: float) -> None:
        """The daily `member-life` run, once every force has set its roles and planned its meetings."""
        with self._lock:
            self._roles_set = max(self._roles_set, roles_set)
        try:
            self._daily.wait()
        except threading.BrokenBarrierError:
            raise AssertionError(
                f"the daily run, once for every force, did not happen: {self._why or 'timed out'}") from None

    def _member_life(self) -> None:
        try:
            # The flows' process reads the contacts operators set (the vetting unit) at most once per CONTACTS_TTL.
            time.sleep(max(0.0, CONTACTS_TTL + 1 - (time.monotonic() - self._roles_set)))
            member_life(self.stack)  # asks for agenda items, ends and reminds terms, renews checks
        except BaseException as failure:
            self._why = f"the member-life run failed: {failure!r}"
            raise

    def _day(self, force_id: str) -> None:
        began = time.monotonic()
        self.done(force_id, "start")
        try:
            first_day(self.stack, force_id, self)
            self.outcomes[force_id] = None
        except BaseException as failure:  # noqa: BLE001 -- whatever it is, the force's own test raises it
            self.outcomes[force_id] = failure
            self._why = self._why or f"{force_id}'s day failed before it ({failure!r})"
            self._daily.abort()
        finally:
            self.took[force_id] = time.monotonic() - began


def mails(stack, to: str, subject: str = "", messages: list[dict] | None = None) -> list[dict]:
    """The emails sent to `to` whose subject holds `subject`, in the order sent."""
    return [m for m in (stack["mailbox"].messages() if messages is None else messages)
            if to in m["to"] and subject in m["subject"]]


def wait_mail(stack, to: str, subject: str = "", count: int = 1) -> list[dict]:
    return stack["mailbox"].wait(lambda messages: (lambda found: found if len(found) >= count else None)(
        mails(stack, to, subject, messages)), timeout=WAIT, what=f"{count} email(s) to {to} about {subject!r}")


def press(url: str, fields: dict) -> tuple[int, str]:
    """A member pressing a page's button (the API may be busy with four other forces' requests)."""
    return post_form(url, fields, timeout=WAIT)


def link(message: dict, kind: str) -> str:
    [found, *_] = links_in(message, kind)
    return found


class Person:
    def __init__(self, key: str, force_id: str, role: str = "member", term_ends: date | None = None,
                 expires: date | None = None, signed: bool = True):
        self.key, self.role, self.term_ends, self.expires, self.signed = key, role, term_ends, expires, signed
        self.name = f"{key.replace('-', ' ').title()} {force_id.split('-')[0].title()}"
        self.email = f"{key}.{force_id}@day-one.example"


def people(force_id: str, screens: bool, today: date) -> dict[str, Person]:
    """The group's serving members as the force's spreadsheet has them, each there for a step of the day."""
    far = today + timedelta(days=900)
    group = [
        Person("chair", force_id, role="chair", expires=far),
        Person("called", force_id, expires=far),  # may be called; stands for chair
        Person("unsigned", force_id, expires=far, signed=False),  # asked to sign; not called until they do
        Person("renews", force_id, term_ends=today + timedelta(days=20), expires=far),  # asks to continue
        Person("term-ends", force_id, term_ends=today - timedelta(days=1), expires=far),  # not renewed: ends
        Person("steps-down", force_id, expires=far),
    ]
    if screens:  # a check renewed before it expires, and one that has run out
        group += [Person("rescreen", force_id, expires=today + timedelta(days=30)),
                  Person("lapsed", force_id, expires=today - timedelta(days=1))]
    return {p.key: p for p in group}


def csv_row(person: Person, group_id: str, level: str) -> str:
    screening = (f"clear,{level},{(person.expires - timedelta(days=3 * 365)).isoformat()},{person.expires.isoformat()}"
                 if level != "none" else ",,,")
    term = person.term_ends.isoformat() if person.term_ends else ""
    signed = "2024-03-11" if person.signed else ""
    return (f"{person.name},{person.email},,{group_id},{person.role.replace('_', ' ')},2024-03-11,{term},"
            f"{screening},{signed}")


def planted_errors(group_id: str, level: str) -> tuple[list[str], set[tuple[int, str]]]:
    """Rows with a mistake each, and the (line, column) the dry run must report for each (the header is line 1)."""
    screening = f"clear,{level},2025-01-10,2028-01-09" if level != "none" else ",,,"
    rows = [
        f"Bad Email,bad-email.example,,{group_id},member,2024-03-11,,{screening},",
        f"No Such Group,nsg@day-one.example,,no-such-group,member,2024-03-11,,{screening},",
        f"Treasurer,treasurer@day-one.example,,{group_id},treasurer,2024-03-11,,{screening},",
        f"Bad Date,bad-date@day-one.example,,{group_id},member,2024-13-01,,{screening},",
        # The force's own screening rule: missing where the group screens, refused where it does not.
        (f"Wrong Check,wrong@day-one.example,,{group_id},member,2024-03-11,,,,,," if level != "none" else
         f"Wrong Check,wrong@day-one.example,,{group_id},member,2024-03-11,,clear,basic,2025-01-10,2028-01-09,"),
    ]
    wrong_check = ({(6, c) for c in ("screening_outcome", "screening_level", "screening_date", "screening_expires")}
                   if level != "none" else {(6, "screening_outcome")})
    return rows, {(2, "email"), (3, "group"), (4, "role"), (5, "joined_on")} | wrong_check


@pytest.fixture(scope="module")
def days(stack) -> Together:
    together = Together(stack, sorted(GROUP))
    together.run_all()
    return together


@pytest.mark.parametrize("force_id", sorted(GROUP))
def test_a_forces_first_day(days, force_id):
    print(f"{force_id}: day one in {days.took.get(force_id, DAY):.0f} s (the five side by side): "
          f"{days.timeline(force_id)}")
    failure = days.outcomes[force_id]
    if failure is not None:
        raise failure


def first_day(stack, force_id: str, together: Together) -> None:
    force = FileForceCatalogue().require(force_id)
    group = force.require_group(GROUP[force_id])
    screens = group.screening != "none"
    today = datetime.now(LONDON).date()
    team = people(force_id, screens, today)
    admin = Admin(stack, force_id)

    # --- 1. Import: a dry run finds the planted errors, a real run with them writes nothing, then the good file ---
    bad_rows, expected = planted_errors(group.id, group.screening)
    good = "\n".join([HEADER] + [csv_row(p, group.id, group.screening) for p in team.values()]) + "\n"
    with_errors = "\n".join([HEADER] + bad_rows + [csv_row(team["called"], group.id, group.screening)]) + "\n"
    status, report = admin("POST", "/members/import", {"csv": with_errors, "dry_run": True})
    assert status == 200 and {(p["line"], p["column"]) for p in report["problems"]} == expected, report
    status, refused = admin("POST", "/members/import", {"csv": with_errors, "dry_run": False})
    assert status == 422 and refused["report"]["applied"] is False
    status, dry = admin("POST", "/members/import", {"csv": good, "dry_run": True})
    assert status == 200 and dry["problems"] == [] and len(dry["created"]) == len(team)
    status, done = admin("POST", "/members/import", {"csv": good, "dry_run": False})
    assert status == 200 and done["applied"] and done["welcomed"] == len(team), done
    ids = {key: member_id_for(force_id, p.email) for key, p in team.items()}
    assert sorted(done["created"]) == sorted(ids.values())
    status, again = admin("POST", "/members/import", {"csv": good, "dry_run": False})
    assert (again["created"], again["updated"], again["welcomed"]) == ([], [], 0)  # idempotent
    assert not mails(stack, "wrong@day-one.example") and not mails(stack, "bad-date@day-one.example")
    welcome = {key: wait_mail(stack, p.email, "your membership in the new system")[0] for key, p in team.items()}
    assert links_in(welcome["unsigned"], "members/agreement") and not links_in(welcome["called"], "members/agreement")

    together.done(force_id, "import")
    # --- 2. Every role the profile names gets a holder; the imported chair already holds the group's chair role ---
    status, listed = admin("GET", "/roles")
    assert status == 200
    chair_roles = {(o.scope, o.role) for o in office_role(force, group.id, "chair")}
    holders = {}
    for entry in listed["roles"]:
        scope, role = entry["scope"], entry["role"]
        if (scope, role) in chair_roles:
            assert entry["holder"]["email"] == team["chair"].email, entry
            continue
        holders[(scope, role)] = f"{role.replace('_', '.')}.{scope}.{force_id}@day-one.example"
        status, answer = admin("PUT", f"/roles/{scope}/{role}", {"name": role.replace("_", " ").title(),
                                                                 "email": holders[(scope, role)]})
        assert status == 200, answer
    roles_set = time.monotonic()
    status, listed = admin("GET", "/roles")
    assert all(entry["holder"] for entry in listed["roles"])

    together.done(force_id, "roles")
    # --- 3. Meetings: planned, an online link for the series, the agenda from those the profile names, papers ---
    status, plan = admin("POST", f"/groups/{group.id}/meeting-plan", {})
    assert status == 200 and plan["meetings"], plan
    series = group.meetings[0]
    status, linked = admin("PUT", f"/groups/{group.id}/online-link", {"url": f"https://teams.example/{force_id}",
                                                                      "series": series.name})
    assert status == 200 and linked["meetings"], linked
    first = linked["meetings"][0]
    online = stack["mailbox"].wait(lambda _: [m for m in mails(stack, team["called"].email)
                                              if f"https://teams.example/{force_id}" in m["body"]],
                                   timeout=WAIT, what="the invitations with the online link")
    assert all(a.endswith(".ics") for m in online for a in m["attachments"]) and online[0]["attachments"]
    together.done(force_id, "meetings planned")
    # The daily run (once, for every force, when all are here): asks for agenda items, and (below) ends and reminds
    # terms, renews checks.
    together.daily_run(roles_set)
    together.done(force_id, "daily run (with waiting for the others)")
    # An extra meeting that starts EXTRA_MEETING_LEAD from now, for attendance and minutes later in the day (planned
    # here, after the daily run, so the rest of the day happens while it comes); a member sends apologies from its
    # invitation (answers close when it starts).
    starts = (datetime.now(LONDON) + EXTRA_MEETING_LEAD).replace(microsecond=0)
    status, planned = admin("POST", f"/groups/{group.id}/extraordinary-meetings", {
        "starts_at": f"{starts:%Y-%m-%dT%H:%M:%S}", "minutes": 15, "venue": "Online", "online": True,
        "purpose": "Day one: meeting the new system"})
    assert status == 201, planned
    extra = planned["uid_key"]
    [invite] = stack["mailbox"].wait(lambda _: [m for m in mails(stack, team["renews"].email)
                                                if "extraordinary meeting" in m["body"] and links_in(m, "attend")],
                                     timeout=WAIT, what="the extra meeting's invitation")
    assert press(link(invite, "attend"), {"answer": "apologies"})[0] == 200
    together.done(force_id, "extra meeting")
    if series.agenda_by:  # Northamptonshire: "agreed between the Chair and the Inspector"
        ask = wait_mail(stack, team["chair"].email, "Agenda items")[0]  # the first meeting's: asked in date order
        assert press(link(ask, "agenda"), {"items": "Stop and search update\nFeedback on the summer events"})[0] == 200
        for role in series.agenda_by:
            if (group.id, role) in holders:
                wait_mail(stack, holders[(group.id, role)], "Agenda items")
    else:  # the profile names nobody to propose items: nobody is asked
        assert not mails(stack, team["chair"].email, "Agenda items")
    together.done(force_id, "agenda")
    paper = {"filename": "update.pdf", "title": "Neighbourhood policing update", "content_base64": "JVBERi0xLjQgdXBkYXRl"}
    status, answer = admin("POST", f"/groups/{group.id}/meetings/{first}/papers", paper)
    assert status == 201, answer
    status, answer = admin("POST", f"/groups/{group.id}/meetings/{first}/send-papers", {})
    assert status == 200 and answer["sent"] >= 1, answer
    [papers] = wait_mail(stack, team["called"].email, "Agenda and papers")
    if series.agenda_by:
        assert "Stop and search update" in papers["body"]
    page = request("GET", link(papers, "papers"), timeout=WAIT)[2].decode()
    assert "Neighbourhood policing update" in page
    [paper_link] = [unescape(h) for h in re.findall(r'href="([^"]*/papers/[^"]+/1)"', page)]
    # The page redirects to a presigned link to the private bucket (moto here), which serves the paper.
    status, _, body = request("GET", paper_link if paper_link.startswith("http") else f"{stack['api']}{paper_link}",
                              timeout=WAIT)
    assert status == 200 and body == b"%PDF-1.4 update"
    together.done(force_id, "papers")
    # --- 4. The daily run: a term ended without renewal, a term reminded, checks renewed or paused ---
    [ended] = wait_mail(stack, team["term-ends"].email, "Your membership has ended")
    assert "was not renewed" in ended["body"]
    status, record = admin("GET", f"/groups/{group.id}/members/{ids['term-ends']}")
    assert record["status"] == "term_ended"
    [reminder] = wait_mail(stack, team["renews"].email, "Your term is ending")
    if screens:  # the vetting unit the operator set is asked before the check expires; a lapsed check pauses
        vetting = holders[("force", "vetting_unit")]
        wait_mail(stack, vetting, f"Please renew the screening of member {ids['rescreen']}")
        wait_mail(stack, team["rescreen"].email, "Your screening check is being renewed")
        wait_mail(stack, team["lapsed"].email, "You are paused from call-outs")
    else:  # the group does not screen: nobody is asked to renew a check
        assert not [m for m in stack["mailbox"].messages() if "Please renew the screening" in m["subject"]
                    and ids["called"] in m["subject"]]

    together.done(force_id, "terms and checks")
    # --- 5. A member steps down through the link in their welcome; they, the chair and the coordinator are told ---
    assert press(link(welcome["steps-down"], "step-down"), {"reason": "Moving away"})[0] == 200
    wait_mail(stack, team["steps-down"].email, "You have stepped down")
    wait_mail(stack, team["chair"].email, f"{team['steps-down'].name} ({ids['steps-down']})")
    coordinator = next(e for e in listed["roles"] if (e["scope"], e["role"]) == ("force", "iag_coordinator"))
    wait_mail(stack, coordinator["holder"]["email"], f"({ids['steps-down']})")

    together.done(force_id, "step down")
    # --- 6. A call-out reaches only the imported members who may be called ---
    title = f"Day one call-out for {force.name}"
    status, incident = admin("POST", "/incidents", {
        "title": title, "summary": "Advice on reassurance after an incident", "respond_within_minutes": 120,
        "police_lead_name": "Supt Lead", "police_lead_email": f"lead.{force_id}@day-one.example",
        "groups": [group.id]})
    assert status == 201, incident
    callable_now = {"chair", "called", "renews"} | ({"rescreen"} if screens else set())
    stack["mailbox"].wait(lambda _: all(mails(stack, team[k].email, title) for k in callable_now), timeout=WAIT,
                          what="the call-out")
    callout_asked(stack, incident["id"])  # its run has asked everyone it asks: any wrong one has been sent too
    called = {key for key, p in team.items() if mails(stack, p.email, title)}
    assert called == callable_now  # not: unsigned, term ended, stepped down, (where screened) lapsed

    together.done(force_id, "call-out")
    # --- 7. The term with renewal: the member asks, the coordinator agrees, the term moves on ---
    assert press(link(reminder, "continue"), {})[0] == 200
    status, renewed = admin("POST", f"/groups/{group.id}/members/{ids['renews']}/renewal", {"agree": True})
    assert status == 200, renewed
    assert renewed["term_ends_on"] == team["renews"].term_ends.replace(
        year=team["renews"].term_ends.year + force.onboarding.term_years).isoformat()
    if screens:  # the renewed check recorded: the pause is lifted
        status, checked = admin("POST", f"/groups/{group.id}/members/{ids['lapsed']}/screening", {
            "outcome": "clear", "level": group.screening, "completed_on": today.isoformat()})
        assert status == 200 and checked["callouts_paused"] == "" and checked["screening"]["expires_on"] > today.isoformat()

    together.done(force_id, "renewal")
    # --- 8. An election on the imported members; the winner takes the group's chair role ---
    status, election = admin("POST", f"/groups/{group.id}/elections", {"office": "chair", "nominations_days": 1,
                                                                        "voting_days": 1})
    assert status == 201, election
    [stand] = wait_mail(stack, team["called"].email, "nominations are open")
    assert press(link(stand, "stand"), {"statement": "I will chair fairly."})[0] == 200
    together.done(force_id, "election: a candidate")
    assert days_later(stack, force_id, 1.01, "elections")["voting_started"] == 1
    together.done(force_id, "voting opened")
    for voter in ("called", "chair", "renews"):
        [ballot] = wait_mail(stack, team[voter].email, "Vote for Chair")
        status, paper_page = press(link(ballot, "vote"), {})
        assert status == 200, paper_page
        [paper_token] = re.findall(r'name="paper" value="([^"]+)"', paper_page)
        assert press(f"{stack['api']}/ballot", {"paper": paper_token, "candidate": ids["called"]})[0] == 200
    together.done(force_id, "votes")
    assert days_later(stack, force_id, 2.02, "elections")["closed"] == 1
    together.done(force_id, "count")
    status, listed = admin("GET", "/roles")
    for entry in listed["roles"]:
        if (entry["scope"], entry["role"]) in chair_roles:
            assert entry["holder"]["email"] == team["called"].email, entry
    status, winner = admin("GET", f"/groups/{group.id}/members/{ids['called']}")
    assert winner["role"] == "chair"
    together.done(force_id, "the winner in the chair")
    # --- 9. The extra meeting: the coordinator records who came (one sent apologies), the minutes go out ---
    while datetime.now(LONDON) < starts + timedelta(seconds=2):
        time.sleep(2)
    together.done(force_id, "until the extra meeting starts")
    present = [ids["chair"], ids["called"]]
    status, record = admin("POST", f"/groups/{group.id}/meetings/{extra}/attendance", {"present": present})
    assert status == 200 and record["attended"] == sorted(present) and record["answers"] == {ids["renews"]: "apologies"}
    action = {"title": "Feed back to the police on the reassurance plan", "owner_name": team["called"].name,
              "owner_email": team["called"].email, "due_on": (today + timedelta(days=14)).isoformat(),
              "feedback_to_police": True}
    status, record = admin("POST", f"/groups/{group.id}/meetings/{extra}/minutes",
                           {"text": "Members met the new system.", "actions": [action]})
    assert status == 200 and record["minutes"] and record["actions"][0]["feedback_to_police"], record
    [minutes] = wait_mail(stack, team["renews"].email, "Minutes:")
    assert "Feed back to the police on the reassurance plan" in minutes["body"]
    assert not mails(stack, team["steps-down"].email, "Minutes:")  # no longer a member
    together.done(force_id, "attendance and minutes")
