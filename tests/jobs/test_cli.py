"""`tenure jobs list|retry|cancel` and `tenure worker` through typer's CliRunner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.db.engine import create_db_engine
from tenure.jobs import enqueue
from tenure.jobs.models import Job

runner = CliRunner()


def test_list_retry_and_cancel(cli_database):
    engine = create_db_engine(cli_database)
    with Session(engine) as session:
        dead = enqueue(session=session, task="test.write_effect")
        waiting = enqueue(session=session, task="test.write_effect")
        session.execute(
            update(Job).where(Job.id == dead).values(state="dead", error="ValueError: bad row")
        )
        session.commit()

    listed = runner.invoke(app, ["jobs", "list", "--state", "dead"])
    assert listed.exit_code == 0, listed.output
    assert "ValueError: bad" in listed.output and "dead 1" in listed.output
    assert runner.invoke(app, ["jobs", "list", "--state", "nope"]).exit_code == 2

    assert "is queued" in runner.invoke(app, ["jobs", "retry", str(dead)]).output
    assert "is cancelled" in runner.invoke(app, ["jobs", "cancel", str(waiting)]).output
    refused = runner.invoke(app, ["jobs", "cancel", str(waiting)])
    assert refused.exit_code == 1 and "only queued or running" in refused.output
    missing = runner.invoke(app, ["jobs", "retry", "424242"])
    assert missing.exit_code == 1 and "not found" in missing.output
    with engine.connect() as connection:
        states = dict(connection.execute(select(Job.id, Job.state)).all())
    assert states == {dead: "queued", waiting: "cancelled"}
    engine.dispose()


def test_worker_command_runs_jobs_and_stops_on_sigterm(cli_database):
    # Given a job of a real task (mining rules on an empty workspace is quick)
    engine = create_db_engine(cli_database)
    with Session(engine) as session:
        job_id = enqueue(session=session, task="retention.mine_nba")
        session.commit()
    # When `tenure worker` runs in its own process until the job is done, then gets SIGTERM
    env = {**os.environ, "TENURE_DATABASE_URL": cli_database, "TENURE_JOBS_POLL_SECONDS": "0.2"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tenure.cli.main", "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while _state(engine, job_id) != "succeeded":
            assert time.monotonic() < deadline and proc.poll() is None, "the job did not run"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    # Then it stopped cleanly, saying what it did
    text = output.decode()
    assert proc.returncode == 0, text
    assert "SIGTERM: finishing the running jobs" in text and "jobs completed" in text
    engine.dispose()


def _state(engine, job_id: int) -> str | None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.scalar(select(Job.state).where(Job.id == job_id))
