"""The twice-yearly Strategic IAG for Northamptonshire: the `strategic-iag` flow run on a Prefect test server,
moto as AWS, people acting through the links in their emails."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role
from tests.conftest import sent_emails

LONDON = ZoneInfo("Europe/London")
LOCAL = ["northampton", "north-northamptonshire", "east-northamptonshire", "daventry-south-northamptonshire"]
SENIOR = {"chief_superintendent": "chief.superintendent@northants.example",
          "opfcc_representative": "opfcc@northants.example", "strategic_iag_chair": "strategic.chair@northants.example"}


@pytest.fixture(scope="module")
def prefect_server():
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # A shared 2-core machine under load took over the default 30 s to start the ephemeral server.
    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@pytest.fixture
def northamptonshire(api):
    """Three members in each local IAG (the first its chair), each IAG's chair as panel holder, and the senior
    representatives."""
    people = bootstrap.container().review_store
    for group in LOCAL:
        for n in range(1, 4):
            # Member 1 chairs the IAG: the seed makes the chair one of its two nominees.
            member_item(Member(f"{group}-{n}", "northamptonshire", group, Role.CHAIR if n == 1 else Role.MEMBER,
                               f"{group} member {n}",
                                f"{group}.{n}@example.org", "", date(2026, 1, 5), date(2029, 1, 5), {},
                                None, "confidentiality-agreement@2026-11")).save()
        people.put_reviewer("northamptonshire", group, "iag_chair", f"Chair of {group}", f"chair.{group}@example.org")
    for role, address in SENIOR.items():
        people.put_reviewer("northamptonshire", "strategic", role, role.replace("_", " ").title(), address)


def tokens(address: str, path: str) -> list[str]:
    return [t for m in sent_emails() if hasattr(m, "body") and address in m.destinations["ToAddresses"]
            for t in re.findall(rf'/{path}/([A-Za-z0-9_-]+)"', m.body)]


def post(api, path: str, token: str, pairs: list[tuple[str, str]]):
    from urllib.parse import urlencode

    return api.http.post(f"/{path}/{token}", body=urlencode(pairs),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})


def run_flow(**parameters) -> dict:
    from flows.strategic import strategic_iag

    return strategic_iag(force_id="northamptonshire", **parameters)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def test_a_full_strategic_cycle_nominations_poll_chosen_date_and_invitations(prefect_server, northamptonshire, api,
                                                                               workflow):
    [(cycle_id, status)] = run_flow(start=True).items()
    assert status == "nominating" and run_flow(start=True) == {cycle_id: "nominating"}  # opening twice opens once
    for group in LOCAL:
        [token] = tokens(f"chair.{group}@example.org", "nominate")
        page = api.http.get(f"/nominate/{token}").body.decode()
        assert f"{group} member 3" in page
        assert post(api, "nominate", token, [("member", f"{group}-1")]).status_code == 422  # two are needed
        assert post(api, "nominate", token, [("member", f"{group}-1"), ("member", f"{group}-2")]).status_code == 200
        assert post(api, "nominate", token, [("member", f"{group}-1"), ("member", f"{group}-3")]).status_code == 409
    assert len(workflow.started) == 4  # each answer asks for a run to move the cycle on
    assert run_flow() == {cycle_id: "polling"}

    # The cadence puts it on the second Thursday of March 2027 at 14:00; three more Thursdays are offered,
    # the last after the clocks change.
    slots = [london(2027, 3, 11, 14), london(2027, 3, 18, 14), london(2027, 3, 25, 14), london(2027, 4, 1, 14)]
    invited = [f"{g}.{n}@example.org" for g in LOCAL for n in (1, 2)] + [SENIOR["chief_superintendent"],
                                                                      SENIOR["opfcc_representative"]]
    # 1 April suits 8 of the 10, 18 March only 7; but nobody from the Northampton IAG can make 1 April.
    only_april = {"east-northamptonshire.2@example.org", "daventry-south-northamptonshire.2@example.org",
                  SENIOR["opfcc_representative"]}
    for address in invited:
        [token] = tokens(address, "availability")
        can = {slots[1]} if address.startswith("northampton.") else \
            {slots[3]} if address in only_april else {slots[1], slots[3]}
        assert post(api, "availability", token, [("slot", s.isoformat()) for s in sorted(can)]).status_code == 200
    assert post(api, "availability", tokens(invited[0], "availability")[0], []).status_code == 409  # once
    assert run_flow() == {cycle_id: "scheduled"}
    assert run_flow() == {}  # decided: no open cycle left

    invitations = [email.message_from_string(m.raw_data, policy=email.policy.default)
                   for m in sent_emails() if hasattr(m, "raw_data")]
    assert sorted(i["To"] for i in invitations) == sorted(invited)
    [ics] = list(invitations[0].iter_attachments())
    calendar = icalendar.Calendar.from_ical(ics.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST"
    assert event.decoded("dtstart") == slots[1] and event.decoded("dtstart").utcoffset() == timedelta(0)
    agenda = {m.destinations["ToAddresses"][0] for m in sent_emails()
              if hasattr(m, "subject") and m.subject.endswith("the agenda")}
    assert agenda == {SENIOR["chief_superintendent"], SENIOR["strategic_iag_chair"]}
    # The nominees now make up the Strategic IAG, which elects its own chair from among them.
    seated = bootstrap.container().joining_store.members("northamptonshire", "strategic")
    assert sorted(m.member_id for m in seated) == sorted(f"{g}-{n}" for g in LOCAL for n in (1, 2))
    assert {m.role.value for m in seated} == {"strategic_nominee"}


def test_without_a_quorum_the_arranging_officer_gets_the_options_and_no_date_is_chosen(northamptonshire, api, clock):
    strategic = bootstrap.container().strategic
    cycle = strategic.start_cycle("northamptonshire")
    strategic.advance("northamptonshire", cycle.id)  # asks the four chairs
    clock.moment += timedelta(days=7)
    strategic.advance("northamptonshire", cycle.id)
    strategic.advance("northamptonshire", cycle.id)
    daventry = "chair.daventry-south-northamptonshire@example.org"
    assert [m.subject.startswith("Reminder:") for m in sent_emails() if hasattr(m, "subject")
            and daventry in m.destinations["ToAddresses"]] == [False, True]  # reminded once, with a fresh link
    for group in LOCAL[:3]:  # one local IAG never nominates; the others use the first link they got
        token = tokens(f"chair.{group}@example.org", "nominate")[0]
        post(api, "nominate", token, [("member", f"{group}-1"), ("member", f"{group}-2")])
    assert strategic.advance("northamptonshire", cycle.id) == "nominating"  # waits for the fourth
    clock.moment = cycle.nominations_close
    assert strategic.advance("northamptonshire", cycle.id) == "polling"
    clock.moment = cycle.poll_close  # nobody answers the poll either
    assert strategic.advance("northamptonshire", cycle.id) == "no_quorum"
    [report] = [m for m in sent_emails() if hasattr(m, "subject") and "no date has a quorum" in m.subject]
    assert report.destinations["ToAddresses"] == [SENIOR["chief_superintendent"]]
    assert "Daventry" in report.body and "Thursday 11 March 2027 at 14:00" in report.body
    assert not [m for m in sent_emails() if hasattr(m, "raw_data")]  # no invitation
    # The platform operator and the coordinator read it in the next day's digest (not urgent: the officer has it).
    assert not [m for m in sent_emails() if "to look at" in getattr(m, "subject", "")]
    clock.moment += timedelta(days=1)
    assert bootstrap.container().alerts.send_digests("northamptonshire") == 2
    digests = [m for m in sent_emails() if "to look at" in getattr(m, "subject", "")]
    assert sorted(m.destinations["ToAddresses"][0] for m in digests) == [
        "iag@northamptonshire.police.example", "platform-operator@northamptonshire.iag-backoffice.example"]
    assert all(cycle.id in m.body and "no date with a quorum" in m.body for m in digests)
