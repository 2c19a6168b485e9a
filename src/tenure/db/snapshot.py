"""Two reads at once on one snapshot of the database.

A nightly refresh reads a few independent aggregates of the whole event log; run one
after the other, one core waits while the other works (SQLite runs a statement with the
GIL released; PostgreSQL runs it in its own server process). :func:`side_by_side` runs
a second read on a second connection, in a thread, at the same time as the first, and
both see the same data:

* PostgreSQL: the second connection imports the first one's snapshot
  (``pg_export_snapshot``, ``SET TRANSACTION SNAPSHOT``). The first connection keeps
  one snapshot for its whole transaction when it reads at REPEATABLE READ
  (:func:`reading_connection`).
* SQLite: a transaction is one snapshot already. When the first connection holds the
  write lock (a unit of work's ``BEGIN IMMEDIATE``) and has written nothing, no other
  connection can commit until it ends, so a reader that starts meanwhile sees exactly
  what it sees. Otherwise (a plain reader, an in-memory database) the two reads run one
  after the other on the first connection.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from tenure.db.session import WRITE_LOCK_OPTION

First = TypeVar("First")
Second = TypeVar("Second")


def reading_connection(session: Session) -> Connection:
    """The session's connection for a long read that wants one snapshot throughout: at
    REPEATABLE READ on PostgreSQL (read-only, it never fails to serialize); SQLite's
    transactions are one snapshot each already. Call before the session's first
    statement (the level is set when its transaction begins); a session bound to a
    connection (a caller's own transaction) reads at that transaction's level."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        return session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return session.connection()


def side_by_side(
    connection: Connection,
    first: Callable[[Connection], First],
    second: Callable[[Connection], Second],
) -> tuple[First, Second]:
    """``first(connection)`` here and ``second`` on another connection in a thread, at
    the same time and on the same snapshot; one after the other on ``connection`` where
    that snapshot cannot be shared, or where ``connection`` has written (another
    connection would not see what it wrote: PostgreSQL tells, SQLite does not, so a
    SQLite caller must not have written)."""
    dialect = connection.dialect.name
    if connection.in_nested_transaction():  # a savepoint: PostgreSQL exports no snapshot
        return first(connection), second(connection)
    if dialect == "postgresql":
        # A transaction that wrote has an id; another one would not see its writes.
        snapshot = connection.exec_driver_sql(
            "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL "
            "THEN pg_export_snapshot() END"
        ).scalar_one()
        if snapshot is None:
            return first(connection), second(connection)
        return _concurrently(connection, first, second, _importing(snapshot))
    if dialect == "sqlite" and _holds_sqlite_write_lock(connection):
        return _concurrently(connection, first, second, lambda twin: None)
    return first(connection), second(connection)


def _importing(snapshot: str) -> Callable[[Connection], None]:
    def begin(twin: Connection) -> None:
        twin.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")

    return begin


def _holds_sqlite_write_lock(connection: Connection) -> bool:
    if connection.engine.url.database in (None, "", ":memory:"):
        return False
    if not connection.in_transaction():
        return False
    options = connection.get_execution_options()
    return bool(options.get(WRITE_LOCK_OPTION)) or options.get("sqlite_begin") in (
        "IMMEDIATE",
        "EXCLUSIVE",
    )


def _concurrently(
    connection: Connection,
    first: Callable[[Connection], First],
    second: Callable[[Connection], Second],
    begin: Callable[[Connection], None],
) -> tuple[First, Second]:
    def on_twin() -> Second:
        # A plain reader: the engine may be the write-locking one (db.session).
        options: dict[str, object] = {WRITE_LOCK_OPTION: False, "sqlite_begin": ""}
        if connection.dialect.name == "postgresql":
            options = {"isolation_level": "REPEATABLE READ"}
        with connection.engine.connect().execution_options(**options) as twin:
            begin(twin)
            try:
                return second(twin)
            finally:
                twin.rollback()

    # Leaving the pool waits for the thread: the snapshot it imports (or the lock that
    # keeps SQLite's still) lives as long as this connection's transaction.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenure-read") as pool:
        pending = pool.submit(on_twin)
        result = first(connection)
        return result, pending.result()
