"""Migration 0012: on an existing base, events gain an organization subject without losing
a row, a line item or a foreign key, and going back removes only the organizations' own
events."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tenure.db.engine import create_db_engine
from tenure.db.migrate import alembic_config, upgrade_database

_SEED = [
    "INSERT INTO people (id, first_name, last_name, attributes, search_text, created_at, "
    "updated_at) VALUES (1, 'A', 'B', '{}', '', '2024-01-01', '2024-01-01')",
    "INSERT INTO organizations (id, name, attributes, created_at, updated_at) "
    "VALUES (7, 'Acme', '{}', '2024-01-01', '2024-01-01')",
    # No explicit event id: a PostgreSQL sequence would not move past it.
    "INSERT INTO events (person_id, occurred_at, received_at, type, source, amount_minor, "
    "currency, payload) VALUES (1, '2024-01-02', '2024-01-02', 'order', 'shop', 500, "
    "'USD', '{}')",
    "INSERT INTO event_items (event_id, sku, quantity, unit_price_minor) "
    "SELECT max(id), 'A', 1, 500 FROM events",
]
_ORG_EVENT = (
    "INSERT INTO events (organization_id, occurred_at, received_at, type, source, payload) "
    "VALUES (7, '2024-01-03', '2024-01-03', 'call', 'logged', '{}')"
)
_PERSON_CALL = (
    "INSERT INTO events (person_id, occurred_at, received_at, type, source, payload) "
    "VALUES (1, '2024-01-04', '2024-01-04', 'call', 'logged', '{}')"
)
_NO_SUBJECT = (
    "INSERT INTO events (occurred_at, received_at, type, source, payload) "
    "VALUES ('2024-01-03', '2024-01-03', 'call', 'logged', '{}')"
)


def _count(connection, sql: str) -> int:
    return int(connection.execute(text(sql)).scalar_one())


def test_upgrade_keeps_every_event_and_item_then_downgrade_drops_org_events(
    fresh_database_url,
) -> None:
    engine = create_db_engine(fresh_database_url)
    config = alembic_config(fresh_database_url)
    command.downgrade(config, "0012_organization_work@-1")
    with engine.begin() as connection:
        for sql in _SEED:
            connection.execute(text(sql))

    upgrade_database(engine)

    with engine.begin() as connection:
        connection.execute(text(_ORG_EVENT))
        assert _count(connection, "SELECT count(*) FROM events") == 2
        assert _count(connection, "SELECT count(*) FROM event_items") == 1
        assert _count(connection, "SELECT count(*) FROM events WHERE person_id IS NULL") == 1
    # Every event still needs a subject.
    with (
        pytest.raises(IntegrityError, match=r"(?i)one_subject|check"),
        engine.begin() as connection,
    ):
        connection.execute(text(_NO_SUBJECT))
    # Deleting the organization takes its own events with it, not its people's.
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        connection.execute(text("DELETE FROM organizations WHERE id = 7"))
        assert _count(connection, "SELECT count(*) FROM events") == 1
        connection.execute(text(_PERSON_CALL))

    command.downgrade(config, "0012_organization_work@-1")

    with engine.begin() as connection:
        assert _count(connection, "SELECT count(*) FROM events") == 2
        assert _count(connection, "SELECT count(*) FROM event_items") == 1
    # person_id is required again.
    with pytest.raises(IntegrityError, match=r"(?i)null"), engine.begin() as connection:
        connection.execute(text(_NO_SUBJECT))
    upgrade_database(engine)
    engine.dispose()
