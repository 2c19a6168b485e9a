"""The CLI reads its settings from the environment: point it at a fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenure.cli.context import cli_engine
from tenure.config import get_settings


@pytest.fixture
def cli_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    yield fresh_database_url
    cli_engine().dispose()
    get_settings.cache_clear()
    cli_engine.cache_clear()
