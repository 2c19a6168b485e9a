"""One connection for the reads the event loop serves itself (``web.deps.key_read``).

A read by key costs less than taking a connection from the pool and giving it back
(checkout, reset, the pool's events: ~0.05 ms of the 360 view's ~0.35). The event loop
runs one such read at a time, start to end, with no ``await`` between, so it can keep one
connection for them all: each read is a session bound to it, rolled back when it ends.

Only the thread that opened it uses it (the loop's, in the app's lifespan); any other
thread, an app served without its lifespan, or another session factory (tests bind theirs
to a rolled-back connection) gets a session of its own.
A connection the database dropped is replaced on the next read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker


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
    def session(self, sessions: sessionmaker[Session]) -> Iterator[Session]:
        """A session from ``sessions`` (the app's factory now, which tests replace with
        one bound to their rolled-back connection): on the shared connection when it is
        the factory this reader was made for and the caller is the loop's thread."""
        if sessions is not self._sessions or self._thread != threading.get_ident():
            with sessions() as session:
                yield session
            return
        connection = self._connection
        if connection is None or connection.invalidated or connection.closed:
            if connection is not None:
                connection.close()
            connection = self._connection = self._engine.connect()
        session = self._sessions(bind=connection)
        try:
            yield session
        finally:
            session.close()
            connection.rollback()
