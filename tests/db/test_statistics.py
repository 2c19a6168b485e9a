"""Planner statistics after bulk loads and the statement timeout (issue 9, item 6).

On PostgreSQL a statement planned on never-analyzed tables ran 25+ minutes instead of
35 ms. Bulk loads analyze what they filled, the full lifecycle evaluation analyzes stale
tables first, and a statement timeout turns a runaway plan into an error.
"""

from __future__ import annotations

import time

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from tenure.config import Settings
from tenure.customers.models import Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.db.statistics import stale_tables
from tenure.identity.actions import create_api_token, create_user
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.web.app import create_app
from tests.conftest import TEST_SECRET


def _last_analyze(connection: Connection, table: str):
    """pg_stat_user_tables.last_analyze (manual ANALYZE only; autovacuum's is separate)."""
    deadline = time.monotonic() + 15  # stats reach other sessions when flushed
    while True:
        connection.rollback()  # a fresh statistics snapshot per read
        value = connection.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        ).scalar()
        if value is not None or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _people_jsonl(n: int) -> bytes:
    lines = [
        {"first_name": f"P{i}", "identities": [{"kind": "email", "value": f"p{i}@example.com"}]}
        for i in range(n)
    ]
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


def test_an_import_analyzes_the_tables_it_filled(fresh_database_url, backend):
    settings = Settings(database_url=fresh_database_url, secret_key=TEST_SECRET)
    app = create_app(settings)
    with unit_of_work(app.state.session_factory) as session:
        create_user(session=session, email="ops@example.com", role="admin", password="pw 123456")
        _, token = create_api_token(session=session, email="ops@example.com", scope="write")
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/imports/jsonl",
            files={"file": ("people.jsonl", _people_jsonl(40), "application/octet-stream")},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["created"] == 40
    engine = app.state.engine
    try:
        if backend != "postgresql":
            return  # SQLite keeps no statistics to refresh (db.statistics)
        with engine.connect() as connection:
            assert _last_analyze(connection, "people") is not None
            assert _last_analyze(connection, "identities") is not None
    finally:
        engine.dispose()


def test_full_evaluation_first_analyzes_stale_tables(fresh_database_url, backend):
    engine = create_db_engine(fresh_database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        session.add_all(Person(first_name=f"N{i}", search_text=f"n{i}") for i in range(500))
    try:
        if backend == "postgresql":
            with engine.connect() as connection:
                assert "people" in stale_tables(connection, ["people"])
        result = evaluate_all_stages(session_factory=factory)
        assert result.people == 500
        if backend == "postgresql":
            with engine.connect() as connection:
                assert _last_analyze(connection, "people") is not None
                assert "people" not in stale_tables(connection, ["people"])
    finally:
        engine.dispose()


def test_statement_timeout_applies_to_background_sessions(fresh_database_url, backend):
    if backend != "postgresql":
        pytest.skip("statement_timeout is a PostgreSQL setting; SQLite has no equivalent")
    settings = Settings(
        database_url=fresh_database_url, secret_key=TEST_SECRET, statement_timeout_seconds=1
    )
    app = create_app(settings)  # the engine every request and background task uses
    try:
        with unit_of_work(app.state.session_factory) as session:
            assert session.execute(text("SHOW statement_timeout")).scalar() == "1s"
        with (
            pytest.raises(OperationalError, match="statement timeout"),
            unit_of_work(app.state.session_factory) as session,
        ):
            session.execute(text("SELECT pg_sleep(3)"))
    finally:
        app.state.engine.dispose()

    unlimited = create_db_engine(fresh_database_url, statement_timeout_seconds=0)
    with unlimited.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
    unlimited.dispose()


def test_the_cli_engine_reads_the_timeout_setting(fresh_database_url, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("statement_timeout is a PostgreSQL setting; SQLite has no equivalent")
    from tenure.cli import context
    from tenure.config import get_settings

    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("TENURE_STATEMENT_TIMEOUT_SECONDS", "90")
    get_settings.cache_clear()
    context.cli_engine.cache_clear()
    try:
        with unit_of_work(context.cli_sessions()) as session:
            assert session.execute(text("SHOW statement_timeout")).scalar() == "90s"
    finally:
        context.cli_engine().dispose()
        get_settings.cache_clear()
        context.cli_engine.cache_clear()
