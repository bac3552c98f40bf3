"""Critical-incident call-outs in process (moto, a fake Prefect, a movable clock): who is asked, answering once
through the link, the police lead's live page, and the summary when the window closes."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.callouts import DynamoCalloutStore
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role
from chalicelib.services.callouts import CalloutRefused
from tests.conftest import sent_emails

LEAD = "superintendent.lead@northamptonshire.police.example"
CLEAR = {"level": "basic", "outcome": "clear", "completed_on": "2026-01-10", "expires_on": "2029-01-10"}


def member(member_id: str, group: str = "northampton", *, screening=CLEAR, signed=True, active=True) -> Member:
    member = Member(member_id, "northamptonshire", group, Role.MEMBER, f"Member {member_id}",
                    f"{member_id.lower()}@example.org", "", date(2026, 2, 1), date(2029, 2, 1), {"email": True},
                    screening, "confidentiality-agreement@2026-11" if signed else "", active)
    member_item(member).save()
    return member


@pytest.fixture
def members(api):
    return {
        "ready": member("NOR-1"),
        "other_group": member("NOR-2", "north-northamptonshire"),
        "unscreened": member("NOR-3", screening=None),
        "screening_expired": member("NOR-4", screening={**CLEAR, "expires_on": "2026-06-01"}),
        "unsigned": member("NOR-5", signed=False),
        "left": member("NOR-6", active=False),
        "strategic": member("NOR-7", "strategic"),  # the Strategic IAG is not called for incidents
    }


def raise_incident(**changes):
    details = dict(title="Disorder after the match", summary="Advice wanted on community reassurance.",
                   respond_within=timedelta(hours=2), police_lead_name="Supt Lead", police_lead_email=LEAD,
                   raised_by="cli:test")
    return bootstrap.container().callouts.raise_incident("northamptonshire", **{**details, **changes})


def links(address: str, path: str) -> list[str]:
    return [t for m in sent_emails() if address in m.destinations["ToAddresses"]
            for t in re.findall(rf'/{path}/([A-Za-z0-9_-]+)"', m.body)]


def answer(api, token: str, **fields):
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    return api.http.post(f"/callout/{token}", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_only_members_who_can_be_called_are_asked(api, members, workflow):
    incident = raise_incident()
    assert [run["name"] for run in workflow.started] == [incident.id]
    assert bootstrap.container().callouts.ask_members("northamptonshire", incident.id) == 2
    asked = {m.destinations["ToAddresses"][0] for m in sent_emails() if m.subject.startswith("Call-out: ")}
    assert asked == {"nor-1@example.org", "nor-2@example.org"}
    assert bootstrap.container().callouts.ask_members("northamptonshire", incident.id) == 0  # a rerun sends nothing
    assert len(links(LEAD, "incident")) == 1


def test_groups_can_be_chosen_and_a_group_never_called_is_refused(api, members):
    incident = raise_incident(groups=["north-northamptonshire"])
    assert [r.member_id for r, _ in DynamoCalloutStore().responses("northamptonshire", incident.id)] == ["NOR-2"]
    with pytest.raises(CalloutRefused, match="called for incidents"):
        raise_incident(groups=["strategic"])
    with pytest.raises(CalloutRefused, match="no such group"):
        raise_incident(groups=["atlantis"])
    with pytest.raises(CalloutRefused, match="police lead"):
        raise_incident(police_lead_email="not an address")
    assert len(DynamoCalloutStore().incidents("northamptonshire")) == 1  # nothing stored for the refusals


def test_a_member_answers_once_even_if_the_link_is_used_twice(api, members):
    incident = raise_incident()
    bootstrap.container().callouts.ask_members("northamptonshire", incident.id)
    [token] = links("nor-1@example.org", "callout")
    page = api.http.get(f"/callout/{token}")
    assert page.status_code == 200 and "Disorder after the match" in page.body.decode()
    assert answer(api, token).status_code == 422  # no answer chosen: nothing recorded
    assert answer(api, token, answer="available_later", note="From+6pm").status_code == 200
    assert answer(api, token, answer="not_available").status_code == 409
    [first] = [r for r, _ in DynamoCalloutStore().responses("northamptonshire", incident.id) if r.member_id == "NOR-1"]
    assert (first.answer.value, first.note) == ("available_later", "From 6pm")


def test_the_police_lead_sees_answers_live_and_gets_one_summary_when_the_window_closes(api, members, clock,
                                                                                       workflow):
    incident = raise_incident()
    callouts = bootstrap.container().callouts
    callouts.ask_members("northamptonshire", incident.id)
    answer(api, links("nor-1@example.org", "callout")[0], answer="available", note="On+my+way")
    [view] = links(LEAD, "incident")
    page = api.http.get(f"/incident/{view}").body.decode()
    assert "Member NOR-1" in page and "On my way" in page and "No answer yet" in page
    assert 'http-equiv="refresh"' in page
    assert api.http.get(f"/callout/{view}").status_code == 404  # the lead's link is not an answer link
    assert callouts.reconcile("northamptonshire") == {"woken": 0, "summaries": 0, "asked": 0}  # still open
    assert not callouts.send_summary("northamptonshire", incident.id)
    clock.moment += timedelta(hours=2)
    assert callouts.reconcile("northamptonshire") == {"woken": 1, "summaries": 0, "asked": 0}  # the run sends it
    assert workflow.resumed[-1] == (f"run-{incident.id}", {"reason": "window closed"})
    assert callouts.send_summary("northamptonshire", incident.id)
    assert not callouts.send_summary("northamptonshire", incident.id)  # once
    [summary] = [m for m in sent_emails() if m.subject.startswith(f"Call-out {incident.id} closed")]
    assert summary.destinations["ToAddresses"] == [LEAD]
    assert "Member NOR-1" in summary.body and "On my way" in summary.body and "Member NOR-2" in summary.body
    assert callouts.reconcile("northamptonshire") == {"woken": 0, "summaries": 0, "asked": 0}
    assert answer(api, links("nor-2@example.org", "callout")[0], answer="available").status_code == 410  # closed


def test_if_prefect_is_down_members_are_still_asked_and_reconciliation_sends_the_summary(api, members, clock,
                                                                                         workflow):
    from chalicelib.services.ports import WorkflowUnavailable

    def down(*args, **kwargs):
        raise WorkflowUnavailable("down")
    workflow.start = down
    incident = raise_incident()
    assert links("nor-1@example.org", "callout")  # asked from the request itself
    workflow.find_run = lambda name: None
    clock.moment += timedelta(hours=3)
    assert bootstrap.container().callouts.reconcile("northamptonshire") == {"woken": 0, "summaries": 1, "asked": 0}
    assert [m for m in sent_emails() if m.subject.startswith(f"Call-out {incident.id} closed")]


def test_a_large_force_can_call_everyone_and_a_member_of_two_groups_is_asked_once(api, members):
    for n in range(120):
        member(f"BIG-{n:03d}", "east-northamptonshire")
    member("NOR-1", "east-northamptonshire")  # also in the Northampton IAG
    incident = raise_incident()
    asked = [r.member_id for r, _ in DynamoCalloutStore().responses("northamptonshire", incident.id)]
    assert len(asked) == len(set(asked)) == 122  # 120 + NOR-1 + NOR-2
    assert bootstrap.container().callouts.ask_members("northamptonshire", incident.id) == 122


def test_nobody_callable_is_refused_rather_than_raising_an_empty_call_out(api):
    with pytest.raises(CalloutRefused, match="nobody in those groups can be called"):
        raise_incident()
    assert DynamoCalloutStore().incidents("northamptonshire") == []


def test_closing_a_call_out_early_stops_the_answers_wakes_the_run_and_can_be_done_once(api, members, clock, workflow):
    incident = raise_incident()
    callouts = bootstrap.container().callouts
    callouts.ask_members("northamptonshire", incident.id)
    answer(api, links("nor-1@example.org", "callout")[0], answer="available")
    clock.moment += timedelta(minutes=30)
    closed = callouts.close("northamptonshire", incident.id)
    assert closed.respond_by == clock.moment
    assert workflow.resumed[-1] == (f"run-{incident.id}", {"reason": "closed by an operator"})
    late = links("nor-2@example.org", "callout")[0]
    assert answer(api, late, answer="available").status_code == 410  # the window is over for members
    assert callouts.send_summary("northamptonshire", incident.id)  # what the woken run does: now due
    with pytest.raises(CalloutRefused, match="already closed"):
        callouts.close("northamptonshire", incident.id)
    _, responses = callouts.follow("northamptonshire", incident.id)
    assert [(r.member_id, r.answer and r.answer.value) for r in responses] == [("NOR-1", "available"), ("NOR-2", None)]


def test_closing_without_a_run_to_wake_sends_the_summary_from_the_request(api, members, clock, workflow):
    incident = raise_incident()
    workflow.find_run = lambda name: None
    bootstrap.container().callouts.close("northamptonshire", incident.id)
    assert [m for m in sent_emails() if m.subject.startswith(f"Call-out {incident.id} closed")]
