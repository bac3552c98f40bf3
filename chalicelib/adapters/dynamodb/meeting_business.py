"""A meeting's business in the single table, beside the meeting itself (keys as in adapters/dynamodb.py).

| item        | PK                                   | SK                                       |
|-------------|--------------------------------------|------------------------------------------|
| agenda item | FORCE#<force>#GROUP#<group>#MEETINGS | BUSINESS#<uid_key>#AGENDA#<at>#<n>       |
| paper       | FORCE#<force>#GROUP#<group>#MEETINGS | BUSINESS#<uid_key>#PAPER#<filename>      |
| answer      | FORCE#<force>#GROUP#<group>#MEETINGS | BUSINESS#<uid_key>#ANSWER#<member>       |
| attendance  | FORCE#<force>#GROUP#<group>#MEETINGS | BUSINESS#<uid_key>#ATTENDED              |
| minutes     | FORCE#<force>#GROUP#<group>#MEETINGS | BUSINESS#<uid_key>#MINUTES               |
| action      | FORCE#<force>#GROUP#<group>#MEETINGS | ACTION#<action id>                       |

A meeting's business is one Query on its prefix; a group's actions one Query on ACTION#. An answer or proposal is
written with its link spent; minutes once (with their actions), in one transaction.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import Item, conditional_update, connection, key_timestamp
from chalicelib.adapters.dynamodb.links import LinkItem, usable_link
from chalicelib.adapters.dynamodb.meetings import meetings_pk
from chalicelib.domain.links import Link
from chalicelib.domain.meeting_business import Action, AgendaItem, Answer, Minutes, Paper
from chalicelib.services.ports import LinkConflict


class AgendaEntryItem(Item, discriminator="agenda_item"):
    """PK FORCE#<force>#GROUP#<group>#MEETINGS  SK BUSINESS#<uid_key>#AGENDA#<at>#<n>"""
    title = UnicodeAttribute()
    proposed_by = UnicodeAttribute()
    proposer = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class PaperItem(Item, discriminator="meeting_paper"):
    """PK FORCE#<force>#GROUP#<group>#MEETINGS  SK BUSINESS#<uid_key>#PAPER#<filename>: where it lies, not it."""
    filename = UnicodeAttribute()
    title = UnicodeAttribute()
    key = UnicodeAttribute()
    uploaded_at = UTCDateTimeAttribute()


class AnswerItem(Item, discriminator="meeting_answer"):
    """PK FORCE#<force>#GROUP#<group>#MEETINGS  SK BUSINESS#<uid_key>#ANSWER#<member>"""
    member_id = UnicodeAttribute()
    answer = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class AttendedItem(Item, discriminator="meeting_attended"):
    """PK FORCE#<force>#GROUP#<group>#MEETINGS  SK BUSINESS#<uid_key>#ATTENDED: who came, as confirmed."""
    present = ListAttribute(of=UnicodeAttribute)
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class MinutesItem(Item, discriminator="meeting_minutes"):
    """PK FORCE#<force>#GROUP#<group>#MEETINGS  SK BUSINESS#<uid_key>#MINUTES: written once."""
    text = UnicodeAttribute()
    published_at = UTCDateTimeAttribute()
    published_by = UnicodeAttribute()
    action_ids = ListAttribute(of=UnicodeAttribute, null=True)


class ActionItem(Item, discriminator="meeting_action"):
    """PK FORCE#<force>#GROUP#<group>#MEETINGS  SK ACTION#<id>"""
    action_id = UnicodeAttribute()
    meeting = UnicodeAttribute()
    title = UnicodeAttribute()
    owner_name = UnicodeAttribute()
    owner_email = UnicodeAttribute()
    due_on = UnicodeAttribute()
    feedback_to_police = BooleanAttribute()
    set_on = UnicodeAttribute()
    closed_on = UnicodeAttribute(null=True)


def _business(uid_key: str, rest: str) -> str:
    return f"BUSINESS#{uid_key}#{rest}"


def _spend(transaction: TransactWrite, link: Link, at: datetime) -> None:
    transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"), actions=[LinkItem.used_at.set(at)],
                       condition=usable_link(at))


def _with_link(write) -> None:
    """Run a transaction whose last item spends a link: a failed condition there is LinkConflict."""
    try:
        write()
    except TransactWriteError as error:
        reasons = [r.code if r else None for r in error.cancellation_reasons or []]
        if reasons and reasons[-1] == "ConditionalCheckFailed":
            raise LinkConflict() from None
        raise


class DynamoMeetingRecords:
    def add_agenda_items(self, force_id: str, group_id: str, uid_key: str, items: list[AgendaItem],
                         link: Link) -> None:
        pk = meetings_pk(force_id, group_id)

        def write() -> None:
            with TransactWrite(connection=connection()) as transaction:
                for n, item in enumerate(items):
                    transaction.save(AgendaEntryItem(
                        pk=pk, sk=_business(uid_key, f"AGENDA#{key_timestamp(item.at)}#{n:02d}"), title=item.title,
                        proposed_by=item.proposed_by, proposer=item.proposer, at=item.at))
                _spend(transaction, link, items[0].at)
        _with_link(write)

    def agenda(self, force_id: str, group_id: str, uid_key: str) -> list[AgendaItem]:
        return [AgendaItem(i.title, i.proposed_by, i.proposer, i.at) for i in AgendaEntryItem.query(
            meetings_pk(force_id, group_id), AgendaEntryItem.sk.startswith(_business(uid_key, "AGENDA#")),
            consistent_read=True)]

    def add_paper(self, force_id: str, group_id: str, uid_key: str, paper: Paper) -> None:
        """A paper of the same name replaces the earlier one (the bucket keeps its versions)."""
        PaperItem(pk=meetings_pk(force_id, group_id), sk=_business(uid_key, f"PAPER#{paper.filename}"),
                  filename=paper.filename, title=paper.title, key=paper.key, uploaded_at=paper.uploaded_at).save()

    def papers(self, force_id: str, group_id: str, uid_key: str) -> list[Paper]:
        return [Paper(i.filename, i.title, i.key, i.uploaded_at) for i in PaperItem.query(
            meetings_pk(force_id, group_id), PaperItem.sk.startswith(_business(uid_key, "PAPER#")),
            consistent_read=True)]

    def record_answer(self, force_id: str, group_id: str, uid_key: str, member_id: str, answer: Answer,
                      at: datetime, link: Link) -> None:
        def write() -> None:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(AnswerItem(pk=meetings_pk(force_id, group_id),
                                            sk=_business(uid_key, f"ANSWER#{member_id}"), member_id=member_id,
                                            answer=answer.value, at=at))
                _spend(transaction, link, at)
        _with_link(write)

    def answers(self, force_id: str, group_id: str, uid_key: str) -> dict[str, Answer]:
        return {i.member_id: Answer(i.answer) for i in AnswerItem.query(
            meetings_pk(force_id, group_id), AnswerItem.sk.startswith(_business(uid_key, "ANSWER#")),
            consistent_read=True)}

    def confirm_attendance(self, force_id: str, group_id: str, uid_key: str, present: tuple[str, ...], by: str,
                           at: datetime) -> None:
        AttendedItem(pk=meetings_pk(force_id, group_id), sk=_business(uid_key, "ATTENDED"), present=list(present),
                     by=by, at=at).save()

    def attendance(self, force_id: str, group_id: str, uid_key: str) -> Optional[tuple[str, ...]]:
        try:
            item = AttendedItem.get(meetings_pk(force_id, group_id), _business(uid_key, "ATTENDED"),
                                    consistent_read=True)
        except AttendedItem.DoesNotExist:
            return None
        return tuple(str(member_id) for member_id in item.present or ())

    def publish_minutes(self, force_id: str, group_id: str, uid_key: str, minutes: Minutes,
                        actions: list[Action]) -> bool:
        pk = meetings_pk(force_id, group_id)
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(MinutesItem(pk=pk, sk=_business(uid_key, "MINUTES"), text=minutes.text,
                                             published_at=minutes.published_at, published_by=minutes.published_by,
                                             action_ids=list(minutes.action_ids) or None),
                                 condition=MinutesItem.pk.does_not_exist())
                for a in actions:
                    transaction.save(ActionItem(
                        pk=pk, sk=f"ACTION#{a.id}", action_id=a.id, meeting=a.meeting, title=a.title,
                        owner_name=a.owner_name, owner_email=a.owner_email, due_on=a.due_on.isoformat(),
                        feedback_to_police=a.feedback_to_police, set_on=a.set_on.isoformat()),
                        condition=ActionItem.pk.does_not_exist())
        except TransactWriteError as error:
            if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                return False
            raise
        return True

    def minutes(self, force_id: str, group_id: str, uid_key: str) -> Optional[Minutes]:
        try:
            i = MinutesItem.get(meetings_pk(force_id, group_id), _business(uid_key, "MINUTES"), consistent_read=True)
        except MinutesItem.DoesNotExist:
            return None
        return Minutes(i.text, i.published_at, i.published_by, tuple(str(action_id) for action_id in i.action_ids or ()))

    def actions(self, force_id: str, group_id: str) -> list[Action]:
        return [Action(i.action_id, i.meeting, i.title, i.owner_name, i.owner_email, date.fromisoformat(i.due_on),
                       i.feedback_to_police, date.fromisoformat(i.set_on),
                       date.fromisoformat(i.closed_on) if i.closed_on else None)
                for i in ActionItem.query(meetings_pk(force_id, group_id), ActionItem.sk.startswith("ACTION#"),
                                          consistent_read=True)]

    def close_action(self, force_id: str, group_id: str, action_id: str, on: date) -> bool:
        return conditional_update(ActionItem(pk=meetings_pk(force_id, group_id), sk=f"ACTION#{action_id}"),
                                  actions=[ActionItem.closed_on.set(on.isoformat())],
                                  condition=ActionItem.pk.exists() & ActionItem.closed_on.does_not_exist())
