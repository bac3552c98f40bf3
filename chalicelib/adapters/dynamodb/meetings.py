"""Planned meetings of each group, in the single table (keys as in adapters/dynamodb/base.py).

| item    | PK                                   | SK                       |
|---------|--------------------------------------|--------------------------|
| meeting | FORCE#<force>#GROUP#<group>#MEETINGS | MEETING#<uid_key>        |

A meeting keeps its uid_key for life (the .ics UID); a move or a cancellation raises its sequence.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.adapters.dynamodb.base import Item, conditional_save, conditional_update
from chalicelib.domain.meetings import Meeting
from chalicelib.domain.meeting_plans import PlannedMeeting


class MeetingItem(Item, discriminator="meeting"):
    """PK FORCE#<force>#GROUP#<group>#MEETINGS  SK MEETING#<uid_key>"""
    uid_key = UnicodeAttribute()
    title = UnicodeAttribute()
    starts_at = UnicodeAttribute()  # ISO with its London offset
    ends_at = UnicodeAttribute()
    venue = UnicodeAttribute()
    online_option = BooleanAttribute()
    sequence = NumberAttribute()
    cancelled = BooleanAttribute()
    online_link = UnicodeAttribute(null=True)  # absent on meetings planned before links could be set
    note = UnicodeAttribute(null=True)  # why it moved or was cancelled, or what an extra meeting is for
    changed_at = UTCDateTimeAttribute()


def meetings_pk(force_id: str, group_id: str) -> str:
    return f"FORCE#{force_id}#GROUP#{group_id}#MEETINGS"


class DynamoMeetingStore:
    def add(self, force_id: str, group_id: str, planned: PlannedMeeting, at: datetime) -> bool:
        """False if the meeting is already planned (planning again changes nothing)."""
        m = planned.meeting
        item = MeetingItem(pk=meetings_pk(force_id, group_id), sk=f"MEETING#{m.uid_key}", uid_key=m.uid_key,
                           title=m.title, starts_at=m.starts_at.isoformat(), ends_at=m.ends_at.isoformat(),
                           venue=m.venue, online_option=m.online_option, online_link=m.online_link or None,
                           sequence=planned.sequence,
                           cancelled=planned.cancelled, note=planned.note or None, changed_at=at)
        return conditional_save(item, MeetingItem.pk.does_not_exist())

    def all(self, force_id: str, group_id: str) -> list[PlannedMeeting]:
        items = MeetingItem.query(meetings_pk(force_id, group_id), MeetingItem.sk.startswith("MEETING#"),
                                  consistent_read=True)
        return sorted((_planned(i) for i in items), key=lambda p: p.meeting.starts_at)

    def get(self, force_id: str, group_id: str, uid_key: str) -> Optional[PlannedMeeting]:
        try:
            return _planned(MeetingItem.get(meetings_pk(force_id, group_id), f"MEETING#{uid_key}",
                                            consistent_read=True))
        except MeetingItem.DoesNotExist:
            return None

    def change(self, force_id: str, group_id: str, before: PlannedMeeting, after: PlannedMeeting,
               at: datetime) -> bool:
        """Store a move or cancellation; False if someone changed the meeting since `before` was read."""
        m = after.meeting
        return conditional_update(
            MeetingItem(pk=meetings_pk(force_id, group_id), sk=f"MEETING#{m.uid_key}"),
            actions=[MeetingItem.starts_at.set(m.starts_at.isoformat()), MeetingItem.ends_at.set(m.ends_at.isoformat()),
                     MeetingItem.venue.set(m.venue), MeetingItem.sequence.set(after.sequence),
                     MeetingItem.online_link.set(m.online_link) if m.online_link else MeetingItem.online_link.remove(),
                     MeetingItem.cancelled.set(after.cancelled), MeetingItem.changed_at.set(at)]
            + [MeetingItem.note.set(after.note) if after.note else MeetingItem.note.remove()],
            condition=MeetingItem.sequence == before.sequence)


def _planned(i: MeetingItem) -> PlannedMeeting:
    return PlannedMeeting(Meeting(i.uid_key, i.title, datetime.fromisoformat(i.starts_at),
                                  datetime.fromisoformat(i.ends_at), i.venue, i.online_option, i.online_link or ""),
                          int(i.sequence), i.cancelled, i.note or "")
