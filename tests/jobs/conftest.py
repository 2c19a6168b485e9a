"""A fresh committed-to database with the test handlers' ``job_effects`` table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tenure.cli.context import cli_engine
from tenure.config import Settings, get_settings
from tenure.db.engine import create_db_engine
from tests.conftest import TEST_SECRET
from tests.jobs.handlers import create_effects_table


@pytest.fixture
def job_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(fresh_database_url)
    create_effects_table(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def job_settings(fresh_database_url: str) -> Settings:
    return Settings(database_url=fresh_database_url, secret_key=TEST_SECRET)


@pytest.fixture
def cli_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The CLI reads its settings from the environment: point it at a fresh database."""
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    yield fresh_database_url
    cli_engine().dispose()
    get_settings.cache_clear()
    cli_engine.cache_clear()
