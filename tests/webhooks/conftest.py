"""Webhook tests: a real receiver on loopback, which needs private addresses allowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tests.conftest import TEST_SECRET
from tests.webhooks.receiver import Receiver, start_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def settings(engine: Engine) -> Settings:
    """The suite's settings (the ``client`` fixture's app), with loopback URLs allowed."""
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=TEST_SECRET,
        webhook_allow_private_addresses=True,
    )


@pytest.fixture
def hook_engine(fresh_database_url: str) -> Iterator[Engine]:
    """A committed-to database: the worker reads what the test's transactions committed."""
    engine = create_db_engine(fresh_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def hook_settings(fresh_database_url: str) -> Settings:
    return Settings(
        database_url=fresh_database_url,
        secret_key=TEST_SECRET,
        webhook_allow_private_addresses=True,
        webhook_disable_after_failures=2,
        webhook_timeout_seconds=5,
    )
