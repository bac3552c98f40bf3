"""Telling the platform operator and the force's IAG coordinator about trouble, so nobody has to watch for it.

Urgent trouble (domain/alerts.py) is emailed at once; the rest is noted and goes in one digest per force per day.
Every email goes through the one outbox, keyed by the incident and the address, so an incident seen by every
reconciliation pass is told once, and two roles held by one address get one copy.
"""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import date, datetime
from typing import Any, Callable, Iterable, Optional, Protocol

from chalicelib.domain.alerts import (
    FAILURES_BEFORE_ALERT, RUN_FAILURES_BEFORE_ALERT, UNDELIVERED_FOR, Alert, Trouble, days_to_digest, digest_day,
)
from chalicelib.domain.forces import Contact, ForceProfile
from chalicelib.services.events import EmailFailing, TroubleSeen
from chalicelib.services.outbox import About, EmailKey, Postbox
from chalicelib.services.ports import Clock, EmailMessage, ForceCatalogue, MailNotSent

log = logging.getLogger(__name__)

ADDRESS = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")  # an error's text may name the recipient: alerts never do
ALERT_AREA = "alert"  # the outbox area of alert emails (an alert about an alert email would never end)
OPERATOR, COORDINATOR = "platform_operator", "iag_coordinator"  # the profile's contacts told


class AlertStore(Protocol):
    """Non-urgent alerts kept for their day's digest (DynamoAlertStore)."""

    def note(self, alert: Alert, day: date) -> bool:
        """Keep the alert for `day`'s digest; False when that incident is already in it."""

    def noted(self, force_id: str, day: date) -> list[Alert]: ...


class LateDecisions(Protocol):
    """Panel decisions recorded but not yet told to their application's run (DynamoReviewStore)."""

    def undelivered_before(self, force_id: str, before: datetime) -> list[tuple[str, datetime]]:
        """(reference, when its oldest undelivered decision was made), for those made before `before`."""


class AlertService:
    def __init__(self, forces: ForceCatalogue, postbox: Postbox, render: Callable[..., str], store: AlertStore,
                 decisions: LateDecisions, clock: Clock, runs_url: str = ""):
        self._forces = forces
        self._postbox = postbox
        self._render = render
        self._store = store
        self._decisions = decisions
        self._clock = clock
        self._runs_url = runs_url.rstrip("/")  # the Prefect UI, named in alerts about runs

    # --- what finds trouble calls ---

    def raise_alert(self, alert: Alert) -> int:
        """Email it now (urgent) or keep it for the digest; the number of emails this call sent."""
        if not alert.urgent:
            if self._store.note(alert, digest_day(alert.seen_at)):
                log.warning("%s noted for the digest: %s", alert.key, alert.summary)
            return 0
        log.error("%s: %s", alert.key, alert.summary)
        force = self._forces.require(alert.force_id)
        return self._tell(force, alert.key, self._recipients(force), "email/alert",
                          f"Needs attention: {alert.summary}", alerts=[alert])

    def note(self, force_id: str, trouble: Trouble, incident: str, summary: str, action: str) -> int:
        return self.raise_alert(Alert(force_id, trouble, incident, summary, action, self._clock.now()))

    def seen(self, event: TroubleSeen) -> int:
        """What another service announced on the bus (a role left empty, a cycle without quorum)."""
        return self.note(event.force_id, Trouble(event.trouble), event.incident, event.summary, event.action)

    def watch(self, force_id: str) -> int:
        """Decisions recorded over an hour ago and still not told to their run (Prefect was down, or the run
        could not be resumed): reconciliation will deliver them, but a person should know they wait."""
        sent = 0
        for reference, decided_at in self._decisions.undelivered_before(force_id, self._clock.now() - UNDELIVERED_FOR):
            sent += self.note(
                force_id, Trouble.DECISION_UNDELIVERED, f"{reference}@{decided_at.isoformat()}",
                f"application {reference}: a decision made at {decided_at:%H:%M on %d %B %Y} (UTC) has not reached "
                f"its run for over {UNDELIVERED_FOR.seconds // 3600} hour",
                "Check that the Prefect server and the flows are up (README: the local stack, or the work pool in "
                "production); reconciliation delivers the decision as soon as Prefect answers, nothing is lost.")
        return sent

    def email_failing(self, event: EmailFailing) -> Optional[int]:
        """The bus tells us each failed send; the third (or the first a person must fix) raises an alert."""
        about = event.key.about
        if about.area == ALERT_AREA:
            return None  # trouble sending an alert is logged by the outbox; alerting about it would loop
        retryable = not isinstance(event.error, MailNotSent) or event.error.retryable
        if retryable and event.failures < FAILURES_BEFORE_ALERT:
            return None
        return self.note(
            about.force_id, Trouble.EMAIL_FAILING, f"{about.area}:{about.id}:{event.key.kind}",
            f"the email '{event.key.kind}' about {about.area} {about.id} failed to send "
            f"{event.failures} time{'s' if event.failures != 1 else ''}: {ADDRESS.sub('[email]', str(event.error))}",
            "A refused address or template needs a person (correct the address, or the force's mail settings); "
            "an outage clears itself and the email goes on the next pass." if not retryable else
            "The mail provider keeps failing: check its status and the sender's verification; the email is kept "
            "and goes on the next pass once it works.")

    def run_failing(self, run_id: str, name: str, tags: Iterable[str], state: str) -> int:
        """A run the Prefect automation saw fail or crash twice (flows/alerts.py). Tagged with a force: that
        force's operator and coordinator; a housekeeping run works for every force: each force's operator."""
        tags = list(tags)
        forces = [t.removeprefix("force:") for t in tags if t.startswith("force:")]
        url = f"{self._runs_url}/runs/flow-run/{run_id}" if self._runs_url else f"flow run id {run_id}"
        summary = (f"the flow run {name} has failed or crashed {RUN_FAILURES_BEFORE_ALERT} times "
                   f"(now {state.lower()})")
        action = (f"Open it in the Prefect UI ({url}) to read why; once the cause is fixed, Retry there "
                  f"(or the console's retry) runs it again from its last safe point.")
        incident = run_id
        if forces:
            return sum(self.note(f, Trouble.RUN_FAILING, incident, summary, action) for f in forces
                       if self._forces.get(f) is not None)
        sent, told = 0, set[str]()
        for force in self._forces.all():
            alert = Alert(force.id, Trouble.RUN_FAILING, incident, summary, action, self._clock.now())
            operators = [(role, c) for role, c in self._recipients(force)
                         if role == OPERATOR and c.address().lower() not in told]
            told.update(c.address().lower() for _, c in operators)
            sent += self._tell(force, alert.key, operators, "email/alert", f"Needs attention: {alert.summary}",
                               alerts=[alert])
        return sent

    # --- the daily digest ---

    def send_digests(self, force_id: str) -> int:
        """One email per recipient for each recent day with something noted, once; nothing when nothing was."""
        force = self._forces.require(force_id)
        sent = 0
        for day in days_to_digest(self._clock.now().date()):
            alerts = self._store.noted(force_id, day)
            if not alerts:
                continue
            things = f"{len(alerts)} thing{'s' if len(alerts) != 1 else ''}"
            sent += self._tell(force, f"digest:{day.isoformat()}", self._recipients(force), "email/alert_digest",
                               f"{force.name} IAG Back Office: {things} to look at from {day:%d %B %Y}",
                               alerts=alerts, day=day)
        return sent

    # --- sending ---

    def _recipients(self, force: ForceProfile) -> list[tuple[str, Contact]]:
        found, seen = [], set()
        for role in (OPERATOR, COORDINATOR):
            contact = force.contacts.get(role)
            if contact is None or not contact.email:
                log.error("%s: no %s address in the force profile to tell", force.id, role)
            elif contact.email.lower() not in seen:
                seen.add(contact.email.lower())
                found.append((role, contact))
        return found

    def _tell(self, force: ForceProfile, incident: str, recipients: list[tuple[str, Contact]], template: str,
              subject: str, **context: Any) -> int:
        """Each recipient once for the incident; raises the first failure after trying them all."""
        sent, failed = 0, None
        for _, contact in recipients:
            to = hashlib.sha256(contact.address().lower().encode()).hexdigest()[:16]  # an id, not the address
            key = EmailKey(About(ALERT_AREA, force.id, incident), f"to-{to}")

            def build(contact: Contact = contact) -> EmailMessage:
                values = {"contact": contact, "force": force, "subject": subject, **context}
                return EmailMessage(to=contact.address(), subject=subject,
                                    text=self._render(f"{template}.txt", **values),
                                    html=self._render(f"{template}.html", **values), force_id=force.id)
            try:
                sent += self._postbox.email(key, build)
            except Exception as error:  # noqa: BLE001 (the other recipient still hears; the next pass retries this)
                failed = failed or error
        if failed is not None:
            raise failed
        return sent
