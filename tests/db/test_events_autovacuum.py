"""Migration 0020_events_autovacuum: on PostgreSQL, autovacuum visits ``events`` after 1%
new rows, so the refresh's index-only scans of recent events need no row fetches."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from tenure.db.engine import create_db_engine
from tenure.db.migrate import alembic_config, upgrade_database

_OPTIONS = "SELECT reloptions FROM pg_class WHERE relname = 'events' AND relkind = 'r'"


def _options(engine) -> list[str] | None:
    with engine.connect() as connection:
        return connection.execute(text(_OPTIONS)).scalar_one()


def test_events_are_vacuumed_after_one_percent_new_rows(fresh_database_url, backend) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no autovacuum or visibility map")
    engine = create_db_engine(fresh_database_url)
    try:
        assert _options(engine) == ["autovacuum_vacuum_insert_scale_factor=0.01"]
        command.downgrade(alembic_config(fresh_database_url), "0019_score_refreshes")
        assert _options(engine) is None
        upgrade_database(engine)
        assert _options(engine) == ["autovacuum_vacuum_insert_scale_factor=0.01"]
    finally:
        engine.dispose()
