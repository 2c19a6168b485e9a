"""Two reads at once on one snapshot (db.snapshot), on each backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

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


def _other_writer_commits(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO snapshot_probe VALUES (2)"))


@pytest.fixture
def reader(probe: Engine) -> Iterator[tuple[Session, Connection]]:
    """A refresh's reading session; ended whatever the test does (a failing test would
    otherwise hold its locks against the probe table's drop)."""
    session = make_session_factory(probe)()
    take_write_lock(session)  # as unit_of_work does
    yield session, reading_connection(session)
    session.rollback()
    session.close()


def test_both_reads_see_the_snapshot_taken_before_another_writer_commits(probe, reader):
    if probe.dialect.name != "postgresql":
        pytest.skip("SQLite reads one after the other (see the test below)")
    # Given a refresh's reading session that has read once
    session, conn = reader
    assert _count(conn) == 1
    second_may_read = threading.Event()
    seen: dict[str, object] = {}

    def first(reader: Connection) -> int:
        # Another writer commits a row while the reads run
        _other_writer_commits(probe)
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
    session.rollback()
    with probe.connect() as later:
        assert _count(later) == 2


@pytest.mark.parametrize("wrote", [False, True], ids=["read-only", "wrote"])
def test_sqlite_or_a_transaction_that_wrote_reads_one_after_the_other(probe, reader, wrote):
    if probe.dialect.name == "postgresql" and not wrote:
        pytest.skip("PostgreSQL reads side by side (see the test above)")
    # Given a reading session (on PostgreSQL, one that wrote a row it has not committed)
    _session, conn = reader
    if wrote:
        conn.execute(text("INSERT INTO snapshot_probe VALUES (3)"))
    threads = []

    def read(reader: Connection) -> int:
        threads.append(threading.current_thread().name)
        assert reader is conn
        return _count(reader)

    # When it asks for two reads side by side
    counts = side_by_side(conn, read, read)

    # Then both ran on its own connection, one after the other, and saw its own row
    assert counts == ((2, 2) if wrote else (1, 1))
    assert threads == [threading.current_thread().name] * 2
