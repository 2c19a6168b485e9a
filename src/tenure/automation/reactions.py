"""The event-pipeline reaction ``automation.enrolment``: enrol, reach goals, exit, wake.

Runs in the appending transaction (order 200: after the stages, so a ``stage_changed``
trigger and a "churned" exit read the stage the events led to; before the webhooks). For
each active workflow that wants what was appended:

* end at once the enrolments whose person reached the **goal** (an event of the goal's
  type after entering, never the trigger event itself) or met an **exit** condition
  (marketing consent withdrawn, a churned stage, the exit filter), cancelling their
  pending steps;
* then **enrol** the touched people who met its event trigger (``event``,
  ``stage_changed``, ``segment_entered`` / ``segment_exited``), through
  :func:`enrolment.enrol` (so an order that reaches one enrolment's goal may start the
  next one, as the re-entry policy allows);
* complete early the ``wait_for_event`` steps waiting for one of the appended types.

With no active workflow it costs one query of a tiny table per transaction
(``automation.active``); with workflows that do not want these event types, nothing more.

Entry keys: ``event:<id>`` when the append reports its event ids (the API, imports),
else ``<type>@<business date>`` (bulk appends of derived events), so a person enters a
workflow at most once per triggering event, or once a day per type when ids are unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, func, literal, or_, select
from sqlalchemy.orm import Session

from tenure.automation import enrolment
from tenure.automation.active import ActiveVersion, active_versions
from tenure.automation.definition import (
    EventTrigger,
    SegmentTrigger,
    StageChangedTrigger,
    WaitForEventStep,
)
from tenure.automation.enrolment import active_enrolments, end_enrolments, enrol_set
from tenure.automation.exits import exiting
from tenure.automation.models import Enrolment, EnrolmentState, EnrolmentStep, StepState
from tenure.automation.timing import duration
from tenure.automation.transitions import finish_wait_for_event
from tenure.db.dialect import id_in
from tenure.timeline.models import Event
from tenure.timeline.pipeline import Appended, register_reaction
from tenure.workspace import clock

REACTION = "automation.enrolment"
#: After the stages (100), before the webhooks (900).
ORDER = 200
ORIGIN = "automation"
#: Without event ids, events this recent (business time) count as just appended.
RECENT = timedelta(days=1)
STAGE_CHANGED = "stage_changed"
UNSUBSCRIBED = "email_unsubscribed"


def _trigger_type(version: ActiveVersion) -> str | None:
    trigger = version.definition.trigger
    if isinstance(trigger, EventTrigger):
        return trigger.event_type
    if isinstance(trigger, StageChangedTrigger):
        return STAGE_CHANGED
    if isinstance(trigger, SegmentTrigger):
        return trigger.kind
    return None


def _payload_filters(version: ActiveVersion) -> list[Any]:
    trigger = version.definition.trigger
    if isinstance(trigger, StageChangedTrigger):
        found = []
        if trigger.from_stage is not None:
            found.append(Event.payload["from"].as_string() == trigger.from_stage)
        if trigger.to_stage is not None:
            found.append(Event.payload["to"].as_string() == trigger.to_stage)
        return found
    if isinstance(trigger, SegmentTrigger):
        return [Event.payload["segment_id"].as_integer() == trigger.segment_id]
    return []


def _enrol_touched(
    session: Session, version: ActiveVersion, event_type: str, appended: Appended, now: datetime
) -> int:
    """Enrol, in SQL, the touched people whose appended events meet the trigger."""
    connection = session.connection()
    filters = [Event.type == event_type, Event.person_id.is_not(None), *_payload_filters(version)]
    if appended.event_ids:
        candidates = select(Event.person_id, Event.id.label("event_id")).where(
            id_in(connection, Event.id, appended.event_ids), *filters
        )
        return enrol_set(session, version, candidates, now=now, person_ids=appended.person_ids)
    candidates = (
        select(Event.person_id, literal(None, BigInteger).label("event_id"))
        .where(
            id_in(connection, Event.person_id, appended.person_ids),
            Event.occurred_at >= now - RECENT,
            *filters,
        )
        .distinct()
    )
    return enrol_set(
        session,
        version,
        candidates,
        now=now,
        person_ids=appended.person_ids,
        entry_key=f"{event_type}@{now.date().isoformat()}",
    )


def _reach_goals(
    session: Session, version: ActiveVersion, person_ids: Sequence[int], now: datetime
) -> int:
    goal = version.definition.goal
    assert goal is not None
    connection = session.connection()
    reached = (
        select(Enrolment.id, Enrolment.person_id)
        .where(
            Enrolment.workflow_id == version.workflow_id,
            Enrolment.state == EnrolmentState.active.value,
            id_in(connection, Enrolment.person_id, person_ids),
        )
        .where(
            select(Event.id)
            .where(
                Event.person_id == Enrolment.person_id,
                Event.type == goal.event_type,
                Event.occurred_at >= Enrolment.entered_at,
                Event.id != func.coalesce(Enrolment.trigger_event_id, -1),
                or_(
                    Enrolment.trigger_event_id.is_not(None),
                    Event.occurred_at > Enrolment.entered_at,
                ),
            )
            .exists()
        )
    )
    rows = session.execute(reached).all()
    if goal.condition and rows:
        meeting = enrolment.matching(session, goal.condition, [r.person_id for r in rows], now)
        rows = [r for r in rows if r.person_id in meeting]
    return end_enrolments(
        session,
        [r.id for r in rows],
        state=EnrolmentState.goal_reached,
        reason=f"goal reached: {goal.event_type}",
        now=now,
    )


def _exit(session: Session, version: ActiveVersion, appended: Appended, now: datetime) -> int:
    exit_when = version.definition.exit_when
    wants = (
        (exit_when.unsubscribed and UNSUBSCRIBED in appended.types)
        or (exit_when.churned and STAGE_CHANGED in appended.types)
        or bool(exit_when.condition)
    )
    if not wants:
        return 0
    rows = active_enrolments(session, version.workflow_id, appended.person_ids)
    if not rows:
        return 0
    reasons = exiting(session, version.definition, [r.person_id for r in rows], now)
    ended = 0
    for reason in sorted(set(reasons.values())):
        ids = [r.id for r in rows if reasons.get(r.person_id) == reason]
        ended += end_enrolments(session, ids, state=EnrolmentState.exited, reason=reason, now=now)
    return ended


def _wake_waits(session: Session, version: ActiveVersion, appended: Appended, now: datetime) -> int:
    """Complete the waits for an event of the appended types that came since they began."""
    waits = [
        step
        for step in version.definition.steps
        if isinstance(step, WaitForEventStep) and step.event_type in appended.types
    ]
    woken = 0
    connection = session.connection()
    for step in waits:
        rows = session.execute(
            select(EnrolmentStep.id, EnrolmentStep.due_at, Enrolment.person_id)
            .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
            .where(
                Enrolment.version_id == version.version_id,
                Enrolment.state == EnrolmentState.active.value,
                id_in(connection, Enrolment.person_id, appended.person_ids),
                EnrolmentStep.step_id == step.id,
                EnrolmentStep.state == StepState.pending.value,
            )
        ).all()
        for row in rows:
            began = row.due_at - duration(step.timeout)
            came = session.scalar(
                select(Event.id)
                .where(
                    Event.person_id == row.person_id,
                    Event.type == step.event_type,
                    Event.occurred_at >= began,
                )
                .limit(1)
            )
            if came is not None:
                woken += finish_wait_for_event(session, row.id, version, now)
    return woken


def react(session: Session, appended: Appended) -> None:
    """The reaction: enrol, then goals, exits and waits, for each active workflow."""
    versions = active_versions(session)
    if not versions:
        return
    now: datetime | None = None
    for version in versions:
        definition = version.definition
        trigger_type = _trigger_type(version)
        wants_entry = trigger_type is not None and trigger_type in appended.types
        wants_goal = definition.goal is not None and definition.goal.event_type in appended.types
        wants_wait = any(
            isinstance(step, WaitForEventStep) and step.event_type in appended.types
            for step in definition.steps
        )
        wants_exit = (
            definition.exit_when.condition is not None
            or (definition.exit_when.unsubscribed and UNSUBSCRIBED in appended.types)
            or (definition.exit_when.churned and STAGE_CHANGED in appended.types)
        )
        if not (wants_entry or wants_goal or wants_wait or wants_exit):
            continue
        now = now or clock.now(session)
        # Goals and exits first: an order that ends one enrolment by its goal may start
        # the next (re-entry after exit), never be the goal of the entry it caused.
        if wants_goal:
            _reach_goals(session, version, appended.person_ids, now)
        if wants_exit:
            _exit(session, version, appended, now)
        if wants_entry and trigger_type is not None:
            _enrol_touched(session, version, trigger_type, appended, now)
        if wants_wait:
            _wake_waits(session, version, appended, now)


def register() -> None:
    register_reaction(REACTION, react, order=ORDER, ignore_origins=(ORIGIN,))
