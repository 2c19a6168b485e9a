"""Concurrent writers against a real server on loopback: no 5xx, every event stored once.

Issue 9, item 1: eight clients posting overlapping batches got "database is locked" (500)
on SQLite within 1.5 s, because a write transaction that began as a reader cannot wait for
the lock. Here eight clients each post the same three overlapping batches, in different
orders, to one in-process uvicorn and to `tenure serve --workers 2`.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
from sqlalchemy import func, select

from tenure.customers.models import Identity
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user
from tenure.timeline.models import Event
from tests.browser import _free_port, running_server

CLIENTS = 8
BATCH = 2_000  # orders per batch; batch k holds ids k*BATCH/2 .. k*BATCH/2 + BATCH - 1
BATCHES = 3
BUYERS = 300
DISTINCT = BATCH + (BATCHES - 1) * BATCH // 2


def _order(n: int) -> dict:
    return {
        "type": "order",
        "occurred_at": f"2026-0{1 + n % 9}-1{n % 10}T10:00:00+00:00",
        "source": "shop",
        "client_event_id": f"o-{n}",
        "email": f"buyer{n % BUYERS}@example.com",
        "amount_minor": 1000 + n,
        "currency": "EUR",
    }


def _batches() -> list[list[dict]]:
    return [
        [_order(n) for n in range(k * BATCH // 2, k * BATCH // 2 + BATCH)] for k in range(BATCHES)
    ]


def _admin_token(database_url: str) -> str:
    engine = create_db_engine(database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="ops@example.com", role="admin", password="pw 123456")
        _, token = create_api_token(session=session, email="ops@example.com", scope="write")
    engine.dispose()
    return token


def _post_all(base_url: str, token: str) -> list[httpx.Response]:
    batches = _batches()
    headers = {"Authorization": f"Bearer {token}"}

    def client_run(seed: int) -> list[httpx.Response]:
        order = list(range(BATCHES))
        random.Random(seed).shuffle(order)
        with httpx.Client(base_url=base_url, headers=headers, timeout=300) as client:
            return [client.post("/api/v1/events", json=batches[k]) for k in order]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [r for rs in pool.map(client_run, range(CLIENTS)) for r in rs]


def _assert_stored_once(database_url: str, responses: list[httpx.Response]) -> None:
    assert len(responses) == CLIENTS * BATCHES
    failures = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200]
    assert failures == []
    for response in responses:
        body = response.json()
        assert body["stored"] + len(body["duplicates"]) == BATCH and body["rejected"] == []
    assert sum(r.json()["stored"] for r in responses) == DISTINCT
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        orders = select(Event.client_event_id).where(Event.type == "order")
        stored = session.scalars(orders).all()
        buyers = session.scalar(
            select(func.count()).select_from(Identity).where(Identity.kind == "email")
        )
    engine.dispose()
    assert len(stored) == DISTINCT
    assert set(stored) == {f"o-{n}" for n in range(DISTINCT)}
    assert buyers == BUYERS  # one person per email, however many batches raced to create it


@contextmanager
def _serve_with_workers(database_url: str, workers: int) -> Iterator[str]:
    """`tenure serve --workers N` in a child process; yields the base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "TENURE_DATABASE_URL": database_url,
        "TENURE_SECRET_KEY": "concurrency-test-secret-0123456789abcdef",
    }
    command = [sys.executable, "-m", "tenure.cli.main", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers)], env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base_url}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("tenure serve did not start")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_overlapping_batches_from_eight_clients_are_stored_once(fresh_database_url):
    token = _admin_token(fresh_database_url)
    with running_server(fresh_database_url) as base_url:
        responses = _post_all(base_url, token)
    _assert_stored_once(fresh_database_url, responses)


def test_two_server_processes_store_overlapping_batches_once(fresh_database_url):
    token = _admin_token(fresh_database_url)
    with _serve_with_workers(fresh_database_url, workers=2) as base_url:
        responses = _post_all(base_url, token)
    _assert_stored_once(fresh_database_url, responses)


DATA = Path(__file__).parent.parent / "ingest" / "data"


def _people_lines(worker: int, count: int) -> bytes:
    lines = [
        {
            "first_name": f"W{worker}",
            "identities": [{"kind": "email", "value": f"import{n % 150}@example.com"}],
        }
        for n in range(count)
    ]
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


def _mixed_writers(base_url: str, token: str) -> list[tuple[str, int, str]]:
    """Imports, segment refreshes, lifecycle settings and overrides racing event batches."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as client:
        person = client.post(
            "/api/v1/people",
            json={"first_name": "Ovi", "identities": [{"kind": "email", "value": "o@example.com"}]},
        )
        person_id = person.json()["id"]
        segment = client.post(
            "/api/v1/segments", json={"name": "Buyers", "filter": "count(order) >= 1"}
        )
        segment_id = segment.json()["id"]
        stage = client.get("/api/v1/lifecycle/model").json()["stages"][0]["key"]
    small = [batch[:400] for batch in _batches()]

    def run(task: int) -> list[tuple[str, int, str]]:
        done: list[tuple[str, int, str]] = []
        with httpx.Client(base_url=base_url, headers=headers, timeout=300) as client:
            for round_ in range(3):
                if task < 3:
                    name, response = "events", client.post("/api/v1/events", json=small[task])
                elif task < 5:
                    upload = ("people.jsonl", _people_lines(task, 300), "application/x-ndjson")
                    name = "imports/jsonl"
                    response = client.post("/api/v1/imports/jsonl", files={"file": upload})
                elif task == 5:
                    mbox = (DATA / "support.mbox").read_bytes()
                    name = "imports/email"
                    response = client.post(
                        "/api/v1/imports/email",
                        files={"file": (f"support{round_}.mbox", mbox, "application/mbox")},
                    )
                elif task == 6:
                    name = "segments/refresh"
                    response = client.post(f"/api/v1/segments/{segment_id}/refresh")
                    incremental = {"incremental": round_ % 2 == 1}
                    done.append((name, response.status_code, response.text[:200]))
                    name = "lifecycle/settings"
                    response = client.put("/api/v1/lifecycle/settings", json=incremental)
                else:
                    name = "override"
                    response = client.put(
                        f"/api/v1/lifecycle/people/{person_id}/override",
                        json={"stage": stage, "reason": f"round {round_}"},
                    )
                done.append((name, response.status_code, response.text[:200]))
        return done

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [item for items in pool.map(run, range(CLIENTS)) for item in items]


def test_two_server_processes_take_mixed_writes_without_5xx(fresh_database_url):
    token = _admin_token(fresh_database_url)
    with _serve_with_workers(fresh_database_url, workers=2) as base_url:
        results = _mixed_writers(base_url, token)
    assert len(results) == 3 * CLIENTS + 3  # task 6 makes two requests a round
    assert [r for r in results if r[1] >= 500] == []
    assert [r for r in results if r[1] not in (200, 201)] == []
    engine = create_db_engine(fresh_database_url)
    with make_session_factory(engine)() as session:
        imported = session.scalar(
            select(func.count())
            .select_from(Identity)
            .where(Identity.kind == "email", Identity.value.like("import%"))
        )
    engine.dispose()
    assert imported == 150  # two importers, overlapping emails, one person each
