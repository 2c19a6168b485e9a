"""Planner statistics after bulk loads (PostgreSQL).

Measured in issue 9: on freshly loaded tables the planner estimated ``people`` at 1 row,
chose nested loops, and the lifecycle statement at the end of ``tenure scores refresh``
ran for 25+ minutes on 3,120 people; after ``ANALYZE`` the same statement took 35 ms.
Autovacuum analyzes eventually, but a statement planned before it does keeps its plan
(and then blocks autovacuum's ANALYZE). So every bulk load (the demo build, imports,
duplicate scans, scores refresh) analyzes the tables it filled as its last step, and the
full lifecycle evaluation analyzes any table whose statistics are missing or stale first.

SQLite keeps no statistics until ``ANALYZE`` is run once, and its default heuristics are
what every SQLite figure in docs/ was measured with; these functions leave it alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from tenure.db.session import unit_of_work

#: A table is stale once this share of its rows changed since its last analyze; the
#: same default as autovacuum (autovacuum_analyze_scale_factor 0.1, threshold 50).
STALE_SHARE = 0.1
STALE_THRESHOLD = 50


def _quoted(connection: Connection, tables: Iterable[str]) -> str:
    preparer = connection.dialect.identifier_preparer
    return ", ".join(preparer.quote(name) for name in sorted(set(tables)))


def analyze_tables(connection: Connection, tables: Iterable[str] | None) -> None:
    """``ANALYZE`` ``tables`` (every table: None) on PostgreSQL, in the caller's transaction."""
    if connection.dialect.name != "postgresql":
        return
    if tables is None:
        connection.execute(text("ANALYZE"))
        return
    names = sorted(set(tables))
    if names:
        connection.execute(text(f"ANALYZE {_quoted(connection, names)}"))


def analyze_after_load(
    session_factory: sessionmaker[Session], tables: Iterable[str] | None
) -> None:
    """Refresh the statistics of ``tables`` in a short transaction of its own.

    Separate from the load's transactions: ANALYZE waits for autovacuum's ANALYZE of the
    same table, and that wait should not hold the load's locks.
    """
    with unit_of_work(session_factory) as session:
        analyze_tables(session.connection(), tables)


def stale_tables(connection: Connection, tables: Iterable[str]) -> list[str]:
    """The ``tables`` never analyzed, or changed by more than a tenth since (PostgreSQL)."""
    names = sorted(set(tables))
    if connection.dialect.name != "postgresql" or not names:
        return []
    rows = connection.execute(
        text(
            "SELECT relname FROM pg_stat_user_tables "
            "WHERE relname = ANY(:names) AND schemaname = current_schema() AND ("
            " (last_analyze IS NULL AND last_autoanalyze IS NULL)"
            " OR n_mod_since_analyze > :threshold + :share * n_live_tup)"
        ),
        {"names": names, "threshold": STALE_THRESHOLD, "share": STALE_SHARE},
    )
    return sorted(row[0] for row in rows)


def analyze_stale_tables(session_factory: sessionmaker[Session], tables: Iterable[str]) -> None:
    """Analyze those of ``tables`` whose statistics are missing or stale (PostgreSQL)."""
    with unit_of_work(session_factory) as session:
        connection = session.connection()
        stale = stale_tables(connection, tables)
        analyze_tables(connection, stale)
