"""Call-outs in the single table (keys as in adapters/dynamodb/base.py).

| item      | PK                               | SK                 | GSI1PK                     | GSI1SK               |
|-----------|----------------------------------|--------------------|----------------------------|----------------------|
| incident  | FORCE#<force>#INCIDENT#<id>      | INCIDENT           | FORCE#<force>#INCIDENTS    | <raised_at>#<id>     |
| response  | FORCE#<force>#INCIDENT#<id>      | MEMBER#<member>    |                            |                      |

One response item per member asked; its answer is set once, under a condition, in the same write that
spends the member's link.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import (
    Item, OutboxItem, SETTLED, conditional_update, connection, key_timestamp,
)
from chalicelib.adapters.dynamodb.links import LinkItem, usable_link
from chalicelib.domain.callouts import Answer, Incident, Response
from chalicelib.domain.links import Link
from chalicelib.services.ports import LinkConflict


class IncidentItem(Item, discriminator="incident"):
    """PK FORCE#<force>#INCIDENT#<id>  SK INCIDENT  GSI1 FORCE#<force>#INCIDENTS / <raised_at>#<id>"""
    incident_id = UnicodeAttribute()
    force_id = UnicodeAttribute()
    title = UnicodeAttribute()
    summary = UnicodeAttribute()
    groups = UnicodeAttribute()  # comma-separated group ids
    raised_at = UTCDateTimeAttribute()
    respond_by = UTCDateTimeAttribute()
    police_lead_name = UnicodeAttribute()
    police_lead_email = UnicodeAttribute()
    raised_by = UnicodeAttribute()
    lead_told_at = UTCDateTimeAttribute(null=True)  # before the outbox (EMAIL#lead_told): no longer written
    summary_sent_at = UTCDateTimeAttribute(null=True)  # before the outbox (EMAIL#summary_sent): read only


class ResponseItem(Item, discriminator="callout_response"):
    """PK FORCE#<force>#INCIDENT#<id>  SK MEMBER#<member>: who was asked, and their one answer."""
    member_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    asked_at = UTCDateTimeAttribute(null=True)  # before the outbox (EMAIL#request-<member>): no longer written
    answer = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)


def incident_pk(force_id: str, incident_id: str) -> str:
    return f"FORCE#{force_id}#INCIDENT#{incident_id}"


class DynamoCalloutStore:
    def add_incident(self, incident: Incident, asked: list[tuple[Response, str]]) -> None:
        """The members asked ((response, email)), then the incident. A force can call hundreds of members, more
        than one transaction holds (100 items), so the responses go in batches first; the incident, written
        last under its condition, is what makes them count (an interrupted raise leaves nothing listed)."""
        pk = incident_pk(incident.force_id, incident.id)
        with ResponseItem.batch_write() as batch:
            for response, email in asked:
                batch.save(ResponseItem(pk=pk, sk=f"MEMBER#{response.member_id}", member_id=response.member_id,
                                        group_id=response.group_id, name=response.name, email=email))
        IncidentItem(
            pk=pk, sk="INCIDENT", gsi1pk=f"FORCE#{incident.force_id}#INCIDENTS",
            gsi1sk=f"{key_timestamp(incident.raised_at)}#{incident.id}", incident_id=incident.id,
            force_id=incident.force_id, title=incident.title, summary=incident.summary,
            groups=",".join(incident.groups), raised_at=incident.raised_at, respond_by=incident.respond_by,
            police_lead_name=incident.police_lead_name, police_lead_email=incident.police_lead_email,
            raised_by=incident.raised_by).save(condition=IncidentItem.pk.does_not_exist())

    def incident(self, force_id: str, incident_id: str) -> Optional[Incident]:
        try:
            i = IncidentItem.get(incident_pk(force_id, incident_id), "INCIDENT", consistent_read=True)
        except IncidentItem.DoesNotExist:
            return None
        return Incident(i.incident_id, i.force_id, i.title, i.summary, tuple(filter(None, i.groups.split(","))),
                        i.raised_at, i.respond_by, i.police_lead_name, i.police_lead_email, i.raised_by)

    def incidents(self, force_id: str, limit: int = 20) -> list[Incident]:
        items = IncidentItem.by_stage.query(f"FORCE#{force_id}#INCIDENTS", scan_index_forward=False, limit=limit)
        return [incident for i in items if (incident := self.incident(force_id, i.incident_id)) is not None]

    def responses(self, force_id: str, incident_id: str) -> list[tuple[Response, str]]:
        """Each member asked, with their email, in member order."""
        return [(Response(i.member_id, i.group_id, i.name, Answer(i.answer) if i.answer else None, i.note or "",
                          i.answered_at), i.email)
                for i in ResponseItem.query(incident_pk(force_id, incident_id), ResponseItem.sk.startswith("MEMBER#"),
                                            consistent_read=True)]

    def record_answer(self, link: Link, incident_id: str, member_id: str, answer: Answer, note: str,
                      at: datetime) -> None:
        """The answer, once per member, in the same write as spending the link."""
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                                   actions=[LinkItem.used_at.set(at)], condition=usable_link(at))
                transaction.update(
                    ResponseItem(pk=incident_pk(link.force_id, incident_id), sk=f"MEMBER#{member_id}"),
                    actions=[ResponseItem.answer.set(answer.value), ResponseItem.answered_at.set(at),
                             *([ResponseItem.note.set(note)] if note else [])],
                    condition=ResponseItem.pk.exists() & ResponseItem.answer.does_not_exist())
        except TransactWriteError as error:
            if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                raise LinkConflict() from None
            raise

    def close(self, force_id: str, incident_id: str, at: datetime) -> bool:
        """The window ends at `at`, only if it was still open then (one write, under that condition)."""
        return conditional_update(IncidentItem(pk=incident_pk(force_id, incident_id), sk="INCIDENT"),
                                  [IncidentItem.respond_by.set(at)],
                                  IncidentItem.pk.exists() & (IncidentItem.respond_by > at))

    def summary_sent(self, force_id: str, incident_id: str) -> bool:
        """Sent through the outbox (EMAIL#summary_sent), or, for an incident from before the outbox, stamped on it."""
        pk = incident_pk(force_id, incident_id)
        try:
            if OutboxItem.get(pk, "EMAIL#summary_sent", consistent_read=True).status in SETTLED:
                return True
        except OutboxItem.DoesNotExist:
            pass
        return IncidentItem.get(pk, "INCIDENT", consistent_read=True).summary_sent_at is not None
