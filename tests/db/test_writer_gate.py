"""SQLite: a process's writers queue for the write lock (db.writer_gate)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, take_write_lock
from tenure.web.errors import is_busy


@pytest.fixture
def engine(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'gate.db'}", busy_timeout_seconds=0.2)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def _writer(engine):
    session = make_session_factory(engine)()
    take_write_lock(session)
    return session


def test_a_writer_waiting_past_the_busy_timeout_gets_database_is_locked(engine):
    holder = _writer(engine)
    holder.execute(text("INSERT INTO t VALUES (1)"))  # holds the gate and the lock
    waiter = _writer(engine)
    with pytest.raises(OperationalError) as refused:
        waiter.execute(text("INSERT INTO t VALUES (2)"))
    assert is_busy(refused.value)  # the 503 with Retry-After of the web app
    waiter.close()
    holder.commit()
    later = _writer(engine)
    later.execute(text("INSERT INTO t VALUES (3)"))
    later.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 3]


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_every_end_of_a_write_lets_the_next_writer_in(engine, end):
    holder = _writer(engine)
    holder.execute(text("INSERT INTO t VALUES (1)"))
    getattr(holder, end)()
    done = []

    def write() -> None:
        session = _writer(engine)
        session.execute(text("INSERT INTO t VALUES (2)"))
        session.commit()
        session.close()
        done.append(True)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(30)
    assert done == [True]
    with engine.connect() as conn:
        expected = [1, 2] if end == "commit" else [2]
        assert conn.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == expected
