"""Rebuilding stale summaries: in batches, each its own transaction.

A batch locks its stale rows first (``FOR UPDATE`` on PostgreSQL; ``unit_of_work``
holds SQLite's write lock), then reads the source rows: a writer that changes a person
meanwhile waits for the batch and marks the row stale again after it, so a rebuild
never stores an outdated summary as fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    exists,
    func,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.models import Person, PersonSummary
from tenure.db.session import unit_of_work
from tenure.db.types import utcnow
from tenure.summaries.build import build_many

SUMMARIES = cast(Table, PersonSummary.__table__)
#: ``WHERE stale`` exactly as the partial index ``ix_person_summaries_stale`` is declared:
#: SQLite uses a partial index only for a query with the same term, and SQLAlchemy
#: renders a boolean column as ``stale = 1`` there, so each batch scanned the table from
#: its first row past every summary already built (quadratic: 1M summaries took hours).
STALE = text(f"{SUMMARIES.name}.stale")
#: People per transaction: short enough that writers barely wait for it.
BATCH = 500

_STORE = (
    update(SUMMARIES)
    .where(SUMMARIES.c.person_id == bindparam("pid"))
    .values(
        stale=False,
        card=bindparam("card"),
        document=bindparam("document"),
        source_updated_at=bindparam("source"),
        built_at=bindparam("at"),
    )
)


def add_missing(session: Session) -> int:
    """A stale row for every person without one (people created before the read model,
    or by a writer that wrote none); returns how many."""
    missing = select(Person.id, true()).where(~exists().where(SUMMARIES.c.person_id == Person.id))
    result = session.connection().execute(
        SUMMARIES.insert().from_select(["person_id", "stale"], missing)
    )
    return int(result.rowcount or 0)


def mark_all_stale(session: Session) -> None:
    session.execute(update(SUMMARIES).where(SUMMARIES.c.stale.is_(False)).values(stale=True))


def stale_count(session: Session) -> int:
    counted = select(func.count()).select_from(SUMMARIES).where(STALE)
    return int(session.scalar(counted) or 0)


def rebuild_batch(session: Session, *, batch: int = BATCH) -> int:
    """Assemble and store up to ``batch`` stale summaries in ``session``; returns how many."""
    ids = list(
        session.scalars(
            select(SUMMARIES.c.person_id)
            .where(STALE)
            .order_by(SUMMARIES.c.person_id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return 0
    now = utcnow()
    built = build_many(session, ids)
    rows = [
        {
            "pid": pid,
            "card": summary.card,
            "document": summary.document,
            "source": summary.source_updated_at,
            "at": now,
        }
        for pid, summary in built.items()
    ]
    if rows:
        session.connection().execute(_STORE, rows)
    gone = [pid for pid in ids if pid not in built]  # deleted meanwhile (no FK cascade yet)
    if gone:
        session.execute(delete(SUMMARIES).where(SUMMARIES.c.person_id.in_(gone)))
    return len(ids)


def rebuild_stale(
    factory: sessionmaker[Session],
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild every stale summary, a batch per transaction; returns how many."""
    done = 0
    while True:
        with unit_of_work(factory) as session:
            built = rebuild_batch(session, batch=batch)
        if not built:
            return done
        done += built
        if progress is not None:
            progress(built)
