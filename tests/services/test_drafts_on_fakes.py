"""The email with a link back to a saved draft goes through the one outbox, on the in-memory fakes: once per
request, retried after a failure with a fresh token, and never with a token stored in clear.
(tests/web/test_pages.py drives the same pages on moto.)"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.adapters.templates import render
from chalicelib.domain.links import LinkProblem
from chalicelib.services.drafts import DraftService, LinkRefused, resume_email
from chalicelib.services.outbox import CLAIM_TIMEOUT, Postbox
from chalicelib.services.ports import MailNotSent
from tests.conftest import TODAY, FixedClock
from tests.fakes import FakeApplicationRepository, FakeDraftStore, FakeMailer, FakeOutbox

pytestmark = pytest.mark.fast
FORCE = FileForceCatalogue().require("derbyshire")
FORM = "1795860000.nonce-of-one-page.mac"  # the save page's one-time form token: what identifies the request


class CountingRandom:
    """Random bytes that differ each call, counting the calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, n: int) -> bytes:
        self.calls += 1
        return bytes([self.calls % 256]) * n


class World:
    def __init__(self, outbox_class=FakeOutbox):
        self.repository, self.mailer, self.clock = FakeApplicationRepository(), FakeMailer(), FixedClock(TODAY)
        self.store, self.random = FakeDraftStore(), CountingRandom()
        self.outbox = outbox_class(self.repository)
        self.drafts = DraftService(self.store, Postbox(self.outbox, self.mailer, self.clock), render, self.clock,
                                   self.random, "https://iag.example", b"secret")
        self.draft = self.drafts.save("derbyshire", "draft-1", {"applicant.given_name": "Amira"}, ("group",))

    def send(self, email: str = "amira.later@example.org", request: str = FORM) -> bool:
        return self.drafts.send_link(FORCE, self.draft, email, request)

    def stored(self) -> str:
        """Everything kept about drafts, links and emails, as text: a token must never appear in it."""
        return repr((self.store.drafts, self.store.links, self.repository.outbox))


def token_in(message) -> str:
    return re.search(r"/apply/resume/([A-Za-z0-9_\-]+)", message.text).group(1)


def test_the_same_request_sent_twice_emails_one_link():
    world = World()
    assert world.send() is True
    assert world.send() is False  # a double click, or the page sent again after a reload
    [email] = world.mailer.sent
    assert email.to == "amira.later@example.org"
    assert world.drafts.resume("derbyshire", token_in(email)).draft_id == "draft-1"


def test_another_request_or_a_corrected_address_gets_its_own_email():
    world = World()
    world.send("amira.latr@example.org")
    world.send("amira.later@example.org")  # the same page, the address corrected
    world.send("amira.later@example.org", request="1795860100.nonce-of-another-page.mac")  # asked again later
    assert [m.to for m in world.mailer.sent] == ["amira.latr@example.org"] + ["amira.later@example.org"] * 2
    assert len({token_in(m) for m in world.mailer.sent}) == 3


def test_a_failed_send_leaves_no_usable_link_and_the_retry_sends_once_with_a_fresh_token():
    world = World()
    world.mailer.failures.append(MailNotSent("provider down", retryable=True))
    with pytest.raises(MailNotSent):
        world.send()
    assert world.mailer.sent == [] and world.store.links == {}  # the token never left: its link is gone
    assert world.send() is True  # the person tries again: the claim was released
    assert world.send() is False
    [email] = world.mailer.sent
    assert world.random.calls == 2  # a token for each try
    assert world.drafts.resume("derbyshire", token_in(email)).draft_id == "draft-1"
    with pytest.raises(LinkRefused) as refused:
        world.drafts.resume("derbyshire", token_in(email))
    assert refused.value.problem is LinkProblem.USED


def test_no_token_is_ever_stored_in_clear_whatever_happened_to_the_email():
    world = World()
    world.mailer.failures.append(MailNotSent("provider down", retryable=True))
    with pytest.raises(MailNotSent):
        world.send()
    world.send()
    [email] = world.mailer.sent
    token = token_in(email)
    assert token not in world.stored() and "amira.later" not in repr(world.repository.outbox)
    assert len(world.store.links) == 1


def test_an_email_that_went_but_was_not_marked_sent_is_never_sent_again_for_that_request():
    class MarkFails(FakeOutbox):
        def mark_sent(self, key, message_id, at):
            raise RuntimeError("the table is unavailable")

    world = World(MarkFails)
    assert world.send() is True
    assert world.send() is False and world.send() is False
    [email] = world.mailer.sent
    [entry] = world.repository.outbox.values()
    assert entry["status"] == "sent_unconfirmed"
    assert world.drafts.resume("derbyshire", token_in(email)).draft_id == "draft-1"  # its link still works


def test_a_sender_that_died_after_claiming_is_replaced_once_its_claim_is_stale():
    world = World()
    key = resume_email("derbyshire", "draft-1", FORM, "amira.later@example.org")
    world.outbox.claim(key, TODAY, stale_before=TODAY)  # claimed, then the process died before sending
    assert world.send() is False and world.mailer.sent == []  # a live claim: someone may be sending it
    world.clock.moment = TODAY + CLAIM_TIMEOUT + timedelta(seconds=1)
    assert world.send() is True and world.send() is False
    assert len(world.mailer.sent) == 1

