"""Review storage in the same single table (keys as in adapters/dynamodb/base.py).

| item          | PK                                  | SK                           | GSI1PK                              | GSI1SK            |
|---------------|-------------------------------------|------------------------------|-------------------------------------|-------------------|
| link          | LINK#<sha256(token)>                | LINK                         |                                     |                   |
| decision      | FORCE#<force>#APP#<ref>             | DECISION#v<version>#<role>   | FORCE#<force>#UNDELIVERED (until the flow run was resumed) | <at>#<ref> |
| reviewer      | FORCE#<force>#PEOPLE                | GROUP#<group>#ROLE#<role>    |                                     |                   |
| run not started | FORCE#<force>#APP#<ref>           | RUN                          | FORCE#<force>#RUN#NOT_STARTED       | <at>#<ref>        |

A link is found by its token's hash alone (the token is the only thing a
person brings), and carries the force it belongs to.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Optional

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.applications import ApplicationItem, AuditEventItem, event_item
from chalicelib.adapters.dynamodb.base import Item, application_pk, conditional_update, connection, key_timestamp
from chalicelib.adapters.dynamodb.links import LinkItem, link_item, usable_link
from chalicelib.domain.links import Link, Purpose
from chalicelib.services.ports import DecisionConflict

if TYPE_CHECKING:  # the review's domain is imported by the requests that review, not at the cold start
    from chalicelib.domain.application import AuditEvent
    from chalicelib.domain.review import Decision


class DecisionItem(Item, discriminator="decision"):
    """PK FORCE#<force>#APP#<ref>  SK DECISION#v<version>#<role>: one per member per round, never overwritten."""
    reference = UnicodeAttribute()
    role = UnicodeAttribute()
    version = NumberAttribute()
    choice = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    target_group = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute()


class ReviewerItem(Item, discriminator="reviewer"):
    """PK FORCE#<force>#PEOPLE  SK GROUP#<group>#ROLE#<role>: who holds a panel role for a group."""
    group_id = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()


class RunNotStartedItem(Item, discriminator="run_not_started"):
    """PK FORCE#<force>#APP#<ref>  SK RUN  GSI1 FORCE#<force>#RUN#NOT_STARTED: Prefect could not create its run.

    Written only when a start fails, so reconciliation finds such applications with one Query instead of
    asking Prefect about every live application."""
    reference = UnicodeAttribute()


def not_started_key(force_id: str) -> str:
    return f"FORCE#{force_id}#RUN#NOT_STARTED"


def undelivered_key(force_id: str) -> str:
    return f"FORCE#{force_id}#UNDELIVERED"


def decision_sk(version: int, role: str) -> str:
    return f"DECISION#v{version:06d}#{role}"


def _reviewer_item(force_id: str, group_id: str, role: str, name: str, email: str) -> ReviewerItem:
    return ReviewerItem(pk=f"FORCE#{force_id}#PEOPLE", sk=f"GROUP#{group_id}#ROLE#{role}", group_id=group_id,
                        role=role, name=name, email=email)


class DynamoReviewStore:
    def link(self, token_hash: str) -> Optional[Link]:
        try:
            item = LinkItem.get(f"LINK#{token_hash}", "LINK")
        except LinkItem.DoesNotExist:
            return None
        return Link(token_hash, Purpose(item.purpose), item.force_id, item.reference, item.role,
                    int(item.version) if item.version is not None else None, item.link_expires_at, item.used_at,
                    item.holder or "")

    def add_links(self, links: list[Link]) -> None:
        with TransactWrite(connection=connection()) as transaction:
            for link in links:
                transaction.save(link_item(link), condition=LinkItem.pk.does_not_exist())

    def record_decision(self, link: Link, decision: Decision, at: datetime, event: AuditEvent) -> None:
        """The decision, the link spent and the audit event in one write, only while the link is good."""
        pk = application_pk(link.force_id, link.reference)
        if link.version is None:
            raise ValueError("a review link acts on one version of the application")
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(
                    LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                    actions=[LinkItem.used_at.set(at)], condition=usable_link(at))
                transaction.condition_check(ApplicationItem, pk, "APPLICATION",
                                            condition=ApplicationItem.version == link.version)
                transaction.save(DecisionItem(
                    pk=pk, sk=decision_sk(link.version, decision.role), reference=link.reference,
                    role=decision.role, version=link.version, choice=decision.choice.value,
                    reason=decision.reason or None, target_group=decision.target_group, note=decision.note or None,
                    decided_at=at, gsi1pk=undelivered_key(link.force_id), gsi1sk=f"{key_timestamp(at)}#{link.reference}"),
                    condition=DecisionItem.pk.does_not_exist())
                transaction.save(event_item(event, link.force_id, 0))
        except TransactWriteError as error:
            if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons):
                raise DecisionConflict() from None
            raise

    def spend_link(self, link: Link, at: datetime) -> bool:
        """Mark a link used; False if it was already used or has expired."""
        return conditional_update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                                  actions=[LinkItem.used_at.set(at)], condition=usable_link(at))

    def decisions(self, force_id: str, reference: str, version: int) -> dict[str, Decision]:
        from chalicelib.domain.review import Choice, Decision

        items = DecisionItem.query(application_pk(force_id, reference),
                                   DecisionItem.sk.startswith(f"DECISION#v{version:06d}#"))
        return {i.role: Decision(i.role, Choice(i.choice), i.reason or "", i.target_group, i.note or "")
                for i in items}

    def mark_decisions_delivered(self, force_id: str, reference: str) -> None:
        for item in DecisionItem.query(application_pk(force_id, reference), DecisionItem.sk.startswith("DECISION#"),
                                       filter_condition=DecisionItem.gsi1pk.exists()):
            item.update(actions=[DecisionItem.gsi1pk.remove(), DecisionItem.gsi1sk.remove()])

    def undelivered(self, force_id: str) -> list[str]:
        """References with decisions whose flow run has not been resumed since."""
        refs = [i.reference for i in DecisionItem.by_stage.query(undelivered_key(force_id))]
        return list(dict.fromkeys(refs))

    def undelivered_before(self, force_id: str, before: datetime) -> list[tuple[str, datetime]]:
        """(reference, its oldest undelivered decision's time) for decisions made before `before`: the index's sort
        key starts with the time, so this reads only those."""
        found: dict[str, datetime] = {}
        for item in DecisionItem.by_stage.query(undelivered_key(force_id),
                                                DecisionItem.gsi1sk < key_timestamp(before)):
            found.setdefault(item.reference, item.decided_at)
        return list(found.items())

    def run_not_started(self, force_id: str, reference: str, at: datetime) -> None:
        RunNotStartedItem(pk=application_pk(force_id, reference), sk="RUN", reference=reference,
                          gsi1pk=not_started_key(force_id), gsi1sk=f"{key_timestamp(at)}#{reference}").save()

    def runs_not_started(self, force_id: str) -> list[str]:
        return [i.reference for i in RunNotStartedItem.by_stage.query(not_started_key(force_id))]

    def run_started(self, force_id: str, reference: str) -> None:
        RunNotStartedItem(pk=application_pk(force_id, reference), sk="RUN").delete()

    def panel_members(self, force_id: str, group_id: str) -> dict[str, tuple[str, str]]:
        """role -> (name, email) for the group's review panel."""
        items = ReviewerItem.query(f"FORCE#{force_id}#PEOPLE", ReviewerItem.sk.startswith(f"GROUP#{group_id}#ROLE#"))
        return {i.role: (i.name, i.email) for i in items}

    def put_reviewer(self, force_id: str, group_id: str, role: str, name: str, email: str) -> None:
        _reviewer_item(force_id, group_id, role, name, email).save()

    def put_reviewers(self, holders: Iterable[tuple[str, str, str, str, str]]) -> int:
        """Many holders at once, (force, scope, role, name, email) each, written as put_reviewer writes one but 25 to
        a request: e.g. a local stack's demo people for every role of every force. How many were written."""
        count = 0
        with ReviewerItem.batch_write() as batch:
            for holder in holders:
                batch.save(_reviewer_item(*holder))
                count += 1
        return count

    def events(self, force_id: str, reference: str) -> list[AuditEventItem]:
        return list(AuditEventItem.query(application_pk(force_id, reference), AuditEventItem.sk.startswith("EVENT#")))
