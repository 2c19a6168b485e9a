"""The job runner: jobs per second with 1 and 2 workers against the bare SQL.

    .venv/bin/python bench/jobs.py [--jobs 2000] [--rounds 1]

For each backend (SQLite; PostgreSQL too when TENURE_BENCH_POSTGRES_URL is set, in a
throwaway database) and for 1 and 2 worker processes, ``--jobs`` jobs are inserted, then
drained twice:

- by Tenure's runner (``tenure.jobs.worker.Worker``, one slot per process, polling every
  10 ms), running a registered handler that inserts one row in the job's transaction;
- by the bare claim-and-complete SQL on the driver (sqlite3 / psycopg), doing what the
  runner does in the fewest statements: one transaction inserts the row, marks the job
  done (fenced by its lease token) and claims the next due job (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite); the same guarantees (a claim
  that survives a crash, an effect committed with the completion), none of the runner's
  bookkeeping (heartbeats, timeouts, retries, chains, the handler registry).

The processes start, import, connect and then wait at a barrier, so the time measured
is the drain alone: from the barrier to the last process finding the queue empty. The
ratio is bare jobs/s over runner jobs/s (target: within 3x). With ``--rounds N`` each
drain runs N times, bare and runner in turn, and the best rate of each counts.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tenure.config import Settings
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.migrate import upgrade_database
from tenure.jobs import JobContext, task
from tenure.jobs.models import Job
from tenure.jobs.worker import Worker

TASK = "bench.write_row"
EFFECTS = "CREATE TABLE bench_effects (job_id BIGINT NOT NULL, value VARCHAR(50))"


@task(TASK, max_attempts=3, timeout_seconds=60)
def write_row(ctx: JobContext) -> None:
    """Insert one row in the job's transaction."""
    ctx.session.execute(
        text("INSERT INTO bench_effects (job_id, value) VALUES (:j, :v)"),
        {"j": ctx.job_id, "v": str(ctx.payload.get("n"))},
    )


# The bare SQL ------------------------------------------------------------------------

CLAIM = """
UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = %(token)s,
    lease_expires_at = %(expires)s, started_at = %(now)s
WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= %(now)s
            ORDER BY priority, run_at, id LIMIT 1 {lock})
RETURNING id, payload
"""
EFFECT = "INSERT INTO bench_effects (job_id, value) VALUES (%(id)s, %(value)s)"
COMPLETE = """
UPDATE jobs SET state = 'succeeded', finished_at = %(now)s, lease_token = NULL
WHERE id = %(id)s AND lease_token = %(token)s AND state = 'running'
"""


def _sqlite_sql(statement: str) -> str:
    return statement.replace("%(", ":").replace(")s", "").format(lock="")


def bare_drain_sqlite(path: str) -> int:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    claim, effect, complete = (_sqlite_sql(s) for s in (CLAIM, EFFECT, COMPLETE))
    done = 0
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    token = uuid.uuid4().hex
    connection.execute("BEGIN IMMEDIATE")
    row = connection.execute(claim, {"token": token, "expires": now, "now": now}).fetchone()
    connection.execute("COMMIT")
    while row is not None:
        # The effect, the completion and the next claim: one transaction, as the runner.
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(effect, {"id": row[0], "value": "x"})
        connection.execute(complete, {"id": row[0], "token": token, "now": now})
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        token = uuid.uuid4().hex
        row = connection.execute(claim, {"token": token, "expires": now, "now": now}).fetchone()
        connection.execute("COMMIT")
        done += 1
    return done


def bare_drain_postgres(url: str) -> int:
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    done = 0
    with psycopg.connect(conninfo) as connection:
        claim = CLAIM.format(lock="FOR UPDATE SKIP LOCKED")
        now = datetime.now(UTC)
        token = uuid.uuid4().hex
        with connection.transaction():
            row = connection.execute(claim, {"token": token, "expires": now, "now": now}).fetchone()
        while row is not None:
            with connection.transaction():
                connection.execute(EFFECT, {"id": row[0], "value": "x"})
                connection.execute(COMPLETE, {"id": row[0], "token": token, "now": now})
                now, token = datetime.now(UTC), uuid.uuid4().hex
                row = connection.execute(
                    claim, {"token": token, "expires": now, "now": now}
                ).fetchone()
            done += 1
    return done


# One process -------------------------------------------------------------------------


def child(mode: str, url: str, barrier: str) -> None:
    """Connect, say ready, wait for the barrier file, drain, print start and end times."""
    if mode == "runner":
        settings = Settings(database_url=url, secret_key="bench" * 8)
        engine = create_db_engine(url)
        worker = Worker(
            engine=engine, settings=settings, concurrency=1, poll_seconds=0.01, grace_seconds=5
        )
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    print("ready", flush=True)
    while not os.path.exists(barrier):
        time.sleep(0.001)
    start = time.time()
    if mode == "runner":
        worker.run(until_empty=True)
    elif url.startswith("sqlite"):
        bare_drain_sqlite(make_url(url).database or "")
    else:
        bare_drain_postgres(url)
    print(f"times {start} {time.time()}", flush=True)


def drain(mode: str, url: str, processes: int) -> float:
    """Jobs drained per second by ``processes`` processes in ``mode``."""
    barrier = os.path.join(tempfile.mkdtemp(), "go")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", mode, url, barrier],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    for process in children:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    Path(barrier).touch()
    starts, ends = [], []
    for process in children:
        output, _ = process.communicate(timeout=3600)
        _, start, end = output.strip().split()
        starts.append(float(start))
        ends.append(float(end))
        assert process.returncode == 0
    return max(ends) - min(starts)


def reset(url: str, jobs: int) -> None:
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "task": TASK,
            "queue": "default",
            "priority": 50,
            "payload": {"n": n},
            "state": "queued",
            "run_at": now,
            "attempts": 0,
            "max_attempts": 3,
            "timeout_seconds": 60,
            "idempotency_key": f"bench:{uuid.uuid4().hex}",
            "then": [],
            "created_at": now,
        }
        for n in range(jobs)
    ]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM jobs"))
        connection.execute(text("DELETE FROM bench_effects"))
        connection.execute(insert(Job), rows)
    engine.dispose()


def check(url: str, jobs: int) -> None:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        done = connection.scalar(text("SELECT count(*) FROM jobs WHERE state = 'succeeded'"))
        effects = connection.scalar(text("SELECT count(DISTINCT job_id) FROM bench_effects"))
        rows = connection.scalar(text("SELECT count(*) FROM bench_effects"))
    engine.dispose()
    assert done == jobs and effects == jobs and rows == jobs, (done, effects, rows)


def run_backend(name: str, url: str, jobs: int, rounds: int = 1) -> None:
    engine = create_db_engine(url)
    upgrade_database(engine)
    with engine.begin() as connection:
        connection.execute(text(EFFECTS))
    engine.dispose()
    print(f"\n{name}: {jobs:,} jobs, one row written per job")
    print(f"{'workers':>8} {'runner jobs/s':>14} {'bare SQL jobs/s':>16} {'ratio':>7}")
    for processes in (1, 2):
        rates = {"bare": 0.0, "runner": 0.0}
        # Best of the rounds, bare and runner taking turns: on a shared machine the
        # load changes within a run; the best round is the least disturbed one.
        for _ in range(rounds):
            for mode in ("bare", "runner"):
                reset(url, jobs)
                seconds = drain(mode, url, processes)
                check(url, jobs)
                rates[mode] = max(rates[mode], jobs / seconds)
        ratio = rates["bare"] / rates["runner"]
        print(f"{processes:>8} {rates['runner']:>14,.0f} {rates['bare']:>16,.0f} {ratio:>6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=1, help="best of N drains each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run_backend("SQLite", f"sqlite:///{folder}/bench.db", args.jobs, args.rounds)
    postgres = os.environ.get("TENURE_BENCH_POSTGRES_URL")
    if postgres:
        name = f"tenure_bench_jobs_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalize_database_url(postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
            run_backend("PostgreSQL", url, args.jobs, args.rounds)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        print("\nPostgreSQL: set TENURE_BENCH_POSTGRES_URL to measure it too")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
