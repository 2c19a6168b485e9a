"""The per-minute workflow schedules enqueue a job only when it has work: the advance
tick when a step of an active workflow is due, the triggers tick when an active workflow
has a schedule or date-attribute trigger. Otherwise a tick leaves no job row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from tenure.all_tasks import schedules
from tenure.automation import actions
from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.jobs.models import Job, JobSchedule
from tenure.jobs.schedules import sync_schedules
from tenure.jobs.worker import Worker
from tests.automation.conftest import T0, at, order, person, workflow
from tests.conftest import TEST_SECRET

MINUTES = count()
ADVANCE, TRIGGERS = "automation.advance", "automation.triggers"
STEPS = [
    {"id": "wait", "kind": "wait", "duration": {"days": 1}},
    {"id": "call", "kind": "create_task", "title": "Call them"},
]


@pytest.fixture
def ticking(fresh_database_url: str) -> Iterator[tuple[Engine, Worker]]:
    """A committed database with the two workflow schedules, and a worker to tick them
    (its housekeeping is the tick; no slot runs, so the jobs stay to be counted)."""
    engine = create_db_engine(fresh_database_url)
    settings = Settings(database_url=fresh_database_url, secret_key=TEST_SECRET)
    ours = [s for s in schedules(settings) if s.name in (ADVANCE, TRIGGERS)]
    with Session(engine) as session:
        sync_schedules(session, ours)
        session.commit()
    yield engine, Worker(engine=engine, settings=settings, schedules=ours)
    engine.dispose()


def tick(engine: Engine, worker: Worker) -> dict[str, int]:
    """A minute passes and the worker ticks: how many jobs each schedule has enqueued."""
    with engine.begin() as connection:
        # A new past minute each tick (the job's idempotency key names the minute).
        minute = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=next(MINUTES))
        connection.execute(update(JobSchedule).values(next_run_at=minute))
    worker.housekeeping()
    with Session(engine) as session:
        rows = session.execute(
            select(Job.schedule, func.count())
            .where(Job.schedule.is_not(None))
            .group_by(Job.schedule)
        )
        return {name: count for name, count in rows}


def test_no_active_workflow_no_job_row(ticking: tuple[Engine, Worker]) -> None:
    engine, worker = ticking
    factory = make_session_factory(engine)
    assert tick(engine, worker) == {}
    with factory() as session:
        at(session, T0)
        workflow_id = workflow(
            session, {"trigger": {"kind": "event", "event_type": "order"}, "steps": STEPS}
        )
        ada = person(session, "ada@example.org")
        order(session, ada, T0)  # enrolled: the wait is due a day later
    # An active workflow with an event trigger and nothing due: still nothing
    assert tick(engine, worker) == {}
    with factory() as session:
        at(session, T0 + timedelta(days=2))
    # A step is due: the advance tick enqueues its job
    assert tick(engine, worker) == {ADVANCE: 1}
    with engine.begin() as connection:
        connection.execute(update(Job).values(state="succeeded"))
    with factory() as session:
        actions.pause(session, actor=None, workflow_id=workflow_id)
    # Paused, its due step does not run: no job
    assert tick(engine, worker) == {ADVANCE: 1}
    with factory() as session:
        actions.resume(session, actor=None, workflow_id=workflow_id)
    assert tick(engine, worker) == {ADVANCE: 2}


def test_the_triggers_tick_needs_a_schedule_or_date_trigger(
    ticking: tuple[Engine, Worker],
) -> None:
    engine, worker = ticking
    factory = make_session_factory(engine)
    with factory() as session:
        at(session, T0)
        workflow(session, {"trigger": {"kind": "event", "event_type": "order"}, "steps": STEPS})
    assert tick(engine, worker) == {}
    with factory() as session:
        weekly = workflow(
            session,
            {"trigger": {"kind": "schedule", "cron": "0 8 * * 1"}, "steps": STEPS},
            name="Weekly",
        )
    assert tick(engine, worker) == {TRIGGERS: 1}
    with factory() as session:
        actions.archive(session, actor=None, workflow_id=weekly)
    with engine.begin() as connection:
        connection.execute(update(Job).values(state="succeeded"))
    assert tick(engine, worker) == {TRIGGERS: 1}
