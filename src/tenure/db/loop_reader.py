"""One connection for the reads the event loop serves itself (``web.deps.key_read``).

A read by key costs less than taking a connection from the pool and giving it back
(checkout, reset, the pool's events: ~0.05 ms of the 360 view's ~0.35), and less again
without a transaction around it: an ORM session's begin and close, and BEGIN and
ROLLBACK, were ~0.1 ms of a 360 view whose statement takes 0.035 ms. The event loop runs
one such read at a time, start to end, with no ``await`` between, so it keeps one
connection for them all, in autocommit: each statement sees every commit made before it
(``AUTOCOMMIT`` on PostgreSQL; on SQLite no BEGIN is issued, ``db.engine``), and a read
of one statement is consistent by itself.

Only the thread that opened it uses it (the loop's, in the app's lifespan); any other
thread, an app served without its lifespan, or another session factory (tests bind theirs
to a rolled-back connection) gets the connection of a session of its own, in a
transaction as usual. A connection the database dropped is replaced on the next read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from tenure.db.engine import NO_BEGIN


class LoopReader:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self._engine = engine
        self._sessions = sessions
        self._connection: Connection | None = None
        self._thread: int | None = None

    def open(self) -> None:
        """Called on the event loop (the app's lifespan): its thread owns the connection."""
        self._thread = threading.get_ident()

    def close(self) -> None:
        self._thread = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @contextmanager
    def connection(self, sessions: sessionmaker[Session]) -> Iterator[Connection]:
        """A connection for one read: the shared one, in autocommit, when ``sessions`` is
        the factory this reader was made for (the app's; tests replace it with one bound
        to their rolled-back connection) and the caller is the loop's thread; else the
        connection of a session of its own from ``sessions``."""
        if sessions is not self._sessions or self._thread != threading.get_ident():
            with sessions() as session:
                yield session.connection()
            return
        connection = self._connection
        if connection is None or connection.invalidated or connection.closed:
            if connection is not None:
                connection.close()
            connection = self._connection = self._autocommit(self._engine.connect())
        try:
            yield connection
        finally:
            # Ends SQLAlchemy's record of the autobegun transaction; nothing is open on
            # the database's side.
            connection.rollback()

    @staticmethod
    def _autocommit(connection: Connection) -> Connection:
        if connection.dialect.name == "sqlite":
            # Not SQLAlchemy's AUTOCOMMIT there: resetting it when the connection goes back
            # to the pool would turn pysqlite's own transaction handling back on.
            return connection.execution_options(**{NO_BEGIN: True})
        return connection.execution_options(isolation_level="AUTOCOMMIT")
