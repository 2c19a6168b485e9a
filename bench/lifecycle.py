"""Lifecycle stage evaluation: incremental through ingestion, and the full batch.

    .venv/bin/python bench/lifecycle.py [--events 100000] [--people 1000000]

Part 1, incremental, on SQLite, in one run: two identical databases of 10,000 people,
one with incremental evaluation on (the default), one with it switched off; the same
events are POSTed to ``/api/v1/events`` (served by ``tenure serve``) in batches of
10,000, then of 100. The ratio is events/s on over events/s off.

Part 2, batch: ``evaluate_all_stages`` over ``--people`` people (default 1,000,000) with
about three events each (orders, visits, tickets, NPS answers, line items with
categories) and scores for the customers, generated in SQL. The first run places
everyone (a history row, a stage_changed event and a stage row each); the second finds
nothing to change, which is the pure evaluation cost. Baseline: the bare per-person
``GROUP BY`` over the events (count, first and last time), every row fetched. PostgreSQL
runs too when TENURE_BENCH_POSTGRES_URL is set (a throwaway database is created there).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import free_port, report

import tenure.all_models  # noqa: F401  (an entry point registers every table)
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.lifecycle.configure import set_incremental
from tenure.lifecycle.models import PersonStage
from tenure.registrations import register_all
from tenure.timeline import order_totals

# Event reactions (stages) as the CLI and the web app register them at start-up.
register_all()

INCREMENTAL_PEOPLE = 10_000
AS_OF = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)
EVENTS_PER_PERSON = 3
EVENT_INDEXES = {
    "ix_events_person_time": "(person_id, occurred_at, id)",
    "ix_events_person_type_time": "(person_id, type, occurred_at, amount_minor)",
}
BASELINE = (
    "SELECT person_id, count(*), min(occurred_at), max(occurred_at) FROM events GROUP BY person_id"
)


# Part 1: incremental evaluation through POST /api/v1/events.


@contextmanager
def served(database_url: str) -> Iterator[str]:
    """``tenure serve`` in a subprocess, like ``_common.served`` but patient: on a loaded
    two-core machine the app's imports (pandas, scikit-learn) took over 30 s to start."""
    port = free_port()
    env = dict(os.environ, TENURE_DATABASE_URL=database_url)
    command = [sys.executable, "-m", "tenure.cli.main", "serve", "--port", str(port), "--no-jobs"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(base + "/login", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def prepare_incremental(path: Path, incremental: bool) -> tuple[str, str]:
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    upgrade_database(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
            "updated_at) SELECT 'P', 'Q', '{}', 'p q', '2025-01-01 00:00:00.000000', "
            "'2025-01-01 00:00:00.000000' FROM n",
            (INCREMENTAL_PEOPLE,),
        )
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="bench@example.com", role="admin", password=None)
        _, token = create_api_token(session=session, email="bench@example.com", scope="write")
        set_incremental(session=session, incremental=incremental, actor=None)
    engine.dispose()
    return url, token


def make_events(count: int, tag: str) -> list[dict]:
    """Orders, visits, email opens and tickets for the 10,000 people, over the last days."""
    now = datetime.now(UTC)
    kinds = ["visit", "order", "visit", "email_opened", "order", "visit", "ticket_opened"]
    events = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        item = {
            "type": kind,
            "occurred_at": (now - timedelta(seconds=count - n)).isoformat(),
            "source": "bench",
            "client_event_id": f"{tag}-{n}",
            "person_id": 1 + (n * 7919) % INCREMENTAL_PEOPLE,
        }
        if kind == "order":
            item.update(amount_minor=1999, currency="USD")
        events.append(item)
    return events


def post_all(url: str, token: str, events: list[dict], batch: int) -> float:
    bodies = [orjson.dumps(events[i : i + batch]) for i in range(0, len(events), batch)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with served(url) as base, httpx.Client(base_url=base, timeout=300) as http:
        started = time.perf_counter()
        for body in bodies:
            response = http.post("/api/v1/events", content=body, headers=headers)
            assert response.status_code == 200, response.text[:500]
        return len(events) / (time.perf_counter() - started)


def stage_rows(url: str) -> int:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(PersonStage))
    engine.dispose()
    return int(count or 0)


def bench_incremental(directory: Path, events: int) -> list[tuple[str, str, str]]:
    rows = []
    for batch, count in ((10_000, events), (100, max(100, events // 10))):
        count -= count % batch
        data = make_events(count, f"b{batch}")
        off_url, off_token = prepare_incremental(directory / f"off-{batch}.db", False)
        on_url, on_token = prepare_incremental(directory / f"on-{batch}.db", True)
        off = post_all(off_url, off_token, data, batch)
        on = post_all(on_url, on_token, data, batch)
        placed = stage_rows(on_url)
        rows.append(
            (f"{count:,} events, batches of {batch:,}: lifecycle off", f"{off:,.0f} ev/s", "1.00x")
        )
        rows.append(
            (
                f"{count:,} events, batches of {batch:,}: lifecycle on ({placed:,} placed)",
                f"{on:,.0f} ev/s",
                f"{on / off:.2f}x",
            )
        )
    return rows


# Part 2: the full batch.


def generate_sqlite(engine: Engine, people: int) -> None:
    with engine.begin() as conn:
        order_totals.drop_triggers(conn)
        for name in EVENT_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
            "updated_at) SELECT 'P', 'Q', '{}', 'p q', '2024-01-01 00:00:00.000000', "
            "'2024-01-01 00:00:00.000000' FROM n",
            (people,),
        )
        # i-th event: person i / 3 + 1; 40% orders, 35% visits, 15% tickets, 10% NPS answers,
        # spread over the two years before AS_OF. Kinds and days are hashed from i: SQLite
        # inlines the CTE and would draw a new random() at each reference to k.
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?), "
            "r AS (SELECT i, (i * 7919 + 13) % 1009 % 100 AS k, i * 104729 % 7307 % 730 AS d "
            "FROM n) "
            "INSERT INTO events (person_id, occurred_at, received_at, type, channel, source, "
            "amount_minor, currency, payload) SELECT i / ? + 1, "
            "strftime('%Y-%m-%d %H:%M:%f', '2025-12-31 12:00:00', '-' || d || ' days') || '000', "
            "'2025-12-31 12:00:00.000000', "
            "CASE WHEN k < 40 THEN 'order' WHEN k < 75 THEN 'visit' "
            "WHEN k < 90 THEN 'ticket_opened' ELSE 'survey_answered' END, 'web', 'bench', "
            "CASE WHEN k < 40 THEN 1000 + k * 50 END, CASE WHEN k < 40 THEN 'USD' END, "
            "CASE WHEN k >= 90 THEN json_object('survey', 'nps', 'score', k - 90) ELSE '{}' END "
            "FROM r",
            (people * EVENTS_PER_PERSON - 1, EVENTS_PER_PERSON),
        )
        conn.exec_driver_sql(
            "INSERT INTO event_items (event_id, sku, category, quantity, unit_price_minor) "
            "SELECT id, 'sku', CASE id % 3 WHEN 0 THEN 'books' WHEN 1 THEN 'music' "
            "ELSE 'film' END, 1, amount_minor FROM events WHERE type = 'order'"
        )
        for name, columns in EVENT_INDEXES.items():
            conn.exec_driver_sql(f"CREATE INDEX {name} ON events {columns}")
        order_totals.restore(conn)
        conn.exec_driver_sql(REFRESH_SQL)
        conn.exec_driver_sql(SCORES_SQL.format(random="abs(random()) % 1000 / 1000.0"))
        conn.exec_driver_sql("ANALYZE")


def generate_postgres(engine: Engine, people: int) -> None:
    # The load runs with the order totals' triggers off; the scores after their rebuild.
    load = [
        *(f"DROP INDEX {name}" for name in EVENT_INDEXES),
        "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
        "updated_at) SELECT 'P', 'Q', '{}', 'p q', '2024-01-01', '2024-01-01' "
        f"FROM generate_series(1, {people})",
        "INSERT INTO events (person_id, occurred_at, received_at, type, channel, source, "
        "amount_minor, currency, payload) SELECT i / 3 + 1, "
        "timestamptz '2025-12-31 12:00+00' - make_interval(days => d::int), "
        "timestamptz '2025-12-31 12:00+00', "
        "CASE WHEN k < 40 THEN 'order' WHEN k < 75 THEN 'visit' "
        "WHEN k < 90 THEN 'ticket_opened' ELSE 'survey_answered' END, 'web', 'bench', "
        "CASE WHEN k < 40 THEN 1000 + k * 50 END, CASE WHEN k < 40 THEN 'USD' END, "
        "CASE WHEN k >= 90 THEN jsonb_build_object('survey', 'nps', 'score', k - 90) "
        "ELSE '{}'::jsonb END FROM (SELECT i, (i * 7919 + 13) % 1009 % 100 AS k, "
        "i * 104729 % 7307 % 730 AS d "
        f"FROM generate_series(0::bigint, {people * EVENTS_PER_PERSON - 1}) AS i) r",
        "INSERT INTO event_items (event_id, sku, category, quantity, unit_price_minor) "
        "SELECT id, 'sku', CASE id % 3 WHEN 0 THEN 'books' WHEN 1 THEN 'music' "
        "ELSE 'film' END, 1, amount_minor FROM events WHERE type = 'order'",
        *(f"CREATE INDEX {name} ON events {columns}" for name, columns in EVENT_INDEXES.items()),
    ]
    after = [REFRESH_SQL, SCORES_SQL.format(random="random()"), "ANALYZE"]
    with engine.begin() as conn:
        order_totals.drop_triggers(conn)
        for statement in load:
            # text() escapes the modulo signs for psycopg's pyformat placeholders.
            conn.execute(text(statement))
        order_totals.restore(conn)
        for statement in after:
            conn.execute(text(statement))


# Scores for every customer, as a refresh would leave them (random model outputs).
REFRESH_SQL = (
    "INSERT INTO score_refreshes (id, as_of, currency, model_version, fitted_at) VALUES "
    "(1, '2025-12-31 12:00:00.000000', 'USD', 'bench', '2025-12-31 12:00:00.000000')"
)
SCORES_SQL = (
    "INSERT INTO person_scores (person_id, refresh_id, purchase_days, frequency, "
    "recency_days, age_days, monetary_minor, revenue_minor, historical_clv_minor, p_alive, "
    "expected_purchases_90d, clv_12m_minor, r_score, f_score, m_score, rfm_segment, "
    "churn_probability, churn_reasons) "
    "SELECT person_id, 1, count(*), count(*) - 1, 0, 0, "
    "0, 0, 0, {random}, 0.5, CAST(({random}) * 100000 AS INTEGER), 3, 3, 3, 'Loyal', "
    "{random}, NULL "
    "FROM events WHERE type = 'order' GROUP BY person_id"
)


def baseline(engine: Engine) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.exec_driver_sql(BASELINE).fetchall()
        best = min(best, time.perf_counter() - started)
    return best


def bench_batch(engine: Engine, label: str, people: int) -> list[tuple[str, str, str]]:
    floor = baseline(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    first = evaluate_all_stages(session_factory=factory, as_of=AS_OF)
    placing = time.perf_counter() - started
    started = time.perf_counter()
    second = evaluate_all_stages(session_factory=factory, as_of=AS_OF)
    steady = time.perf_counter() - started
    assert first.changes == people and second.changes == 0, (first, second)
    stages = ", ".join(
        f"{k} {v:,}" for k, v in sorted(first.by_stage.items(), key=lambda kv: -kv[1])
    )
    rows = [
        (f"{label}: bare GROUP BY of the events (baseline)", f"{floor:.1f} s", "1.00x"),
        (
            f"{label}: first evaluation, {first.changes:,} changes written",
            f"{placing:.1f} s ({people / placing:,.0f}/s)",
            f"{placing / floor:.2f}x",
        ),
        (
            f"{label}: re-evaluation, nothing changes",
            f"{steady:.1f} s ({people / steady:,.0f}/s)",
            f"{steady / floor:.2f}x",
        ),
    ]
    # Printed as soon as measured: a long PostgreSQL run must not hide the SQLite figures.
    report(f"{label}: {stages}", rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if not args.skip_incremental:
            rows = bench_incremental(directory, args.events)
            report("Incremental stage evaluation through POST /api/v1/events (SQLite)", rows)
            sys.stdout.flush()
        engine = create_db_engine(f"sqlite:///{directory / 'batch.db'}")
        upgrade_database(engine)
        started = time.perf_counter()
        generate_sqlite(engine, args.people)
        took = time.perf_counter() - started
        print(f"\n  generated {args.people:,} people on SQLite in {took:.0f} s")
        batch_rows = bench_batch(engine, f"SQLite, {args.people:,} people", args.people)
        engine.dispose()
        postgres = os.environ.get("TENURE_BENCH_POSTGRES_URL")
        if postgres:
            name = f"tenure_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(normalize_database_url(postgres), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
            engine = create_db_engine(url)
            try:
                upgrade_database(engine)
                generate_postgres(engine, args.people)
                batch_rows += bench_batch(
                    engine, f"PostgreSQL, {args.people:,} people", args.people
                )
            finally:
                engine.dispose()
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    report(
        f"Full stage evaluation of {args.people:,} people (~{EVENTS_PER_PERSON} events each)",
        batch_rows,
    )


if __name__ == "__main__":
    main()
