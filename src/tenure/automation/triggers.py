"""Triggers that are not events: schedules, date attributes, score crossings, field
changes. Each finds its candidates as a set and hands them to ``enrolment.enrol``.

* ``schedule``: on each cron time (workspace time zone, workspace clock) everyone who
  meets the conditions; entry key ``schedule:<time>``.
* ``date_attribute``: once per business day, the people whose date attribute plus the
  offset is today (its month and day when yearly); entry key ``date:<day>``.
* ``score_crossed``: after a scores refresh, the people past the threshold now who were
  not at the previous refresh (``workflow_score_marks`` remembers who was).
* ``field_changed``: a person edit through ``customers`` (its change listeners) setting
  the field (to the value, when given).

The first tick after a workflow is published only sets the starting point
(``last_fired_at``): publishing a schedule or a score trigger never enrols everyone who
happened to match before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy import delete, except_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from tenure.automation.active import ActiveVersion, active_versions
from tenure.automation.definition import (
    DateAttributeTrigger,
    FieldChangedTrigger,
    ScheduleTrigger,
    ScoreCrossedTrigger,
)
from tenure.automation.enrolment import (
    Candidate,
    active_enrolments,
    end_enrolments,
    enrol,
    matching,
)
from tenure.automation.exits import UNSUBSCRIBED
from tenure.automation.models import EnrolmentState, ScoreMark, Workflow
from tenure.config import get_settings
from tenure.customers.changes import PersonChange, register_listener
from tenure.customers.models import Person
from tenure.segments.actions import compile_for
from tenure.workspace import clock
from tenure.workspace.settings import currency, time_zone


def _last_fired(session: Session, workflow_id: int) -> datetime | None:
    return session.scalar(select(Workflow.last_fired_at).where(Workflow.id == workflow_id))


def _fired(session: Session, workflow_id: int, at: datetime) -> None:
    # updated_at (the active workflows' fingerprint) kept: firing changes no definition.
    session.execute(
        update(Workflow)
        .where(Workflow.id == workflow_id)
        .values(last_fired_at=at, updated_at=Workflow.updated_at)
    )


def _everyone(session: Session, version: ActiveVersion, now: datetime) -> list[int]:
    condition = version.definition.conditions
    if not condition:
        return list(session.scalars(select(Person.id).order_by(Person.id)))
    compiled = compile_for(
        session, condition, currency=currency(session, get_settings()), as_of=now
    )
    return sorted(session.scalars(compiled.person_ids()))


def fire_schedules(session: Session, now: datetime | None = None) -> int:
    """Enrol for every schedule whose cron time came since it last fired; how many."""
    now = now or clock.now(session)
    zone = time_zone(session)
    enrolled = 0
    for version in active_versions(session):
        trigger = version.definition.trigger
        if not isinstance(trigger, ScheduleTrigger):
            continue
        last = _last_fired(session, version.workflow_id)
        if last is None:
            _fired(session, version.workflow_id, now)
            continue
        due: datetime = croniter(trigger.cron, last.astimezone(zone)).get_next(datetime)
        if due > now:
            continue
        # Times missed while stopped are one run, not one each: the latest of them.
        while True:
            following: datetime = croniter(trigger.cron, due).get_next(datetime)
            if following > now:
                break
            due = following
        key = f"schedule:{due.astimezone(now.tzinfo).isoformat()}"
        people = _everyone(session, version, now)
        enrolled += enrol(
            session,
            version,
            [Candidate(p, key) for p in people],
            now=now,
            check_conditions=False,
        )
        _fired(session, version.workflow_id, now)
    return enrolled


def fire_dates(session: Session, now: datetime | None = None) -> int:
    """Once per business day: enrol the people whose date attribute + offset is today."""
    now = now or clock.now(session)
    today = now.astimezone(time_zone(session)).date()
    enrolled = 0
    for version in active_versions(session):
        trigger = version.definition.trigger
        if not isinstance(trigger, DateAttributeTrigger):
            continue
        last = _last_fired(session, version.workflow_id)
        if last is not None and last.astimezone(time_zone(session)).date() >= today:
            continue
        target = today - timedelta(days=trigger.offset_days)
        value = Person.attributes[trigger.attribute].as_string()
        if trigger.yearly:
            wanted: Any = func.substr(value, 6, 5) == target.strftime("%m-%d")
        else:
            wanted = func.substr(value, 1, 10) == target.isoformat()
        people = list(session.scalars(select(Person.id).where(wanted).order_by(Person.id)))
        key = f"date:{today.isoformat()}"
        enrolled += enrol(session, version, [Candidate(p, key) for p in people], now=now)
        _fired(session, version.workflow_id, now)
    return enrolled


def score_crossings(session: Session, now: datetime | None = None) -> int:
    """After a scores refresh: enrol who crossed each score trigger's threshold since the
    previous refresh, and remember who is past it now."""
    now = now or clock.now(session)
    enrolled = 0
    for version in active_versions(session):
        trigger = version.definition.trigger
        if not isinstance(trigger, ScoreCrossedTrigger):
            continue
        operator = ">" if trigger.direction == "above" else "<"
        compiled = compile_for(
            session,
            f"{trigger.score} {operator} {trigger.threshold}",
            currency=currency(session, get_settings()),
            as_of=now,
        )
        past = compiled.person_ids()
        marks = select(ScoreMark.person_id).where(ScoreMark.workflow_id == version.workflow_id)
        first = _last_fired(session, version.workflow_id) is None
        crossed: list[int] = [] if first else sorted(session.scalars(except_(past, marks)))
        session.execute(
            delete(ScoreMark).where(
                ScoreMark.workflow_id == version.workflow_id,
                ScoreMark.person_id.not_in(past.scalar_subquery()),
            )
        )
        new = except_(past, marks).subquery("new_marks")
        session.execute(
            insert(ScoreMark).from_select(
                ["workflow_id", "person_id"],
                select(literal(version.workflow_id), new.c[0]),
            )
        )
        key = f"score:{now.date().isoformat()}"
        enrolled += enrol(session, version, [Candidate(p, key) for p in crossed], now=now)
        _fired(session, version.workflow_id, now)
    return enrolled


def _withdrawals(session: Session, changes: Sequence[PersonChange], now: datetime) -> None:
    """Marketing consent withdrawn by an edit: out at once of the workflows that exit on
    unsubscribing (the runner would also stop them before their next step)."""
    withdrawn = sorted(
        {
            c.person_id
            for c in changes
            if c.field == "consent.email.marketing" and c.after == "withdrawn"
        }
    )
    if not withdrawn:
        return
    for version in active_versions(session):
        if not version.definition.exit_when.unsubscribed:
            continue
        rows = active_enrolments(session, version.workflow_id, withdrawn)
        end_enrolments(
            session,
            [r.id for r in rows],
            state=EnrolmentState.exited,
            reason=UNSUBSCRIBED,
            now=now,
        )


def on_person_changes(session: Session, changes: Sequence[PersonChange]) -> None:
    """The ``customers.changes`` listener: exits on a withdrawn marketing consent, and
    entries on ``field_changed`` triggers."""
    if not changes or not active_versions(session):
        return
    now = clock.now(session)
    _withdrawals(session, changes, now)
    versions = [
        v for v in active_versions(session) if isinstance(v.definition.trigger, FieldChangedTrigger)
    ]
    for version in versions:
        trigger = version.definition.trigger
        assert isinstance(trigger, FieldChangedTrigger)
        candidates = [
            Candidate(c.person_id, f"field:{c.field}@{now.isoformat()}")
            for c in changes
            if c.field == trigger.field
            and (trigger.to_value is None or _text(c.after) == trigger.to_value)
        ]
        enrol(session, version, candidates, now=now)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def register() -> None:
    register_listener("automation.field_changed", on_person_changes)


__all__ = ["fire_dates", "fire_schedules", "matching", "on_person_changes", "score_crossings"]
