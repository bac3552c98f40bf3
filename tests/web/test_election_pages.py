"""Standing and voting through the pages behind the links (the Chalice app in process, moto as AWS)."""
from __future__ import annotations

import re
from datetime import timedelta

from chalicelib import bootstrap
from tests.conftest import sent_emails
from tests.services.test_elections import ALICE, BOLA, CHEN, FORCE, GROUP, NAMES, add_member, email_of


def tokens(member_id: str, path: str) -> list[str]:
    return [t for m in sent_emails() if email_of(member_id) in m.destinations["ToAddresses"]
            for t in re.findall(rf'/{path}/([A-Za-z0-9_-]+)"', m.body)]


def post(api, path: str, token: str, **fields):
    from urllib.parse import urlencode

    return api.http.post(f"/{path}/{token}", body=urlencode(fields),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})


def paper_of(response) -> str:
    return re.search(r'name="paper" value="([^"]+)"', response.body.decode()).group(1)


def cast(api, paper: str, **fields):
    from urllib.parse import urlencode

    return api.http.post("/ballot", body=urlencode({"paper": paper, **fields}),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_members_stand_and_vote_through_their_links_once_each(api, clock):
    for member in (ALICE, BOLA, CHEN):
        add_member(member)
    elections = bootstrap.container().elections
    election = elections.open(FORCE, GROUP, "chair", nominations_days=7, voting_days=7)
    [stand] = tokens(ALICE, "stand")
    assert "Stand for Chair" in api.http.get(f"/stand/{stand}").body.decode()
    assert post(api, "stand", stand, statement="").status_code == 422
    assert post(api, "stand", stand, statement="I will listen.").status_code == 200
    post(api, "stand", tokens(BOLA, "stand")[0], statement="Fresh ideas.")
    clock.moment += timedelta(days=7)
    elections.start_voting(bootstrap.container().election_store.get(FORCE, election.id))
    [ballot] = tokens(CHEN, "vote")
    page = api.http.get(f"/vote/{ballot}").body.decode()
    assert NAMES[ALICE] in page and "Fresh ideas." in page
    paper_page = post(api, "vote", ballot)  # the link's post gives an anonymous paper
    assert paper_page.status_code == 200 and 'action="/ballot"' in paper_page.body.decode()
    paper = paper_of(paper_page)
    assert post(api, "vote", ballot).status_code == 409  # the link is spent: one paper
    assert cast(api, paper).status_code == 422  # nobody chosen: nothing recorded, the paper shown again
    assert cast(api, paper, candidate=ALICE).status_code == 200
    assert cast(api, paper, candidate=BOLA).status_code == 409  # the paper is cast
    assert cast(api, "not-a-paper", candidate=BOLA).status_code == 404
    assert cast(api, paper_of(post(api, "vote", tokens(ALICE, "vote")[0])), candidate=ALICE).status_code == 200
    clock.moment += timedelta(days=7)
    result = elections.close(bootstrap.container().election_store.get(FORCE, election.id))
    assert (dict(result.counts), result.elected) == ({ALICE: 2, BOLA: 0}, ALICE)
    roles = {m.member_id: m.role.value for m in bootstrap.container().joining_store.members(FORCE, GROUP)}
    assert roles == {ALICE: "chair", BOLA: "member", CHEN: "member"}  # the winner now holds the office
