"""Cron schedules: a new schedule is due at once, a due schedule enqueues one job even
when two workers tick together, and the next run follows the cron expression."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.errors import InvalidInput
from tenure.jobs.models import Job, JobSchedule
from tenure.jobs.registry import Schedule
from tenure.jobs.schedules import check_cron, enqueue_due, next_run, sync_schedules

NIGHTLY = Schedule("nightly-test", "test.write_effect", "0 3 * * *", then=("test.write_effect",))


def test_a_due_schedule_enqueues_its_chain_once(job_engine: Engine) -> None:
    with Session(job_engine) as session:
        sync_schedules(session, [NIGHTLY])
        session.commit()
    # Two workers tick at the same time: one job
    first, second = enqueue_due(job_engine), enqueue_due(job_engine)
    assert len(first) == 1 and second == []
    with Session(job_engine) as session:
        job = session.scalars(select(Job)).one()
        schedule = session.get(JobSchedule, "nightly-test")
        assert schedule is not None
        assert (job.task, list(job.then), job.schedule) == (
            "test.write_effect",
            ["test.write_effect"],
            "nightly-test",
        )
        assert schedule.last_job_id == job.id
        assert (schedule.next_run_at.hour, schedule.next_run_at.minute) == (3, 0)
    # When the next run comes while the first job still waits, the same work is not queued twice
    with job_engine.begin() as connection:
        connection.execute(update(JobSchedule).values(next_run_at=datetime(2020, 1, 1, tzinfo=UTC)))
    assert enqueue_due(job_engine) == first
    # A changed cron expression moves the next run
    with Session(job_engine) as session:
        sync_schedules(session, [Schedule("nightly-test", "test.write_effect", "30 1 * * *")])
        session.commit()
        moved = session.get(JobSchedule, "nightly-test")
        assert moved is not None and (moved.next_run_at.hour, moved.next_run_at.minute) == (1, 30)


def test_cron_expressions_are_checked() -> None:
    after = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    assert next_run("0 3 * * *", after) == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="not a cron expression"):
        check_cron("every night")
    with pytest.raises(ValueError, match="not a cron expression"):
        Settings(nightly_schedule="at three")


def _effects(session: Session) -> bool:
    """A ``wanted`` check: there is work when the test table has a row."""
    return session.execute(text("SELECT 1 FROM job_effects LIMIT 1")).first() is not None


def _broken(session: Session) -> bool:
    session.execute(text("SELECT * FROM no_such_table"))
    return False


def test_a_schedule_whose_wanted_check_says_no_enqueues_nothing(job_engine: Engine) -> None:
    polling = Schedule("poll-test", "test.write_effect", "* * * * *", wanted=_effects)
    broken = Schedule("broken-test", "test.write_effect", "* * * * *", wanted=_broken)
    with Session(job_engine) as session:
        sync_schedules(session, [polling, broken])
        session.commit()
    # Nothing to do: no job, and the schedule waits for its next minute
    (enqueued,) = enqueue_due(job_engine, schedules=[polling, broken])
    with Session(job_engine) as session:
        assert session.scalars(select(Job.schedule)).all() == ["broken-test"]
        skipped = session.get(JobSchedule, "poll-test")
        assert skipped is not None and skipped.last_job_id is None
        assert skipped.next_run_at > datetime.now(UTC)
    # Work appears: the next tick enqueues the job
    with job_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO job_effects (job_id, attempt, idempotency_key, value) "
                "VALUES (0, 0, 'k', 'v')"
            )
        )
        connection.execute(update(JobSchedule).values(next_run_at=datetime(2020, 1, 1, tzinfo=UTC)))
    assert len(enqueue_due(job_engine, schedules=[polling, broken])) == 2
    with Session(job_engine) as session:
        assert sorted(session.scalars(select(Job.schedule))) == ["broken-test", "poll-test"]
        assert enqueued in session.scalars(select(Job.id))
