"""A 3-condition segment (attribute + event aggregate + score) against hand-written SQL.

    .venv/bin/python bench/segments.py [--people 1000000 --events 10000000 --repeat 5]
                                       [--only sqlite|postgresql]

The brief's filter

    attribute.plan = "pro" and count(order, last 90 days) >= 2 and clv > 500

("broad": 75% of the scored have a CLV over 500) and a selective variant (``clv > 1990``,
0.5%) are compiled by tenure.segments and timed against two hand-written queries of the
same filter: the correlated count the compiler emits, and a GROUP BY ... HAVING
semi-join. All fetch every member id, in interleaved rounds on one connection; the ratio
is to the faster hand-written query. Target: within 2x. Also timed: the preview count,
a first and a second refresh of the broad segment, and the first refresh of the 13
built-in segments (all rolled back, so the data stay as generated).

Data are generated in SQL (a recursive CTE on SQLite, generate_series on PostgreSQL):
people with a JSON ``plan`` and ``seats``, ~10 events each over two years (20% orders,
30% email opens, 50% visits), and scores for 70% of them. The SQLite file is kept in
bench/.data/ and reused. PostgreSQL runs when TENURE_BENCH_POSTGRES_URL is set: a
database is created on that server, loaded, measured and dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA_DIR, report

import tenure.all_models  # noqa: F401  (an entry point registers every table)
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.migrate import upgrade_database
from tenure.registrations import register_all
from tenure.segments import actions
from tenure.segments.builtins import ensure_builtin_segments
from tenure.segments.compiler import compile_filter
from tenure.segments.models import Segment
from tenure.segments.operands import Context
from tenure.segments.schemas import SegmentCreate
from tenure.timeline import order_totals

# Event reactions (stages) as the CLI and the web app register them at start-up.
register_all()

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SINCE = NOW - timedelta(days=90)
FILTER = 'attribute.plan = "pro" and count(order, last 90 days) >= 2 and clv > 500'
EVENT_INDEXES = {
    "ix_events_person_time": "(person_id, occurred_at, id)",
    "ix_events_person_type_time": "(person_id, type, occurred_at, amount_minor)",
}
PLAN = "CASE i % 5 WHEN 0 THEN 'pro' WHEN 1 THEN 'team' ELSE 'free' END"
# Two years of minutes before NOW.
SPAN_MINUTES = 730 * 1440
# The event kind (0-9) from the event number's high digits: the person (i * K mod n) is
# set by its low ones, so a kind from i % 10 would tie kinds to person ids (and plans).
KIND = "((i / 7) % 10)"
# A person's events are i0, i0 + n, i0 + 2n, ...: a time linear in i would space them
# evenly; the quadratic term scatters them over the two years.
TIME = f"(i * 7919 + (i * i) % 1000003 * 1049) % {SPAN_MINUTES}"

# The filters timed: the brief's, broad (75% of CLVs are over 500), and a selective one
# (0.5% over 1990): correlated counts pay per candidate, a GROUP BY per order in the log.
FILTERS = {
    "broad": FILTER,
    "selective": 'attribute.plan = "pro" and count(order, last 90 days) >= 2 and clv > 1990',
}
CLV_SQL = {"broad": "s.clv_12m_minor > 50000", "selective": "s.clv_12m_minor > 199000"}
ATTRIBUTE_SQL = {
    "sqlite": "json_extract(p.attributes, '$.plan') = 'pro'",
    "postgresql": "p.attributes ->> 'plan' = 'pro'",
}
# The same filter written by hand, two ways: a correlated count per candidate (what the
# compiler emits) and a semi-join on the people with two orders in the window.
HANDWRITTEN = {
    "correlated count": (
        "SELECT p.id FROM people p JOIN person_scores s ON s.person_id = p.id "
        "WHERE {attribute} AND {clv} "
        "AND (SELECT count(*) FROM events e WHERE e.person_id = p.id AND e.type = 'order' "
        "AND e.occurred_at >= :since AND e.occurred_at <= :now) >= 2"
    ),
    "group by / having": (
        "SELECT p.id FROM people p JOIN person_scores s ON s.person_id = p.id "
        "WHERE {attribute} AND {clv} "
        "AND p.id IN (SELECT person_id FROM events WHERE type = 'order' "
        "AND occurred_at >= :since AND occurred_at <= :now "
        "GROUP BY person_id HAVING count(*) >= 2)"
    ),
}


def _stamp(dialect: str, minutes_expr: str) -> str:
    """A timestamp ``minutes_expr`` minutes after NOW - 2 years, in the stored format."""
    if dialect == "sqlite":
        return (
            f"strftime('%Y-%m-%d %H:%M:%f000', '2024-01-01', '+' || ({minutes_expr}) || ' minutes')"
        )
    return f"TIMESTAMPTZ '2024-01-01 00:00:00+00' + ({minutes_expr}) * INTERVAL '1 minute'"


def generate(engine: Engine, people: int, events: int) -> None:
    dialect = engine.dialect.name
    upgrade_database(engine)
    if dialect == "sqlite":
        numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {0}) "
        source = "FROM n"
        plan = f"json_object('plan', {PLAN}, 'seats', i % 50)"
    else:
        numbers = ""
        source = "FROM generate_series(1::bigint, {0}) AS i"
        plan = f"jsonb_build_object('plan', {PLAN}, 'seats', i % 50)"
    started = time.perf_counter()
    with engine.begin() as conn:

        def sql(statement: str) -> None:
            # psycopg reads % as a placeholder even without parameters.
            conn.exec_driver_sql(statement if dialect == "sqlite" else statement.replace("%", "%%"))

        sql(
            (
                numbers + "INSERT INTO people (first_name, last_name, attributes, search_text, "
                f"created_at, updated_at) SELECT 'P' || i, 'Bench', {plan}, 'p' || i, "
                f"{_stamp(dialect, '0')}, {_stamp(dialect, '0')} " + source
            ).format(people)
        )
        order_totals.drop_triggers(conn)
        for index in EVENT_INDEXES:
            sql(f"DROP INDEX {index}")
        # Knuth's multiplicative hash spreads events over people and time.
        sql(
            (
                numbers + "INSERT INTO events (person_id, occurred_at, received_at, type, channel, "
                "source, amount_minor, currency, payload) "
                f"SELECT (i * 2654435761) % {people} + 1, "
                f"{_stamp(dialect, TIME)}, {_stamp(dialect, '0')}, "
                f"CASE WHEN {KIND} < 2 THEN 'order' WHEN {KIND} < 5 THEN 'email_opened' "
                "ELSE 'visit' END, "
                f"CASE WHEN {KIND} BETWEEN 2 AND 4 THEN 'email' ELSE 'web' END, 'bench', "
                f"CASE WHEN {KIND} < 2 THEN 1000 + (i * 31) % 20000 END, "
                f"CASE WHEN {KIND} < 2 THEN 'USD' END, '{{{{}}}}' " + source
            ).format(events)
        )
        for name, columns in EVENT_INDEXES.items():
            sql(f"CREATE INDEX {name} ON events {columns}")
        order_totals.restore(conn)
        sql(
            "INSERT INTO score_refreshes (id, as_of, currency, model_version, fitted_at) "
            f"VALUES (1, {_stamp(dialect, '0')}, 'USD', 'bench', {_stamp(dialect, '0')})"
        )
        sql(
            "INSERT INTO person_scores (person_id, refresh_id, purchase_days, frequency, "
            "recency_days, age_days, monetary_minor, revenue_minor, historical_clv_minor, "
            "p_alive, expected_purchases_90d, clv_12m_minor, r_score, f_score, m_score, "
            "rfm_segment, churn_probability) "
            "SELECT id, 1, 2, 1, 30, 400, 5000, 10000, 10000, "
            "0.5, 0.3, (id * 48271) % 200000, 1 + id % 5, 1 + id % 4, 1 + id % 3, "
            "CASE id % 3 WHEN 0 THEN 'Champions' WHEN 1 THEN 'At risk' ELSE 'Lost' END, "
            "0.4 FROM people WHERE id % 10 < 7"
        )
        sql("ANALYZE")
    print(
        f"  generated {people:,} people and {events:,} events in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _fetch(conn: Connection, statement: Any, params: dict[str, object]) -> int:
    return len(conn.execute(statement, params).all())


def _rounds(runs: dict[str, Callable[[], int]], repeat: int) -> dict[str, tuple[float, float, int]]:
    """Best and median seconds of each query, run in interleaved rounds after a warm-up.

    Interleaving spreads the noise of a shared machine over all queries alike.
    """
    timings: dict[str, list[float]] = {name: [] for name in runs}
    rows: dict[str, int] = {}
    for name, run in runs.items():
        rows[name] = run()
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
    return {name: (min(t), statistics.median(t), rows[name]) for name, t in timings.items()}


def measure_queries(
    engine: Engine, repeat: int, kind: str
) -> tuple[list[tuple[str, str, str]], float]:
    """The compiled filter against both hand-written forms; ratios to the faster one,
    whose best time (s) is returned too."""
    dialect = engine.dialect.name
    compiled = compile_filter(FILTERS[kind], Context(dialect=dialect, now=NOW))
    params: dict[str, object] = {"since": SINCE, "now": NOW}
    if dialect == "sqlite":
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        params = {"since": SINCE.strftime(fmt), "now": NOW.strftime(fmt)}
    with Session(engine) as session:
        conn = session.connection()
        runs: dict[str, Callable[[], int]] = {}
        for name, sql in HANDWRITTEN.items():
            statement = text(sql.format(attribute=ATTRIBUTE_SQL[dialect], clv=CLV_SQL[kind]))
            runs[f"{kind}: hand-written, {name}"] = partial(_fetch, conn, statement, params)
        runs[f"{kind}: tenure.segments compiled"] = partial(_fetch, conn, compiled.person_ids(), {})
        runs[f"{kind}: preview count (compiled)"] = lambda: int(
            conn.execute(compiled.count()).scalar_one()
        )
        results = _rounds(runs, repeat)
        assert len({r[2] for r in results.values()}) == 1, results  # the same members
        session.rollback()
    baseline = min(v[0] for k, v in results.items() if "hand-written" in k)
    rows = [
        (
            name,
            f"{best * 1000:,.0f} ms (median {median * 1000:,.0f}; {count:,} rows)",
            f"{best / baseline:.2f}x",
        )
        for name, (best, median, count) in results.items()
    ]
    return rows, baseline


def measure(engine: Engine, repeat: int) -> list[tuple[str, str, str]]:
    rows, baseline = measure_queries(engine, repeat, "broad")
    rows += measure_queries(engine, repeat, "selective")[0]

    # A first refresh of the broad filter (every member enters: events, members, snapshot)
    # and a second (nothing changes), rolled back so the data stay as generated.
    with Session(engine) as session:
        started = time.perf_counter()
        segment, change = actions.create_segment(
            session=session,
            data=SegmentCreate(name=f"bench-{uuid.uuid4().hex[:6]}", filter=FILTER),
            actor=None,
            currency="USD",
            as_of=NOW,
        )
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = actions.refresh_segment(
            session=session, segment_id=segment.id, currency="USD", as_of=NOW
        )
        second = time.perf_counter() - started
        session.rollback()
    # The first refresh of the 13 built-in segments: every scored customer enters one RFM
    # segment and one value tier (events, members and snapshots for each).
    with Session(engine) as session:
        ensure_builtin_segments(session)
        builtin_ids = session.scalars(
            select(Segment.id).where(Segment.builtin_key.is_not(None)).order_by(Segment.id)
        ).all()
        started = time.perf_counter()
        entered = 0
        for segment_id in builtin_ids:
            entered += actions.refresh_segment(
                session=session, segment_id=segment_id, currency="USD", as_of=NOW
            ).entered
        builtins = time.perf_counter() - started
        session.rollback()
    results_rows = rows  # the refreshes against the broad filter's best hand-written
    results_rows.append(
        (
            "refresh, first (all enter, as of now)",
            f"{first * 1000:,.0f} ms ({change.entered:,} entered)",
            f"{first / baseline:.2f}x",
        )
    )
    results_rows.append(
        (
            "refresh, second (no change)",
            f"{second * 1000:,.0f} ms ({again.entered + again.exited} changes)",
            f"{second / baseline:.2f}x",
        )
    )
    results_rows.append(
        (
            "refresh, 13 built-ins (first)",
            f"{builtins * 1000:,.0f} ms ({entered:,} entered)",
            f"{builtins / baseline:.2f}x",
        )
    )
    return results_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--only", choices=("sqlite", "postgresql"), help="Run one backend (default: both)."
    )
    args = parser.parse_args()

    if args.only != "postgresql":
        run_sqlite(args)
    if args.only != "sqlite":
        run_postgres(args)


def run_sqlite(args: argparse.Namespace) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"segments-{args.people}-{args.events}.db"
    print(f"SQLite: {path}")
    if not path.exists():
        engine = create_db_engine(f"sqlite:///{path}")
        try:
            generate(engine, args.people, args.events)
        except BaseException:
            engine.dispose()
            path.unlink(missing_ok=True)
            raise
        engine.dispose()
    engine = create_db_engine(f"sqlite:///{path}")
    report(
        f"SQLite, {args.people:,} people / {args.events:,} events: {FILTER}",
        measure(engine, args.repeat),
    )
    engine.dispose()


def run_postgres(args: argparse.Namespace) -> None:
    server = os.environ.get("TENURE_BENCH_POSTGRES_URL")
    if not server:
        print("\nPostgreSQL: set TENURE_BENCH_POSTGRES_URL to run it too.")
        return
    name = f"tenure_bench_segments_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_database_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_db_engine(url)
        generate(engine, args.people, args.events)
        report(
            f"PostgreSQL, {args.people:,} people / {args.events:,} events: {FILTER}",
            measure(engine, args.repeat),
        )
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
