"""What reports read from the single table, by Query only, and only the attributes a count needs.

| item          | PK                    | SK                          | attributes               |
|---------------|-----------------------|-----------------------------|--------------------------|
| deleted count | FORCE#<force>#COUNTS  | DELETED#<group>#<stage>     | count (N), type          |
| published     | FORCE#<force>#COUNTS  | EQUALITY#<period>           | report (JSON), type      |
| funnel        | FORCE#<force>#COUNTS  | FUNNEL#<group>              | step_*, exit_*, now_*, deleted (N), type |

Deleted counts are written by the retention sweep, which deletes applications and leaves their number.
Applications are found on GSI1 (`FORCE#<force>#GROUP#<group>#STAGE#<stage>`), projected to their key and
submission time; their audit events (which hold no personal data) to the stages they moved between; equality
records (`FORCE#<force>#EQUALITY#GROUP#<group>`, sorted by when they were recorded) to their answers. Names,
emails and statements are never read. A published equality report is kept as first published: counts only.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterator, Optional, cast

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.applications import (
    ApplicationItem, AuditEventItem, EqualityItem, FunnelCountItem, funnel_key,
)
from chalicelib.adapters.dynamodb.base import Item, connection, key_timestamp, stage_key
from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.recruitment import Journey


class DeletedCountItem(Item, discriminator="deleted_count"):
    """PK FORCE#<force>#COUNTS  SK DELETED#<group>#<stage>: applications deleted under the retention policy."""
    deleted = NumberAttribute(attr_name="count")  # `count` would hide Model.count


class PublishedReportItem(Item, discriminator="published_report"):
    """PK FORCE#<force>#COUNTS  SK EQUALITY#<period>: an equality report as first published (aggregates only)."""
    report = UnicodeAttribute()


def counts_pk(force_id: str) -> str:
    return f"FORCE#{force_id}#COUNTS"


def equality_key(force_id: str, group_id: str) -> str:
    return f"FORCE#{force_id}#EQUALITY#GROUP#{group_id}"


class DynamoReportStore:
    def funnel_counters(self, force_id: str, group_id: Optional[str] = None) -> dict[str, dict[str, int]]:
        """Each group's funnel counters (one Query of the counts partition, paged), or one group's (one GetItem).
        Read raw: the counters are attributes the model does not declare, one per step, exit and stage."""
        pk, sk = funnel_key(force_id, group_id or "")
        table = FunnelCountItem.Meta.table_name
        if group_id:
            found = connection().get_item(table, pk, sk, consistent_read=True).get("Item")
            raw = [found] if found else []
        else:
            raw, start = [], None
            while True:
                page = connection().query(table, pk, FunnelCountItem.sk.startswith("FUNNEL#"),
                                          exclusive_start_key=start)
                raw += page.get("Items", [])
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
        return {item["SK"]["S"][len("FUNNEL#"):]: {name: int(value["N"]) for name, value in item.items()
                                                  if name.startswith(("step_", "exit_", "now_", "deleted"))}
                for item in raw}

    def journeys_at(self, force_id: str, group_id: str, stage: Stage, *, with_history: bool) -> Iterator[Journey]:
        items = ApplicationItem.by_stage.query(stage_key(force_id, group_id, stage),
                                               attributes_to_get=["PK", "submitted_at", "type"])
        for item in items:
            seen = self._stages_seen(item.pk) if with_history else frozenset()
            yield Journey(group_id, stage, seen, item.submitted_at.date())

    @staticmethod
    def _stages_seen(pk: str) -> frozenset[Stage]:
        events = AuditEventItem.query(pk, AuditEventItem.sk.startswith("EVENT#"),
                                      attributes_to_get=["from_stage", "to_stage", "type"])
        return frozenset(Stage(s) for e in events for s in (e.from_stage, e.to_stage) if s)

    def equality_answers(self, force_id: str, group_id: str, since: Optional[datetime] = None,
                         before: Optional[datetime] = None) -> Iterator[dict]:
        """Answers recorded in [since, before) when given (a range on the index's sort key, never a filter)."""
        condition = None
        if since and before:
            condition = EqualityItem.gsi1sk.between(key_timestamp(since), key_timestamp(before))  # "<iso>#<ref>" sorts by time
        items = EqualityItem.by_stage.query(equality_key(force_id, group_id), condition,
                                            attributes_to_get=["answers", "type", "recorded_at"])
        for item in items:
            if before is None or item.recorded_at < before:  # `between` includes its upper bound
                yield item.answers.as_dict()

    def published_equality(self, force_id: str, period_id: str) -> Optional[dict]:
        try:
            item = PublishedReportItem.get(counts_pk(force_id), f"EQUALITY#{period_id}", consistent_read=True)
        except PublishedReportItem.DoesNotExist:
            return None
        return json.loads(item.report)

    def publish_equality(self, force_id: str, period_id: str, report: dict) -> dict:
        """Keep the report as published; if another request published it first, theirs stands (returned)."""
        try:
            PublishedReportItem(pk=counts_pk(force_id), sk=f"EQUALITY#{period_id}",
                                report=json.dumps(report, sort_keys=True)).save(
                condition=PublishedReportItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return self.published_equality(force_id, period_id) or report
        return report



def backfill_funnel_counters(screening_groups: dict[str, frozenset[str]]) -> int:
    """One-off, for data stored before the funnel's counters existed: give every application its `stages_seen`
    (from its events) and write each group's counters as the old report computed them (deleted applications
    from their counts, as having passed what their last stage implies). A Scan of the whole table: run it once
    from an operator's shell with the operator's own AWS credentials (the roles grant no Scan), at a quiet time
    (a move made while it runs is counted twice or not at all; running it again puts that right). Safe to run
    again: it sets, never adds. `screening_groups`: force id -> the groups whose profile requires screening.
    Returns the counter items written."""
    from chalicelib.domain.recruitment import IMPLIED, counted

    table = ApplicationItem.Meta.table_name
    totals: dict[tuple[str, str], dict[str, int]] = {}

    def add(force_id: str, group_id: str, values: dict[str, int], n: int = 1) -> None:
        into = totals.setdefault((force_id, group_id), {})
        for name, v in values.items():
            into[name] = into.get(name, 0) + v * n

    for item in Item.scan(filter_condition=Item.type.is_in(ApplicationItem, DeletedCountItem)):
        if isinstance(item, ApplicationItem):
            seen = frozenset(Stage(s) for e in AuditEventItem.query(item.pk, AuditEventItem.sk.startswith("EVENT#"))
                             for s in (e.from_stage, e.to_stage) if s)
            # Straight to the table, so the version (the optimistic lock of moves in flight) is not raised.
            connection().update_item(table, item.pk, item.sk,
                                     actions=[ApplicationItem.stages_seen.set(sorted(s.value for s in seen))])  # type: ignore[misc]  # pynamodb types a list of UnicodeAttribute as holding attributes
            add(item.force_id, item.group_id, counted(Stage(item.stage), seen))
        else:
            force_id = item.pk.split("#")[1]
            group_id, stage_value = item.sk[len("DELETED#"):].rsplit("#", 1)
            stage = Stage(stage_value)
            seen = IMPLIED[stage] | ({Stage.SCREENING} if group_id in screening_groups.get(force_id, frozenset())
                                     and stage in (Stage.OFFERED, Stage.ONBOARDING, Stage.MEMBER) else frozenset())
            add(force_id, group_id, {**counted(stage, seen), "deleted": 1}, int(cast(DeletedCountItem, item).deleted))
    for (force_id, group_id), values in totals.items():
        pk, sk = funnel_key(force_id, group_id)
        connection().put_item(table, pk, sk, attributes={"type": {"S": "funnel_count"},
                                                          **{k: {"N": str(v)} for k, v in values.items()}})
    return len(totals)
