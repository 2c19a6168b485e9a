"""Moving an enrolment from one step to the next: the next row, or the end.

Shared by the runner (a step ran) and the pipeline reaction (an awaited event came).
Jumps only go forward, so a step is visited at most once per enrolment and its row's
idempotency key is ``<enrolment>:<step>:1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, bindparam, insert, select, update
from sqlalchemy.orm import Session

from tenure.automation.active import ActiveVersion
from tenure.automation.definition import Definition, WaitForEventStep, WaitUntilTimeStep
from tenure.automation.enrolment import end_enrolments, enqueue_advance
from tenure.automation.enrolment import enrolments as enrolments_table
from tenure.automation.enrolment import steps as steps_table
from tenure.automation.models import Enrolment, EnrolmentState, EnrolmentStep, StepState
from tenure.automation.timing import due_at
from tenure.customers.models import Person
from tenure.db.types import utcnow
from tenure.messaging.timezones import person_zone
from tenure.workspace.settings import time_zone

#: A step's way out that ends the enrolment as exited (the exit step).
EXIT = "(exit)"


@dataclass(frozen=True)
class Result:
    """What running a step did: its row's final state, a sentence, and where to go
    (a step id; None: past the last step; ``EXIT``)."""

    state: StepState
    outcome: str
    way: str | None


def default_next(definition: Definition, step_id: str) -> str | None:
    step = definition.step(step_id)
    return step.next or definition.after(step_id)


def close_row(session: Session, row_id: int, result: Result) -> None:
    session.execute(
        update(EnrolmentStep)
        .where(EnrolmentStep.id == row_id)
        .values(state=result.state.value, outcome=result.outcome[:4000], ran_at=utcnow())
    )


def go_to(
    session: Session,
    *,
    enrolment_id: int,
    person_id: int,
    definition: Definition,
    way: str | None,
    now: datetime,
) -> None:
    """Write the row of step ``way`` (or end the enrolment) in the caller's transaction."""
    if way == EXIT:
        end_enrolments(
            session, [enrolment_id], state=EnrolmentState.exited, reason="exit step", now=now
        )
        return
    if way is None:
        end_enrolments(
            session,
            [enrolment_id],
            state=EnrolmentState.completed,
            reason="ran past the last step",
            now=now,
        )
        return
    step = definition.step(way)
    zone = None
    if isinstance(step, WaitUntilTimeStep):
        attributes = session.scalar(select(Person.attributes).where(Person.id == person_id))
        zone = person_zone(attributes, time_zone(session).key)
    due = due_at(step, now, zone)
    session.execute(
        insert(EnrolmentStep).values(
            enrolment_id=enrolment_id,
            step_id=way,
            state=StepState.pending.value,
            due_at=due,
            idempotency_key=f"{enrolment_id}:{way}:1",
            attempts=0,
            created_at=utcnow(),
        )
    )
    session.execute(update(Enrolment).where(Enrolment.id == enrolment_id).values(current_step=way))
    if due <= now:
        enqueue_advance(session)


def finish_wait_for_event(
    session: Session, row_id: int, version: ActiveVersion, now: datetime
) -> int:
    """An awaited event came: close the wait's row (if still pending) and take the
    ``on_event`` way; returns 1 if it did."""
    closed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(EnrolmentStep)
        .where(EnrolmentStep.id == row_id, EnrolmentStep.state == StepState.pending.value)
        .values(state=StepState.done.value, outcome="the event came", ran_at=utcnow())
        .execution_options(preserve_rowcount=True)
    )
    if not closed.rowcount:
        return 0
    row: Any = session.execute(
        select(EnrolmentStep.step_id, Enrolment.id, Enrolment.person_id)
        .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
        .where(EnrolmentStep.id == row_id)
    ).one()
    step = version.definition.step(row.step_id)
    assert isinstance(step, WaitForEventStep)
    go_to(
        session,
        enrolment_id=row.id,
        person_id=row.person_id,
        definition=version.definition,
        way=step.on_event or default_next(version.definition, step.id),
        now=now,
    )
    return 1


class Moves:
    """The outcomes of a batch of steps, written set-wise at its end (the runner): rows
    closed, next rows written, enrolments moved on or ended. Three statements a batch
    instead of three a step."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.closed: list[dict[str, Any]] = []
        self.next_rows: list[dict[str, Any]] = []
        self.ends: dict[tuple[EnrolmentState, str], list[int]] = {}
        self.due_now = False
        self._zone_session: Session | None = None

    def close(self, row_id: int, result: Result) -> None:
        self.closed.append(
            {"row_id": row_id, "new_state": result.state.value, "text": result.outcome[:4000]}
        )

    def end(self, enrolment_id: int, state: EnrolmentState, reason: str) -> None:
        self.ends.setdefault((state, reason), []).append(enrolment_id)

    def go(
        self,
        enrolment_id: int,
        person_id: int,
        definition: Definition,
        way: str | None,
        session: Session | None = None,
    ) -> None:
        if way == EXIT:
            self.end(enrolment_id, EnrolmentState.exited, "exit step")
            return
        if way is None:
            self.end(enrolment_id, EnrolmentState.completed, "ran past the last step")
            return
        step = definition.step(way)
        zone = None
        if isinstance(step, WaitUntilTimeStep) and session is not None:
            attributes = session.scalar(select(Person.attributes).where(Person.id == person_id))
            zone = person_zone(attributes, time_zone(session).key)
        due = due_at(step, self.now, zone)
        self.due_now = self.due_now or due <= self.now
        self.next_rows.append(
            {
                "enrolment_id": enrolment_id,
                "step_id": way,
                "state": StepState.pending.value,
                "due_at": due,
                "idempotency_key": f"{enrolment_id}:{way}:1",
                "attempts": 0,
                "created_at": utcnow(),
            }
        )

    def write(self, session: Session) -> None:
        connection = session.connection()
        ran = utcnow()
        if self.closed:
            connection.execute(
                update(steps_table)
                .where(steps_table.c.id == bindparam("row_id"))
                .values(state=bindparam("new_state"), outcome=bindparam("text"), ran_at=ran),
                self.closed,
            )
        if self.next_rows:
            connection.execute(insert(steps_table), self.next_rows)
            connection.execute(
                update(enrolments_table)
                .where(enrolments_table.c.id == bindparam("moved_id"))
                .values(current_step=bindparam("to_step")),
                [{"moved_id": r["enrolment_id"], "to_step": r["step_id"]} for r in self.next_rows],
            )
        for (state, reason), ids in self.ends.items():
            end_enrolments(session, ids, state=state, reason=reason, now=self.now)
        if self.due_now:
            enqueue_advance(session)
