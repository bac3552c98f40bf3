"""Members brought in by an import, in the same single table (member items as in adapters/dynamodb/joining.py).

| item         | PK                               | SK                                |
|--------------|----------------------------------|-----------------------------------|
| member audit | FORCE#<force>#MEMBER#<member id> | AUDIT#<at>#<group>                |
| agreement    | FORCE#<force>#MEMBER#<member id> | AGREEMENT#<document>#<version>    |

An import is all or nothing: DynamoDB takes at most 100 items in one transaction, so a larger file is written in
transactions of CHUNK rows (the member, its person index entry if new, and its audit entry), and if one fails every chunk already written
is put back as it was before (new members deleted, changed fields restored, their audit entries removed).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional
from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.base import Item, connection, key_timestamp
from chalicelib.adapters.dynamodb.links import LinkItem, usable_link
from chalicelib.adapters.dynamodb.joining import (
    AgreementItem, DynamoJoiningStore, MemberItem, member_index_item, member_item,
)
from chalicelib.domain.links import Link
from chalicelib.domain.membership import Member, SignedAgreement
from chalicelib.services.ports import MemberChange, MemberConflict
from chalicelib.services.ports import LinkConflict

CHUNK = 30  # rows per transaction: at most 3 items each (member, person index, audit), within DynamoDB's 100


class MemberAuditItem(Item, discriminator="member_audit"):
    """PK FORCE#<force>#MEMBER#<id>  SK AUDIT#<at>#<group>: who changed which fields of a membership, and when
    (the field names only: the values are on the member)."""
    group_id = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    fields = ListAttribute(of=UnicodeAttribute)
    line = NumberAttribute()
    created = UnicodeAttribute()  # "yes" when the import created the membership


def _member_key(member: Member) -> MemberItem:
    return MemberItem(pk=f"FORCE#{member.force_id}#MEMBER#{member.member_id}", sk=f"GROUP#{member.group_id}")


def _set_actions(member: Member) -> list:
    """Set the fields an import owns to the member's values (and nothing else the member item holds)."""
    item = member_item(member)
    return [MemberItem.name.set(item.name),
            MemberItem.phone.set(item.phone) if item.phone else MemberItem.phone.remove(),
            MemberItem.role.set(item.role), MemberItem.joined_on.set(item.joined_on),
            MemberItem.term_ends_on.set(item.term_ends_on),
            MemberItem.screening.set(item.screening) if item.screening else MemberItem.screening.remove(),
            MemberItem.agreement_version.set(item.agreement_version)]


def _audit(change: MemberChange, actor: str, at: datetime) -> MemberAuditItem:
    member = change.after
    return MemberAuditItem(pk=f"FORCE#{member.force_id}#MEMBER#{member.member_id}",
                           sk=f"AUDIT#{key_timestamp(at)}#{member.group_id}", group_id=member.group_id, actor=actor, at=at,
                           fields=list(change.fields), line=change.line, created="yes" if change.before is None else "no")


class DynamoMemberImport:
    def members(self, force_id: str, group_id: str) -> list[Member]:
        return DynamoJoiningStore().members(force_id, group_id)

    def member(self, force_id: str, member_id: str, group_id: str) -> Optional[Member]:
        return DynamoJoiningStore().member(force_id, member_id, group_id)

    def sign_agreement(self, member: Member, agreement: SignedAgreement, link: Link) -> None:
        """The agreement, the member's version of it and the spent link in one write, only while the link is good."""
        version = f"{agreement.document_id}@{agreement.document_version}"
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.update(LinkItem(pk=f"LINK#{link.token_hash}", sk="LINK"),
                                   actions=[LinkItem.used_at.set(agreement.signed_at)],
                                   condition=usable_link(agreement.signed_at))
                transaction.update(_member_key(member), actions=[MemberItem.agreement_version.set(version)],
                                   condition=MemberItem.pk.exists())
                transaction.save(AgreementItem(
                    pk=_member_key(member).pk, sk=f"AGREEMENT#{agreement.document_id}#{agreement.document_version}",
                    document_id=agreement.document_id, document_version=agreement.document_version,
                    document_fingerprint=agreement.document_fingerprint, signed_name=agreement.signed_name,
                    signed_at=agreement.signed_at, source_ip=agreement.source_ip,
                    user_agent=agreement.user_agent or None), condition=AgreementItem.pk.does_not_exist())
        except TransactWriteError as error:
            if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                raise LinkConflict() from None
            raise

    def apply_import(self, force_id: str, changes: list[MemberChange], actor: str, at: datetime) -> None:
        written: list[list[MemberChange]] = []
        for start in range(0, len(changes), CHUNK):
            chunk = changes[start:start + CHUNK]
            try:
                self._write(chunk, actor, at)
            except TransactWriteError as error:
                self._undo(written, actor, at)
                if any(r and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                    raise MemberConflict("a member changed while the import ran; nothing was kept") from None
                raise
            written.append(chunk)

    @staticmethod
    def _write(chunk: list[MemberChange], actor: str, at: datetime) -> None:
        with TransactWrite(connection=connection()) as transaction:
            for change in chunk:
                if change.before is None:
                    transaction.save(member_item(change.after), condition=MemberItem.pk.does_not_exist())
                    transaction.save(member_index_item(change.after))
                else:
                    transaction.update(_member_key(change.after), actions=_set_actions(change.after),
                                       condition=MemberItem.pk.exists() & (MemberItem.email == change.before.email))
                transaction.save(_audit(change, actor, at))

    @staticmethod
    def _undo(written: list[list[MemberChange]], actor: str, at: datetime) -> None:
        for chunk in reversed(written):
            with TransactWrite(connection=connection()) as transaction:
                for change in chunk:
                    if change.before is None:
                        transaction.delete(_member_key(change.after))
                        transaction.delete(member_index_item(change.after))
                    else:
                        transaction.update(_member_key(change.before), actions=_set_actions(change.before))
                    audit = _audit(change, actor, at)
                    transaction.delete(MemberAuditItem(pk=audit.pk, sk=audit.sk))

    def audit(self, force_id: str, member_id: str) -> list[dict]:
        return [{"at": key_timestamp(i.at), "by": i.actor, "group": i.group_id, "fields": list(i.fields), "line": int(i.line),
                 "created": i.created == "yes"}
                for i in MemberAuditItem.query(f"FORCE#{force_id}#MEMBER#{member_id}",
                                               MemberAuditItem.sk.startswith("AUDIT#"))]
