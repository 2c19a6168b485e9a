"""Server time of the daily pages (issue 12) on the demo workspace, against /login.

Each page is requested in-process through the ASGI app (Starlette's TestClient: no
network, no separate server), logged in as the demo's admin (Everyone) and as its sales
rep Maria (her book of ~3,500 customers), after a warm-up; the median and the p95 of N
requests are reported with their ratio to the login page's, measured in the same run.
Target: every page under 300 ms server time (judged on the p95). The median CPU time of
the process is printed beside it: on a shared machine the wall time grows with the load.

    .venv/bin/python bench/pages.py [--database sqlite:///path/demo.db] [--requests 30]

Without ``--database`` the demo is built first (``tenure demo``, a few minutes). A SQLite
database is copied before the run (the API token the search API needs is written to the
copy); another URL is used in place and gets one API token, deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report

import tenure.all_models  # noqa: F401  (the app and the queries see every table)
from tenure.config import Settings
from tenure.customers.models import Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token
from tenure.identity.models import ApiToken
from tenure.timeline.models import Event
from tenure.web.app import create_app

TARGET_MS = 300.0
PASSWORD = "tenure-demo"
ADMIN, SALES = "admin@demo.tenure.dev", "maria.sales@demo.tenure.dev"
SEARCHES = {
    "phone, formatted": "+44 7700 900123",
    "email prefix": "john.s",
    "name prefix": "hugh",
    "full name": "john hu",
    "organization": "acme",
    "no match (worst case)": "zzqx",
}


def _build_demo(directory: str) -> str:
    url = f"sqlite:///{directory}/demo.db"
    started = time.perf_counter()
    env = dict(os.environ, TENURE_DATABASE_URL=url)
    subprocess.run([sys.executable, "-m", "tenure.cli.main", "demo"], env=env, check=True)
    print(f"demo workspace built in {time.perf_counter() - started:.0f} s")
    return url


def _working_copy(url: str, directory: str) -> str:
    if not url.startswith("sqlite:///"):
        return url
    target = Path(directory) / "pages-bench.db"
    shutil.copyfile(url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def _log_in(client: TestClient, email: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the login page"
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert answer.status_code == 303, f"login of {email} failed: {answer.status_code}"


def _timed(request: Callable[[], object], count: int) -> tuple[float, float, float]:
    """(median, p95, median CPU) in milliseconds of ``count`` calls after three warm-ups.

    CPU is the process's (the app runs in-process, one request at a time): on a machine
    shared with other work the wall time grows with the load, the CPU time much less.
    """
    for _ in range(3):
        request()
    times, cpu = [], []
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = request()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        status = getattr(response, "status_code", 200)
        assert status == 200, f"answered {status}"
    times.sort()
    return (
        statistics.median(times),
        times[max(0, round(0.95 * len(times)) - 1)],
        statistics.median(cpu),
    )


def _busiest(url: str) -> tuple[int, int]:
    """The person with the most events and the organization with the most people."""
    engine = create_db_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        person_id = session.scalar(
            select(Event.person_id).group_by(Event.person_id).order_by(func.count().desc()).limit(1)
        )
        organization_id = session.scalar(
            select(Person.organization_id)
            .where(Person.organization_id.is_not(None))
            .group_by(Person.organization_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    engine.dispose()
    assert person_id and organization_id, "the database has no events or no organizations"
    return int(person_id), int(organization_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="SQLAlchemy URL of the demo (default: build it)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = _working_copy(args.database or _build_demo(directory), directory)
        person_id, organization_id = _busiest(url)
        engine = create_db_engine(url)
        with unit_of_work(make_session_factory(engine)) as session:
            token_row, token = create_api_token(session=session, email=ADMIN, scope="read")
            token_id = token_row.id
        settings = Settings(database_url=url, secret_key="pages-bench-" + "x" * 40)
        app = create_app(settings, engine)
        try:
            rows = _measure(app, args.requests, person_id, organization_id, token)
        finally:
            with unit_of_work(make_session_factory(engine)) as session:
                session.delete(session.get_one(ApiToken, token_id))
            engine.dispose()
    _print(rows, args.requests, url)


def _measure(
    app: object, count: int, person_id: int, organization_id: int, token: str
) -> list[tuple[str, float, float, float]]:
    admin, sales = TestClient(app), TestClient(app)  # type: ignore[arg-type]
    baseline = _timed(lambda: admin.get("/login"), count)
    _log_in(admin, ADMIN)
    _log_in(sales, SALES)
    bearer = {"Authorization": f"Bearer {token}"}
    pages: list[tuple[str, Callable[[], object]]] = [
        ("home, admin (Everyone)", lambda: admin.get("/")),
        ("home, sales (My book)", lambda: sales.get("/")),
        ("GET /api/v1/home (Everyone)", lambda: admin.get("/api/v1/home", headers=bearer)),
        ("people list", lambda: admin.get("/people")),
        (f"person page (/people/{person_id})", lambda: admin.get(f"/people/{person_id}")),
        (
            f"organization page (/organizations/{organization_id})",
            lambda: admin.get(f"/organizations/{organization_id}"),
        ),
        ("/tasks, sales (mine)", lambda: sales.get("/tasks")),
        ("/tasks?assignee=all, admin", lambda: admin.get("/tasks?assignee=all")),
        ("/search?q=john (full results)", lambda: admin.get("/search", params={"q": "john"})),
    ]
    for label, q in SEARCHES.items():
        pages.append(
            (
                f"search API: {label}",
                lambda q=q: admin.get("/api/v1/search", params={"q": q}, headers=bearer),
            )
        )
    rows = [("baseline: GET /login", *baseline)]
    for label, request in pages:
        rows.append((label, *_timed(request, count)))
    return rows


def _print(rows: list[tuple[str, float, float, float]], count: int, url: str) -> None:
    base_median = rows[0][1]
    lines = []
    for label, median, p95, cpu in rows:
        verdict = "" if label.startswith("baseline") else ("ok" if p95 < TARGET_MS else "OVER")
        ratio = f"{median / base_median:5.1f}x login  {verdict}"
        lines.append((label, f"{median:6.1f} / {p95:6.1f} / {cpu:6.1f} ms", ratio))
    backend = url.split(":", 1)[0]
    load = os.getloadavg()[0]
    report(
        f"Server time in-process, median / p95 / median CPU of {count} requests ({backend}, "
        f"load {load:.1f} on {os.cpu_count()} cores; target p95 < {TARGET_MS:.0f} ms)",
        lines,
    )
    over = [label for label, _, p95, _ in rows[1:] if p95 >= TARGET_MS]
    print("\nAll pages under target." if not over else f"\nOver target: {', '.join(over)}")


if __name__ == "__main__":
    main()
