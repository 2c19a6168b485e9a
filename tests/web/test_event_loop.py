"""A slow request never stalls the others: handlers run on the thread pool (web.app).

Each test holds a real request in the middle of its database work (its statement waits on
an Event the test sets, or, for a write, on a lock the test holds) and shows that the
customer 360 of another client answers meanwhile, on the same event loop (one TestClient:
one portal, one loop). Before handlers were plain ``def``, the slow request's statement
ran on the loop itself and the 360 could not be answered until it finished. (Reads
bounded by a key, the 360 itself and a page of the whole people list, do run on the loop:
``web.deps.key_read``.)
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from tenure.config import Settings
from tenure.customers.actions import create_person
from tenure.customers.schemas import PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user
from tenure.web.app import create_app
from tests.conftest import TEST_SECRET

#: Only a guard against a hung test: the tests never wait for time to pass.
GUARD_SECONDS = 60


class World:
    def __init__(self, client: TestClient, engine: Engine, headers: dict[str, str], person_id: int):
        self.client = client
        self.engine = engine
        self.headers = headers
        self.person_id = person_id

    def the_360(self) -> httpx.Response:
        return self.client.get(f"/api/v1/people/{self.person_id}", headers=self.headers)


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[World]:
    # A write waiting for SQLite's lock waits as long as the guard, not the default 30 s.
    engine = create_db_engine(fresh_database_url, busy_timeout_seconds=GUARD_SECONDS)
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="boss@example.com", role="admin", password=None)
        _, token = create_api_token(session=session, email="boss@example.com", scope="write")
        person = create_person(
            session=session,
            data=PersonCreate(first_name="Grace", last_name="Hopper"),
            actor_id=None,
            default_region="US",
        )
        person_id = person.id
    settings = Settings(database_url=fresh_database_url, secret_key=TEST_SECRET)
    with TestClient(create_app(settings, engine)) as client:
        world = World(client, engine, {"Authorization": f"Bearer {token}"}, person_id)
        assert world.the_360().status_code == 200  # the token is cached, the app warm
        yield world
    engine.dispose()


class HeldStatement:
    """Holds the first statement a worker thread (not the event loop) runs after arming."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released_in_time = True
        self._armed = False
        self._lock = threading.Lock()

    def __enter__(self) -> HeldStatement:
        event.listen(self.engine, "before_cursor_execute", self._hold)
        self._armed = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        event.remove(self.engine, "before_cursor_execute", self._hold)

    def _hold(self, *args: Any) -> None:
        try:
            asyncio.get_running_loop()
            return  # a statement on the event loop itself is never held
        except RuntimeError:
            pass
        with self._lock:
            if not self._armed:
                return
            self._armed = False
        self.entered.set()
        self.released_in_time = self.release.wait(GUARD_SECONDS)


def _start(pool: ThreadPoolExecutor, send: Any) -> Future[httpx.Response]:
    return pool.submit(send)


@pytest.mark.parametrize(
    "slow",
    [
        pytest.param(lambda c, h: c.get("/api/v1/analytics/kpis", headers=h), id="analytics"),
        pytest.param(lambda c, h: c.get("/api/v1/exports/people", headers=h), id="export"),
        # A search may scan (the whole list's pages are keyset reads, on the loop itself).
        pytest.param(
            lambda c, h: c.get("/api/v1/people?limit=50&q=grace", headers=h), id="people-search"
        ),
    ],
)
def test_a_slow_read_does_not_stall_the_360(world: World, slow: Any) -> None:
    with HeldStatement(world.engine) as held, ThreadPoolExecutor(1) as pool:
        pending = _start(pool, lambda: slow(world.client, world.headers))
        assert held.entered.wait(GUARD_SECONDS), "the slow request never reached the database"
        answer = world.the_360()  # while the slow request is held mid-query
        assert answer.status_code == 200 and answer.json()["first_name"] == "Grace"
        assert not pending.done()
        held.release.set()
        finished = pending.result(GUARD_SECONDS)
    assert held.released_in_time, "the 360 was answered only after the guard gave up"
    assert finished.status_code == 200
    assert finished.content  # the slow answer is whole, not cut short


@contextmanager
def _other_writer(engine: Engine, organization_id: int) -> Iterator[Callable[[], None]]:
    """Another process's writer holding what a PATCH of the organization needs: SQLite's
    write lock, a row lock on PostgreSQL; yields the function that lets go."""
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(str(engine.url.database), isolation_level=None)
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield lambda: raw.execute("ROLLBACK") and None
        finally:
            raw.close()
        return
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(
            text("SELECT id FROM organizations WHERE id = :id FOR UPDATE"),
            {"id": organization_id},
        )
        yield transaction.rollback


@contextmanager
def _transaction_begins(engine: Engine) -> Iterator[threading.Event]:
    """Set when a request takes a connection, before its BEGIN runs (SQLite's BEGIN
    IMMEDIATE is what waits for the lock, on the driver's connection, unseen by statement
    events)."""
    began = threading.Event()

    def mark(*_: Any) -> None:
        began.set()

    event.listen(engine.pool, "checkout", mark)
    try:
        yield began
    finally:
        event.remove(engine.pool, "checkout", mark)


def test_a_write_waiting_for_a_lock_does_not_stall_the_360(world: World) -> None:
    organization = world.client.post(
        "/api/v1/organizations", json={"name": "Initech"}, headers=world.headers
    ).json()
    with _other_writer(world.engine, organization["id"]) as release, ThreadPoolExecutor(1) as pool:
        with _transaction_begins(world.engine) as reached:
            pending = _start(
                pool,
                lambda: world.client.patch(
                    f"/api/v1/organizations/{organization['id']}",
                    json={"name": "Initrode"},
                    headers=world.headers,
                ),
            )
            assert reached.wait(GUARD_SECONDS)
        answer = world.the_360()
        assert answer.status_code == 200 and answer.json()["last_name"] == "Hopper"
        assert not pending.done()  # still waiting for the lock
        release()
        changed = pending.result(GUARD_SECONDS)
    assert changed.status_code == 200 and changed.json()["name"] == "Initrode"
