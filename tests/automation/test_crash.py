"""Kill -9 of a worker in the middle of a workflow, on both backends (issue 15's "done
when"): after a restart every step has run exactly once for every person.

A thousand people each go through two task steps (2,000 step rows, 20 batches of 100).
The worker is killed once a few batches have committed, most likely inside one: that
batch rolls back whole (its rows stay pending, its tasks were never written), and the
next worker runs it once. Tasks are the effect counted: a step run twice would create a
second task for its person.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from tenure.automation.active import active_versions
from tenure.automation.enrolment import Candidate, enrol
from tenure.automation.models import Enrolment, EnrolmentStep, StepState
from tenure.customers.models import Person, Task
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tests.automation.conftest import T0, at, workflow

RUN_WORKER = Path(__file__).with_name("run_worker.py")
PEOPLE = 1000


def _start_worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(RUN_WORKER), url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _done(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(EnrolmentStep)
                .where(EnrolmentStep.state == StepState.done.value)
            )
        )


def test_a_killed_worker_runs_no_step_twice(fresh_database_url):
    engine = create_db_engine(fresh_database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        at(session, T0)
        workflow_id = workflow(
            session,
            {
                "trigger": {"kind": "manual"},
                "steps": [
                    {"id": "first", "kind": "create_task", "title": "First call"},
                    {"id": "second", "kind": "create_task", "title": "Second call"},
                ],
            },
            name="Two calls",
        )
        session.add_all(Person(first_name=f"P{i}", last_name="X") for i in range(PEOPLE))
        session.flush()
        people = list(session.scalars(select(Person.id).order_by(Person.id)))
        [version] = active_versions(session)
        created = enrol(session, version, [Candidate(p, "manual:crash") for p in people], now=T0)
        session.commit()
        assert created == PEOPLE

    worker = _start_worker(fresh_database_url)
    try:
        deadline = time.monotonic() + 120
        while _done(engine) < 300:
            assert time.monotonic() < deadline, "the worker never got going"
            assert worker.poll() is None, "the worker stopped early"
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
    killed_at = _done(engine)
    assert killed_at < 2 * PEOPLE, "the worker finished before the kill: nothing was tested"

    again = _start_worker(fresh_database_url, "--until-empty")
    try:
        again.wait(timeout=300)
    finally:
        if again.poll() is None:
            again.kill()
    with factory() as session:
        states = dict(
            session.execute(
                select(EnrolmentStep.state, func.count()).group_by(EnrolmentStep.state)
            ).all()
        )
        assert states == {"done": 2 * PEOPLE}
        per_person = session.execute(
            select(Task.person_id, Task.title, func.count())
            .group_by(Task.person_id, Task.title)
            .having(func.count() > 1)
        ).all()
        assert per_person == []
        assert session.scalar(select(func.count()).select_from(Task)) == 2 * PEOPLE
        ended = dict(
            session.execute(
                select(Enrolment.state, func.count())
                .where(Enrolment.workflow_id == workflow_id)
                .group_by(Enrolment.state)
            ).all()
        )
        assert ended == {"completed": PEOPLE}
    engine.dispose()
