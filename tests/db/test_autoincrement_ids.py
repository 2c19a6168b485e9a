"""Migration 0013_autoincrement_ids: a deleted row's id never comes back.

Through the API on both backends (PostgreSQL sequences never go back; SQLite needed
AUTOINCREMENT), then on an SQLite base built before the revision: the sequence starts
above every id in use and every id the audit log saw deleted.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from tenure.db.engine import create_db_engine
from tenure.db.migrate import alembic_config, upgrade_database

REVISION = "0013_autoincrement_ids"
TABLES = (
    "segments",
    "organizations",
    "tasks",
    "saved_views",
    "message_templates",
    "webhook_subscriptions",
    "workflows",
)


def _reuses_no_id(client, admin, path: str, make, delete_path=None) -> None:
    """Create two, delete the newest, create again: the new id is above both."""
    first = client.post(path, json=make(1), headers=admin.headers)
    newest = client.post(path, json=make(2), headers=admin.headers)
    assert first.status_code == newest.status_code == 201, newest.text
    newest_id = newest.json()["id"]
    gone = client.delete(f"{delete_path or path}/{newest_id}", headers=admin.headers)
    assert gone.status_code == 204, gone.text
    again = client.post(path, json=make(3), headers=admin.headers)
    assert again.status_code == 201, again.text
    assert again.json()["id"] > newest_id, path


def test_deleted_ids_are_not_handed_out_again(client, admin):
    _reuses_no_id(
        client,
        admin,
        "/api/v1/segments",
        lambda n: {"name": f"Board {n}", "kind": "static", "person_ids": []},
    )
    _reuses_no_id(client, admin, "/api/v1/organizations", lambda n: {"name": f"Org {n}"})
    _reuses_no_id(client, admin, "/api/v1/views", lambda n: {"name": f"View {n}"})
    _reuses_no_id(
        client,
        admin,
        "/api/v1/webhooks/subscriptions",
        lambda n: {"url": f"https://example.com/hook/{n}", "event_types": ["order"]},
    )


def test_a_deleted_persons_tasks_ids_are_not_handed_out_again(client, admin):
    person = client.post("/api/v1/people", json={"first_name": "Ida"}, headers=admin.headers)
    person_id = person.json()["id"]
    task = client.post(
        f"/api/v1/people/{person_id}/tasks",
        json={"title": "Call", "assignee_id": admin.id},
        headers=admin.headers,
    ).json()
    assert client.delete(f"/api/v1/people/{person_id}", headers=admin.headers).status_code == 204
    other = client.post("/api/v1/people", json={"first_name": "Ola"}, headers=admin.headers)
    again = client.post(
        f"/api/v1/people/{other.json()['id']}/tasks",
        json={"title": "Call", "assignee_id": admin.id},
        headers=admin.headers,
    ).json()
    assert again["id"] > task["id"]


_SEGMENT = (
    "INSERT INTO segments (id, name, description, kind, member_count, created_at, updated_at) "
    "VALUES (:id, :name, '', 'static', 0, '2024-01-01', '2024-01-01')"
)
_AUDIT = (
    "INSERT INTO audit_log (at, action, entity_type, entity_id, changes) "
    "VALUES ('2024-01-02', 'delete', :type, :id, '{}')"
)


def test_upgrade_starts_above_ids_in_use_and_deleted_ones_in_the_audit_log(
    fresh_database_url,
) -> None:
    engine = create_db_engine(fresh_database_url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        pytest.skip("PostgreSQL sequences never go back: the revision changes nothing there")
    config = alembic_config(fresh_database_url)
    command.downgrade(config, "0004_segments")  # undoes only this revision (a merge)
    with engine.begin() as connection:
        stored = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'segments'")
        ).scalar_one()
        assert "AUTOINCREMENT" not in stored
        for segment_id in (1, 4):
            connection.execute(text(_SEGMENT), {"id": segment_id, "name": f"s{segment_id}"})
        # Segment 12 was deleted; only the audit log remembers it. Organization 30 too.
        connection.execute(text(_AUDIT), {"type": "segment", "id": "12"})
        connection.execute(text(_AUDIT), {"type": "organization", "id": "30"})
        connection.execute(text(_AUDIT), {"type": "segment", "id": "not-a-number"})

    upgrade_database(engine)

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO segments (name, description, kind, member_count, created_at, "
                "updated_at) VALUES ('new', '', 'static', 0, '2024-02-01', '2024-02-01')"
            )
        )
        newest = connection.execute(text("SELECT max(id) FROM segments")).scalar_one()
        sequences = dict(connection.execute(text("SELECT name, seq FROM sqlite_sequence")).all())
        definitions = dict(
            connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            ).all()
        )
        indexes = connection.execute(
            text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'segments'"
            )
        ).scalar_one()
        check = connection.execute(text("PRAGMA foreign_key_check")).all()
        integrity = connection.execute(text("PRAGMA integrity_check")).scalar_one()
    engine.dispose()
    assert newest == 13
    assert sequences["organizations"] == 30
    for table in TABLES:
        assert f"CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT" in definitions[table], table
        assert f"pk_{table} PRIMARY KEY (id)" not in definitions[table], table
        assert table in sequences, table
    assert indexes >= 2 and check == [] and integrity == "ok"


def test_downgrade_gives_the_plain_definitions_back(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        pytest.skip("nothing to undo on PostgreSQL")
    command.downgrade(alembic_config(fresh_database_url), "0004_segments")
    with engine.begin() as connection:
        definitions = dict(
            connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            ).all()
        )
        integrity = connection.execute(text("PRAGMA integrity_check")).scalar_one()
    upgrade_database(engine)
    engine.dispose()
    for table in TABLES:
        assert "AUTOINCREMENT" not in definitions[table].upper(), table
        assert f"CONSTRAINT pk_{table} PRIMARY KEY (id)" in definitions[table], table
    assert integrity == "ok"
