"""The adapter through which ``stage`` reads a person's current lifecycle stage.

The lifecycle capability owns stages; segments only read them and should not break when
lifecycle changes its layout. The adapter looks at the mapped tables (so it works as soon
as lifecycle's models are registered in ``tenure.all_models``) and uses the first of:

1. a ``stage`` text column on ``people``;
2. ``person_stages(person_id, stage_id)`` with ``lifecycle_stages(id, name, key)``, one
   row per person (lifecycle's layout): ``stage = "Active"`` matches the stage's name or
   its key, so ``stage = "new_customer"`` and ``stage = "New customer"`` both work;
3. ``person_stages(person_id, stage)`` with the stage as text, one row per person.

When none exists, a filter naming ``stage`` is refused with a message that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import MetaData, Table, exists, or_, select

from tenure.db.base import complete_metadata
from tenure.segments.operands import Operand, Scalar, SetOf

StageSource = Callable[[], "Operand | None"]


def current_stage(metadata: MetaData | None = None) -> Operand | None:
    """The ``stage`` operand over whatever stores stages, or None if nothing does."""
    metadata = metadata or complete_metadata()
    people = metadata.tables["people"]
    if "stage" in people.c:
        return Scalar("stage", people.c.stage, "string")
    person_stages = metadata.tables.get("person_stages")
    if person_stages is None or "person_id" not in person_stages.c:
        return None
    stages = metadata.tables.get("lifecycle_stages")
    if "stage_id" in person_stages.c and stages is not None and "name" in stages.c:
        return stage_by_reference(person_stages, stages, people)
    if "stage" in person_stages.c:
        return stage_by_text(person_stages, people)
    return None


def stage_by_reference(person_stages: Table, stages: Table, people: Table) -> Operand:
    """Stage names (and keys) through ``person_stages.stage_id -> lifecycle_stages``."""

    def placed(cond: Callable[[Any], Any] | None) -> Any:
        query = exists().where(person_stages.c.person_id == people.c.id)
        if cond is not None:
            names = [cond(stages.c.name)]
            if "key" in stages.c:
                names.append(cond(stages.c.key))
            matching = select(stages.c.id).where(or_(*names))
            query = query.where(person_stages.c.stage_id.in_(matching))
        return query.correlate(people)

    return SetOf("stage", placed)


def stage_by_text(person_stages: Table, people: Table) -> Operand:
    """The stage as text in ``person_stages.stage``."""
    query = select(person_stages.c.stage).where(person_stages.c.person_id == people.c.id)
    expression = query.limit(1).correlate(people).scalar_subquery()
    return Scalar("stage", expression, "string", guard="coalesce")
