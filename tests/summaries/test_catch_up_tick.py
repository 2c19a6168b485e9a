"""The read model's 5-minute catch-up enqueues a job only when a summary is stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from tenure.all_tasks import SUMMARIES, schedules
from tenure.config import Settings
from tenure.customers.actions import create_person
from tenure.customers.schemas import PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.jobs.models import Job, JobSchedule
from tenure.jobs.schedules import sync_schedules
from tenure.jobs.worker import Worker
from tenure.summaries.rebuild import rebuild_stale, stale_count
from tests.conftest import TEST_SECRET


@pytest.fixture
def ticking(fresh_database_url: str) -> Iterator[tuple[Engine, Worker]]:
    engine = create_db_engine(fresh_database_url)
    settings = Settings(database_url=fresh_database_url, secret_key=TEST_SECRET)
    ours = [s for s in schedules(settings) if s.name == SUMMARIES]
    with Session(engine) as session:
        sync_schedules(session, ours)
        session.commit()
    yield engine, Worker(engine=engine, settings=settings, schedules=ours)
    engine.dispose()


def _tick(engine: Engine, worker: Worker, minute: int) -> int:
    """The schedule comes due and the worker ticks: how many catch-up jobs exist."""
    with engine.begin() as connection:
        due = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
        connection.execute(update(JobSchedule).values(next_run_at=due))
    worker.housekeeping()
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).where(Job.schedule == SUMMARIES)) or 0)


def test_the_catch_up_tick_needs_a_stale_summary(ticking: tuple[Engine, Worker]) -> None:
    engine, worker = ticking
    assert _tick(engine, worker, 0) == 0  # nothing stale: no job row
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        create_person(
            session=session,
            data=PersonCreate(first_name="Ada", last_name="Lovelace"),
            actor_id=None,
            default_region="GB",
        )
    with factory() as session:
        assert stale_count(session) == 1
    assert _tick(engine, worker, 5) == 1
    rebuild_stale(factory)
    assert _tick(engine, worker, 10) == 1  # caught up: the next tick adds none
