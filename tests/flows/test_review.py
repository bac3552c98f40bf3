"""The review, end to end on the local stack: moto, a real Prefect server, the flows served as
deployments, and the API. Reviewers act only through the links in their emails."""
from __future__ import annotations

import json
import re
import shutil
import threading
from html import unescape

import pytest

from tests.factories import application_payload
from tests.stack import Mailbox, links_in, post_form, request, stack_environment, start_ready, state_dir, stop, urls

pytestmark = pytest.mark.slow
DERBYSHIRE_PANEL = ["iag_chair.derbyshire-iag@derbyshire.demo.example",
                    "police_coordinator.derbyshire-iag@derbyshire.demo.example"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = state_dir("iag-review-")  # not under pytest's root, which PostgreSQL must pass through
    env = stack_environment(folder / "local")
    running = start_ready(env, tmp_path_factory.mktemp("logs") / "up.out")
    api, prefect, moto = urls(env)
    state = {"env": env, "api": api, "prefect": prefect, "mailbox": Mailbox(moto), "process": running}
    yield state
    stop(state["process"], env)  # the stack running now: a test may have restarted it
    shutil.rmtree(folder, ignore_errors=True)


def submit(stack, email: str, force="derbyshire", **changes) -> str:
    payload = application_payload(applicant={"email": email, **changes.pop("applicant", {})}, **changes)
    status, _, body = request("POST", f"{stack['api']}/forces/{force}/applications", payload)
    assert status == 201, body
    return json.loads(body)["reference"]


def review_links(stack, reference: str, reviewers: list[str]) -> dict[str, str]:
    """Wait for the review request to each reviewer; their links by address."""
    def requests(messages):
        found = {m["to"][0]: links_in(m, "review")[0]
                 for m in messages if reference in m["subject"] and "your decision" in m["subject"]
                 and m["to"][0] in reviewers}
        return found if set(found) == set(reviewers) else None
    return stack["mailbox"].wait(requests, what=f"review requests for {reference}")


def status_of(stack, force: str, reference: str) -> dict:
    return json.loads(request("GET", f"{stack['api']}/forces/{force}/applications/{reference}")[2])


def wait_status(stack, force, reference, status, timeout=60):
    return stack["mailbox"].wait(lambda _: status_of(stack, force, reference)["status"] == status, timeout,
                                 what=f"{reference} to be {status}")


def run_state(stack, reference: str) -> str | None:
    """The state name of the application's run ("Suspended", "Crashed", "Completed"...), None before it exists."""
    runs = json.loads(request("POST", f"{stack['prefect']}/api/flow_runs/filter",
                              {"flow_runs": {"name": {"any_": [reference]}}})[2])
    return runs[0]["state"]["name"] if runs else None


def applicant_emails(stack, reference: str, subject_start: str) -> list[dict]:
    return [m for m in stack["mailbox"].about(reference) if m["subject"].startswith(subject_start)]


def test_two_approvals_lead_to_the_offer_and_signing_the_agreement_makes_a_member(stack):
    reference = submit(stack, "approve.me@example.org")
    chair, coordinator = review_links(stack, reference, DERBYSHIRE_PANEL).values()
    mailbox_page = request("GET", f"{stack['api']}/dev/mailbox")[2].decode()  # what a person clicks through locally
    assert chair in mailbox_page and coordinator in mailbox_page
    assert post_form(chair, {"decision": "approve"})[0] == 200
    assert status_of(stack, "derbyshire", reference)["status"] == "awaiting_review"  # one approval is not enough
    assert post_form(coordinator, {"decision": "approve"})[0] == 200
    wait_status(stack, "derbyshire", reference, "offered")  # Derbyshire does not screen
    stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "You have been accepted"), what="acceptance")
    assert post_form(chair, {"decision": "reject", "reason": "changed my mind"})[0] == 409  # a link works once

    [offer] = stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "Your offer"), what="the offer")
    assert post_form(links_in(offer, "offer")[0], {"answer": "accept"})[0] == 200
    [documents] = stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "Welcome: your documents"),
                                        what="the documents and agreement")
    [sign] = links_in(documents, "agreement")
    page = request("GET", sign)[2].decode()
    assert "confidentiality agreement" in page.lower()
    [terms] = [unescape(h) for h in re.findall(r'href="(http[^"]+)"', page) if "terms-of-reference" in h]
    status, _, body = request("GET", terms)  # a presigned link to the bucket (moto here), signed as shown
    assert status == 200 and b"Terms of Reference" in body
    assert post_form(sign, {"confirm": "yes", "signed_name": "Approve Me"})[0] == 200
    wait_status(stack, "derbyshire", reference, "member")
    [welcome] = stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "You are now a member"),
                                      what="the welcome")
    assert welcome["attachments"] == ["derbyshire-iag-meetings.ics"]


def test_a_rejection_by_one_member_rejects_and_tells_the_applicant_how_to_appeal(stack):
    reference = submit(stack, "reject.me@example.org")
    chair, coordinator = review_links(stack, reference, DERBYSHIRE_PANEL).values()
    status, page = post_form(chair, {"decision": "reject", "reason": ""})
    assert status == 422 and "Give the reason for rejecting" in page  # nothing recorded without a reason
    assert post_form(chair, {"decision": "reject", "reason": "No time for meetings before 2028."})[0] == 200
    wait_status(stack, "derbyshire", reference, "rejected")
    [email] = stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "The decision"), what="rejection")
    assert "No time for meetings before 2028." in email["body"] and "appeal" in email["body"]
    assert post_form(coordinator, {"decision": "approve"})[0] == 409  # the application has moved on


def test_an_appeal_upheld_by_both_members_of_the_appeal_panel_leads_to_the_offer(stack):
    reference = submit(stack, "appeal.me@example.org", force="avon-and-somerset", group="bristol",
                       applicant={"postcode": "BS1 4DJ"})
    bristol = [f"{role}.bristol@avon-and-somerset.demo.example" for role in ("iag_chair", "police_coordinator")]
    chair = review_links(stack, reference, bristol)[bristol[0]]
    assert post_form(chair, {"decision": "reject", "reason": "Too few meetings attended elsewhere."})[0] == 200
    [refusal] = stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "The decision"), what="refusal")
    [appeal] = links_in(refusal, "appeal")
    assert post_form(appeal, {"grounds": "I can now attend every meeting."})[0] == 200
    wait_status(stack, "avon-and-somerset", reference, "appeal_lodged")
    panel = [f"{role}.appeals@avon-and-somerset.demo.example"
             for role in ("strategic_iag_chair", "assistant_chief_constable")]
    def appeal_requests(messages):
        found = [m for m in messages if reference in m["subject"] and m["subject"].startswith("Appeal against")]
        return found if len(found) == len(panel) else None
    requests = stack["mailbox"].wait(appeal_requests, what="appeal panel requests")
    assert sorted(m["to"][0] for m in requests) == sorted(panel)
    for message in requests:
        assert post_form(links_in(message, "appeal-review")[0], {"decision": "uphold"})[0] == 200
    wait_status(stack, "avon-and-somerset", reference, "offered")  # Bristol IAG does not screen
    stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "Your offer"), what="the offer")
    assert post_form(appeal, {"grounds": "again"})[0] == 409  # one appeal per application


def test_a_redirect_agreed_by_the_panel_moves_the_application_to_the_other_groups_panel(stack):
    reference = submit(stack, "redirect.me@example.org", force="avon-and-somerset", group="bristol",
                       applicant={"postcode": "BS1 4DJ"})
    bristol = [f"{role}.bristol@avon-and-somerset.demo.example" for role in ("iag_chair", "police_coordinator")]
    for link in review_links(stack, reference, bristol).values():
        assert post_form(link, {"decision": "redirect", "target_group": "north-somerset"})[0] == 200
    north_somerset = [f"{role}.north-somerset@avon-and-somerset.demo.example"
                      for role in ("iag_chair", "police_coordinator")]
    review_links(stack, reference, north_somerset)  # the other group's panel is asked
    moved = status_of(stack, "avon-and-somerset", reference)
    assert (moved["group"], moved["status"]) == ("north-somerset", "awaiting_review")
    [email] = applicant_emails(stack, reference, "A suggestion of another IAG")
    assert "North Somerset IAG" in email["body"] and "Bristol IAG" in email["body"]


def test_opening_every_link_sent_changes_nothing(stack):
    reference = submit(stack, "just.looking@example.org")
    review_links(stack, reference, DERBYSHIRE_PANEL)
    before = status_of(stack, "derbyshire", reference)
    sent = stack["mailbox"].about(reference)
    links = [link for m in sent for kind in ("review", "withdraw", "forces") for link in links_in(m, kind)]
    assert len(links) >= 4
    for link in links * 2:  # as a mail scanner would, twice
        assert request("GET", link)[0] == 200
        assert request("HEAD", link)[0] in (200, 405)
    assert status_of(stack, "derbyshire", reference) == before
    assert len(stack["mailbox"].about(reference)) == len(sent)


def test_two_decisions_at_the_same_moment_give_one_outcome_and_one_set_of_emails(stack):
    reference = submit(stack, "both.at.once@example.org")
    links = list(review_links(stack, reference, DERBYSHIRE_PANEL).values())
    answers, start = [], threading.Barrier(3)

    def press(link):
        start.wait()
        answers.append(post_form(link, {"decision": "approve"})[0])

    threads = [threading.Thread(target=press, args=(link,)) for link in (links[0], links[0], links[1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 200, 409]  # the same link pressed twice counts once
    wait_status(stack, "derbyshire", reference, "offered")
    stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "You have been accepted"), what="acceptance")
    assert len(applicant_emails(stack, reference, "You have been accepted")) == 1


def test_the_applicant_can_withdraw_through_the_link_and_the_run_ends(stack):
    reference = submit(stack, "withdraw.me@example.org")
    review_links(stack, reference, DERBYSHIRE_PANEL)
    [confirmation] = applicant_emails(stack, reference, "Your application to")
    [withdraw] = links_in(confirmation, "withdraw")
    assert request("GET", withdraw)[0] == 200
    assert status_of(stack, "derbyshire", reference)["status"] == "awaiting_review"
    assert post_form(withdraw, {})[0] == 200
    assert status_of(stack, "derbyshire", reference)["status"] == "withdrawn"
    stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "Your application is withdrawn"),
                          what="withdrawal confirmation")

    stack["mailbox"].wait(lambda _: run_state(stack, reference) == "Completed", what="the run to complete")
    assert post_form(withdraw, {})[0] == 409


def test_a_suspended_run_survives_a_restart_of_prefect_and_the_flows_and_sends_nothing_twice(stack, tmp_path):
    reference = submit(stack, "patient.applicant@example.org")
    chair, coordinator = review_links(stack, reference, DERBYSHIRE_PANEL).values()
    before = len(stack["mailbox"].about(reference))

    stopped = stack["process"]
    stop(stopped, stack["env"])  # Prefect server, the serving process, the API and moto
    assert "still running after" not in stopped.output()  # the flows stopped while Prefect could hear them: no kill
    stack["process"] = start_ready(stack["env"], tmp_path / "up-again.out")
    assert "moto: restored" in stack["process"].output()
    assert len(stack["mailbox"].about(reference)) == before  # restored, not sent again
    # The stop came moments after the run suspended: it waited for the run's process to end rather than signal it
    # and have it marked Crashed (then only reconciliation's retry, a minute later, took the decisions to it).
    assert run_state(stack, reference) == "Suspended"

    assert post_form(chair, {"decision": "approve"})[0] == 200
    assert post_form(coordinator, {"decision": "approve"})[0] == 200
    wait_status(stack, "derbyshire", reference, "offered")
    stack["mailbox"].wait(lambda _: applicant_emails(stack, reference, "Your offer"), what="the offer")
    after = stack["mailbox"].about(reference)
    assert len(after) == before + 2  # the acceptance and the offer: no review request went out again
