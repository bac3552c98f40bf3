"""Issue 14 point 3: the Strategic IAG nomination link sent to a local IAG's chair follows the person, not the role.

Whichever way the chair changes hands (an operator sets the role, an election's winner takes it, an import makes a
member the chair), the previous chair's link is refused and changes nothing, and the new chair is asked once.
In process: moto as AWS, a fixed clock, a fake Prefect."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from chalicelib import bootstrap
from tests.conftest import sent_emails
from tests.flows import test_strategic
from tests.flows.test_strategic import LOCAL, post, tokens

northamptonshire = test_strategic.northamptonshire  # the flow tests' fixture: local IAGs, chairs, senior officers

FORCE, GROUP = "northamptonshire", "northampton"
OLD_CHAIR, NEW_CHAIR = f"chair.{GROUP}@example.org", f"{GROUP}.2@example.org"  # member 2 takes the chair


def nominating_cycle():
    strategic = bootstrap.container().strategic
    cycle = strategic.start_cycle(FORCE)
    assert strategic.advance(FORCE, cycle.id) == "nominating"  # asks the four chairs
    return cycle


def nominations(cycle) -> dict:
    return bootstrap.container().strategic_store.nominations(FORCE, cycle.id)


def make_member_2_chair(operator_pool, api) -> int:
    coordinator = operator_pool.token("co", "coordinator", FORCE, GROUP)
    answer = api.http.put(f"/admin/forces/{FORCE}/roles/{GROUP}/iag_chair",
                          headers={"Authorization": coordinator, "Content-Type": "application/json"},
                          body=json.dumps({"name": f"{GROUP} member 2", "email": NEW_CHAIR}))
    assert answer.status_code == 200
    return answer.json_body["requests_sent"]


def assert_the_link_followed_the_chair(api, cycle, old: str) -> None:
    """The previous chair's link is refused and writes nothing; the new chair's one link works."""
    assert api.http.get(f"/nominate/{old}").status_code == 409
    assert post(api, "nominate", old, [("member", f"{GROUP}-1"), ("member", f"{GROUP}-3")]).status_code == 409
    assert GROUP not in nominations(cycle)
    [new] = tokens(NEW_CHAIR, "nominate")
    assert api.http.get(f"/nominate/{new}").status_code == 200
    assert post(api, "nominate", new, [("member", f"{GROUP}-2"), ("member", f"{GROUP}-3")]).status_code == 200
    assert sorted(n.member_id for n in nominations(cycle)[GROUP]) == [f"{GROUP}-2", f"{GROUP}-3"]


def test_when_an_operator_changes_the_chair_the_old_chairs_nomination_link_is_refused_and_the_new_chair_asked_once(
        northamptonshire, api, operator_pool, clock):
    cycle = nominating_cycle()
    [old] = tokens(OLD_CHAIR, "nominate")
    assert api.http.get(f"/nominate/{old}").status_code == 200

    # Member 2 takes the chair (the chair's own member record too: the chair must be among the nominees).
    from chalicelib.domain.membership import Role

    members = bootstrap.container().joining_store
    members.set_role(members.member(FORCE, f"{GROUP}-1", GROUP), Role.MEMBER)
    members.set_role(members.member(FORCE, f"{GROUP}-2", GROUP), Role.CHAIR)
    assert make_member_2_chair(operator_pool, api) == 1  # asked at once, not at the next hourly run
    assert_the_link_followed_the_chair(api, cycle, old)

    clock.moment += timedelta(hours=1)
    bootstrap.container().strategic.advance(FORCE, cycle.id)
    assert make_member_2_chair(operator_pool, api) == 0  # the same person again: nothing new
    assert len(tokens(NEW_CHAIR, "nominate")) == 1 and len(tokens(OLD_CHAIR, "nominate")) == 1  # once per holder
    for group in LOCAL[1:]:  # the other chairs' links are theirs still
        assert api.http.get(f"/nominate/{tokens(f'chair.{group}@example.org', 'nominate')[0]}").status_code == 200


def test_an_elected_chair_takes_over_the_nomination_link(northamptonshire, api, clock):
    from tests.services.test_elections import vote

    cycle = nominating_cycle()
    [old] = tokens(OLD_CHAIR, "nominate")
    elections = bootstrap.container().elections
    election = elections.open(FORCE, GROUP, "chair", nominations_days=1, voting_days=1)
    [stand] = tokens(NEW_CHAIR, "stand")
    elections.nominate(stand, "I would listen.")
    clock.moment = election.nominations_close
    elections.start_voting(election)
    for n in (1, 2, 3):
        vote(elections, tokens(f"{GROUP}.{n}@example.org", "vote")[-1], f"{GROUP}-2")
    clock.moment = election.voting_closes  # two days in: well before the halfway reminder
    assert elections.close(election).elected == f"{GROUP}-2"
    assert_the_link_followed_the_chair(api, cycle, old)
    elections.close(election)  # repeated: the winner is announced again, and nobody is asked twice
    assert len(tokens(NEW_CHAIR, "nominate")) == 1


def test_an_imported_chair_takes_over_the_nomination_link(northamptonshire, api, operator_pool):
    cycle = nominating_cycle()
    [old] = tokens(OLD_CHAIR, "nominate")
    sample = (Path(__file__).resolve().parent.parent / "data" / "members-northamptonshire.csv").read_text()
    answer = api.http.post(f"/admin/forces/{FORCE}/members/import", body=json.dumps({"csv": sample, "dry_run": False}),
                           headers={"Authorization": operator_pool.token("ann", "force_admin", FORCE),
                                    "Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json_body["applied"]
    assert api.http.get(f"/nominate/{old}").status_code == 409
    assert post(api, "nominate", old, [("member", f"{GROUP}-1"), ("member", f"{GROUP}-3")]).status_code == 409
    assert GROUP not in nominations(cycle)
    [new] = tokens("priya.raman@example.org", "nominate")  # the file makes her the Northampton IAG's chair
    assert api.http.get(f"/nominate/{new}").status_code == 200


def test_a_cycle_past_nominations_sends_the_new_chair_nothing(northamptonshire, api, operator_pool, clock):
    cycle = nominating_cycle()
    for group in LOCAL:
        post(api, "nominate", tokens(f"chair.{group}@example.org", "nominate")[0],
             [("member", f"{group}-1"), ("member", f"{group}-2")])
    assert bootstrap.container().strategic.advance(FORCE, cycle.id) == "polling"
    before = len(sent_emails())
    assert make_member_2_chair(operator_pool, api) == 0
    assert not tokens(NEW_CHAIR, "nominate") and len(sent_emails()) == before
