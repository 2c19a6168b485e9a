"""Two reads at once on one snapshot (db.snapshot), on each backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, take_write_lock
from tenure.db.snapshot import reading_connection, side_by_side


@pytest.fixture
def probe(engine: Engine) -> Iterator[Engine]:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE snapshot_probe (n INTEGER)"))
        conn.execute(text("INSERT INTO snapshot_probe VALUES (1)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE snapshot_probe"))


def _count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM snapshot_probe")).scalar_one())


def _other_writer_commits(engine: Engine) -> bool:
    """Whether another connection can commit a row now (SQLite: not while the lock is
    held; it gives up after a short wait)."""
    other = engine
    if engine.dialect.name == "sqlite":
        other = create_db_engine(str(engine.url), busy_timeout_seconds=0.2)
    try:
        with other.begin() as conn:
            conn.execute(text("INSERT INTO snapshot_probe VALUES (2)"))
        return True
    except OperationalError:
        return False
    finally:
        if other is not engine:
            other.dispose()


def test_both_reads_see_the_snapshot_taken_before_another_writer_commits(probe):
    # Given a refresh's reading session that has read once
    session = make_session_factory(probe)()
    take_write_lock(session)  # as unit_of_work does
    conn = reading_connection(session)
    assert _count(conn) == 1
    second_may_read = threading.Event()
    seen: dict[str, object] = {}

    def first(reader: Connection) -> int:
        # Another writer commits a row while the reads run (or, on SQLite, cannot)
        seen["committed"] = _other_writer_commits(probe)
        second_may_read.set()
        return _count(reader)

    def second(reader: Connection) -> int:
        assert second_may_read.wait(10)
        seen["thread"] = threading.current_thread().name
        seen["same connection"] = reader is conn
        return _count(reader)

    # When the two reads run side by side
    counts = side_by_side(conn, first, second)

    # Then they ran at once, on two connections, and neither saw the other writer's row
    assert counts == (1, 1)
    assert seen["thread"] != threading.current_thread().name
    assert seen["same connection"] is False
    assert seen["committed"] is (probe.dialect.name == "postgresql")
    session.rollback()
    session.close()
    with probe.connect() as later:
        assert _count(later) == (2 if seen["committed"] else 1)


def test_a_transaction_that_wrote_reads_one_after_the_other(probe):
    if probe.dialect.name == "sqlite":
        pytest.skip("SQLite cannot tell that a transaction wrote: its callers must not have")
    # Given a session that wrote a row it has not committed
    session = make_session_factory(probe)()
    take_write_lock(session)
    conn = reading_connection(session)
    conn.execute(text("INSERT INTO snapshot_probe VALUES (3)"))
    threads = []

    def read(reader: Connection) -> int:
        threads.append(threading.current_thread().name)
        return _count(reader)

    # When it asks for two reads side by side
    counts = side_by_side(conn, read, read)

    # Then both ran on its own connection and saw its row
    assert counts == (2, 2)
    assert threads == [threading.current_thread().name] * 2
    session.rollback()
    session.close()


def test_a_plain_sqlite_reader_reads_one_after_the_other(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'reader.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE snapshot_probe (n INTEGER)"))
    threads = []

    def read(reader: Connection) -> int:
        threads.append(threading.current_thread().name)
        return _count(reader)

    with engine.connect() as conn:  # no write lock: another writer may commit meanwhile
        _count(conn)
        assert side_by_side(conn, read, read) == (0, 0)
    assert threads == [threading.current_thread().name] * 2
    engine.dispose()
