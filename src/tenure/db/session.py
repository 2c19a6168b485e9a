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
