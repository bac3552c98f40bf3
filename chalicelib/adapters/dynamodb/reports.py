"""What reports read from the single table, by Query only, and only the attributes a count needs.

| item          | PK                    | SK                          | attributes               |
|---------------|-----------------------|-----------------------------|--------------------------|
| deleted count | FORCE#<force>#COUNTS  | DELETED#<group>#<stage>     | count (N), type          |
| published     | FORCE#<force>#COUNTS  | EQUALITY#<period>           | report (JSON), type      |

Deleted counts are written by the retention sweep, which deletes applications and leaves their number.
Applications are found on GSI1 (`FORCE#<force>#GROUP#<group>#STAGE#<stage>`), projected to their key and
submission time; their audit events (which hold no personal data) to the stages they moved between; equality
records (`FORCE#<force>#EQUALITY#GROUP#<group>`, sorted by when they were recorded) to their answers. Names,
emails and statements are never read. A published equality report is kept as first published: counts only.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterator, Optional

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.applications import ApplicationItem, AuditEventItem, EqualityItem
from chalicelib.adapters.dynamodb.base import Item, key_timestamp, stage_key
from chalicelib.domain.lifecycle import Stage
from chalicelib.domain.recruitment import Journey, StageCount


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
    def count_at(self, force_id: str, group_id: str, stage: Stage) -> int:
        return ApplicationItem.count(stage_key(force_id, group_id, stage), index_name="GSI1")  # Select=COUNT

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

    def deleted_counts(self, force_id: str) -> list[StageCount]:
        items = DeletedCountItem.query(counts_pk(force_id), DeletedCountItem.sk.startswith("DELETED#"))
        counts = []
        for item in items:
            group_id, stage = item.sk[len("DELETED#"):].rsplit("#", 1)
            counts.append(StageCount(group_id, Stage(stage), int(item.deleted), deleted=True))
        return counts

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
