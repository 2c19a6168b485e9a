"""Migration 0009: on an existing SQLite base, ids in use or merged away are never reused.

Built at revision 0007_dedup (people and merges exist, ids are plain rowids), given a
merge of the highest id, then upgraded: a new person gets an id above both.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from tenure.db.engine import create_db_engine
from tenure.db.migrate import alembic_config, upgrade_database

_PERSON = (
    "INSERT INTO people (id, first_name, last_name, attributes, search_text, created_at, "
    "updated_at) VALUES (:id, 'A', 'B', '{}', '', '2024-01-01', '2024-01-01')"
)
_MERGE = (
    "INSERT INTO merges (survivor_id, loser_id, source, merged_at, loser_snapshot, "
    "survivor_before, survivor_after, decisions, moves) VALUES "
    "(1, 9, 'manual', '2024-01-02', '{}', '{}', '{}', '{}', '{}')"
)


def test_upgrade_starts_ids_above_every_id_used_or_merged_away(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        pytest.skip("PostgreSQL sequences never go back: 0009 changes nothing there")
    command.downgrade(alembic_config(fresh_database_url), "0009_people_autoincrement@-1")
    with engine.begin() as connection:
        assert (
            "AUTOINCREMENT"
            not in connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'people'")
            ).scalar_one()
        )
        for person_id in (1, 5):
            connection.execute(text(_PERSON), {"id": person_id})
        connection.execute(text(_MERGE))  # person 9 was merged into 1 and deleted

    upgrade_database(engine)

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO people (first_name, last_name, attributes, search_text, "
                "created_at, updated_at) VALUES ('N', 'N', '{}', '', '2024-02-01', '2024-02-01')"
            )
        )
        newest = connection.execute(text("SELECT max(id) FROM people")).scalar_one()
        indexes = connection.execute(
            text("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'people'")
        ).scalar_one()
        check = connection.execute(text("PRAGMA foreign_key_check")).all()
    engine.dispose()
    assert newest == 10
    assert indexes >= 4 and check == []
