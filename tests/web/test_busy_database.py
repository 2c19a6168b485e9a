"""A database kept busy by another writer past its timeout: 503 with Retry-After, not 500.

On SQLite the write lock is held by another connection and the busy timeout
(``TENURE_SQLITE_BUSY_TIMEOUT_SECONDS``) is a fraction of a second; on PostgreSQL the
table is locked by another connection and the statement timeout cancels the wait.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tenure.config import Settings
from tenure.customers.models import Person
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user
from tenure.web.app import create_app
from tests.conftest import TEST_SECRET


def _token(database_url: str) -> str:
    engine = create_db_engine(database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="ops@example.com", role="admin", password="pw 123456")
        _, token = create_api_token(session=session, email="ops@example.com", scope="write")
    engine.dispose()
    return token


@contextmanager
def _held_by_another_writer(database_url: str) -> Iterator[None]:
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(normalize_database_url(database_url))
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE people IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def _people(database_url: str) -> int:
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(Person))
    engine.dispose()
    return int(count or 0)


def test_a_write_that_waits_past_the_timeout_is_a_503_with_retry_after(
    fresh_database_url: str,
) -> None:
    token = _token(fresh_database_url)
    settings = Settings(
        database_url=fresh_database_url,
        secret_key=TEST_SECRET,
        sqlite_busy_timeout_seconds=0.2,
        statement_timeout_seconds=0.5,
    )
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        with _held_by_another_writer(fresh_database_url):
            busy = client.post("/api/v1/people", json={"first_name": "Ada"}, headers=headers)
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "5"
        assert busy.json()["error"] == "database_busy"
        assert "Try again" in busy.json()["message"]
        assert _people(fresh_database_url) == 0

        # Once the other writer is done, the same request goes through.
        done = client.post("/api/v1/people", json={"first_name": "Ada"}, headers=headers)
        assert done.status_code == 201, done.text
    app.state.engine.dispose()
    assert _people(fresh_database_url) == 1


def test_the_busy_timeout_is_a_setting(fresh_database_url: str, backend: str) -> None:
    settings = Settings(database_url=fresh_database_url, sqlite_busy_timeout_seconds=2.5)
    app = create_app(settings)
    with app.state.engine.connect() as conn:
        if backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
        else:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30min"
    app.state.engine.dispose()


def test_openapi_documents_the_503_and_its_retry_after(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    busy = schema["paths"]["/api/v1/people"]["post"]["responses"]["503"]
    assert "Retry-After" in busy["headers"]
    assert busy["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
