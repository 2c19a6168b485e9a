"""Enrolling people and ending enrolments, as sets, in the caller's transaction.

Every trigger ends here: the pipeline reaction (events), the daily and schedule ticks,
the scores hook, field changes and manual enrolment hand :func:`enrol` candidates
(a person and an ``entry_key`` naming what caused the entry). It keeps those who meet
the workflow's conditions (the segment filter compiled to SQL, applied to the
candidates only), drops those the re-entry policy refuses, draws the control group and
writes the enrolment rows and their first step rows. The unique
``(workflow, person, entry_key)`` makes a repeated cause (a retried tick, a replayed
hook) enrol no one twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Select,
    String,
    Table,
    and_,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tenure.automation.active import ActiveVersion
from tenure.automation.definition import Definition, WaitUntilTimeStep
from tenure.automation.models import Enrolment, EnrolmentState, EnrolmentStep, StepState
from tenure.automation.timing import HOLDOUT_STEP, due_at, holdout_window
from tenure.config import get_settings
from tenure.customers.models import Person
from tenure.db.dialect import id_in
from tenure.db.types import UTCDateTime, utcnow
from tenure.jobs import enqueue
from tenure.messaging.timezones import person_zone
from tenure.segments.actions import compile_for
from tenure.segments.compiler import people as people_table
from tenure.workspace.settings import currency, time_zone

ADVANCE_TASK = "automation.advance"
#: At most one advance job queued at a time (a running one does not count).
ADVANCE_UNIQUE = "automation.advance"
_CHUNK = 5000

enrolments = cast(Table, Enrolment.__table__)
steps = cast(Table, EnrolmentStep.__table__)


@dataclass(frozen=True)
class Candidate:
    """A person who met a trigger, and what caused it (``event:<id>``, ``manual:...``)."""

    person_id: int
    entry_key: str
    event_id: int | None = None


#: The control-group draw is integer arithmetic, so SQL (the set-based enrolment) and
#: Python (manual entries, tests) compute the same: a multiplicative hash of
#: (person, workflow, triggering event) over 31 bits, held out below percent / 100 of them.
_MOD = 2**31
_MULTIPLIER = 1327217885


def _holdout_threshold(percent: int) -> int:
    return percent * _MOD // 100


def in_holdout(workflow_id: int, person_id: int, event_id: int | None, percent: int) -> bool:
    """Whether this entry is in the control group: the same for the same (workflow,
    person, triggering event) on every run, about ``percent`` % of entries."""
    if percent <= 0:
        return False
    mixed = (person_id + 7919 * workflow_id + 104729 * (event_id or 0)) % _MOD
    return (mixed * _MULTIPLIER) % _MOD < _holdout_threshold(percent)


def holdout_sql(workflow_id: int, person_id: Any, event_id: Any, percent: int) -> Any:
    """:func:`in_holdout` as a SQL expression over the two columns."""
    if percent <= 0:
        return false()
    mixed = (person_id + 7919 * workflow_id + 104729 * func.coalesce(event_id, 0)) % _MOD
    return (mixed * _MULTIPLIER) % _MOD < _holdout_threshold(percent)


def split_draw(enrolment_id: int, step_id: str) -> int:
    """A number in 0..99 for a random split, the same on every run of the step."""
    digest = hashlib.blake2b(f"{enrolment_id}:{step_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


def _ids(connection: Any, column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids``: a plain list for a few (SQLite's planner uses the index), one
    array parameter for many."""
    if len(ids) <= 100:
        return column.in_(list(ids))
    return id_in(connection, column, ids)


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def matching(
    session: Session, condition: str | None, person_ids: Sequence[int], now: datetime
) -> set[int]:
    """Which of ``person_ids`` meet ``condition`` (a segment filter) at ``now``."""
    wanted = sorted(set(person_ids))
    if not condition:
        return set(wanted)
    compiled = compile_for(
        session, condition, currency=currency(session, get_settings()), as_of=now
    )
    connection = session.connection()
    found: set[int] = set()
    for chunk in _chunks(wanted):
        query = compiled.person_ids().where(id_in(connection, people_table.c.id, chunk))
        found.update(session.scalars(query))
    return found


def _refused_by_re_entry(
    session: Session,
    workflow_id: int,
    definition: Definition,
    person_ids: Sequence[int],
    now: datetime,
) -> set[int]:
    policy = definition.re_entry
    condition: Any = Enrolment.workflow_id == workflow_id
    if policy.policy == "after_exit":
        condition = and_(condition, Enrolment.state == EnrolmentState.active.value)
    elif policy.policy == "always":
        if policy.cooldown_days == 0:
            return set()
        since = now - timedelta(days=policy.cooldown_days)
        condition = and_(condition, Enrolment.entered_at > since)
    connection = session.connection()
    refused: set[int] = set()
    for chunk in _chunks(sorted(set(person_ids))):
        refused.update(
            session.scalars(
                select(Enrolment.person_id)
                .where(condition, id_in(connection, Enrolment.person_id, chunk))
                .distinct()
            )
        )
    return refused


def _insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing()
    for start in range(0, len(rows), _CHUNK):
        connection.execute(statement, rows[start : start + _CHUNK])


def enqueue_advance(session: Session) -> None:
    """Queue the advance job (at most one queued) in the caller's transaction."""
    enqueue(session=session, task=ADVANCE_TASK, unique_key=ADVANCE_UNIQUE)


def enrol(
    session: Session,
    version: ActiveVersion,
    candidates: Sequence[Candidate],
    *,
    now: datetime,
    check_conditions: bool = True,
) -> int:
    """Enrol the candidates who meet the conditions and the re-entry policy; returns how
    many enrolments were created. Runs in the caller's transaction."""
    if not candidates:
        return 0
    definition = version.definition
    person_ids = sorted({c.person_id for c in candidates})
    if check_conditions and definition.conditions:
        allowed = matching(session, definition.conditions, person_ids, now)
    else:
        allowed = set(person_ids)
    allowed -= _refused_by_re_entry(session, version.workflow_id, definition, person_ids, now)
    if not allowed:
        return 0
    chosen: list[Candidate] = []
    seen: set[int] = set()
    for candidate in candidates:
        if candidate.person_id not in allowed:
            continue
        # One entry per person per append, unless every trigger counts.
        if definition.re_entry.policy != "always" and candidate.person_id in seen:
            continue
        seen.add(candidate.person_id)
        chosen.append(candidate)
    rows = [
        {
            "workflow_id": version.workflow_id,
            "version_id": version.version_id,
            "person_id": c.person_id,
            "entry_key": c.entry_key[:200],
            "state": EnrolmentState.active.value,
            "holdout": in_holdout(
                version.workflow_id, c.person_id, c.event_id, definition.holdout_percent
            ),
            "current_step": None,
            "entered_at": now,
            "trigger_event_id": c.event_id,
            "created_at": utcnow(),
        }
        for c in chosen
    ]
    _insert_ignoring_duplicates(session, enrolments, rows)
    created = start_steps(session, version, sorted(seen), now=now)
    return created


def _blocking(version: ActiveVersion, person_id: Any, now: datetime) -> Any:
    """SQL: the person has an enrolment the re-entry policy says blocks a new one."""
    policy = version.definition.re_entry
    blocking = select(enrolments.c.id).where(
        enrolments.c.workflow_id == version.workflow_id, enrolments.c.person_id == person_id
    )
    if policy.policy == "after_exit":
        blocking = blocking.where(enrolments.c.state == EnrolmentState.active.value)
    elif policy.policy == "always":
        if policy.cooldown_days == 0:
            return None
        since = now - timedelta(days=policy.cooldown_days)
        blocking = blocking.where(enrolments.c.entered_at > since)
    return blocking.exists()


def enrol_set(
    session: Session,
    version: ActiveVersion,
    candidates: Select[Any] | Any,
    *,
    now: datetime,
    person_ids: Sequence[int],
    entry_key: str | None = None,
) -> int:
    """Enrol from a SELECT of ``(person_id, event_id)`` rows, all in SQL: the conditions
    (the compiled filter, correlated to each candidate), the re-entry policy, the
    control-group draw, the enrolment rows and their first step rows are two
    ``INSERT ... SELECT`` statements; no person goes through Python. The entry key is
    ``event:<id>`` or, when given, ``entry_key`` for all. ``person_ids`` bounds the step
    rows' statement (the people the append touched). Returns how many were enrolled.

    Falls back to :func:`enrol` when the first step's due time depends on each
    person's time zone (``wait_until_time``)."""
    definition = version.definition
    first = definition.steps[0]
    if isinstance(first, WaitUntilTimeStep):
        found = [
            Candidate(r.person_id, entry_key or f"event:{r.event_id}", r.event_id)
            for r in session.execute(candidates)
        ]
        return enrol(session, version, found, now=now)
    c = candidates.subquery("candidates")
    if definition.re_entry.policy != "always":
        # One entry per person per append: their first triggering event.
        c = (
            select(c.c.person_id, func.min(c.c.event_id).label("event_id"))
            .group_by(c.c.person_id)
            .subquery("first_candidates")
        )
    key = (
        literal(entry_key, String)
        if entry_key is not None
        else literal("event:", String) + sql_cast(c.c.event_id, String)
    )
    holdout = holdout_sql(
        version.workflow_id, c.c.person_id, c.c.event_id, definition.holdout_percent
    )
    where: list[Any] = [
        ~select(enrolments.c.id)
        .where(
            enrolments.c.workflow_id == version.workflow_id,
            enrolments.c.person_id == c.c.person_id,
            enrolments.c.entry_key == key,
        )
        .exists()
    ]
    blocking = _blocking(version, c.c.person_id, now)
    if blocking is not None:
        where.append(~blocking)
    if definition.conditions:
        compiled = compile_for(
            session,
            definition.conditions,
            currency=currency(session, get_settings()),
            as_of=now,
        )
        where.append(compiled.person_ids().where(people_table.c.id == c.c.person_id).exists())
    rows = select(
        literal(version.workflow_id),
        literal(version.version_id),
        c.c.person_id,
        key,
        literal(EnrolmentState.active.value, String),
        holdout,
        case((holdout, literal(HOLDOUT_STEP, String)), else_=literal(first.id, String)),
        literal(now, UTCDateTime),
        c.c.event_id,
        literal(utcnow(), UTCDateTime),
    ).where(*where)
    columns = [
        "workflow_id",
        "version_id",
        "person_id",
        "entry_key",
        "state",
        "holdout",
        "current_step",
        "entered_at",
        "trigger_event_id",
        "created_at",
    ]
    connection = session.connection()
    result = connection.execute(
        insert(enrolments).from_select(columns, rows).execution_options(preserve_rowcount=True)
    )
    created = int(result.rowcount)
    if created <= 0:
        return 0
    first_due = due_at(first, now)
    holdout_due = now + holdout_window(definition)
    e = enrolments
    for chunk in _chunks(sorted(set(person_ids))):
        new_rows = select(
            e.c.id,
            e.c.current_step,
            literal(StepState.pending.value, String),
            case(
                (e.c.holdout, literal(holdout_due, UTCDateTime)),
                else_=literal(first_due, UTCDateTime),
            ),
            sql_cast(e.c.id, String)
            + literal(":", String)
            + e.c.current_step
            + literal(":1", String),
            literal(0),
            literal(utcnow(), UTCDateTime),
        ).where(
            e.c.workflow_id == version.workflow_id,
            e.c.state == EnrolmentState.active.value,
            e.c.entered_at == now,
            _ids(connection, e.c.person_id, chunk),
            ~select(steps.c.id).where(steps.c.enrolment_id == e.c.id).exists(),
        )
        connection.execute(
            insert(steps).from_select(
                [
                    "enrolment_id",
                    "step_id",
                    "state",
                    "due_at",
                    "idempotency_key",
                    "attempts",
                    "created_at",
                ],
                new_rows,
            )
        )
    if first_due <= now:
        enqueue_advance(session)
    return created


def start_steps(
    session: Session, version: ActiveVersion, person_ids: Sequence[int], *, now: datetime
) -> int:
    """Write the first step row of the people's new enrolments (those with no row yet)
    and point the enrolments at it; returns how many were started."""
    definition = version.definition
    first = definition.steps[0]
    connection = session.connection()
    fresh: list[Any] = []
    for chunk in _chunks(list(person_ids)):
        fresh.extend(
            session.execute(
                select(Enrolment.id, Enrolment.person_id, Enrolment.holdout).where(
                    Enrolment.workflow_id == version.workflow_id,
                    Enrolment.state == EnrolmentState.active.value,
                    id_in(connection, Enrolment.person_id, chunk),
                    ~exists().where(EnrolmentStep.enrolment_id == Enrolment.id),
                )
            ).all()
        )
    if not fresh:
        return 0
    zones = (
        _zones(session, [r.person_id for r in fresh])
        if isinstance(first, WaitUntilTimeStep)
        else {}
    )
    window = holdout_window(definition)
    created = utcnow()
    rows: list[dict[str, Any]] = []
    due_now = False
    for row in fresh:
        if row.holdout:
            step_id, due = HOLDOUT_STEP, now + window
        else:
            step_id, due = first.id, due_at(first, now, zones.get(row.person_id))
            due_now = due_now or due <= now
        rows.append(
            {
                "enrolment_id": row.id,
                "step_id": step_id,
                "state": StepState.pending.value,
                "due_at": due,
                "idempotency_key": f"{row.id}:{step_id}:1",
                "attempts": 0,
                "created_at": created,
            }
        )
    _insert_ignoring_duplicates(session, steps, rows)
    for is_holdout, step_id in ((False, first.id), (True, HOLDOUT_STEP)):
        ids = [r.id for r in fresh if bool(r.holdout) == is_holdout]
        for chunk in _chunks(ids):
            connection.execute(
                update(enrolments)
                .where(id_in(connection, enrolments.c.id, chunk))
                .values(current_step=step_id)
            )
    if due_now:
        enqueue_advance(session)
    return len(fresh)


def _zones(session: Session, person_ids: Sequence[int]) -> dict[int, Any]:
    workspace_zone = time_zone(session).key
    connection = session.connection()
    zones: dict[int, Any] = {}
    for chunk in _chunks(list(person_ids)):
        for person_id, attributes in session.execute(
            select(Person.id, Person.attributes).where(id_in(connection, Person.id, chunk))
        ):
            zones[person_id] = person_zone(attributes, workspace_zone)
    return zones


def end_enrolments(
    session: Session,
    enrolment_ids: Sequence[int],
    *,
    state: EnrolmentState,
    reason: str,
    now: datetime,
) -> int:
    """End these enrolments if still active (``state``, ``reason``) and cancel their
    pending steps; returns how many ended. The enrolment row is updated first: a runner
    holding it (locked) finishes its step before, and one that comes after sees it ended."""
    connection = session.connection()
    ended = 0
    for chunk in _chunks(sorted(set(enrolment_ids))):
        result = connection.execute(
            update(enrolments)
            .where(
                _ids(connection, enrolments.c.id, chunk),
                enrolments.c.state == EnrolmentState.active.value,
            )
            .values(state=state.value, ended_at=now, end_reason=reason[:2000], current_step=None)
            .execution_options(preserve_rowcount=True)
        )
        ended += int(result.rowcount)
        connection.execute(
            update(steps)
            .where(
                _ids(connection, steps.c.enrolment_id, chunk),
                steps.c.state == StepState.pending.value,
            )
            .values(state=StepState.cancelled.value, outcome=reason[:2000], ran_at=utcnow())
        )
    return ended


def active_enrolments(session: Session, workflow_id: int, person_ids: Sequence[int]) -> list[Any]:
    """(id, person_id, entered_at, trigger_event_id, holdout) of the active enrolments."""
    connection = session.connection()
    found: list[Any] = []
    for chunk in _chunks(sorted(set(person_ids))):
        found.extend(
            session.execute(
                select(
                    Enrolment.id,
                    Enrolment.person_id,
                    Enrolment.entered_at,
                    Enrolment.trigger_event_id,
                    Enrolment.holdout,
                ).where(
                    Enrolment.workflow_id == workflow_id,
                    Enrolment.state == EnrolmentState.active.value,
                    id_in(connection, Enrolment.person_id, chunk),
                )
            ).all()
        )
    return found
