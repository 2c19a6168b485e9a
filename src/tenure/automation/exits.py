"""Exit conditions: who among some people must leave a workflow now, and why.

Checked by the pipeline reaction when events could change them, and by the runner
before each step (consent can be withdrawn by an edit that appends no event).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.automation.definition import Definition
from tenure.customers.models import ConsentRecord, ConsentStatus
from tenure.db.dialect import id_in
from tenure.lifecycle.models import LifecycleStage, PersonStage

#: Stages a person is "churned" in: the default model's Lapsed, or a stage named churned.
CHURNED_STAGES = ("lapsed", "churned")
UNSUBSCRIBED = "exit: unsubscribed (email marketing consent withdrawn)"
CHURNED = "exit: churned"
CONDITION = "exit: met the exit condition"


def withdrawn_marketing(session: Session, person_ids: Sequence[int]) -> set[int]:
    """The people whose latest email marketing consent record is a withdrawal."""
    connection = session.connection()
    latest: dict[int, str] = {}
    rows = session.execute(
        select(ConsentRecord.person_id, ConsentRecord.status)
        .where(
            id_in(connection, ConsentRecord.person_id, person_ids),
            ConsentRecord.channel == "email",
            ConsentRecord.purpose == "marketing",
        )
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    for person_id, status in rows:
        latest[person_id] = status
    return {p for p, status in latest.items() if status == ConsentStatus.withdrawn.value}


def churned(session: Session, person_ids: Sequence[int]) -> set[int]:
    connection = session.connection()
    return set(
        session.scalars(
            select(PersonStage.person_id)
            .join(LifecycleStage, LifecycleStage.id == PersonStage.stage_id)
            .where(
                id_in(connection, PersonStage.person_id, person_ids),
                LifecycleStage.key.in_(CHURNED_STAGES),
            )
        )
    )


def exiting(
    session: Session, definition: Definition, person_ids: Sequence[int], now: datetime
) -> dict[int, str]:
    """person id -> the reason they must leave, for those who must."""
    from tenure.automation.enrolment import matching

    exit_when = definition.exit_when
    wanted = sorted(set(person_ids))
    reasons: dict[int, str] = {}
    if not wanted:
        return reasons
    if exit_when.condition:
        for person_id in matching(session, exit_when.condition, wanted, now):
            reasons[person_id] = CONDITION
    if exit_when.churned:
        for person_id in churned(session, wanted):
            reasons[person_id] = CHURNED
    if exit_when.unsubscribed:
        for person_id in withdrawn_marketing(session, wanted):
            reasons[person_id] = UNSUBSCRIBED
    return reasons
