"""Read latency and throughput on SQLite: the 360 view, the people list, the pages.

Measures, in one run:
  * under 32 concurrent connections (wrk on loopback): GET /api/v1/people/{random id}
    (the customer 360 view), GET /api/v1/people?limit=50 (the list's first page) and
    GET /ping on a bare FastAPI app, the ceiling;
  * in-process (the ASGI app, one request at a time): the server time, CPU and SQL
    statements per request of the same two endpoints, of the person page and of Home;
  * the 360's own work without the framework: the read model's one statement against the
    per-request assembly it replaced (``profile.queries.person_360`` + the scores), which
    is now the read model's recompute.
Targets (issue 16), ratios in the same run: 360 >= 0.25x bare FastAPI with p99 < 50 ms;
list first page p99 < 50 ms; person and home pages < 100 ms server time (p95); the 360
costs the same at 1M people as at 100k.

    .venv/bin/python bench/read.py [--people 1000000 --events 10000000 --seconds 15]

The database is generated once into bench/.data/ and reused; its read model is built
(``tenure summaries rebuild``'s code) when missing, and the time it took is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA_DIR, free_port, report, served

import tenure.all_models  # noqa: F401  (the app and the queries see every table)
from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user
from tenure.identity.models import User
from tenure.profile.queries import person_360
from tenure.profile.schemas import PersonProfile
from tenure.registrations import register_all
from tenure.scores.queries import person_scores
from tenure.scores.schemas import PersonScoresOut
from tenure.summaries.queries import person_360_json
from tenure.summaries.rebuild import add_missing, rebuild_stale, stale_count
from tenure.timeline import order_totals
from tenure.web.app import create_app

EVENT_INDEXES = ("ix_events_person_time", "ix_events_person_type_time", "ix_events_time")
PAGES_USER, PAGES_PASSWORD = "pages@example.com", "bench-pages-password"
SECRET = "read-bench-" + "x" * 40


class OldPerson360(PersonProfile):
    """The 360's response model before the read model: what the old handler validated."""

    scores: PersonScoresOut | None = None


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
        order_totals.drop_triggers(conn)
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
        sql("CREATE INDEX ix_events_time ON events (occurred_at, id, person_id, type)")
        order_totals.restore(conn)
        sql("ANALYZE")
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="bench@example.com", role="admin", password=None)
    engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"generated {people:,} people and {events:,} events in {elapsed:.0f} s")


def prepare(url: str) -> None:
    """The pages' login, and the read model of every person (timed when built)."""
    engine = create_db_engine(url)
    upgrade_database(engine)  # a database generated before the read model gets its table
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        if session.scalar(select(User.id).where(User.email == PAGES_USER)) is None:
            create_user(session=session, email=PAGES_USER, role="admin", password=PAGES_PASSWORD)
        add_missing(session)
        stale = stale_count(session)
    if stale:
        started = time.perf_counter()
        built = rebuild_stale(factory, batch=1000)
        elapsed = time.perf_counter() - started
        print(
            f"read model: {built:,} summaries built in {elapsed:.0f} s ({built / elapsed:,.0f}/s)"
        )
    engine.dispose()


class Statements:
    """Counts the SQL statements an engine runs."""

    def __init__(self, engine: object) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


async def timed(
    call: Callable[[], Awaitable[object]], count: int, statements: Statements
) -> tuple[float, float, float, float]:
    """(median, p95, median CPU) in ms and statements per call, after five warm-ups."""
    for _ in range(5):
        await call()
    times, cpu = [], []
    before = statements.count
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = await call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        status = getattr(response, "status_code", 200)
        assert status == 200, f"answered {status}"
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    per_call = (statements.count - before) / count
    return statistics.median(times), p95, statistics.median(cpu), per_call


async def log_in(client: httpx.AsyncClient) -> None:
    form = (await client.get("/login")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the login page"
    answer = await client.post(
        "/login",
        data={"email": PAGES_USER, "password": PAGES_PASSWORD, "csrf_token": token[1]},
    )
    assert answer.status_code == 303, f"login failed: {answer.status_code}"


def in_process(url: str, people: int, token: str, count: int) -> list[tuple[str, tuple]]:
    """Server time, CPU and statements per request of the endpoints and pages (the ASGI
    app called in this process's event loop: no network, no thread hops), and the 360's
    own work before (per-request assembly) and after (the read model)."""
    register_all()
    engine = create_db_engine(url)
    statements = Statements(engine)
    app = create_app(Settings(database_url=url, secret_key=SECRET), engine)
    rng = random.Random(7)
    bearer = {"Authorization": f"Bearer {token}"}

    def someone() -> int:
        return rng.randint(1, people)

    async def requests() -> list[tuple[str, tuple]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await log_in(client)
            calls: list[tuple[str, int, Callable[[], Awaitable[object]]]] = [
                (
                    "GET /api/v1/people/{id} (360)",
                    count,
                    lambda: client.get(f"/api/v1/people/{someone()}", headers=bearer),
                ),
                (
                    "GET /api/v1/people?limit=50",
                    count,
                    lambda: client.get("/api/v1/people?limit=50", headers=bearer),
                ),
                (
                    "GET /api/v1/nothing (404: the framework alone)",
                    count,
                    lambda: _ok(client.get("/api/v1/nothing", headers=bearer)),
                ),
                (
                    "person page /people/{id}",
                    max(20, count // 10),
                    lambda: client.get(f"/people/{someone()}"),
                ),
                ("home page /", max(20, count // 10), lambda: client.get("/")),
            ]
            return [(label, await timed(call, n, statements)) for label, n, call in calls]

    rows = asyncio.run(requests())
    factory = make_session_factory(engine)
    with factory() as session:

        async def old() -> object:
            person_id = someone()
            view = {**person_360(session, person_id), "scores": person_scores(session, person_id)}
            return OldPerson360.model_validate(view).model_dump_json()

        async def new() -> object:
            return person_360_json(session.connection(), someone())

        async def work() -> list[tuple[str, tuple]]:
            return [
                ("360 work before: per-request assembly", await timed(old, count, statements)),
                ("360 work now: the read model", await timed(new, count, statements)),
            ]

        rows += asyncio.run(work())
    engine.dispose()
    return rows


async def _ok(response: Awaitable[httpx.Response]) -> object:
    """A 404 answered as expected counts as a success."""
    answer = await response
    assert answer.status_code == 404, f"answered {answer.status_code}"
    return None


def token_for(url: str) -> str:
    engine = create_db_engine(url)
    upgrade_database(engine)  # a database generated by an older version gets new migrations
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
    parser.add_argument("--requests", type=int, default=300, help="in-process requests each")
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
    prepare(url)
    token = token_for(url)
    server = in_process(url, args.people, token, args.requests)
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
    lines = []
    for label, (median, p95, cpu, per_call) in server:
        lines.append(
            (label, f"{median:7.2f} / {p95:7.2f} / {cpu:7.2f} ms", f"{per_call:4.1f} statements")
        )
    report("In-process, one at a time: median / p95 server time / median CPU", lines)

    ratio = person[0] / ping[0]
    pages = {label: p95 for label, (_, p95, _, _) in server if "page" in label}
    ok360 = ratio >= 0.25 and person[2] < 50
    print(
        f"\n  target 360: >= 0.25x bare, p99 < 50 ms -> {ratio:.2f}x, p99 {person[2]:.1f} ms: "
        f"{'meets' if ok360 else 'MISSES'}"
    )
    print(
        f"  target list first page: p99 < 50 ms -> {listing[2]:.1f} ms: "
        f"{'meets' if listing[2] < 50 else 'MISSES'}"
    )
    for label, p95 in pages.items():
        print(
            f"  target {label}: < 100 ms server time (p95) -> {p95:.1f} ms: "
            f"{'meets' if p95 < 100 else 'MISSES'}"
        )


if __name__ == "__main__":
    main()
