"""Workflows: enrolment's cost on ingestion, and steps per second through the job runner.

    .venv/bin/python bench/workflows.py [--people 10000] [--batch 1000]

One SQLite workspace in a temporary directory (``TENURE_BENCH_POSTGRES_URL``: a
PostgreSQL server instead, in a database of its own) gets ``2 x --people`` people. Then,
in the same run:

1. **Ingestion without and with a workflow**, alternating a tenth of each: one ``order``
   event per person through ``timeline.append_events`` (the API's path: validated,
   idempotent, with the stages and webhooks reactions), ``--batch`` events a
   transaction; the first half with the workflow paused (no active workflow), the second
   with it active (triggered by ``order``, a goal, the default unsubscribe exit): every
   event enrols its person (the enrolment row and its first step row, in the appending
   transaction). Printed: both times and the overhead (target: under +30 %).
3. **Steps, one worker**: a worker process (``tenure.jobs.worker.Worker``, one slot) runs
   the ``automation.advance`` jobs until the queue is empty: one ``create_task`` step for
   each of the second half (a task for the owner, audited, the next row written) = one
   step = one action for one person. Target: 100,000 in under 2 minutes.
4. **Steps, two workers**: the first half enrolled by hand (not timed), then two worker
   processes drain the same number of steps; the ratio to one worker. SQLite has one
   writer, so two workers there mostly wait for each other; PostgreSQL's SKIP LOCKED
   lets them share the batches.

The workers sample their resident memory (at 10 % of the steps and at the end): flat
memory means a batch holds nothing after its commit.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, insert, select, text

import tenure.all_models
import tenure.all_tasks  # noqa: F401
from tenure.automation import actions
from tenure.automation.active import active_versions
from tenure.automation.enrolment import Candidate, enqueue_advance, enrol
from tenure.automation.models import EnrolmentStep, StepState
from tenure.config import Settings
from tenure.customers.models import Person
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.jobs.worker import Worker
from tenure.registrations import register_all
from tenure.timeline.append import append_events
from tenure.workspace import clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "bench-secret-key-bench-secret-key-0123456789"


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, secret_key=SECRET)


def prepare(url: str, people: int) -> list[int]:
    engine = create_db_engine(url)
    upgrade_database(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        clock.fix_now(session, T0)
        rows = [
            {"first_name": f"P{i}", "last_name": "Bench", "attributes": {}}
            for i in range(2 * people)
        ]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Person), rows[start : start + 10_000])
    with factory() as session:
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
    engine.dispose()
    return ids


def ingest(url: str, person_ids: list[int], batch: int) -> float:
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    elapsed = 0.0
    for start in range(0, len(person_ids), batch):
        items = [
            {
                "type": "order",
                "person_id": person_id,
                "occurred_at": T0.isoformat(),
                "amount_minor": 2500,
                "currency": "USD",
                "client_event_id": f"o-{person_id}",
            }
            for person_id in person_ids[start : start + batch]
        ]
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            append_events(session=session, raw_items=items, actor_id=None)
        elapsed += time.perf_counter() - started
    engine.dispose()
    return elapsed


def set_active(url: str, workflow_id: int, active: bool) -> None:
    engine = create_db_engine(url)
    with make_session_factory(engine)() as session:
        if active:
            actions.resume(session, actor=None, workflow_id=workflow_id)
        else:
            actions.pause(session, actor=None, workflow_id=workflow_id)
    engine.dispose()


def ingest_both(url: str, first: list[int], second: list[int], batch: int) -> tuple[float, float]:
    """Alternate: a chunk of the first half with the workflow paused (no active
    workflow: the reaction reads its fingerprint and stops), then the same size of the
    second half with it active; the machine's drift falls on both alike."""
    workflow_id = publish(url)
    without = with_workflow = 0.0
    chunk = max(batch, len(first) // 10)
    for start in range(0, len(first), chunk):
        set_active(url, workflow_id, False)
        without += ingest(url, first[start : start + chunk], batch)
        set_active(url, workflow_id, True)
        with_workflow += ingest(url, second[start : start + chunk], batch)
    return without, with_workflow


def publish(url: str) -> int:
    engine = create_db_engine(url)
    with make_session_factory(engine)() as session:
        created = actions.create_workflow(
            session,
            actor=None,
            name="After an order",
            definition={
                "trigger": {"kind": "event", "event_type": "order"},
                "goal": {"event_type": "order"},
                "steps": [
                    {"id": "call", "kind": "create_task", "title": "Thank them for the order"},
                    {"id": "later", "kind": "wait", "duration": {"days": 30}},
                ],
            },
        )
        actions.publish(session, actor=None, workflow_id=created.id)
        workflow_id = created.id
    engine.dispose()
    return workflow_id


def enrol_by_hand(url: str, person_ids: list[int]) -> None:
    engine = create_db_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        [version] = active_versions(session)
        for start in range(0, len(person_ids), 10_000):
            chunk = person_ids[start : start + 10_000]
            enrol(session, version, [Candidate(p, "manual:bench") for p in chunk], now=T0)
        enqueue_advance(session)
    engine.dispose()


def _done_steps(url: str) -> int:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        found = connection.scalar(
            select(func.count())
            .select_from(EnrolmentStep)
            .where(EnrolmentStep.state == StepState.done.value)
        )
    engine.dispose()
    return int(found or 0)


def work(url: str, target: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """A worker process: drain the queue, sampling memory at 10 % of ``target``."""
    register_all()
    engine = create_db_engine(url)
    worker = Worker(engine=engine, settings=settings_for(url), concurrency=1, poll_seconds=0.05)
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        probe = create_db_engine(url)
        while not stop.wait(0.5):
            with probe.connect() as connection:
                done = connection.scalar(
                    select(func.count())
                    .select_from(EnrolmentStep)
                    .where(EnrolmentStep.state == StepState.done.value)
                )
            if not samples and int(done or 0) >= target // 10:
                samples.append(rss_mb())
        probe.dispose()

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    worker.run(until_empty=True)
    stop.set()
    thread.join()
    results.put((samples[0] if samples else rss_mb(), rss_mb()))


def drain(url: str, workers: int, steps: int) -> tuple[float, list[tuple[float, float]]]:
    before = _done_steps(url)
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    started = time.perf_counter()
    processes = [
        multiprocessing.Process(target=work, args=(url, steps // workers, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    memory = [results.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    ran = _done_steps(url) - before
    if ran != steps:
        raise SystemExit(f"expected {steps} steps to run, {ran} did")
    return elapsed, memory


def _database(args: argparse.Namespace, workdir: str) -> tuple[str, str | None]:
    server = os.environ.get("TENURE_BENCH_POSTGRES_URL")
    if not server:
        return f"sqlite:///{workdir}/workflows.db", None
    name = f"tenure_bench_wf_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_database_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}", name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    register_all()
    with tempfile.TemporaryDirectory() as workdir:
        url, created_db = _database(args, workdir)
        try:
            run(url, args)
        finally:
            if created_db:
                server = os.environ["TENURE_BENCH_POSTGRES_URL"]
                admin = create_engine(normalize_database_url(server), isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{created_db}" WITH (FORCE)'))
                admin.dispose()


def run(url: str, args: argparse.Namespace) -> None:
    n = args.people
    backend = url.split(":", 1)[0]
    print(f"{backend}: {n:,} people per half, events in batches of {args.batch:,}")
    ids = prepare(url, n)
    first, second = ids[:n], ids[n:]
    without, with_workflow = ingest_both(url, first, second, args.batch)
    print(f"ingestion without a workflow: {without:7.1f} s  ({n / without:,.0f} events/s)")
    overhead = (with_workflow / without - 1) * 100
    print(
        f"ingestion with a workflow:    {with_workflow:7.1f} s  ({n / with_workflow:,.0f} events/s)"
        f"  overhead {overhead:+.0f} % (target < +30 %)"
    )
    one, memory = drain(url, 1, n)
    print(
        f"steps, one worker:            {one:7.1f} s  ({n / one:,.0f} steps/s; "
        f"{one * 100_000 / n:,.0f} s per 100,000, target < 120 s)"
    )
    print(f"  worker memory: {memory[0][0]:.0f} MB at 10 %, {memory[0][1]:.0f} MB at the end")
    enrol_by_hand(url, first)
    two, memory = drain(url, 2, n)
    print(
        f"steps, two workers:           {two:7.1f} s  ({n / two:,.0f} steps/s; "
        f"{one / two:.2f}x one worker)"
    )
    for index, (early, end) in enumerate(memory, 1):
        print(f"  worker {index} memory: {early:.0f} MB at 10 %, {end:.0f} MB at the end")


if __name__ == "__main__":
    main()
