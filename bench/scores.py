"""The nightly chain (scores, stages, segments, retention) against the plain per-person
GROUP BY, on SQLite (and PostgreSQL).

    .venv/bin/python bench/scores.py [--people 1000000 --orders 10000000]

Generates a workspace where customers buy as the BG/NBD story goes (a first purchase in
the first year, Poisson purchases during an exponential lifetime, ~1 visit per customer),
inserted with raw driver calls (executemany on SQLite, COPY on PostgreSQL) with the
event indexes built afterwards, and the triggers that keep ``order_totals`` off during the
load: the table is rebuilt in one pass after it (reported as setup; a live workspace pays
it per written order). Then, in the same run and on the same data:

* baseline: ``SELECT person_id, count(*), min(occurred_at), max(occurred_at),
  sum(amount_minor) FROM events WHERE type = 'order' GROUP BY person_id`` over the
  covering index ``ix_events_person_type_time``, all rows fetched (best of two runs; on
  PostgreSQL the plan pinned to that index);
* the refresh's reads once, untimed (:func:`warm_up`), as the baseline's first run
  warms its index; on PostgreSQL the workspace vacuumed, untimed, before the baseline
  and again before the next night, as autovacuum leaves it in the day between two
  nights (:func:`settle`);
* the nightly chain as its jobs run it, with the workspace clock fixed at the bench's
  as-of: ``refresh_scores`` (aggregation, backtest, BG/NBD + Gamma-Gamma, RFM, churn
  model, bulk write of every customer's scores), the stage placement, every dynamic
  segment (the 13 built-ins), retention's risk and alerts;
* the next night's chain: the same events, the clock a day later. Every customer's age
  moved, so the scores refresh rewrites every row (what a real nightly refresh does);
  the stage placement re-places only the people whose inputs changed (incremental).

Prints the GROUP BY, each step and the chain's total, the ratio of the scores refresh to
the GROUP BY (target: within 3x) and the refresh's own steps.

``--churn-bound 4000,20000,0`` measures instead, on the SQLite workspace, what bounding
the churn model's training sample costs (``TENURE_CHURN_TRAINING_ROWS``): per bound, the
cross-validated AUC on the sample, the AUC on the active customers left out of it and
the fit's time (0: every row). PostgreSQL runs too when
TENURE_BENCH_POSTGRES_URL is set (a throwaway database is created on that server and
dropped afterwards).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA_DIR, report

from tenure.analytics import ChurnModel
from tenure.config import Settings
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.lifecycle.defaults import ensure_default_model
from tenure.registrations import register_all
from tenure.retention.actions import refresh_retention
from tenure.scores.churn import features_at, labels_at_cutoff, training_sample
from tenure.scores.features import Moments, aggregate_events
from tenure.scores.refresh import refresh_scores
from tenure.segments.actions import refresh_all_segments
from tenure.segments.builtins import ensure_builtin_segments
from tenure.timeline import order_totals
from tenure.timeline.models import Event
from tenure.workspace.clock import fix_now

# Event reactions (stages) as the CLI and the web app register them at start-up.
register_all()

EVENT_INDEXES = {
    "ix_events_person_time": "(person_id, occurred_at, id)",
    "ix_events_person_type_time": "(person_id, type, occurred_at, amount_minor)",
}
START = np.datetime64("2023-01-01T00:00:00")
SPAN_DAYS = 730
AS_OF = datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)
BASELINE = (
    "SELECT person_id, count(*), min(occurred_at), max(occurred_at), sum(amount_minor) "
    "FROM events WHERE type = 'order' GROUP BY person_id"
)
CHUNK = 1_000_000


def _bgnbd(people: int, rate_scale: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Purchase days per customer as the BG/NBD model tells it (FHL 2005, section 2).

    Rates ``lambda ~ Gamma(r=0.9, 1/alpha)`` per day, dropout ``p ~ Beta(1.2, 9)`` after
    each repeat purchase, first purchases spread over the first year.
    """
    rate = rng.gamma(0.9, 1 / 25.0, people) * rate_scale
    dropout = rng.beta(1.2, 9.0, people)
    first = rng.integers(0, 365, people)
    repeats = np.minimum(rng.geometric(dropout), 400)  # repeat purchases until dropout
    owner = np.repeat(np.arange(people), repeats)
    gaps = rng.exponential(1.0, owner.size) / rate[owner]
    starts = np.r_[0, np.cumsum(repeats)[:-1]]
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(np.r_[0.0, elapsed[starts[1:] - 1]], repeats)
    day = first[owner] + elapsed
    keep = day < SPAN_DAYS
    person = np.concatenate([np.arange(people), owner[keep]])
    days = np.concatenate([first, day[keep].astype(np.int64)])
    return person + 1, days, first


def simulate(people: int, orders: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Order and visit events, sorted by person then time (the index's order).

    The purchase rate is scaled once so that the total lands near ``orders``.
    """
    rng = np.random.default_rng(seed)
    person, day, first = _bgnbd(people, 1.0, rng)
    person, day, first = _bgnbd(people, orders / person.size, np.random.default_rng(seed))
    seconds = rng.integers(8 * 3600, 22 * 3600, person.size)
    spend = rng.gamma(4.0, 1.0, people)
    amount = (spend[person - 1] * rng.gamma(6.0, 400.0, person.size)).astype(np.int64) + 100
    visitors = rng.random(people) < 0.8
    visit_person = np.arange(1, people + 1)[visitors]
    visit_day = np.minimum(first[visitors] + rng.integers(0, 500, visit_person.size), SPAN_DAYS)
    all_person = np.concatenate([person, visit_person])
    all_day = np.concatenate([day, visit_day])
    all_seconds = np.concatenate([seconds, rng.integers(0, 86400, visit_person.size)])
    kind = np.concatenate([np.zeros(person.size, np.int8), np.ones(visit_person.size, np.int8)])
    all_amount = np.concatenate([amount, np.full(visit_person.size, -1)])
    order = np.lexsort((all_seconds, all_day, all_person))
    stamps = (
        START
        + all_day[order].astype("timedelta64[D]")
        + all_seconds[order].astype("timedelta64[s]")
    )
    return {
        "person": all_person[order],
        "stamp": stamps,
        "kind": kind[order],
        "amount": all_amount[order],
    }


def _text_stamps(stamps: np.ndarray) -> np.ndarray:
    """SQLAlchemy's SQLite storage format, 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    text_ = np.datetime_as_string(stamps, unit="s")
    return np.char.add(np.char.replace(text_, "T", " "), ".000000")


def load_sqlite(path: Path, people: int, data: dict[str, np.ndarray]) -> float:
    """Loads the workspace; returns the seconds the order totals' rebuild took."""
    if path.exists():
        path.unlink()
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    with engine.begin() as conn:
        sql = conn.exec_driver_sql
        sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
            "updated_at) SELECT 'P' || i, 'Bench', '{}', 'p' || i, '2023-01-01 00:00:00.000000', "
            "'2023-01-01 00:00:00.000000' FROM n",
            (people,),
        )
        order_totals.drop_triggers(conn)
        for index in EVENT_INDEXES:
            sql(f"DROP INDEX {index}")
        for start in range(0, data["person"].size, CHUNK):
            part = slice(start, start + CHUNK)
            is_order = data["kind"][part] == 0
            amounts = data["amount"][part].tolist()
            rows = zip(
                data["person"][part].tolist(),
                _text_stamps(data["stamp"][part]).tolist(),
                np.where(is_order, "order", "visit").tolist(),
                [a if o else None for a, o in zip(amounts, is_order.tolist(), strict=True)],
                np.where(is_order, "USD", None).tolist(),
                strict=True,
            )
            conn.exec_driver_sql(
                "INSERT INTO events (person_id, occurred_at, received_at, type, channel, "
                "source, amount_minor, currency, payload) "
                "VALUES (?, ?, '2025-01-01 00:00:00.000000', ?, 'web', 'bench', ?, ?, '{}')",
                list(rows),
            )
        for name, columns in EVENT_INDEXES.items():
            sql(f"CREATE INDEX {name} ON events {columns}")
        started = time.perf_counter()
        order_totals.restore(conn)
        totals = time.perf_counter() - started
        sql("ANALYZE")
    engine.dispose()
    return totals


def load_postgres(url: str, people: int, data: dict[str, np.ndarray]) -> float:
    """Loads the workspace; returns the seconds the order totals' rebuild took."""
    engine = create_db_engine(url)
    upgrade_database(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
            "updated_at) SELECT 'P' || i, 'Bench', '{}', 'p' || i, '2023-01-01', '2023-01-01' "
            f"FROM generate_series(1, {people}) AS i"
        )
        order_totals.drop_triggers(conn)
        for index in EVENT_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {index}")
        raw = conn.connection.driver_connection
        copy_sql = (
            "COPY events (person_id, occurred_at, received_at, type, channel, source, "
            "amount_minor, currency, payload) FROM STDIN WITH (FORMAT csv)"
        )
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for start in range(0, data["person"].size, CHUNK):
                part = slice(start, start + CHUNK)
                is_order = data["kind"][part] == 0
                frame = pd.DataFrame(
                    {
                        "person_id": data["person"][part],
                        "occurred_at": np.char.add(_text_stamps(data["stamp"][part]), "+00"),
                        "received_at": "2025-01-01 00:00:00+00",
                        "type": np.where(is_order, "order", "visit"),
                        "channel": "web",
                        "source": "bench",
                        "amount_minor": pd.Series(data["amount"][part], dtype="Int64").where(
                            is_order
                        ),
                        "currency": np.where(is_order, "USD", ""),
                        "payload": "{}",
                    }
                )
                buffer = io.StringIO()
                frame.to_csv(buffer, index=False, header=False)
                copy.write(buffer.getvalue())
        for name, columns in EVENT_INDEXES.items():
            conn.exec_driver_sql(f"CREATE INDEX {name} ON events {columns}")
        started = time.perf_counter()
        order_totals.restore(conn)
        totals = time.perf_counter() - started
    engine.dispose()
    return totals


def settle(engine) -> None:
    """PostgreSQL: ``VACUUM (ANALYZE)``, as autovacuum leaves a live workspace in the
    day between two nights: every page all-visible, so that the GROUP BY and the
    refresh read the covering indexes without fetching rows, and no autovacuum of the
    last night's scores still running (the refresh's swap would wait a second,
    ``deadlock_timeout``, for it to be cancelled: seen in this bench, minutes apart)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")


def rewind(url: str) -> None:
    """A reused workspace as before its first night: no scores, and none of the events
    an earlier run's next night appended after ``AS_OF`` (with them the first night
    would be a refresh of the past, which reads every order instead of the kept totals).
    The upgrade first: a workspace generated before a migration gets it. ``measure``
    settles it (:func:`settle`)."""
    engine = create_db_engine(url)
    upgrade_database(engine)
    with engine.begin() as conn:
        for table in ("person_scores", "score_refreshes", "model_reports"):
            # DELETE leaves PostgreSQL a million dead rows for autovacuum to visit.
            empty = "TRUNCATE" if conn.dialect.name == "postgresql" else "DELETE FROM"
            conn.exec_driver_sql(f"{empty} {table}")
        # Through the column's type: its bound value is in the stored text format.
        conn.execute(Event.__table__.delete().where(Event.occurred_at > AS_OF))
    engine.dispose()


def measure(url: str, label: str, runs: int) -> list[tuple[str, str, str]]:
    engine = create_db_engine(url)
    settle(engine)
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # The covering index's plan, whatever the statistics say: ANALYZE's
                # sample of 10M events puts the customers at ~14k, and the planner
                # then picks a sequential scan and a sort, 1.5-1.8x slower.
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.exec_driver_sql(BASELINE).fetchall()
        timings.append(time.perf_counter() - started)
    baseline = min(timings)
    settings = Settings(database_url=url)
    warm_up(engine, settings)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        fix_now(session, AS_OF)  # the chain's jobs read the workspace clock
        ensure_default_model(session)
        ensure_builtin_segments(session)
    out = [
        (f"{label}: plain GROUP BY (covering index)", f"{baseline:.2f} s", f"{len(rows):,} rows")
    ]
    for run, as_of in (("first", AS_OF), ("next night", AS_OF + timedelta(days=1)))[:runs]:
        with unit_of_work(factory) as session:
            fix_now(session, as_of)
        if run != "first":
            settle(engine)  # after the first night's writes; the baseline's is above
        steps, result = _chain(factory, settings, as_of)
        chain = sum(seconds for seconds, _ in steps.values())
        refresh = steps["scores refresh"][0]
        out.append((f"{label}: chain ({run})", f"{chain:.2f} s", f"{chain / baseline:.1f}x"))
        for name, (seconds, note) in steps.items():
            out.append((f"{label}:   {name}", f"{seconds:.2f} s", note))
        out.append(
            (
                f"{label}: ratio scores refresh / GROUP BY",
                f"{refresh / baseline:.1f}x",
                "target <= 3x",
            )
        )
        for step, seconds in result.timings.items():
            out.append((f"{label}:     {step}", f"{seconds:.2f} s", ""))
    models = ", ".join(f"{k} {v}" for k, v in result.reports.items())
    out.append((f"{label}: models", models, ""))
    engine.dispose()
    return out


def warm_up(engine, settings: Settings) -> None:
    """The refresh's reads once, untimed, as the GROUP BY's best of two reads its index
    warm: the first night compares with it at the same cache state. Cold, the first
    night's aggregating took 11.4-15.4 s against 5.8-5.9 s warm (1M customers, SQLite
    and PostgreSQL): a measure of the disk, not of the refresh."""
    moments = Moments.build(AS_OF, horizon_days=settings.churn_inactivity_days)
    with engine.connect() as conn:
        aggregate_events(conn, moments, churn_event_type=settings.churn_event_type)
        conn.rollback()


def _chain(
    factory, settings: Settings, as_of: datetime
) -> tuple[dict[str, tuple[float, str]], object]:
    """The nightly chain's steps (the functions its jobs call), each timed."""
    steps: dict[str, tuple[float, str]] = {}
    started = time.perf_counter()
    result = refresh_scores(session_factory=factory, settings=settings, as_of=as_of)
    note = f"{result.customers:,} customers, {len(result.changed_person_ids):,} rows written"
    steps["scores refresh"] = (time.perf_counter() - started, note)
    started = time.perf_counter()
    placed = evaluate_all_stages(session_factory=factory, as_of=as_of, full=False)
    scope = "everyone" if placed.full else "changed people"
    note = f"{placed.people:,} people placed ({scope}), {placed.changes:,} changes"
    steps["stage placement"] = (time.perf_counter() - started, note)
    started = time.perf_counter()
    changes, failed = refresh_all_segments(session_factory=factory, currency="USD", as_of=as_of)
    note = f"{len(changes)} segments" + (f", failed: {failed}" if failed else "")
    steps["segments"] = (time.perf_counter() - started, note)
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        retention = refresh_retention(session=session, as_of=as_of)
    note = f"{retention.customers_with_signals:,} with signals"
    steps["retention"] = (time.perf_counter() - started, note)
    return steps, result


def churn_bound(url: str, sizes: list[int]) -> list[tuple[str, str, str]]:
    """What bounding the churn model's training sample costs: for each bound, the
    procedure's cross-validated AUC on its sample, its AUC on the active customers left
    out of the sample (never seen), and the fit's time (0 stands for every row)."""
    engine = create_db_engine(url)
    horizon = Settings(database_url=url).churn_inactivity_days
    with engine.connect() as connection:
        moments = Moments.build(AS_OF, horizon_days=horizon)
        aggregates = aggregate_events(connection, moments, churn_event_type=None)
    engine.dispose()
    features = features_at(aggregates, "cut", churn_event_type=None, attributes=pd.DataFrame())
    population, churned = labels_at_cutoff(aggregates, features, churn_event_type=None)
    features = features.loc[population]
    out = []
    for size in sizes:
        pick = training_sample(churned, size or len(churned))
        started = time.perf_counter()
        model = ChurnModel().fit(features.iloc[pick], churned.iloc[pick].to_numpy())
        seconds = time.perf_counter() - started
        rest = np.setdiff1d(np.arange(len(churned)), pick)
        unseen = "-"
        if len(rest) and 0 < churned.iloc[rest].sum() < len(rest):
            proba = model.predict_proba(features.iloc[rest])
            unseen = f"{roc_auc_score(churned.iloc[rest], proba):.4f} on {len(rest):,} unseen"
        out.append(
            (
                f"churn model on {len(pick):,} of {len(churned):,} active customers",
                f"CV AUC {model.report['calibrated_cv_roc_auc']:.4f}",
                f"{unseen}; {model.chosen}/{model.calibration}; fit {seconds:.1f} s",
            )
        )
    return out


def _totals_row(label: str, seconds: float) -> tuple[str, str, str]:
    """The load bypasses the triggers that keep ``order_totals`` (as the indexes are
    built after it): their one-pass rebuild, a cost a live workspace pays per write."""
    return (f"{label}: order totals rebuilt after the load", f"{seconds:.2f} s", "setup")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument(
        "--runs",
        type=int,
        choices=(1, 2),
        default=2,
        help="Chain runs: 2 adds the next night's (the same events, the clock a day later: "
        "every customer's age moved, so every score row is rewritten).",
    )
    parser.add_argument(
        "--no-sqlite", action="store_true", help="PostgreSQL only (with its server URL set)."
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Reuse the SQLite file of an earlier run (its scores and the events its next "
        "night appended are removed first).",
    )
    parser.add_argument(
        "--churn-bound",
        metavar="ROWS",
        help="Only measure what bounding the churn model's training costs, on the SQLite "
        "workspace: comma-separated training sizes, 0 for every row (e.g. 4000,20000,0).",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    data = simulate(args.people, args.orders)
    n_orders = int((data["kind"] == 0).sum())
    rows: list[tuple[str, str, str]] = []
    if not args.no_sqlite:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = DATA_DIR / f"scores-{args.people}-{args.orders}.db"
        if not (args.reuse and path.exists()):
            totals = load_sqlite(path, args.people, data)
            rows.append(_totals_row("SQLite", totals))
        else:
            rewind(f"sqlite:///{path}")
        rows += [
            (
                "generated (SQLite)",
                f"{time.perf_counter() - started:.0f} s",
                f"{args.people:,} people, {n_orders:,} orders, "
                f"{data['person'].size - n_orders:,} visits",
            )
        ]
        if args.churn_bound:
            sizes = [int(size) for size in args.churn_bound.split(",")]
            report("Churn model training bound", churn_bound(f"sqlite:///{path}", sizes))
            return
        rows += measure(f"sqlite:///{path}", "SQLite", args.runs)
        report("SQLite (PostgreSQL follows when configured)", rows)
        sys.stdout.flush()

    server = os.environ.get("TENURE_BENCH_POSTGRES_URL")
    if server:
        name = f"tenure_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalize_database_url(server), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        try:
            started = time.perf_counter()
            totals = load_postgres(url, args.people, data)
            rows.append(("generated (PostgreSQL)", f"{time.perf_counter() - started:.0f} s", ""))
            rows.append(_totals_row("PostgreSQL", totals))
            rows += measure(url, "PostgreSQL", args.runs)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    report(f"Nightly chain, {args.people:,} people / {n_orders:,} orders", rows)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
