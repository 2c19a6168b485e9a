"""Running due steps: claim a batch of rows, run each, write the next row, commit.

**Exactly once.** A batch is claimed inside the transaction that runs it: PostgreSQL
locks the rows with ``FOR UPDATE SKIP LOCKED`` (two workers take disjoint batches and
never wait on each other); SQLite's transaction holds the write lock from its start
(``BEGIN IMMEDIATE``), so one runner at a time. Each step runs in a savepoint: its
effect (an outbox row, a task, a tag), its row's outcome and the next step's row commit
together with the batch or not at all. A worker killed mid-batch (``kill -9``) leaves
every row of the batch pending, as if it never ran; the advance job is requeued when its
lease expires, and the next run takes the same rows once. A row is only run while
``pending``, and the enrolment row is locked before its step runs, so a goal, an exit or
a cancel that ends the enrolment meanwhile wins or waits: never both.

A step that raises a Tenure error (a template that no longer renders for this person, a
deleted list) is recorded ``failed`` with the error and the enrolment goes on; the
batch is not lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.automation.active import cached_definition
from tenure.automation.definition import CreateTaskStep
from tenure.automation.effects import StepRun, create_tasks, run_step
from tenure.automation.enrolment import enqueue_advance
from tenure.automation.exits import exiting
from tenure.automation.models import (
    Enrolment,
    EnrolmentState,
    EnrolmentStep,
    StepState,
    Workflow,
    WorkflowStatus,
    WorkflowVersion,
)
from tenure.automation.timing import HOLDOUT_STEP
from tenure.automation.transitions import Moves, Result, default_next
from tenure.config import Settings
from tenure.db.session import unit_of_work
from tenure.errors import TenureError
from tenure.workspace import clock

log = logging.getLogger("tenure.automation")
HOLDOUT_OVER = "control group: watched as long as the workflow's longest path"

#: Steps per transaction: enough to amortise the commit, few enough that a kill loses
#: (rolls back) little and SQLite's write lock is held briefly.
BATCH = 100


@dataclass
class Advanced:
    """What a run of the runner did."""

    ran: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    more: bool = False

    def count(self, state: str) -> None:
        self.ran += 1
        self.by_state[state] = self.by_state.get(state, 0) + 1


def _due(now: datetime) -> Select[int]:
    """The due pending rows of active workflows, oldest due first."""
    return (
        select(EnrolmentStep.id)
        .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
        .join(Workflow, Workflow.id == Enrolment.workflow_id)
        .where(
            EnrolmentStep.state == StepState.pending.value,
            EnrolmentStep.due_at <= now,
            Workflow.status == WorkflowStatus.active.value,
        )
        .order_by(EnrolmentStep.due_at, EnrolmentStep.id)
    )


def any_due(session: Session, now: datetime) -> bool:
    """Whether a step of an active workflow is due: what a run would find, read only."""
    return session.scalar(_due(now).limit(1)) is not None


def claim_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Lock up to ``limit`` due pending rows of active workflows (oldest due first)."""
    query = _due(now).limit(limit)
    if session.connection().dialect.name == "postgresql":
        query = query.with_for_update(of=EnrolmentStep, skip_locked=True)
    return list(session.scalars(query))


@dataclass(frozen=True)
class _Row:
    id: int
    step_id: str
    state: str
    idempotency_key: str
    enrolment_id: int
    workflow_id: int
    version_id: int
    person_id: int
    enrolment_state: str
    published_at: datetime


def _rows(session: Session, ids: list[int]) -> list[_Row]:
    """The claimed rows with their enrolments, one query; on PostgreSQL the enrolments
    are locked too (a goal, exit or cancel ending one waits for this batch, or wins)."""
    query = (
        select(
            EnrolmentStep.id,
            EnrolmentStep.step_id,
            EnrolmentStep.state,
            EnrolmentStep.idempotency_key,
            EnrolmentStep.enrolment_id,
            Enrolment.workflow_id,
            Enrolment.version_id,
            Enrolment.person_id,
            Enrolment.state.label("enrolment_state"),
            WorkflowVersion.published_at,
        )
        .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
        .join(WorkflowVersion, WorkflowVersion.id == Enrolment.version_id)
        .where(EnrolmentStep.id.in_(ids))
        .order_by(EnrolmentStep.due_at, EnrolmentStep.id)
    )
    if session.connection().dialect.name == "postgresql":
        query = query.with_for_update(of=Enrolment)
    return [_Row(**row._mapping) for row in session.execute(query)]


#: Steps that write nothing: no savepoint needed around them.
_PURE = frozenset({"wait", "wait_until_time", "wait_for_event", "branch", "split", "exit"})


def run_batch(
    session: Session, ids: list[int], *, now: datetime, settings: Settings, done: Advanced
) -> None:
    """Run the claimed rows in the caller's transaction: the batch's reads and the rows'
    outcomes are written set-wise; each effect runs in a savepoint of its own."""
    rows = [r for r in _rows(session, ids) if r.state == StepState.pending.value]
    moves = Moves(now)
    ended_rows = [r for r in rows if r.enrolment_state != EnrolmentState.active.value]
    for row in ended_rows:
        moves.close(row.id, Result(StepState.cancelled, "the enrolment had ended", None))
        done.count(StepState.cancelled.value)
    live = [r for r in rows if r.enrolment_state == EnrolmentState.active.value]
    definitions = {
        r.version_id: cached_definition(session, r.version_id, r.published_at) for r in live
    }
    leaving: dict[tuple[int, int], str] = {}
    for version_id, definition in definitions.items():
        people = [r.person_id for r in live if r.version_id == version_id]
        for person, reason in exiting(session, definition, people, now).items():
            leaving[(version_id, person)] = reason
    grouped: list[tuple[_Row, StepRun, CreateTaskStep]] = []
    for row in live:
        definition = definitions[row.version_id]
        if row.step_id == HOLDOUT_STEP:
            moves.close(row.id, Result(StepState.done, "control group: watch over", None))
            moves.end(row.enrolment_id, EnrolmentState.completed, HOLDOUT_OVER)
            done.count(StepState.done.value)
            continue
        why = leaving.get((row.version_id, row.person_id))
        if why is not None:
            moves.end(row.enrolment_id, EnrolmentState.exited, why)
            done.count(StepState.cancelled.value)
            continue
        step = definition.step(row.step_id)
        run = StepRun(
            session=session,
            settings=settings,
            definition=definition,
            workflow_id=row.workflow_id,
            enrolment_id=row.enrolment_id,
            person_id=row.person_id,
            idempotency_key=row.idempotency_key,
            now=now,
        )
        if isinstance(step, CreateTaskStep):
            # Together, after the loop: one flush for the batch's tasks.
            grouped.append((row, run, step))
            continue
        try:
            if step.kind in _PURE:
                result = run_step(run, step)
            else:
                with session.begin_nested():
                    result = run_step(run, step)
        except TenureError as error:
            result = Result(StepState.failed, f"failed: {error}", default_next(definition, step.id))
        except Exception as error:
            log.error("workflow step row %s failed", row.id, exc_info=error)
            text = f"error: {type(error).__name__}: {error}"[:2000]
            moves.close(row.id, Result(StepState.failed, text, None))
            moves.end(row.enrolment_id, EnrolmentState.exited, text)
            done.count(StepState.failed.value)
            continue
        moves.close(row.id, result)
        moves.go(row.enrolment_id, row.person_id, definition, result.way, session)
        done.count(result.state.value)
    _run_grouped(session, grouped, moves, done)
    moves.write(session)


def _run_grouped(
    session: Session,
    grouped: list[tuple[_Row, StepRun, CreateTaskStep]],
    moves: Moves,
    done: Advanced,
) -> None:
    """The batch's create_task steps in one savepoint; if a capability refuses one, each
    runs alone so only that one fails."""
    if not grouped:
        return
    try:
        with session.begin_nested():
            results = create_tasks([(run, step) for _, run, step in grouped])
    except TenureError:
        results = []
        for _, run, step in grouped:
            try:
                with session.begin_nested():
                    results.extend(create_tasks([(run, step)]))
            except TenureError as error:
                way = default_next(run.definition, step.id)
                results.append(Result(StepState.failed, f"failed: {error}", way))
    for (row, run, _), result in zip(grouped, results, strict=True):
        moves.close(row.id, result)
        moves.go(row.enrolment_id, row.person_id, run.definition, result.way, session)
        done.count(result.state.value)


def advance(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    batch: int = BATCH,
    budget_seconds: float = 240.0,
    max_steps: int | None = None,
) -> Advanced:
    """Run due steps, a batch per transaction, until none is due or the time budget is
    spent (``more`` then says some are left; the job queues itself again)."""
    done = Advanced()
    started = time.monotonic()
    while True:
        if time.monotonic() - started > budget_seconds or (
            max_steps is not None and done.ran >= max_steps
        ):
            done.more = True
            break
        with unit_of_work(factory) as session:
            now = clock.now(session)
            ids = claim_due(session, now, batch)
            if not ids:
                break
            done.batches += 1
            if len(ids) == batch:
                # More are probably due: let another worker join while this one runs.
                enqueue_advance(session)
            run_batch(session, ids, now=now, settings=settings, done=done)
        # Not stopping on a short batch: its steps may have made the next ones due now.
    return done
