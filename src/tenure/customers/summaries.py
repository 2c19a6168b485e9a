"""Marking people's read model stale: the one call every writer of their rows makes.

A write that changes what a person's summary shows (identities, tags, consents, tasks,
events, a merge) calls :func:`mark_stale` in its own transaction: one set-based upsert,
so the flag commits (or rolls back) with the change. Reads never show a stale row: they
assemble it afresh (``tenure.summaries``), and a background job rebuilds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tenure.customers.models import Person, PersonSummary

SUMMARIES = cast(Table, PersonSummary.__table__)
#: Ids per statement: SQLite allows 32,766 bound variables.
CHUNK = 10_000

_UPSERTS: dict[str, Any] = {}


def _upsert(dialect: str) -> Any:
    """INSERT (person, stale) for existing people, or set stale where the row is fresh;
    built once per dialect (statement construction costs more than running it)."""
    statement = _UPSERTS.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        people = select(Person.id, true()).where(Person.id.in_(bindparam("ids", expanding=True)))
        base = insert(SUMMARIES).from_select(["person_id", "stale"], people)
        statement = base.on_conflict_do_update(
            index_elements=[SUMMARIES.c.person_id],
            set_={"stale": True},
            where=SUMMARIES.c.stale.is_(False),
        )
        _UPSERTS[dialect] = statement
    return statement


_UPDATE = (
    update(SUMMARIES)
    .where(
        SUMMARIES.c.person_id.in_(bindparam("ids", expanding=True)), SUMMARIES.c.stale.is_(False)
    )
    .values(stale=True)
)


def mark_stale(
    session: Session, person_ids: Iterable[int | None], *, add_missing: bool = True
) -> None:
    """Flag the summaries of ``person_ids`` stale in the caller's transaction; people
    without one get a stale row (queued for the rebuild) unless ``add_missing`` is false
    (a merge and its undo restore rows exactly: a missing row already reads as stale)."""
    ids = sorted({pid for pid in person_ids if pid is not None})
    if not ids:
        return
    session.flush()  # people created in this unit of work must exist for the select
    connection = session.connection()
    statement = _upsert(connection.dialect.name) if add_missing else _UPDATE
    for start in range(0, len(ids), CHUNK):
        connection.execute(statement, {"ids": ids[start : start + CHUNK]})
