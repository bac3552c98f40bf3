"""A Strategic IAG cycle without a quorum: the arranging officer sets the date by hand (in process, moto)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.services.strategic import StrategicRefused
from tests.conftest import sent_emails
from tests.flows import test_strategic
from tests.flows.test_strategic import LOCAL, SENIOR, post, tokens

northamptonshire = test_strategic.northamptonshire  # the flow tests' fixture: local IAGs, chairs, senior officers


def no_quorum_cycle(api, clock):
    strategic = bootstrap.container().strategic
    cycle = strategic.start_cycle("northamptonshire")
    strategic.advance("northamptonshire", cycle.id)
    for group in LOCAL:
        post(api, "nominate", tokens(f"chair.{group}@example.org", "nominate")[0],
             [("member", f"{group}-1"), ("member", f"{group}-2")])
    clock.moment = cycle.nominations_close
    strategic.advance("northamptonshire", cycle.id)
    clock.moment = cycle.poll_close  # nobody answers the poll
    assert strategic.advance("northamptonshire", cycle.id) == "no_quorum"
    return cycle


def invitations() -> list:
    return [m for m in sent_emails() if hasattr(m, "raw_data")]  # the .ics makes them raw emails


def test_a_cycle_without_a_quorum_is_dated_by_hand_and_everyone_is_invited_once(northamptonshire, api, clock):
    strategic = bootstrap.container().strategic
    cycle = no_quorum_cycle(api, clock)
    assert [c.id for c in strategic.cycles("northamptonshire")] == [cycle.id]  # decided, still found
    assert not invitations()
    dated = strategic.set_date("northamptonshire", cycle.id, cycle.slots[1])
    assert (dated.status.value, dated.chosen) == ("scheduled", cycle.slots[1])
    sent = invitations()
    invited = {address for m in sent for address in m.destinations}  # a raw email's list of addresses
    assert SENIOR["chief_superintendent"] in invited and "northampton.1@example.org" in invited
    assert strategic.open_cycles("northamptonshire") == []  # all sent: the hourly run has nothing left
    with pytest.raises(StrategicRefused, match="only when no date had a quorum"):
        strategic.set_date("northamptonshire", cycle.id, cycle.slots[2])
    assert len(invitations()) == len(sent)


def test_only_a_date_offered_and_still_to_come_can_be_set(northamptonshire, api, clock):
    strategic = bootstrap.container().strategic
    cycle = no_quorum_cycle(api, clock)
    with pytest.raises(StrategicRefused, match="dates offered"):
        strategic.set_date("northamptonshire", cycle.id, cycle.slots[0] + timedelta(hours=1))
    clock.moment = cycle.slots[1] + timedelta(minutes=1)
    with pytest.raises(StrategicRefused, match="dates offered"):
        strategic.set_date("northamptonshire", cycle.id, cycle.slots[0])
    with pytest.raises(LookupError):
        strategic.set_date("northamptonshire", "strategic-1999-01", cycle.slots[3])
    assert strategic.follow("northamptonshire", cycle.id)["cycle"].status.value == "no_quorum"
    assert not invitations()


def test_on_the_console_a_force_administrator_sees_the_options_and_sets_the_date(operator_pool, northamptonshire, api,
                                                                                   clock):
    from tests.web.test_console_business import cookie, form_token, page
    from tests.web.test_console_business import post as post_form

    cycle = no_quorum_cycle(api, clock)
    signed_in = cookie(operator_pool, "admin", "force_admin", "northamptonshire")
    url = f"/admin/console/northamptonshire/strategic/{cycle.id}"
    shown = page(api, url, signed_in).body.decode()
    assert "No date had a quorum" in shown and shown.count('name="slot"') == len(cycle.slots)
    unchosen = post_form(api, url, signed_in, {}, form_token(api, url, signed_in))
    assert unchosen.status_code == 400 and "Choose one of the dates" in unchosen.body.decode()
    assert not invitations()
    dated = post_form(api, url, signed_in, {"slot": cycle.slots[2].isoformat()}, form_token(api, url, signed_in))
    assert (dated.status_code, dated.headers["Location"]) == (303, f"{url}?done=cycle-dated")
    assert bootstrap.container().strategic_store.cycle("northamptonshire", cycle.id).chosen == cycle.slots[2]
    assert invitations()
    coordinator = cookie(operator_pool, "coord", "coordinator", "northamptonshire", "northampton")
    assert page(api, url, coordinator).status_code == 403  # the strategic group is not theirs
