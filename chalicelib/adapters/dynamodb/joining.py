"""Storage for what follows the panel's decision, in the same single table (keys as in adapters/dynamodb/base.py).

| item       | PK                               | SK                      | GSI1PK                              | GSI1SK             |
|------------|----------------------------------|-------------------------|-------------------------------------|--------------------|
| screening  | FORCE#<force>#APP#<ref>          | SCREENING#v<version>    | FORCE#<force>#EXPIRES#SCREENING     | <expires_on>#<PK>  |
| appeal     | FORCE#<force>#APP#<ref>          | APPEAL                  |                                     |                    |
| agreement  | FORCE#<force>#APP#<ref>          | AGREEMENT#<document>    |                                     |                    |
| member     | FORCE#<force>#MEMBER#<member id> | GROUP#<group>           | FORCE#<force>#GROUP#<group>#MEMBERS | <joined>#<member>  |
| person index of a member | FORCE#<force>#APPLICANT#<sha256(email)> | MEMBER#<member id>#<group> |                    |                    |

Every write that stores a member's address writes its person index entry with it (and a change of address moves
the entry in the same transaction), so subject access and erasure find a member by email with a Query, including
members who never applied (an import's MEM-... ids).

A screening item holds the outcome, level and two dates, and nothing else:
the record itself stays with the vetting unit. It expires (TTL) with the result.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any, Optional

from pynamodb.attributes import (
    BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.applications import ApplicantIndexItem, ConditionFailed, save_transition
from chalicelib.adapters.dynamodb.base import (
    Item, applicant_partition, application_pk, connection, key_timestamp,
)
from chalicelib.adapters.dynamodb.links import LinkItem, expiring_key, usable_link
from chalicelib.adapters.dynamodb.review import undelivered_key
from chalicelib.domain.application import Application, AuditEvent, applicant_key
from chalicelib.domain.links import Link
from chalicelib.domain.membership import Member, Role, SignedAgreement, Status
from chalicelib.domain.screening import Outcome, ScreeningResult
from chalicelib.services.ports import LinkConflict


class ScreeningItem(Item, discriminator="screening"):
    """PK FORCE#<force>#APP#<ref>  SK SCREENING#v<version>: outcome, level, dates. Never the record."""
    outcome = UnicodeAttribute()
    level = UnicodeAttribute()
    completed_on = UnicodeAttribute()
    expires_on = UnicodeAttribute()


class AppealItem(Item, discriminator="appeal"):
    """PK FORCE#<force>#APP#<ref>  SK APPEAL: at most one per application."""
    grounds = UnicodeAttribute()
    lodged_at = UTCDateTimeAttribute()


class AgreementItem(Item, discriminator="agreement"):
    """PK FORCE#<force>#APP#<ref>  SK AGREEMENT#<document>: who signed which version, when, from where."""
    document_id = UnicodeAttribute()
    document_version = UnicodeAttribute()
    document_fingerprint = UnicodeAttribute()
    signed_name = UnicodeAttribute()
    signed_at = UTCDateTimeAttribute()
    source_ip = UnicodeAttribute()
    user_agent = UnicodeAttribute(null=True)


class MemberItem(Item, discriminator="member"):
    """PK FORCE#<force>#MEMBER#<id>  SK GROUP#<group>  GSI1 FORCE#<force>#GROUP#<group>#MEMBERS / <joined>#<id>"""
    member_id = UnicodeAttribute()
    force_id = UnicodeAttribute()
    group_id = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    joined_on = UnicodeAttribute()
    term_ends_on = UnicodeAttribute()
    contact_preferences: MapAttribute[str, Any] = MapAttribute(null=True)
    screening: MapAttribute[str, Any] = MapAttribute(null=True)
    agreement_version = UnicodeAttribute()
    active = BooleanAttribute()
    # The lifecycle after joining: absent on members stored before it, read as their defaults.
    status = UnicodeAttribute(null=True)
    status_reason = UnicodeAttribute(null=True)
    status_on = UnicodeAttribute(null=True)
    renewal: MapAttribute[str, Any] = MapAttribute(null=True)
    callouts_paused = UnicodeAttribute(null=True)
    optional_series: ListAttribute[str] = ListAttribute(null=True)
    changes = NumberAttribute(null=True)


class WakeItem(Item, discriminator="wake"):
    """PK FORCE#<force>#APP#<ref>  SK WAKE  GSI1 FORCE#<force>#UNDELIVERED: a person acted and the flow run has
    not been told yet; reconciliation wakes it if the request could not."""
    reference = UnicodeAttribute()


def members_key(force_id: str, group_id: str) -> str:
    return f"FORCE#{force_id}#GROUP#{group_id}#MEMBERS"


def _spend(transaction: TransactWrite, link: Optional[Link], at: datetime) -> None:
    if link is not None:
        transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"), actions=[LinkItem.used_at.set(at)],
                           condition=usable_link(at))


class DynamoJoiningStore:
    def latest_screening(self, application: Application) -> Optional[ScreeningResult]:
        items = list(ScreeningItem.query(application_pk(application.force_id, application.reference),
                                         ScreeningItem.sk.startswith("SCREENING#"), scan_index_forward=False,
                                         limit=1))
        if not items:
            return None
        i = items[0]
        return ScreeningResult(Outcome(i.outcome), i.level, date.fromisoformat(i.completed_on),
                               date.fromisoformat(i.expires_on))

    def record_screening(self, moved: Application, event: AuditEvent, result: ScreeningResult,
                         link: Optional[Link] = None, emails: tuple = ()) -> Application:
        """The outcome and the move it causes, in one write (spending the vetting unit's link if one was used)."""
        pk = application_pk(moved.force_id, moved.reference)

        def more(transaction: TransactWrite) -> None:
            transaction.save(ScreeningItem(
                pk=pk, sk=f"SCREENING#v{moved.version:06d}", outcome=result.outcome.value, level=result.level,
                completed_on=result.completed_on.isoformat(), expires_on=result.expires_on.isoformat(),
                expires_at=datetime.combine(result.expires_on, time(), tzinfo=timezone.utc),
                gsi1pk=expiring_key(moved.force_id, "SCREENING"), gsi1sk=f"{result.expires_on.isoformat()}#{pk}"),
                condition=ScreeningItem.pk.does_not_exist())
            _spend(transaction, link, event.at)
        return self._transition(moved, event, emails, more)

    def appeal(self, application: Application) -> Optional[dict]:
        try:
            item = AppealItem.get(application_pk(application.force_id, application.reference), "APPEAL")
        except AppealItem.DoesNotExist:
            return None
        return {"grounds": item.grounds, "lodged_at": item.lodged_at}

    def lodge_appeal(self, moved: Application, event: AuditEvent, grounds: str, link: Link) -> Application:
        pk = application_pk(moved.force_id, moved.reference)

        def more(transaction: TransactWrite) -> None:
            transaction.save(AppealItem(pk=pk, sk="APPEAL", grounds=grounds, lodged_at=event.at),
                             condition=AppealItem.pk.does_not_exist())
            _spend(transaction, link, event.at)
        return self._transition(moved, event, (), more)

    def move(self, moved: Application, event: AuditEvent, emails: tuple = ()) -> Application:
        """A move nobody's link made (e.g. a lapse), leaving the marker that the run must be told."""
        return self._transition(moved, event, emails, lambda transaction: None)

    def answer_offer(self, moved: Application, event: AuditEvent, link: Link, emails: tuple = ()) -> Application:
        return self._transition(moved, event, emails, lambda transaction: _spend(transaction, link, event.at))

    def spend_link_and_move(self, moved: Application, event: AuditEvent, link: Link) -> Application:
        """A person's action through a single-use link: the move and the spent link in one write."""
        return self._transition(moved, event, (), lambda transaction: _spend(transaction, link, event.at))

    def complete_onboarding(self, moved: Application, event: AuditEvent, agreement: SignedAgreement,
                            member: Member, link: Link, emails: tuple) -> Application:
        """Membership begins in one write: the move, the signed agreement, the member record, the emails."""
        pk = application_pk(moved.force_id, moved.reference)

        def more(transaction: TransactWrite) -> None:
            transaction.save(AgreementItem(
                pk=pk, sk=f"AGREEMENT#{agreement.document_id}", document_id=agreement.document_id,
                document_version=agreement.document_version, document_fingerprint=agreement.document_fingerprint,
                signed_name=agreement.signed_name, signed_at=agreement.signed_at, source_ip=agreement.source_ip,
                user_agent=agreement.user_agent or None), condition=AgreementItem.pk.does_not_exist())
            transaction.save(member_item(member), condition=MemberItem.pk.does_not_exist())
            transaction.save(member_index_item(member))
            _spend(transaction, link, event.at)
        return self._transition(moved, event, emails, more)

    def agreement(self, application: Application, document_id: str) -> Optional[SignedAgreement]:
        try:
            i = AgreementItem.get(application_pk(application.force_id, application.reference),
                                  f"AGREEMENT#{document_id}")
        except AgreementItem.DoesNotExist:
            return None
        return SignedAgreement(application.reference, i.document_id, i.document_version, i.document_fingerprint,
                               i.signed_name, i.signed_at, i.source_ip, i.user_agent or "")

    def add_member(self, member: Member) -> bool:
        """A membership of one more group (e.g. a nominee on the Strategic IAG); False if it exists already."""
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(member_item(member), condition=MemberItem.pk.does_not_exist())
                transaction.save(member_index_item(member))
        except TransactWriteError as error:
            if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                return False
            raise
        return True

    def set_role(self, member: Member, role: Role) -> None:
        MemberItem(pk=f"FORCE#{member.force_id}#MEMBER#{member.member_id}", sk=f"GROUP#{member.group_id}").update(
            actions=[MemberItem.role.set(role.value)])

    def set_active(self, member: Member, active: bool) -> None:
        MemberItem(pk=f"FORCE#{member.force_id}#MEMBER#{member.member_id}", sk=f"GROUP#{member.group_id}").update(
            actions=[MemberItem.active.set(active)])

    def members(self, force_id: str, group_id: str) -> list[Member]:
        return [member_from_item(i) for i in MemberItem.by_stage.query(members_key(force_id, group_id))]

    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]:
        try:
            return member_from_item(MemberItem.get(f"FORCE#{force_id}#MEMBER#{member_id}", f"GROUP#{group_id}"))
        except MemberItem.DoesNotExist:
            return None

    def undelivered(self, force_id: str) -> list[str]:
        return [i.reference for i in WakeItem.by_stage.query(undelivered_key(force_id))]

    def delivered(self, force_id: str, reference: str) -> None:
        WakeItem(pk=application_pk(force_id, reference), sk="WAKE").delete()

    @staticmethod
    def _transition(moved, event, emails, more) -> Application:
        def and_wake(transaction: TransactWrite) -> None:
            more(transaction)
            transaction.save(WakeItem(pk=application_pk(moved.force_id, moved.reference), sk="WAKE",
                                      reference=moved.reference, gsi1pk=undelivered_key(moved.force_id),
                                      gsi1sk=f"{key_timestamp(event.at)}#{moved.reference}"))
        try:
            return save_transition(moved, event, emails, and_wake)
        except ConditionFailed:
            raise LinkConflict() from None


def member_item(member: Member) -> MemberItem:
    return MemberItem(
        pk=f"FORCE#{member.force_id}#MEMBER#{member.member_id}", sk=f"GROUP#{member.group_id}",
        gsi1pk=members_key(member.force_id, member.group_id), gsi1sk=f"{member.joined_on.isoformat()}#{member.member_id}",
        member_id=member.member_id, force_id=member.force_id, group_id=member.group_id, role=member.role.value,
        name=member.name, email=member.email, phone=member.phone or None, joined_on=member.joined_on.isoformat(),
        term_ends_on=member.term_ends_on.isoformat(), contact_preferences=member.contact_preferences,
        screening=member.screening, agreement_version=member.agreement_version, active=member.active,
        **lifecycle_attributes(member))


def member_index_item(member: Member, email: str = "") -> ApplicantIndexItem:
    """The person index entry that finds this membership by its address (or by `email`, e.g. a former one)."""
    return ApplicantIndexItem(pk=applicant_partition(member.force_id, applicant_key(email or member.email)),
                              sk=f"MEMBER#{member.member_id}#{member.group_id}", reference=member.member_id)


def lifecycle_attributes(member: Member) -> dict:
    """The lifecycle fields as stored: None (absent) for a default, so a member who never changed looks as before."""
    return {"status": member.status.value if member.status else None, "status_reason": member.status_reason or None,
            "status_on": member.status_on.isoformat() if member.status_on else None, "renewal": member.renewal,
            "callouts_paused": member.callouts_paused or None,
            "optional_series": list(member.optional_series) or None, "changes": member.changes or None}


def member_pk(force_id: str, member_id: str) -> str:
    return f"FORCE#{force_id}#MEMBER#{member_id}"


def member_from_item(i: MemberItem) -> Member:
    return Member(i.member_id, i.force_id, i.group_id, Role(i.role), i.name, i.email, i.phone or "",
                  date.fromisoformat(i.joined_on), date.fromisoformat(i.term_ends_on),
                  i.contact_preferences.as_dict() if i.contact_preferences else {},
                  i.screening.as_dict() if i.screening else None, i.agreement_version, i.active,
                  Status(i.status) if i.status else None, i.status_reason or "",
                  date.fromisoformat(i.status_on) if i.status_on else None,
                  i.renewal.as_dict() if i.renewal else None, i.callouts_paused or "",
                  tuple(i.optional_series or ()), int(i.changes or 0))
