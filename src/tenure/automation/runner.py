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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tenure.automation.active import cached_definition
from tenure.automation.effects import StepRun, run_step
from tenure.automation.enrolment import end_enrolments, enqueue_advance
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
from tenure.automation.transitions import Result, close_row, default_next, go_to
from tenure.config import Settings
from tenure.db.session import unit_of_work
from tenure.db.types import utcnow
from tenure.errors import TenureError
from tenure.workspace import clock

log = logging.getLogger("tenure.automation")

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


def claim_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Lock up to ``limit`` due pending rows of active workflows (oldest due first)."""
    query = (
        select(EnrolmentStep.id)
        .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
        .join(Workflow, Workflow.id == Enrolment.workflow_id)
        .where(
            EnrolmentStep.state == StepState.pending.value,
            EnrolmentStep.due_at <= now,
            Workflow.status == WorkflowStatus.active.value,
        )
        .order_by(EnrolmentStep.due_at, EnrolmentStep.id)
        .limit(limit)
    )
    if session.connection().dialect.name == "postgresql":
        query = query.with_for_update(of=EnrolmentStep, skip_locked=True)
    return list(session.scalars(query))


def _step_of(session: Session, row_id: int) -> Any:
    return session.execute(
        select(
            EnrolmentStep.id,
            EnrolmentStep.step_id,
            EnrolmentStep.state,
            EnrolmentStep.idempotency_key,
            EnrolmentStep.enrolment_id,
        ).where(EnrolmentStep.id == row_id)
    ).one()


def _enrolment_of(session: Session, enrolment_id: int) -> Any:
    query = (
        select(
            Enrolment.id,
            Enrolment.workflow_id,
            Enrolment.version_id,
            Enrolment.person_id,
            Enrolment.state,
            WorkflowVersion.published_at,
        )
        .join(WorkflowVersion, WorkflowVersion.id == Enrolment.version_id)
        .where(Enrolment.id == enrolment_id)
    )
    if session.connection().dialect.name == "postgresql":
        query = query.with_for_update(of=Enrolment)
    return session.execute(query).one()


def run_row(session: Session, row_id: int, *, now: datetime, settings: Settings) -> str:
    """Run one claimed row in the caller's transaction; returns the row's final state."""
    row = _step_of(session, row_id)
    if row.state != StepState.pending.value:
        return row.state
    enrolment = _enrolment_of(session, row.enrolment_id)
    if enrolment.state != EnrolmentState.active.value:
        close_row(session, row_id, Result(StepState.cancelled, "the enrolment had ended", None))
        return StepState.cancelled.value
    definition = cached_definition(session, enrolment.version_id, enrolment.published_at)
    if row.step_id == HOLDOUT_STEP:
        close_row(session, row_id, Result(StepState.done, "control group: watch over", None))
        end_enrolments(
            session,
            [enrolment.id],
            state=EnrolmentState.completed,
            reason="control group: watched as long as the workflow's longest path",
            now=now,
        )
        return StepState.done.value
    reason = exiting(session, definition, [enrolment.person_id], now).get(enrolment.person_id)
    if reason is not None:
        end_enrolments(session, [enrolment.id], state=EnrolmentState.exited, reason=reason, now=now)
        return StepState.cancelled.value
    step = definition.step(row.step_id)
    run = StepRun(
        session=session,
        settings=settings,
        definition=definition,
        workflow_id=enrolment.workflow_id,
        enrolment_id=enrolment.id,
        person_id=enrolment.person_id,
        idempotency_key=row.idempotency_key,
        now=now,
    )
    try:
        with session.begin_nested():
            result = run_step(run, step)
    except TenureError as error:
        result = Result(StepState.failed, f"failed: {error}", default_next(definition, step.id))
    close_row(session, row_id, result)
    go_to(
        session,
        enrolment_id=enrolment.id,
        person_id=enrolment.person_id,
        definition=definition,
        way=result.way,
        now=now,
    )
    return result.state.value


def _fail_row(session: Session, row_id: int, error: BaseException, now: datetime) -> None:
    """An unexpected error (a bug, not a refused input): record it on the row and end
    the enrolment, rather than retry a step that may have half-acted elsewhere."""
    log.error("workflow step row %s failed", row_id, exc_info=error)
    text = f"error: {type(error).__name__}: {error}"[:2000]
    session.execute(
        update(EnrolmentStep)
        .where(EnrolmentStep.id == row_id)
        .values(
            state=StepState.failed.value,
            outcome=text,
            ran_at=utcnow(),
            attempts=EnrolmentStep.attempts + 1,
        )
    )
    enrolment_id = session.scalar(
        select(EnrolmentStep.enrolment_id).where(EnrolmentStep.id == row_id)
    )
    if enrolment_id is not None:
        end_enrolments(session, [enrolment_id], state=EnrolmentState.exited, reason=text, now=now)


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
            for row_id in ids:
                savepoint = session.begin_nested()
                try:
                    state = run_row(session, row_id, now=now, settings=settings)
                    savepoint.commit()
                except Exception as error:
                    savepoint.rollback()
                    _fail_row(session, row_id, error, now)
                    state = "error"
                done.count(state)
        # Not stopping on a short batch: its steps may have made the next ones due now.
    return done
