"""Strategic IAG cycles in the single table (keys as in adapters/dynamodb/base.py).

| item          | PK                                   | SK                      | GSI1PK                            | GSI1SK   |
|---------------|--------------------------------------|-------------------------|-----------------------------------|----------|
| cycle         | FORCE#<force>#STRATEGIC#<cycle>      | CYCLE                   | FORCE#<force>#STRATEGIC#OPEN (open)| <cycle> |
| nominations   | FORCE#<force>#STRATEGIC#<cycle>      | NOMINEES#<group>        |                                   |          |
| availability  | FORCE#<force>#STRATEGIC#<cycle>      | AVAILABILITY#<person>   |                                   |          |
| member ref    | FORCE#<force>#MEMBER#<member>        | REF#<PK>#<SK>: one per member either item names (member_refs.py) |

Each group nominates once and each person answers once: conditional puts, in the same write that spends
the link and writes the member refs that let erasure find them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import Item, conditional_save, conditional_update, connection
from chalicelib.adapters.dynamodb.links import LinkItem, usable_link
from chalicelib.adapters.dynamodb.member_refs import member_ref
from chalicelib.domain.links import Link
from chalicelib.domain.meetings import Meeting
from chalicelib.domain.strategic import Cycle, Nominee, Status
from chalicelib.services.ports import LinkConflict


class CycleItem(Item, discriminator="strategic_cycle"):
    """PK FORCE#<force>#STRATEGIC#<cycle>  SK CYCLE  GSI1 FORCE#<force>#STRATEGIC#OPEN / <cycle> while open,
    FORCE#<force>#STRATEGIC#DONE / <cycle> once decided and sent (so the console can still find it)"""
    cycle_id = UnicodeAttribute()
    force_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    status = UnicodeAttribute()
    meeting: MapAttribute[str, Any] = MapAttribute()
    slots = ListAttribute(of=UnicodeAttribute)
    nominations_close = UTCDateTimeAttribute()
    poll_close = UTCDateTimeAttribute()
    chosen = UnicodeAttribute(null=True)


class NominationsItem(Item, discriminator="strategic_nominations"):
    """PK FORCE#<force>#STRATEGIC#<cycle>  SK NOMINEES#<group>: one local IAG's nominees."""
    group_id = UnicodeAttribute()
    nominees = ListAttribute(of=MapAttribute)
    nominated_at = UTCDateTimeAttribute()


class AvailabilityItem(Item, discriminator="strategic_availability"):
    """PK FORCE#<force>#STRATEGIC#<cycle>  SK AVAILABILITY#<person>: the candidate dates one person can make."""
    person_id = UnicodeAttribute()
    available = ListAttribute(of=UnicodeAttribute)
    answered_at = UTCDateTimeAttribute()


def cycle_pk(force_id: str, cycle_id: str) -> str:
    return f"FORCE#{force_id}#STRATEGIC#{cycle_id}"


def open_key(force_id: str) -> str:
    return f"FORCE#{force_id}#STRATEGIC#OPEN"


def done_key(force_id: str) -> str:
    return f"FORCE#{force_id}#STRATEGIC#DONE"


class DynamoStrategicStore:
    def add_cycle(self, cycle: Cycle) -> bool:
        """False if that cycle already exists (a repeated start)."""
        meeting = cycle.meeting
        item = CycleItem(
            pk=cycle_pk(cycle.force_id, cycle.id), sk="CYCLE", gsi1pk=open_key(cycle.force_id), gsi1sk=cycle.id,
            cycle_id=cycle.id, force_id=cycle.force_id, group_id=cycle.group_id, status=cycle.status.value,
            meeting={"uid_key": meeting.uid_key, "title": meeting.title, "starts_at": meeting.starts_at.isoformat(),
                     "ends_at": meeting.ends_at.isoformat(), "venue": meeting.venue,
                     "online_option": meeting.online_option},
            slots=[s.isoformat() for s in cycle.slots], nominations_close=cycle.nominations_close,
            poll_close=cycle.poll_close)
        return conditional_save(item, CycleItem.pk.does_not_exist())

    def cycle(self, force_id: str, cycle_id: str) -> Optional[Cycle]:
        try:
            i = CycleItem.get(cycle_pk(force_id, cycle_id), "CYCLE", consistent_read=True)
        except CycleItem.DoesNotExist:
            return None
        m = i.meeting.as_dict()
        meeting = Meeting(m["uid_key"], m["title"], datetime.fromisoformat(m["starts_at"]),
                          datetime.fromisoformat(m["ends_at"]), m["venue"], m["online_option"])
        return Cycle(i.cycle_id, i.force_id, i.group_id, Status(i.status), meeting,
                     tuple(datetime.fromisoformat(str(s)) for s in i.slots), i.nominations_close, i.poll_close,
                     datetime.fromisoformat(i.chosen) if i.chosen else None)

    def open_cycles(self, force_id: str) -> list[str]:
        return [i.cycle_id for i in CycleItem.by_stage.query(open_key(force_id))]

    def move(self, cycle: Cycle, to: Status, chosen: Optional[datetime] = None) -> bool:
        """Move a cycle on from the status it was read in; False if someone else already moved it."""
        actions = [CycleItem.status.set(to.value)]
        if chosen:
            actions.append(CycleItem.chosen.set(chosen.isoformat()))
        return conditional_update(CycleItem(pk=cycle_pk(cycle.force_id, cycle.id), sk="CYCLE"), actions,
                                  CycleItem.status == cycle.status.value)

    def unlist(self, cycle: Cycle) -> None:
        """Decided and everything sent: hourly runs stop looking at it (it moves to the decided list)."""
        CycleItem(pk=cycle_pk(cycle.force_id, cycle.id), sk="CYCLE").update(
            actions=[CycleItem.gsi1pk.set(done_key(cycle.force_id)), CycleItem.gsi1sk.set(cycle.id)])

    def recent_cycles(self, force_id: str, limit: int = 6) -> list[Cycle]:
        """The open cycles, then the latest decided ones (cycle ids sort by the meeting's month)."""
        ids = self.open_cycles(force_id) + [i.cycle_id for i in CycleItem.by_stage.query(
            done_key(force_id), scan_index_forward=False, limit=limit)]
        return [c for c in (self.cycle(force_id, i) for i in dict.fromkeys(ids)) if c is not None]

    def schedule_by_hand(self, cycle: Cycle, chosen: datetime) -> bool:
        """A cycle without a quorum gets its date from an operator, and is listed again until its invitations have
        all gone; False if it was not (or no longer) waiting for one."""
        return conditional_update(CycleItem(pk=cycle_pk(cycle.force_id, cycle.id), sk="CYCLE"), [
            CycleItem.status.set(Status.SCHEDULED.value), CycleItem.chosen.set(chosen.isoformat()),
            CycleItem.gsi1pk.set(open_key(cycle.force_id)), CycleItem.gsi1sk.set(cycle.id)],
            CycleItem.status == Status.NO_QUORUM.value)

    def nominations(self, force_id: str, cycle_id: str) -> dict[str, list[Nominee]]:
        items = NominationsItem.query(cycle_pk(force_id, cycle_id), NominationsItem.sk.startswith("NOMINEES#"),
                                      consistent_read=True)
        return {i.group_id: [Nominee(n["member_id"], n["name"], n["email"], i.group_id)
                             for n in (m if isinstance(m, dict) else m.as_dict() for m in i.nominees)] for i in items}

    def nominate(self, link: Link, group_id: str, nominees: list[Nominee], at: datetime) -> None:
        self._once(link, at, NominationsItem(
            pk=cycle_pk(link.force_id, link.reference), sk=f"NOMINEES#{group_id}", group_id=group_id,
            nominees=[{"member_id": n.member_id, "name": n.name, "email": n.email} for n in nominees],
            nominated_at=at), {n.member_id for n in nominees})

    def availability(self, force_id: str, cycle_id: str) -> dict[str, set[datetime]]:
        items = AvailabilityItem.query(cycle_pk(force_id, cycle_id), AvailabilityItem.sk.startswith("AVAILABILITY#"),
                                       consistent_read=True)
        return {i.person_id: {datetime.fromisoformat(str(s)) for s in i.available} for i in items}

    def answer(self, link: Link, person_id: str, available: list[datetime], at: datetime) -> None:
        self._once(link, at, AvailabilityItem(
            pk=cycle_pk(link.force_id, link.reference), sk=f"AVAILABILITY#{person_id}", person_id=person_id,
            available=[s.isoformat() for s in available], answered_at=at), {person_id})

    @staticmethod
    def _once(link: Link, at: datetime, item: Item, member_ids: set[str]) -> None:
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                                   actions=[LinkItem.used_at.set(at)], condition=usable_link(at))
                transaction.save(item, condition=type(item).pk.does_not_exist())
                for member_id in sorted(member_ids):
                    transaction.save(member_ref(link.force_id, member_id, item))
        except TransactWriteError as error:
            if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                raise LinkConflict() from None
            raise
