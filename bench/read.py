"""Read latency and throughput on SQLite with 1M people and 10M events.

Measures, under 32 concurrent connections (wrk on loopback):
  * GET /api/v1/people/{random id}: the customer 360 view;
  * GET /api/v1/people?limit=50: the first page of the people list;
  * GET /ping on a bare FastAPI app, the ceiling, in the same run.
Targets (foundation issue): 360 at least 1,000 req/s with p99 under 50 ms; list first
page under 50 ms.

    .venv/bin/python bench/read.py [--people 1000000 --events 10000000 --seconds 15]

The database is generated once into bench/.data/ and reused.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA_DIR, free_port, report, served

from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user

EVENT_INDEXES = ("ix_events_person_time", "ix_events_person_type_time")


def generate(path: Path, people: int, events: int) -> None:
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        sql = conn.exec_driver_sql
        sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
            "updated_at) SELECT 'First' || i, 'Last' || (i % 50000), '{}', "
            "'first' || i || ' last' || (i % 50000) || ' p' || i || '@example.com', "
            "strftime('%Y-%m-%d %H:%M:%f000', '2020-01-01', '+' || (i / 10) || ' minutes'), "
            "strftime('%Y-%m-%d %H:%M:%f000', '2020-01-01', '+' || (i / 10) || ' minutes') "
            "FROM n",
            (people,),
        )
        sql(
            "INSERT INTO identities (person_id, kind, namespace, value, original, is_primary, "
            "created_at) SELECT id, 'email', '', 'p' || id || '@example.com', "
            "'p' || id || '@example.com', 1, created_at FROM people"
        )
        for index in EVENT_INDEXES:
            sql(f"DROP INDEX {index}")
        sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO events (person_id, occurred_at, received_at, type, channel, source, "
            "client_event_id, amount_minor, currency, payload) "
            "SELECT (i * 7919) % ? + 1, "
            "strftime('%Y-%m-%d %H:%M:%f000', '2021-01-01', '+' || (i % 1500000) || ' minutes'), "
            "'2026-01-01 00:00:00.000000', "
            "CASE WHEN i % 5 = 0 THEN 'order' ELSE 'visit' END, 'web', 'bench', 'e' || i, "
            "CASE WHEN i % 5 = 0 THEN 1000 + i % 9000 END, "
            "CASE WHEN i % 5 = 0 THEN 'USD' END, '{}' FROM n",
            (events, people),
        )
        sql("CREATE INDEX ix_events_person_time ON events (person_id, occurred_at, id)")
        sql(
            "CREATE INDEX ix_events_person_type_time ON events "
            "(person_id, type, occurred_at, amount_minor)"
        )
        sql("ANALYZE")
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="bench@example.com", role="admin", password=None)
    engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"generated {people:,} people and {events:,} events in {elapsed:.0f} s")


def token_for(url: str) -> str:
    engine = create_db_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        _, token = create_api_token(session=session, email="bench@example.com", scope="read")
    engine.dispose()
    return token


def wrk(base: str, path_lua: str, seconds: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 latency in ms."""
    result = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", path_lua, base],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, pct("50"), pct("99")


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def lua(directory: Path, name: str, body: str) -> str:
    path = directory / f"{name}.lua"
    path.write_text(body)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"read-{args.people}-{args.events}.db"
    if not path.exists():
        # Generate under a temporary name: an interrupted run must not leave a half-filled
        # database that the next run would take as complete.
        partial = path.with_suffix(".partial")
        for leftover in DATA_DIR.glob(partial.name + "*"):
            leftover.unlink()
        generate(partial, args.people, args.events)
        partial.rename(path)
    url = f"sqlite:///{path}"
    token = token_for(url)
    auth = f'{{["Authorization"] = "Bearer {token}"}}'
    person_lua = lua(
        DATA_DIR,
        "person",
        f"math.randomseed(42)\nrequest = function()\n"
        f'  return wrk.format("GET", "/api/v1/people/" .. math.random(1, {args.people}), {auth})\n'
        "end\n",
    )
    list_lua = lua(
        DATA_DIR,
        "list",
        "request = function()\n"
        f'  return wrk.format("GET", "/api/v1/people?limit=50", {auth})\nend\n',
    )
    with served(url) as base:
        person = wrk(base, person_lua, args.seconds)
        listing = wrk(base, list_lua, args.seconds)

    port = free_port()
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "_bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=Path(__file__).parent,
        env=dict(os.environ),
    )
    wait_until_up(f"http://127.0.0.1:{port}/ping", bare)
    try:
        ping = wrk(
            f"http://127.0.0.1:{port}", lua(DATA_DIR, "ping", 'wrk.path = "/ping"\n'), args.seconds
        )
    finally:
        bare.terminate()
        bare.wait()

    def row(name: str, figures: tuple[float, float, float]) -> tuple[str, str, str]:
        rps, p50, p99 = figures
        return (
            name,
            f"{rps:,.0f} req/s",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {rps / ping[0]:.2f}x bare",
        )

    report(
        f"Reads on SQLite: {args.people:,} people, {args.events:,} events, 32 connections",
        [
            row("bare FastAPI /ping (ceiling)", ping),
            row("GET /api/v1/people/{id} (360)", person),
            row("GET /api/v1/people?limit=50", listing),
        ],
    )
    ok360 = person[0] >= 1000 and person[2] < 50
    print(f"\n  target 360: >= 1,000 req/s, p99 < 50 ms -> {'meets' if ok360 else 'MISSES'}")
    print(f"  target list first page: < 50 ms (p99) -> {'meets' if listing[2] < 50 else 'MISSES'}")


if __name__ == "__main__":
    main()
