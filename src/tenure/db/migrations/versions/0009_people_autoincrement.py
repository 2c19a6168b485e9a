"""people ids never reused on SQLite: people.id becomes INTEGER PRIMARY KEY AUTOINCREMENT

SQLite hands out max(rowid) + 1, so the id of the highest person, merged away or
deleted, went to the next person created: a link or an API client holding the old id
then named a stranger, and undoing the merge was refused. With AUTOINCREMENT SQLite keeps
the highest id ever used (``sqlite_sequence``), as a PostgreSQL sequence does; the
sequence starts above every id a merge deleted. PostgreSQL needs nothing.

The table is not copied: on SQLite a copy means renaming ``people``, which rewrites the
foreign keys of every table referencing it to the old name (foreign keys are on and
cannot be switched off inside the migration's transaction), and dropping the old copy
would then cascade to them. AUTOINCREMENT changes nothing on disk (the rows are the same
rowid table; only the id allocation reads ``sqlite_sequence``), so the stored definition
is edited in place, the way SQLite's own ALTER TABLE procedure edits definitions
(https://sqlite.org/lang_altertable.html, "writable_schema"), keeping whatever columns
other revisions added.

Revision ID: 0009_people_autoincrement
Revises: 0007_dedup
"""

import re
from collections.abc import Callable, Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0009_people_autoincrement"
down_revision: str | None = "0007_dedup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRIMARY_KEY = re.compile(r",\s*CONSTRAINT pk_people PRIMARY KEY \(id\)", re.IGNORECASE)
_ID_COLUMN = re.compile(r"\bid INTEGER NOT NULL", re.IGNORECASE)


def _set_definition(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    table_sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'people'")
    ).scalar_one()
    version = bind.execute(text("PRAGMA schema_version")).scalar_one()
    bind.execute(text("PRAGMA writable_schema = ON"))
    bind.execute(
        text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'people'"),
        {"sql": change(table_sql)},
    )
    bind.execute(text("PRAGMA writable_schema = OFF"))
    # A new schema cookie makes this connection (and every other) read the schema again.
    bind.execute(text(f"PRAGMA schema_version = {int(version) + 1}"))


def _with_autoincrement(table_sql: str) -> str:
    if "AUTOINCREMENT" in table_sql.upper():
        return table_sql
    table_sql = _PRIMARY_KEY.sub("", table_sql, count=1)
    return _ID_COLUMN.sub(
        "id INTEGER NOT NULL CONSTRAINT pk_people PRIMARY KEY AUTOINCREMENT", table_sql, count=1
    )


def _without_autoincrement(table_sql: str) -> str:
    table_sql = re.sub(
        r"\s*CONSTRAINT pk_people PRIMARY KEY AUTOINCREMENT", "", table_sql, flags=re.IGNORECASE
    )
    return re.sub(r"\n\)\s*$", ", \n\tCONSTRAINT pk_people PRIMARY KEY (id)\n)", table_sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # sqlite_sequence exists once any AUTOINCREMENT table was created.
    op.execute("CREATE TABLE _make_sqlite_sequence (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    op.execute("DROP TABLE _make_sqlite_sequence")
    _set_definition(_with_autoincrement)
    # Start above every id in use and every id a merge deleted.
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'people'")
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'people', coalesce(max(m), 0) FROM "
        "(SELECT max(id) AS m FROM people UNION ALL SELECT max(loser_id) FROM merges)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _set_definition(_without_autoincrement)
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'people'")
