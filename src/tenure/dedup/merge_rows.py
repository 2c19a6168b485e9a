"""Which rows belong to a person, and putting a merged person's rows back (undo).

Tables are found from the metadata (every column with a foreign key to ``people.id``) so
that a capability adding a table is covered without touching the merge, and its rows are
never cascaded away by the loser's deletion. ``merge_batch`` records per table the keys
it moved and the rows it dropped; :func:`restore_rows` reads that record back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Table,
    UniqueConstraint,
    and_,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.customers.models import Identity, Person
from tenure.db.base import complete_metadata
from tenure.db.dialect import member_of
from tenure.dedup.models import decode_row, decode_value
from tenure.ingest.writes import table_of

PEOPLE = table_of(Person)
IDENTITIES = table_of(Identity)


@dataclass(frozen=True)
class Reference:
    """A column holding a person id; ``guarded`` when a unique index other than the primary
    key includes it (so moving a row may collide). Identities are not guarded: the merge
    clears the loser's clashing primary flags before moving them."""

    table: Table
    column: Column[Any]
    guarded: bool

    @property
    def key(self) -> str:
        return f"{self.table.name}.{self.column.name}"


def _reference(table: Table, column: Column[Any]) -> Reference:
    unique_sets = [set(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    unique_sets += [set(i.columns) for i in table.indexes if i.unique]
    guarded = table is not IDENTITIES and any(column in columns for columns in unique_sets)
    return Reference(table=table, column=column, guarded=guarded)


@cache
def person_references() -> tuple[Reference, ...]:
    """Every column with a foreign key to people.id, identities first."""
    found = [
        _reference(table, fk.parent)
        for table in complete_metadata().sorted_tables
        for fk in table.foreign_keys
        if fk.column is PEOPLE.c.id
    ]
    return tuple(sorted(found, key=lambda r: r.table is not IDENTITIES))


def _pk_where(table: Table, row: Mapping[Any, Any]) -> Any:
    return and_(*(c == row[c.name] for c in table.primary_key.columns))


def missing_references(session: Session, table: Table, row: Mapping[str, Any]) -> list[str]:
    """The rows ``row`` points to (other than people) that no longer exist, in words
    ("organization 12"): a related row deleted after the merge that recorded ``row``."""
    missing = []
    for fk in table.foreign_keys:
        target = fk.column
        value = row.get(fk.parent.name)
        if value is None or target.table is PEOPLE:
            continue
        if session.execute(select(target).where(target == value)).first() is None:
            missing.append(f"{target.table.name.removesuffix('s').replace('_', ' ')} {value}")
    return missing


def _insert_dropped(session: Session, table: Table, row: dict[str, Any], notes: list[str]) -> None:
    """Put a dropped row back unless what it points to is gone or a row added since
    takes its place (a unique value): then it stays out, and a note says why."""
    gone = missing_references(session, table, row)
    if gone:
        notes.append(f"{table.name}: a row was not restored ({', '.join(gone)} deleted since)")
        return
    try:
        with session.begin_nested():
            session.execute(insert(table).values(row))
    except IntegrityError:
        notes.append(f"{table.name}: a row was not restored (a row added since takes its place)")


def restore_rows(
    session: Session, *, survivor_id: int, loser_id: int, moves: Mapping[str, Any]
) -> list[str]:
    """Undo :func:`move_rows` and :func:`prepare_identities` from their recorded moves;
    returns what could not be put back, in words. A moved row deleted since stays deleted
    (nothing to move back); a dropped row whose related row is gone stays out."""
    notes: list[str] = []
    for key, move in moves.items():
        table = complete_metadata().tables[key.split(".", 1)[0]]
        column = table.c[move["column"]]
        pk = list(table.primary_key.columns)
        key_columns = [c for c in pk if c is not column] if column in pk else pk
        back = {column.name: loser_id}
        keys = [
            [decode_value(c, v) for c, v in zip(key_columns, k, strict=True)] for k in move["keys"]
        ]
        if len(key_columns) == 1 and keys:
            only = key_columns[0]
            values = [k[0] for k in keys]
            session.execute(
                update(table)
                .where(column == survivor_id, member_of(session.connection(), only, values))
                .values(back)
            )
        else:
            for k in keys:
                match = [c == v for c, v in zip(key_columns, k, strict=True)]
                session.execute(update(table).where(column == survivor_id, *match).values(back))
        for data in move["dropped"]:
            row = decode_row(table, data)
            if table is IDENTITIES:
                row["is_primary"] = False  # flags are set below, from the loser's snapshot
            if session.execute(select(*pk).where(_pk_where(table, row))).first() is None:
                _insert_dropped(session, table, row, notes)
        if table is IDENTITIES:
            # Two statements: PostgreSQL checks the one-primary index row by row.
            mine = IDENTITIES.c.person_id == loser_id
            session.execute(update(IDENTITIES).where(mine).values(is_primary=False))
            if ids := move.get("primary_ids"):
                flagged = and_(mine, IDENTITIES.c.id.in_(ids))
                session.execute(update(IDENTITIES).where(flagged).values(is_primary=True))
    return notes


def ensure_primaries(session: Session, person_id: int) -> None:
    """One primary per kind and namespace: a group left without (an edit after the merge
    made a moved-back identity the primary) gets its oldest identity flagged."""
    t = IDENTITIES
    rows = session.execute(
        select(t.c.id, t.c.kind, t.c.namespace, t.c.is_primary)
        .where(t.c.person_id == person_id)
        .order_by(t.c.id)
    ).all()
    flagged = {(kind, ns) for _, kind, ns, primary in rows if primary}
    for row_id, kind, ns, _ in rows:
        if (kind, ns) not in flagged:
            session.execute(update(t).where(t.c.id == row_id).values(is_primary=True))
            flagged.add((kind, ns))
