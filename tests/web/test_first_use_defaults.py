"""Defaults a read creates on first use (the stage model, the built-in segments) on a
database never set up by `tenure init`: concurrent first reads never fail.

On SQLite a reader's INSERT must upgrade its read snapshot to a write, which fails at
once ("database is locked") when another connection committed since the snapshot began.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import delete, func, select

from tenure.customers.models import Tag
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.lifecycle.defaults import DEFAULT_STAGES
from tenure.lifecycle.models import LifecycleRule, LifecycleSettings, LifecycleStage
from tenure.lifecycle.queries import stage_model
from tenure.segments.builtins import BUILTINS, ensure_builtin_segments
from tenure.segments.models import Segment
from tests.web.test_concurrent_writes import _admin_token, _serve_with_workers

CLIENTS = 8
ROUNDS = 3


def _forget_defaults(database_url: str) -> None:
    """Back to a database that has never served a lifecycle or segments read."""
    engine = create_db_engine(database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        session.execute(delete(LifecycleRule))
        session.execute(delete(LifecycleStage))
        session.execute(delete(LifecycleSettings))
        session.execute(delete(Segment).where(Segment.builtin_key.is_not(None)))
    engine.dispose()


def _defaults(database_url: str) -> tuple[int, int, int]:
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        counts = tuple(
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (LifecycleSettings, LifecycleStage, Segment)
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


def test_a_reader_whose_snapshot_is_stale_creates_the_defaults(fresh_database_url):
    _forget_defaults(fresh_database_url)
    engine = create_db_engine(fresh_database_url)
    factory = make_session_factory(engine)
    with factory() as reader:
        reader.scalar(select(func.count()).select_from(Tag))  # the read snapshot begins
        with unit_of_work(factory) as other:  # another connection commits meanwhile
            other.add(Tag(name="vip"))
        model = stage_model(reader)
        created = ensure_builtin_segments(reader)
        assert [s.key for s in model.stages] == [key for key, *_ in DEFAULT_STAGES]
        assert sorted(s.builtin_key for s in created) == sorted(b.key for b in BUILTINS)
        reader.commit()  # as GET /api/v1/lifecycle/model and /api/v1/segments do
    engine.dispose()
    assert _defaults(fresh_database_url) == (1, len(DEFAULT_STAGES), len(BUILTINS))


def test_eight_concurrent_first_reads_on_two_server_processes(fresh_database_url):
    token = _admin_token(fresh_database_url)
    headers = {"Authorization": f"Bearer {token}"}
    with _serve_with_workers(fresh_database_url, workers=2) as base_url:
        for _ in range(ROUNDS):
            _forget_defaults(fresh_database_url)
            start = threading.Barrier(CLIENTS)

            def first_reads(
                client_number: int, start: threading.Barrier = start
            ) -> list[tuple[str, int, str]]:
                paths = ["/api/v1/lifecycle/model", "/api/v1/segments"]
                if client_number % 2:
                    paths.reverse()
                with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
                    client.get("/api/v1/lifecycle/metrics")  # connection open, no first use
                    start.wait()
                    return [(p, (r := client.get(p)).status_code, r.text[:200]) for p in paths]

            with ThreadPoolExecutor(CLIENTS) as pool:
                results = [r for rs in pool.map(first_reads, range(CLIENTS)) for r in rs]
            assert [r for r in results if r[1] != 200] == []
            models = {r[2] for r in results if r[0] == "/api/v1/lifecycle/model"}
            assert len(models) == 1  # every client saw the one model that was created
            assert _defaults(fresh_database_url) == (1, len(DEFAULT_STAGES), len(BUILTINS))
