"""The Strategic IAG's emails to members carry the step-down and details links every member email carries (the
senior representatives, who are officers and not members, get none). On moto, the cycle moved on in process."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from chalicelib import bootstrap
from chalicelib.adapters.dynamodb.joining import member_item
from chalicelib.domain.membership import Member, Role
from tests.conftest import sent_emails

LOCAL = ["northampton", "north-northamptonshire", "east-northamptonshire", "daventry-south-northamptonshire"]
SENIOR = {"chief_superintendent": "chief.superintendent@northants.example",
          "opfcc_representative": "opfcc@northants.example"}


def to(address: str) -> list:
    return [m for m in sent_emails() if address in m.destinations["ToAddresses"]]


def links(message, path: str) -> list[str]:
    return re.findall(rf'/{path}/([A-Za-z0-9_-]+)"', message.body)


def test_strategic_iag_emails_to_members_carry_their_step_down_and_details_links(api):
    people = bootstrap.container().review_store
    for group in LOCAL:
        for n in (1, 2):
            member_item(Member(f"{group}-{n}", "northamptonshire", group, Role.CHAIR if n == 1 else Role.MEMBER,
                               f"{group} member {n}", f"{group}.{n}@example.org", "", date(2026, 1, 5),
                               date(2029, 1, 5), {}, None, "confidentiality-agreement@2026-11")).save()
        people.put_reviewer("northamptonshire", group, "iag_chair", f"{group} member 1", f"{group}.1@example.org")
    for role, address in SENIOR.items():
        people.put_reviewer("northamptonshire", "strategic", role, role.replace("_", " ").title(), address)
    strategic = bootstrap.container().strategic
    cycle = strategic.start_cycle("northamptonshire")
    strategic.advance("northamptonshire", cycle.id)

    for group in LOCAL:  # the chair's request to nominate: the chair is a member of the local IAG
        [request] = to(f"{group}.1@example.org")
        assert links(request, "step-down") and links(request, "my-details")
        [token] = links(request, "nominate")
        answer = api.http.post(f"/nominate/{token}", body=urlencode([("member", f"{group}-1"), ("member", f"{group}-2")]),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200
    strategic.advance("northamptonshire", cycle.id)

    [poll] = [m for m in to("northampton.2@example.org") if links(m, "availability")]
    assert links(poll, "step-down") and links(poll, "my-details")
    [officer] = to(SENIOR["chief_superintendent"])
    assert links(officer, "availability") and not links(officer, "step-down")
