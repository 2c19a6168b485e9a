"""Sessions and the unit of work: one transaction per write action.

SQLite has one writer at a time. A transaction that starts as a reader (a plain
``BEGIN``, then a SELECT) and writes later cannot wait for the lock: if another
connection committed since its snapshot was taken, SQLite answers SQLITE_BUSY at once,
whatever the busy timeout (measured in issue 9: 15 of 24 concurrent event batches failed
within 1.5 s). A write transaction therefore takes the write lock when it begins
(``BEGIN IMMEDIATE``), where the busy timeout applies and a busy database means waiting.

A session becomes a writer with :func:`take_write_lock`; its *next* transaction then
begins with the lock. The lock is taken lazily, at the transaction's first statement, so
a web handler can still await the request body first: holding the lock across an await
would make every other request on the event loop wait for it while blocking the loop.
PostgreSQL needs none of this (row locks, MVCC), so the option only changes SQLite.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

#: Connection execution option read by the SQLite ``begin`` hook in ``db.engine``.
WRITE_LOCK_OPTION = "tenure_write_lock"
_WRITE_LOCK_INFO = "tenure_write_lock"

_writer_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _writer_engine(engine: Engine) -> Engine:
    """The engine whose connections begin with the write lock (same pool and events)."""
    writer = _writer_engines.get(engine)
    if writer is None:
        writer = engine.execution_options(**{WRITE_LOCK_OPTION: True})
        _writer_engines[engine] = writer
    return writer


class TenureSession(Session):
    """A session that binds to the write-locking engine once it is marked a writer."""

    def get_bind(self, mapper: Any = None, **kwargs: Any) -> Any:
        bind = super().get_bind(mapper, **kwargs)
        if (
            self.info.get(_WRITE_LOCK_INFO)
            and isinstance(bind, Engine)
            and bind.dialect.name == "sqlite"
        ):
            return _writer_engine(bind)
        return bind


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, class_=TenureSession)


def take_write_lock(session: Session) -> None:
    """Make ``session`` a writer: its next transactions begin with the write lock.

    A read transaction still open (an authentication lookup) is ended first: its
    snapshot could not be upgraded to a write if another connection committed since.
    """
    if session.info.get(_WRITE_LOCK_INFO):
        return
    if session.in_transaction():
        session.commit()
    session.info[_WRITE_LOCK_INFO] = True


def end_read(session: Session) -> None:
    """End the read transaction ``session`` holds (an authentication look-up), having
    written nothing, so that no snapshot is pinned across a handler's awaits or a long
    run in another session. A snapshot held on SQLite could not become a write later, and
    would keep the WAL from being checkpointed meanwhile. Not a unit of work: nothing the
    caller changed should be pending (this commits whatever is, like ending any read)."""
    if session.in_transaction():
        session.commit()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A writing session that commits when the block succeeds and rolls back when it raises."""
    session = factory()
    take_write_lock(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _holds_write_lock(session: Session) -> bool:
    """Whether the session's transaction began with SQLite's write lock (or will)."""
    if session.info.get(_WRITE_LOCK_INFO):
        return True
    if not session.in_transaction():
        return False
    options = session.connection().get_execution_options()
    return bool(options.get(WRITE_LOCK_OPTION)) or options.get("sqlite_begin") in (
        "IMMEDIATE",
        "EXCLUSIVE",
    )


@contextmanager
def first_use_write(session: Session) -> Iterator[bool]:
    """Create what a read needs on first use (default stage model, built-in segments).

    A GET's session is a reader: on SQLite its INSERT would have to upgrade a read
    snapshot to a write, which fails at once ("database is locked") when another
    connection committed since, e.g. several first requests at once on a database never
    set up by ``tenure init``. So a SQLite reader with nothing pending ends its read
    transaction, writes in a transaction that begins with the write lock, and commits
    what the block created; it yields True then, and the block must check again whether
    the rows exist (another writer may have made them while this one waited). A writer
    (``take_write_lock``, a job's ``BEGIN IMMEDIATE``) and PostgreSQL write in the
    current transaction as before (yielding False): their caller commits.
    """
    bind = session.get_bind()
    if (
        bind.dialect.name != "sqlite"
        or _holds_write_lock(session)
        or session.new
        or session.dirty
        or session.deleted
    ):
        yield False
        return
    if session.in_transaction():
        session.commit()  # a read-only transaction: ends the snapshot, writes nothing
    session.info[_WRITE_LOCK_INFO] = True
    try:
        yield True
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        # Back to a reader: the rest of the request does not hold the lock.
        session.info.pop(_WRITE_LOCK_INFO, None)
