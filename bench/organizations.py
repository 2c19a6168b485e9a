"""Server-side time of the organization reads on the demo, and with 100,000 organizations.

Times the queries behind ``/organizations`` and ``/organizations/{id}`` (the list page with
its roll-ups, an organization's summary, people, open tasks and timeline), median of
``--runs`` calls each, on a copy of a demo database. Then adds ``--extra`` organizations
(100,000 by default) in SQL, spreads the demo's organization members over the first
thousand of them, and times the first list page, a page deep into the list (keyset on
``ix_organizations_name_id``) and a search. Target (issue 12): every page under 300 ms of
server time on the demo.

    .venv/bin/python bench/organizations.py /tmp/demo/demo-base.db [--runs 20 --extra 100000]

The demo copy is migrated first (``tenure init`` does the same).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report

import tenure.all_models  # noqa: F401  (the table registry, as every entry point)
from tenure.customers import queries
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory
from tenure.profile import organizations as views
from tenure.registrations import register_all
from tenure.timeline.queries import organization_timeline


def _median_ms(runs: int, call: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _grow(engine: Any, extra: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO organizations (name, domain, attributes, created_at, updated_at) "
            "SELECT 'Org ' || printf('%06d', i), 'org' || i || '.example', '{}', "
            "'1998-01-01 00:00:00.000000', '1998-01-01 00:00:00.000000' FROM n",
            (extra,),
        )
        # Members spread over the first thousand new organizations, so deep pages have
        # people, revenue and activity to add up.
        conn.exec_driver_sql(
            "UPDATE people SET organization_id = (SELECT min(id) FROM organizations "
            "WHERE name LIKE 'Org %') + (id % 1000) WHERE organization_id IS NOT NULL"
        )
        conn.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("demo", type=Path)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--extra", type=int, default=100_000)
    args = parser.parse_args()
    register_all()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.db"
        shutil.copy(args.demo, path)
        engine = create_db_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        factory = make_session_factory(engine)
        rows: list[tuple[str, str, str]] = []
        with factory() as session:
            (first, *_), _ = views.list_organizations(session, limit=1)
            org_id = first["id"]
            checks = {
                "list page (50, roll-ups)": lambda: views.list_organizations(session),
                "organization summary": lambda: views.organization_summary(session, org_id),
                "its people (20)": lambda: views.organization_people(session, org_id, limit=20),
                "its open tasks": lambda: views.open_tasks(session, org_id),
                "its timeline (30)": lambda: organization_timeline(
                    session, organization_id=org_id, leave_out=views.DERIVED_TYPES, limit=30
                ),
            }
            # The baseline: the same page of organizations without roll-ups or owners.
            bare = _median_ms(args.runs, lambda: queries.list_organizations(session, limit=50))
            rows.append(("demo: list page, bare (baseline)", f"{bare:.1f} ms", ""))
            for name, call in checks.items():
                ms = _median_ms(args.runs, call)
                rows.append((f"demo: {name}", f"{ms:.1f} ms", f"{ms / bare:.1f}x baseline"))
        _grow(engine, args.extra)
        with factory() as session:
            _, cursor = views.list_organizations(session, q="Org 05", limit=50)
            checks = {
                "first page": lambda: views.list_organizations(session),
                "deep page (after 'Org 05...')": lambda: views.list_organizations(
                    session, cursor=cursor
                ),
                "search 'org99'": lambda: views.list_organizations(session, q="org99"),
            }
            for name, call in checks.items():
                ms = _median_ms(args.runs, call)
                rows.append((f"{args.extra:,} more: {name}", f"{ms:.1f} ms", ""))
        engine.dispose()
    report("Organizations: server time (median)", rows)


if __name__ == "__main__":
    main()
