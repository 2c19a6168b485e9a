"""organization work: events may belong to an organization instead of a person

A call, meeting, email or note logged on an organization is one event on the
organization's own timeline (``events.organization_id``, ``person_id`` null), instead of
a copy on the timeline of each of its people. Every event still has a subject: the check
``ck_events_one_subject`` wants a person or an organization. Notes and tasks already had
an ``organization_id`` (revision 0001). ``ix_organizations_name_id`` serves the list's
keyset paging by name.

On SQLite a column cannot lose NOT NULL in place, and copying ``events`` would mean
renaming it, which rewrites the foreign key of ``event_items`` and cascades its rows when
the old copy is dropped (see 0009). So the stored definition is edited, as SQLite's own
ALTER TABLE does: dropping NOT NULL and adding a CHECK change nothing on disk.

Revision ID: 0012_organization_work
Revises: 0001
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

revision: str = "0012_organization_work"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "(person_id IS NOT NULL) OR (organization_id IS NOT NULL)"
_CHECK_SQL = f",\n\tCONSTRAINT ck_events_one_subject CHECK ({_CHECK})"
_ORGANIZATION_SQL = (
    "organization_id INTEGER CONSTRAINT fk_events_organization_id_organizations "
    "REFERENCES organizations (id) ON DELETE CASCADE"
)
_PERSON_NOT_NULL = re.compile(r"\bperson_id INTEGER NOT NULL", re.IGNORECASE)


def _set_events_definition(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    table_sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'")
    ).scalar_one()
    version = bind.execute(text("PRAGMA schema_version")).scalar_one()
    bind.execute(text("PRAGMA writable_schema = ON"))
    bind.execute(
        text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'events'"),
        {"sql": change(table_sql)},
    )
    bind.execute(text("PRAGMA writable_schema = OFF"))
    # A new schema cookie makes every connection read the schema again.
    bind.execute(text(f"PRAGMA schema_version = {int(version) + 1}"))


def _nullable_person_with_check(table_sql: str) -> str:
    table_sql = _PERSON_NOT_NULL.sub("person_id INTEGER", table_sql, count=1)
    if "ck_events_one_subject" in table_sql:
        return table_sql
    return re.sub(r"\s*\)\s*$", _CHECK_SQL + "\n)", table_sql, count=1)


def _person_required_without_check(table_sql: str) -> str:
    # DROP COLUMN refuses a column with a foreign key: the reference goes first.
    table_sql = table_sql.replace(_CHECK_SQL, "").replace(_ORGANIZATION_SQL, "organization_id INTEGER")
    return re.sub(
        r"\bperson_id INTEGER(?! NOT NULL)", "person_id INTEGER NOT NULL", table_sql, count=1
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a referencing column in place when its default is null.
        op.execute(f"ALTER TABLE events ADD COLUMN {_ORGANIZATION_SQL}")
        _set_events_definition(_nullable_person_with_check)
    else:
        op.add_column("events", sa.Column("organization_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_events_organization_id_organizations",
            "events",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )
        op.alter_column("events", "person_id", existing_type=sa.Integer(), nullable=True)
        op.create_check_constraint("ck_events_one_subject", "events", _CHECK)
    op.create_index(
        "ix_events_organization_time", "events", ["organization_id", "occurred_at", "id"]
    )
    op.create_index("ix_organizations_name_id", "organizations", ["name", "id"])


def downgrade() -> None:
    op.drop_index("ix_organizations_name_id", table_name="organizations")
    op.drop_index("ix_events_organization_time", table_name="events")
    op.execute("DELETE FROM events WHERE person_id IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        _set_events_definition(_person_required_without_check)
        op.execute("ALTER TABLE events DROP COLUMN organization_id")
    else:
        op.drop_constraint("ck_events_one_subject", "events", type_="check")
        op.alter_column("events", "person_id", existing_type=sa.Integer(), nullable=False)
        op.drop_constraint("fk_events_organization_id_organizations", "events", type_="foreignkey")
        op.drop_column("events", "organization_id")
