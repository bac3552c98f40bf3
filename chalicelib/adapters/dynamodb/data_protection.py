"""Finding, exporting, erasing and deleting one person's data in the single table.

The map of what subject access and erasure cover: every item class, whether it holds personal data of an
applicant or member, and what erasure and retention do to it (`domain/retention.py` FATES says the same as data).

| item (type)              | key (PK / SK)                                      | the person's data in it                         | erasure                              | retention           |
|--------------------------|----------------------------------------------------|-------------------------------------------------|--------------------------------------|---------------------|
| application              | FORCE#f#APP#<ref> / APPLICATION                    | `applicant` (name, email, phone, date of birth, postcode), `answers`, `applicant_key` (sha256 of email) | shell kept: stage, group, dates | deleted |
| audit event (event)      | FORCE#f#APP#<ref> / EVENT#...                      | none: actor is a role or operator id, detail holds codes (checked) | kept              | deleted             |
| decision                 | FORCE#f#APP#<ref> / DECISION#v<n>#<role>           | the reviewer's `reason` and `note` about them   | reason and note removed              | deleted             |
| screening                | FORCE#f#APP#<ref> / SCREENING#v<n>                 | outcome, level, two dates                       | deleted                              | deleted; also when expired |
| appeal                   | FORCE#f#APP#<ref> / APPEAL                         | `grounds`                                       | deleted                              | deleted             |
| agreement                | FORCE#f#APP#<ref> / AGREEMENT#<doc>                | typed name, source IP, user agent               | those removed; document, date kept   | deleted             |
| email outbox (email)     | the partition it is about / EMAIL#<kind>           | `detail` (e.g. the panel's reasons)             | unsent deleted, detail removed       | deleted             |
| wake                     | FORCE#f#APP#<ref> / WAKE                           | none                                            | kept                                 | deleted             |
| run not started          | FORCE#f#APP#<ref> / RUN                            | none                                            | deleted                              | deleted             |
| equality                 | FORCE#f#EQUALITY#<ref> / EQUALITY                  | special-category answers                        | deleted                              | deleted             |
| live guard (live)        | FORCE#f#APPLICANT#<sha256(email)> / GROUP#<group>  | the email's hash                                | deleted                              | deleted             |
| person index             | FORCE#f#APPLICANT#<sha256(email)> / APP#, PACK#    | the email's hash                                | deleted                              | deleted             |
| idempotency              | FORCE#f#IDEMPOTENCY#<sha256(key)> / IDEMPOTENCY    | none: reply is reference and status, a request hash; 24 h TTL | untouched              | untouched           |
| pack request             | FORCE#f#PACK#<id> / PACK                           | name, email, phone, postal address              | deleted (found by email)             | untouched           |
| link                     | LINK#<sha256(token)> / LINK                        | none: force, reference, role (a member id)      | untouched, never exported            | deleted when expired |
| member                   | FORCE#f#MEMBER#<ref> / GROUP#<group>               | name, email, phone, preferences, screening      | deleted: the membership ends         | kept                |
| member event             | FORCE#f#MEMBER#<ref> / EVENT#<at>#<group>#<what>   | what changed, by whom, a `reason`               | reason removed; the event kept       | kept                |
| member audit             | FORCE#f#MEMBER#<ref> / AUDIT#<at>#<group>          | none: an import's field names, operator, line   | kept                                 | kept                |
| agreement (as a member)  | FORCE#f#MEMBER#<ref> / AGREEMENT#<doc>#<version>   | typed name, source IP, user agent               | those removed; document, date kept   | kept                |
| email about a member     | FORCE#f#MEMBER#<ref> / EMAIL#<kind>                | `detail`                                        | unsent deleted, detail removed       | kept                |
| person index of a member | FORCE#f#APPLICANT#<sha256(email)> / MEMBER#<ref>#<group> | the email's hash                          | deleted                              | kept                |
| call-out response        | FORCE#f#INCIDENT#<id> / MEMBER#<ref>               | name, email, `note`                             | those removed; the answer kept       | kept                |
| candidate                | FORCE#f#ELECTION#<id> / CANDIDATE#<ref>            | name, statement                                 | name and statement removed           | kept                |
| tally, voted             | FORCE#f#ELECTION#<id> / TALLY#, VOTED#<ref>        | a member id only                                | kept                                 | kept                |
| strategic nominations    | FORCE#f#STRATEGIC#<cycle> / NOMINEES#<group>       | nominees' names and emails                      | this person's name and email removed | kept                |
| strategic availability   | FORCE#f#STRATEGIC#<cycle> / AVAILABILITY#<ref>     | a member id and dates                           | kept                                 | kept                |
| member ref               | FORCE#f#MEMBER#<ref> / REF#<PK>#<SK>               | a member id (finds the three items above)       | deleted, after what it finds         | kept                |
| reviewer                 | FORCE#f#PEOPLE / GROUP#<g>#ROLE#<role>             | name, email (if the person sits on a panel)     | deleted (matched by email)           | kept                |
| incident, meeting, cycle, election | their own partitions                     | police leads and titles, not applicants         | untouched                            | untouched           |
| operators' access        | FORCE#f#ACCESS#<yyyy-mm> / <at>#...                | none: operator id, action, reference            | never removed                        | never removed       |
| deleted count            | FORCE#f#COUNTS / DELETED#<group>#<stage>           | none: a number                                  | -                                    | incremented         |

A member is found by email through the person index (MEMBER# entries, written with every membership and moved
when its address changes), whether or not they ever applied; their whole partition is read with one Query.
Members' footprint beyond their own items: call-out responses are found through the force's incident list (a
Query, then a Get per incident); candidacies, nominations and availability through the member refs written with
them (a Query on the member's partition, then a Get each). Nothing here scans: the roles in AWS grant no Scan.
Those three written before the refs existed are found only after `backfill_member_refs()` has run once.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Iterator, Optional, cast

from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.reports import DeletedCountItem, counts_pk
from chalicelib.adapters.dynamodb.applications import (
    ApplicantIndexItem, ApplicationItem, EqualityItem, PackRequestItem, application_from_item, count_in_funnel,
    event_item, save_transition,
)
from chalicelib.adapters.dynamodb.base import (
    Item, OutboxItem, applicant_partition, application_pk, connection, key_timestamp, stage_key,
)
from chalicelib.adapters.dynamodb.links import LinkItem, expiring_key
from chalicelib.adapters.dynamodb.callouts import IncidentItem, ResponseItem
from chalicelib.adapters.dynamodb.elections import CandidateItem
from chalicelib.adapters.dynamodb.joining import (
    AgreementItem, MemberItem, ScreeningItem, member_index_item, member_pk, member_from_item as _member,
)
from chalicelib.adapters.dynamodb.membership import MemberEventItem
from chalicelib.adapters.dynamodb.member_refs import MemberRefItem, member_ref, member_refs
from chalicelib.adapters.dynamodb.review import DecisionItem, ReviewerItem
from chalicelib.adapters.dynamodb.strategic import AvailabilityItem, NominationsItem
from chalicelib.domain.application import Application, AuditEvent, applicant_key as person_key
from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.retention import Fate, fate
from chalicelib.services.ports import Record

_OWNED = re.compile(r"^FORCE#[^#]+#(?:APP|EQUALITY|MEMBER)#(.+)$")
ERASED = "erased"
ERASED_NAME = "Erased member"
_MACHINERY = ("PK", "SK", "GSI1PK", "GSI1SK", "ttl", "type", "version", "applicant_key", "request_hash")


def counts_key(force_id: str) -> str:
    return counts_pk(force_id)


class DynamoDataProtection:
    # --- finding a person ---

    def references_for(self, force_id: str, key: str) -> list[str]:
        return [i.reference for i in ApplicantIndexItem.query(applicant_partition(force_id, key),
                                                              ApplicantIndexItem.sk.startswith("APP#"))]

    def pack_requests_for(self, force_id: str, key: str) -> list[str]:
        return [i.reference for i in ApplicantIndexItem.query(applicant_partition(force_id, key),
                                                              ApplicantIndexItem.sk.startswith("PACK#"))]

    def members_for(self, force_id: str, key: str) -> list[str]:
        """The member ids whose membership is held under this address (imported members have no application)."""
        return list(dict.fromkeys(i.reference for i in ApplicantIndexItem.query(
            applicant_partition(force_id, key), ApplicantIndexItem.sk.startswith("MEMBER#"))))

    def member_emails(self, force_id: str, member_id: str) -> set[str]:
        """The addresses on this id's memberships (one a group); empty when there is none, or none any more."""
        return {i.email for i in MemberItem.query(member_pk(force_id, member_id), MemberItem.sk.startswith("GROUP#"),
                                                  consistent_read=True)}

    def application(self, force_id: str, reference: str) -> Optional[Application]:
        item = self._application_item(force_id, reference)
        return None if item is None or item.applicant_key == ERASED else application_from_item(item)

    def is_erased(self, force_id: str, reference: str) -> bool:
        """An erased application (its shell is kept), or a membership whose kept audit is all that is left."""
        item = self._application_item(force_id, reference)
        if item is not None:
            return item.applicant_key == ERASED
        left = list(Item.query(member_pk(force_id, reference), limit=10, consistent_read=True))
        return bool(left) and not any(isinstance(i, MemberItem) for i in left) and \
            not self.member_emails(force_id, reference)

    def save_transition(self, application: Application, event: AuditEvent) -> Application:
        return save_transition(application, event)

    # --- subject access ---

    def records(self, force_id: str, references: list[str], pack_ids: list[str], emails: set[str],
                member_ids: tuple[str, ...] = ()) -> list[Record]:
        """Everything held about the person, item by item; never a link or a token's hash."""
        members = set(references) | set(member_ids)  # a member's id is the reference of their application, or MEM-
        return [_record(item, members)
                for item in self._footprint(force_id, references, pack_ids, emails, member_ids)
                if not isinstance(item, MemberRefItem)]  # an index: what it finds is in the export

    # --- erasure ---

    def erase(self, force_id: str, references: list[str], pack_ids: list[str], emails: set[str],
              events: dict[str, AuditEvent], member_ids: tuple[str, ...] = ()) -> dict[str, int]:
        """Apply erasure's fate to every item about the person. Returns how many were deleted and anonymised.

        The application shells, their events and the index entries that find them are written last and together:
        until then an interrupted erasure can be asked for again and finds everything; after, nothing is left.
        """
        counts = {"deleted": 0, "anonymised": 0}
        items = list(self._footprint(force_id, references, pack_ids, emails, member_ids))
        shells = [i for i in items if isinstance(i, ApplicationItem)]
        finding = [i for i in items if _kind(i) == "applicant_index" and i.sk.startswith("APP#")]
        rest = [i for i in items if i not in shells and i not in finding]
        # What finds the rest goes last (the member's refs, the person index, the memberships, whose addresses find
        # the index), so an interrupted erasure asked for again still finds what is left.
        for item in sorted(rest, key=lambda i: (isinstance(i, MemberItem),
                                                i.pk.startswith(applicant_partition(force_id, "")),
                                                isinstance(i, MemberRefItem))):
            what = fate(_kind(item), erasure=True)
            if what is Fate.DELETE:
                item.delete()
                counts["deleted"] += 1
            elif what is Fate.ANONYMISE and _anonymise(item, emails, set(references) | set(member_ids)):
                counts["anonymised"] += 1
        if shells or finding:
            self._erase_applications(shells, finding, events)
        return {"deleted": counts["deleted"] + len(finding), "anonymised": counts["anonymised"] + len(shells)}

    @staticmethod
    def _erase_applications(shells: list[ApplicationItem], finding: list[Item], events: dict[str, AuditEvent]
                            ) -> None:
        with TransactWrite(connection=connection()) as transaction:  # 3 items an application: 33 fit in one
            for item in shells:
                answers = item.answers.as_dict() if item.answers else {}
                kept = {k: v for k, v in answers.items() if k == "redirected_from"}
                transaction.update(item, actions=[ApplicationItem.applicant.set({}),
                                                  ApplicationItem.answers.set(kept),
                                                  ApplicationItem.applicant_key.set(ERASED)])
                if item.reference in events:  # after a withdrawal at the same moment
                    transaction.save(event_item(events[item.reference], item.force_id, 1))
            for entry in finding:
                transaction.delete(entry)

    # --- retention ---

    def at_stage_submitted_before(self, force_id: str, group_id: str, stage: Stage, before: datetime
                                  ) -> Iterator[Application]:
        """Applications of a group at a stage, submitted before a moment (a Query on the stage index)."""
        for item in ApplicationItem.by_stage.query(stage_key(force_id, group_id, stage),
                                                   ApplicationItem.gsi1sk < key_timestamp(before)):
            yield application_from_item(item)

    def delete_application(self, force_id: str, reference: str, stage: Stage, version: int) -> int:
        """Every item of one application, then the application itself with its count in one write.

        Done in that order so an interrupted pass is finished by the next one and counts once.
        Returns the items deleted (0 if it moved or went meanwhile).
        """
        item = self._application_item(force_id, reference)
        if item is None or item.stage != stage.value or item.version != version:
            return 0
        deleted = 0
        pk = application_pk(force_id, reference)
        others = [i for i in Item.query(pk) if i.sk != "APPLICATION"]
        others += _existing(EqualityItem, f"FORCE#{force_id}#EQUALITY#{reference}", "EQUALITY")
        if item.applicant_key != ERASED:
            person = applicant_partition(force_id, item.applicant_key)
            groups = {item.group_id, (item.answers.as_dict() if item.answers else {}).get("redirected_from")}
            others += _existing(Item, person, f"APP#{reference}")
            for group_id in filter(None, groups):  # a redirected application was guarded in its first group
                others += _existing(Item, person, f"GROUP#{group_id}")
        with Item.batch_write() as batch:
            for other in others:
                if _kind(other) == "live" and getattr(other, "reference", reference) != reference:
                    continue  # the person's live application elsewhere in this group
                batch.delete(other)
                deleted += 1
        with TransactWrite(connection=connection()) as transaction:
            transaction.delete(item)  # the version attribute adds its condition
            transaction.update(DeletedCountItem(pk=counts_key(force_id), sk=f"DELETED#{item.group_id}#{item.stage}"),
                               actions=[DeletedCountItem.deleted.add(1), DeletedCountItem.type.set(DeletedCountItem)])
            count_in_funnel(transaction, force_id, {item.group_id: {"deleted": 1}})  # its steps stay counted
        return deleted + 1

    def delete_expired(self, force_id: str, now: datetime, today: date) -> dict[str, int]:
        """Expired links and screening outcomes of one force: a Query on each due-date index (GSI1
        FORCE#<force>#EXPIRES#LINK and #SCREENING, sorted by expiry), paged, so the pass reads what is due and
        nothing else, however large the table. No Scan: the roles in AWS grant none.

        Links and outcomes written before that index have no GSI1 keys and are not found here; they carry
        `ttl` (their expiry), so DynamoDB's TTL deletes them in AWS (within about 48 h of expiring).
        """
        counts = {"links": 0, "screening": 0}
        due = ((LinkItem, expiring_key(force_id, "LINK"), key_timestamp(now), "links"),
               (ScreeningItem, expiring_key(force_id, "SCREENING"), today.isoformat(), "screening"))
        with Item.batch_write() as batch:
            for model, partition, before, kind in due:
                # "<expiry>#<PK>" < "<bound>" exactly when the expiry is before the bound (links: now; outcomes:
                # today, as an outcome is valid on its last day). Read in full before deleting, so no page
                # starts after a key that is already gone.
                for item in list(model.by_stage.query(partition, model.gsi1sk < before)):
                    batch.delete(item)
                    counts[kind] += 1
        return counts

    # --- the items about a person ---

    @staticmethod
    def _application_item(force_id: str, reference: str) -> Optional[ApplicationItem]:
        try:
            return ApplicationItem.get(application_pk(force_id, reference), "APPLICATION", consistent_read=True)
        except ApplicationItem.DoesNotExist:
            return None

    def _footprint(self, force_id: str, references: list[str], pack_ids: list[str], emails: set[str],
                   member_ids: tuple[str, ...] = ()) -> Iterator[Item]:
        member = False
        keys: set[str] = {person_key(e) for e in emails}
        for reference in references:
            application = self._application_item(force_id, reference)
            if application is not None and application.applicant_key != ERASED:
                keys.add(application.applicant_key)
            yield from Item.query(application_pk(force_id, reference))
            yield from _existing(EqualityItem, f"FORCE#{force_id}#EQUALITY#{reference}", "EQUALITY")
        # A member's whole partition: the memberships, their audit and events, agreements signed as a member, the
        # emails about them. The refs in it are read below, each after the item it finds.
        for member_id in dict.fromkeys([*references, *member_ids]):
            for item in Item.query(member_pk(force_id, member_id), consistent_read=True):
                if isinstance(item, MemberItem):
                    member = True
                    keys.add(person_key(item.email))
                if not isinstance(item, MemberRefItem):
                    yield item
        for key in sorted(keys):
            yield from Item.query(applicant_partition(force_id, key))
        for pack_id in pack_ids:
            yield from _existing(PackRequestItem, f"FORCE#{force_id}#PACK#{pack_id}", "PACK")
            yield from OutboxItem.query(f"FORCE#{force_id}#PACK#{pack_id}")
        lowered = {e.strip().lower() for e in emails}
        for reviewer in ReviewerItem.query(f"FORCE#{force_id}#PEOPLE"):
            if reviewer.email.strip().lower() in lowered:
                yield reviewer
        yield from self._member_footprint(force_id, set(references) | set(member_ids), member)

    @staticmethod
    def _member_footprint(force_id: str, member_ids: set[str], member: bool) -> Iterator[Item]:
        if member:
            for incident in IncidentItem.by_stage.query(f"FORCE#{force_id}#INCIDENTS"):
                for member_id in member_ids:
                    yield from _existing(ResponseItem, incident.pk, f"MEMBER#{member_id}")
        # Candidacies, nominations, availability: through the refs written with them. Refs are read even when the
        # membership item is gone (an interrupted erasure), and each item is yielded before its ref.
        seen: set[tuple[str, str]] = set()
        for member_id in sorted(member_ids):
            for ref in member_refs(force_id, member_id):
                if (ref.ref_pk, ref.ref_sk) not in seen:
                    seen.add((ref.ref_pk, ref.ref_sk))
                    yield from _existing(Item, ref.ref_pk, ref.ref_sk)
                yield ref


def _kind(item: Item) -> str:
    """The item's type as stored ("application", "decision"...); pynamodb gives the class."""
    return str(Item.type.get_discriminator(type(item)))


def _existing(model, pk: str, sk: str) -> list:
    try:
        return [model.get(pk, sk, consistent_read=True)]
    except model.DoesNotExist:
        return []


def _nominees(item: NominationsItem) -> list[dict]:
    return [n if isinstance(n, dict) else n.as_dict() for n in item.nominees]


def _anonymise(item: Item, emails: set[str], member_ids: set[str]) -> bool:
    """Remove the person's identity from one item that is kept; False if there was nothing to remove."""
    if isinstance(item, DecisionItem):
        if item.reason is None and item.note is None:
            return False
        item.update(actions=[DecisionItem.reason.remove(), DecisionItem.note.remove()])
    elif isinstance(item, OutboxItem):
        if item.status != "sent":
            item.delete()  # never send it now: the address is gone
        elif item.detail is not None:
            item.update(actions=[OutboxItem.detail.remove()])
        else:
            return False
    elif isinstance(item, AgreementItem):
        if item.signed_name == ERASED:
            return False
        item.update(actions=[AgreementItem.signed_name.set(ERASED), AgreementItem.source_ip.set(ERASED),
                             AgreementItem.user_agent.remove()])
    elif isinstance(item, ResponseItem):
        if item.name == ERASED_NAME:
            return False
        item.update(actions=[ResponseItem.name.set(ERASED_NAME), ResponseItem.email.set(ERASED),
                             ResponseItem.note.remove()])
    elif isinstance(item, CandidateItem):
        if item.name == ERASED_NAME:
            return False
        item.update(actions=[CandidateItem.name.set(ERASED_NAME), CandidateItem.statement.set("")])
    elif isinstance(item, MemberEventItem):
        if item.reason is None:
            return False
        item.update(actions=[MemberEventItem.reason.remove()])
    elif isinstance(item, NominationsItem):
        nominees = _nominees(item)
        changed = [{**n, "name": ERASED_NAME, "email": ERASED} if n["member_id"] in member_ids else n
                   for n in nominees]
        if changed == nominees:
            return False
        item.update(actions=[NominationsItem.nominees.set(changed)])  # type: ignore[arg-type]  # stored as maps
    else:
        return False
    return True


def _record(item: Item, member_ids: set[str]) -> Record:
    data = {k: _plain(v) for k, v in item.to_simple_dict().items() if k not in _MACHINERY}
    if isinstance(item, NominationsItem):  # other nominees of the group are other people
        data["nominees"] = [n for n in data.get("nominees", []) if n.get("member_id") in member_ids]
    match = _OWNED.match(item.pk)
    return Record(kind=_kind(item), source=f"{item.pk} / {item.sk}", data=data,
                  reference=match.group(1) if match else getattr(item, "reference", None))


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value



def backfill_person_index() -> int:
    """One-off, for data stored before the person index existed: index every application and pack request by
    its person. A Scan of the whole table: run it once from an operator's shell with the operator's own AWS
    credentials (the API's and the flows' roles grant no Scan), never on a request. Safe to run again (the same
    items are written). Returns the index items written."""
    written = 0
    with Item.batch_write() as batch:
        for item in Item.scan(filter_condition=Item.type.is_in(ApplicationItem, PackRequestItem)):
            if isinstance(item, ApplicationItem) and item.applicant_key != ERASED:
                key, sk, reference = item.applicant_key, f"APP#{item.reference}", item.reference
            elif isinstance(item, PackRequestItem) and item.details and item.details.as_dict().get("email"):
                key, sk, reference = person_key(item.details.as_dict()["email"]), f"PACK#{item.request_id}", \
                    item.request_id
            else:
                continue
            force_id = item.force_id
            batch.save(ApplicantIndexItem(pk=applicant_partition(force_id, key), sk=sk, reference=reference))
            written += 1
    return written


def backfill_member_refs() -> int:
    """One-off, for candidacies, nominations and availability stored before member refs existed: write the ref of
    each member each one names. A Scan of the whole table: run it once from an operator's shell with the
    operator's own AWS credentials (the API's and the flows' roles grant no Scan), never on a request. Safe to
    run again (the same items are written). Returns the refs written."""
    written = 0
    with Item.batch_write() as batch:
        for item in Item.scan(filter_condition=Item.type.is_in(CandidateItem, NominationsItem, AvailabilityItem)):
            force_id = item.pk.split("#")[1]
            if isinstance(item, CandidateItem):
                named = {item.member_id}
            elif isinstance(item, AvailabilityItem):
                named = {item.person_id}
            else:
                named = {n["member_id"] for n in _nominees(cast(NominationsItem, item))}
            for member_id in sorted(named):
                batch.save(member_ref(force_id, member_id, item))
                written += 1
    return written


def backfill_member_index() -> int:
    """One-off, for memberships stored before members had person index entries: write each membership's entry
    (MEMBER#<id>#<group> under the hash of its address). A Scan of the whole table: run it once from an
    operator's shell with the operator's own AWS credentials, never on a request. Safe to run again. Returns the
    entries written."""
    written = 0
    with Item.batch_write() as batch:
        for item in Item.scan(filter_condition=Item.type.is_in(MemberItem)):
            batch.save(member_index_item(_member(cast(MemberItem, item))))
            written += 1
    return written
