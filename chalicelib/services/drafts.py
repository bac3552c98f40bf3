"""Unsent applications ("drafts"): kept while a person fills the form, page by page, and for coming back
later through a link sent by email.

A draft lives 28 days from its last change, then DynamoDB's TTL removes it (and every read checks the
expiry, since TTL deletes late). Equality answers are kept in their own item, as for applications. The
link to come back is a link like every other: random, stored as a hash, single use, expiring with the
draft. Sending the application deletes the draft.

The email with that link goes through the one outbox (services/outbox.py), keyed by the request that asked
for it and the address: the same form sent twice sends one email (a corrected address gets its own). Its token is minted when the email is built and never
stored in clear, so a failed send leaves nothing to resend: its link is removed, and the person's next try
builds a new email with a fresh token.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any, Callable, Optional

from chalicelib.domain.forces import ForceProfile
from chalicelib.domain.links import Link, LinkProblem, Purpose, new_token, problem_with, token_hash
from chalicelib.domain.retention import DRAFT_LIFETIME
from chalicelib.services.outbox import Postbox
from chalicelib.services.ports import About, Clock, Draft, DraftStore, EmailKey, EmailMessage, RandomSource

__all__ = ["DRAFT_LIFETIME", "Draft", "DraftService", "LinkRefused", "resume_email"]

log = logging.getLogger(__name__)
EQUALITY_PREFIX = "equality_monitoring."


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem):
        super().__init__(problem.value)
        self.problem = problem


class DraftService:
    def __init__(self, store: DraftStore, postbox: Postbox, render: Callable[..., str], clock: Clock,
                 random_bytes: RandomSource, base_url: str, secret: bytes):
        self._store = store
        self._postbox = postbox
        self._render = render
        self._clock = clock
        self._random_bytes = random_bytes
        self._base_url = base_url
        self._secret = secret

    # The browser holds the draft's id, signed, so a guessed or altered id finds nothing.
    def cookie_value(self, draft_id: str) -> str:
        return f"{draft_id}.{self._sign(draft_id)}"

    def draft_id_from(self, cookie: Optional[str]) -> Optional[str]:
        draft_id, _, mac = (cookie or "").partition(".")
        return draft_id if draft_id and hmac.compare_digest(mac, self._sign(draft_id)) else None

    def _sign(self, draft_id: str) -> str:
        return hmac.new(self._secret, f"draft|{draft_id}".encode(), hashlib.sha256).hexdigest()

    def new_draft_id(self) -> str:
        return new_token(self._random_bytes(16))

    def load(self, force_id: str, draft_id: Optional[str]) -> Optional[Draft]:
        if not draft_id:
            return None
        draft = self._store.get(force_id, draft_id)
        if draft is None or draft.expires_at <= self._clock.now():
            return None
        return draft

    def save(self, force_id: str, draft_id: str, answers: dict[str, Any], done: tuple[str, ...]) -> Draft:
        now = self._clock.now()
        draft = Draft(force_id=force_id, draft_id=draft_id,
                      values={k: v for k, v in answers.items() if not k.startswith(EQUALITY_PREFIX)},
                      equality={k: v for k, v in answers.items() if k.startswith(EQUALITY_PREFIX)},
                      done=done, updated_at=now, expires_at=now + DRAFT_LIFETIME)
        self._store.put(draft)
        return draft

    def discard(self, force_id: str, draft_id: str) -> None:
        self._store.delete(force_id, draft_id)

    def send_link(self, force: ForceProfile, draft: Draft, email: str, request: str) -> bool:
        """Email a single-use link back to this draft, once per `request` (what the person sent, e.g. the form's
        one-time token) and address. False when that email went already (or is going now). Raises if it could not
        be sent: the draft is kept, the link is removed, and the request may be tried again."""
        minted: list[Link] = []

        def build() -> EmailMessage:
            token = new_token(self._random_bytes(32))
            link = Link(token_hash(token), Purpose.RESUME, force.id, draft.draft_id, "applicant", None,
                        draft.expires_at)
            self._store.add_link(link)
            minted.append(link)
            context = {"force": force, "url": f"{self._base_url}/forces/{force.id}/apply/resume/{token}",
                       "expires": draft.expires_at, "contact": force.contacts["recruitment"]}
            return EmailMessage(
                to=email, subject=f"Your application to {force.name}: continue where you left off",
                text=self._render("email/resume.txt", **context), html=self._render("email/resume.html", **context),
                reply_to=force.contacts["recruitment"].email, force_id=force.id)

        try:
            sent = self._postbox.email(resume_email(force.id, draft.draft_id, request, email), build)
        except Exception:
            for link in minted:  # its email never went, so nobody holds the token: it must not linger
                try:
                    self._store.remove_link(link)
                except Exception:  # noqa: BLE001 (the send error is the one to report; the link expires with the draft)
                    log.warning("an unsent resume link for a draft of %s was not removed", force.id)
            raise
        if sent:
            log.info("resume link sent for a draft of %s", force.id)
        return sent

    def check_link(self, force_id: str, token: str) -> Link:
        link = self._store.link(token_hash(token))
        if link is not None and (link.purpose is not Purpose.RESUME or link.force_id != force_id):
            link = None
        problem = problem_with(link, now=self._clock.now(), current_version=None)
        if problem or link is None:
            raise LinkRefused(problem or LinkProblem.UNKNOWN)
        return link

    def resume(self, force_id: str, token: str) -> Draft:
        """Spend the link and return its draft; LinkRefused when the link cannot act or the draft is gone."""
        link = self.check_link(force_id, token)
        if not self._store.spend_link(link, self._clock.now()):
            raise LinkRefused(LinkProblem.USED)
        draft = self.load(force_id, link.reference)
        if draft is None:
            raise LinkRefused(LinkProblem.EXPIRED)
        return draft


def resume_email(force_id: str, draft_id: str, request: str, email: str) -> EmailKey:
    """The email carrying a link back to a draft, one per request and address, kept only as a digest (the
    request is random, so the address cannot be guessed back from it)."""
    digest = hashlib.sha256(f"{request}\n{email.strip().lower()}".encode()).hexdigest()[:32]
    return EmailKey(About("draft", force_id, draft_id), f"resume#{digest}")
