"""ids that appear in addresses and saved references are never reused on SQLite

A plain ``INTEGER PRIMARY KEY`` on SQLite hands out max(rowid) + 1: delete the newest
segment (id 7) and the next segment created is 7 again, so a bookmarked ``/segments/7``,
a workflow step or a webhook naming segment 7 silently points at a stranger. People got
``AUTOINCREMENT`` in 0009; this revision does the same for the other tables whose rows
can be deleted and whose ids are kept outside the row:

- ``segments``: ``/segments/{id}``, segment filters and workflow triggers name them;
- ``organizations``: ``/organizations/{id}``, imports' external ids, API clients;
- ``tasks``: the forms of My work post to ``/tasks/{id}/done`` (a stale page would
  complete another task); they go when their person or organization is deleted;
- ``saved_views``: ``/people?view={id}``, shared with colleagues;
- ``message_templates``: sends and workflow steps name a template;
- ``webhook_subscriptions``: the delivery log and API clients hold the id;
- ``workflows``: ``/workflows/{id}`` and their enrolments.

The sequence of each starts above every id in use and every id the audit log saw (a
deleted row above the highest left is only remembered there). As in 0009 the stored
definitions are edited in place (AUTOINCREMENT changes nothing on disk; copying a table
would rewrite the foreign keys pointing at it). PostgreSQL sequences never go back: it
needs nothing.

A later revision that copies one of these tables on SQLite (``batch_alter_table`` with a
recreate) must keep ``sqlite_autoincrement`` or it drops AUTOINCREMENT again.

Revision ID: 0013_autoincrement_ids
Revises: 0004_segments, 0012_saved_views, 0012_message_templates, 0012_webhooks,
0013_workflows (organizations and tasks are 0001's, an ancestor of all of them)
"""

import re
from collections.abc import Callable, Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0013_autoincrement_ids"
down_revision: str | Sequence[str] | None = (
    "0004_segments",
    "0012_saved_views",
    "0012_message_templates",
    "0012_webhooks",
    "0013_workflows",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Each table and the audit log's ``entity_type`` of its rows.
TABLES = {
    "segments": "segment",
    "organizations": "organization",
    "tasks": "task",
    "saved_views": "saved_view",
    "message_templates": "message_template",
    "webhook_subscriptions": "webhook_subscription",
    "workflows": "workflow",
}

_ID_COLUMN = re.compile(r"\bid INTEGER NOT NULL", re.IGNORECASE)


def _set_definition(table: str, change: Callable[[str, str], str]) -> None:
    bind = op.get_bind()
    table_sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    version = bind.execute(text("PRAGMA schema_version")).scalar_one()
    bind.execute(text("PRAGMA writable_schema = ON"))
    bind.execute(
        text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": change(table, table_sql), "name": table},
    )
    bind.execute(text("PRAGMA writable_schema = OFF"))
    # A new schema cookie makes this connection (and every other) read the schema again.
    bind.execute(text(f"PRAGMA schema_version = {int(version) + 1}"))


def _with_autoincrement(table: str, table_sql: str) -> str:
    if "AUTOINCREMENT" in table_sql.upper():
        return table_sql
    primary_key = re.compile(rf",\s*CONSTRAINT pk_{table} PRIMARY KEY \(id\)", re.IGNORECASE)
    changed, found = primary_key.subn("", table_sql, count=1)
    if not found:
        raise RuntimeError(f"{table}: no `CONSTRAINT pk_{table} PRIMARY KEY (id)` to move")
    return _ID_COLUMN.sub(
        f"id INTEGER NOT NULL CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT", changed, count=1
    )


def _without_autoincrement(table: str, table_sql: str) -> str:
    if "AUTOINCREMENT" not in table_sql.upper():
        return table_sql
    table_sql = re.sub(
        rf"\s*CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT", "", table_sql, flags=re.IGNORECASE
    )
    return re.sub(
        r"\n\)\s*$", f", \n\tCONSTRAINT pk_{table} PRIMARY KEY (id)\n)", table_sql, count=1
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # sqlite_sequence exists once any AUTOINCREMENT table was created (0009 made one).
    op.execute("CREATE TABLE _make_sqlite_sequence (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    op.execute("DROP TABLE _make_sqlite_sequence")
    for table, entity_type in TABLES.items():
        _set_definition(table, _with_autoincrement)
        op.execute(text("DELETE FROM sqlite_sequence WHERE name = :name").bindparams(name=table))
        op.execute(
            text(
                "INSERT INTO sqlite_sequence (name, seq) SELECT :name, coalesce(max(m), 0) FROM "
                f"(SELECT max(id) AS m FROM {table} UNION ALL "
                "SELECT max(CAST(entity_id AS INTEGER)) FROM audit_log "
                "WHERE entity_type = :entity_type AND entity_id GLOB '[0-9]*' "
                "AND entity_id NOT GLOB '*[^0-9]*')"
            ).bindparams(name=table, entity_type=entity_type)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _set_definition(table, _without_autoincrement)
        op.execute(text("DELETE FROM sqlite_sequence WHERE name = :name").bindparams(name=table))
