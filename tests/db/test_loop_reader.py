"""The event loop's reads share one connection (db.loop_reader), in autocommit, and still
see every commit, other threads get connections of sessions of their own, and a dropped
connection is replaced."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError

from tenure.customers.models import Person
from tenure.db.engine import create_db_engine
from tenure.db.loop_reader import LoopReader
from tenure.db.session import make_session_factory, unit_of_work


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _add_person(engine: Engine, first_name: str) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        session.execute(
            text(
                "INSERT INTO people (first_name, last_name, attributes, search_text, "
                "created_at, updated_at) VALUES (:f, 'Lovelace', '{}', :s, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"f": first_name, "s": first_name.lower()},
        )


_NAMES = select(Person.first_name).order_by(Person.id)


def _names(reader: LoopReader, sessions) -> list[str]:  # type: ignore[no-untyped-def]
    with reader.connection(sessions) as connection:
        return list(connection.scalars(_NAMES))


def _checkouts(engine: Engine) -> list[int]:
    count = [0]
    event.listen(engine.pool, "checkout", lambda *_: count.__setitem__(0, count[0] + 1))
    return count


def test_the_loops_reads_share_one_connection_and_see_each_commit(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    reader = LoopReader(engine, sessions)
    reader.open()
    checkouts = _checkouts(engine)
    assert _names(reader, sessions) == []
    _add_person(engine, "Ada")  # committed by another connection between two reads
    assert _names(reader, sessions) == ["Ada"]
    _add_person(engine, "Grace")
    assert _names(reader, sessions) == ["Ada", "Grace"]
    # Three reads, one connection taken: the two writes took one each.
    assert checkouts[0] == 3
    reader.close()


def test_a_read_on_the_shared_connection_holds_no_snapshot(engine: Engine) -> None:
    """Autocommit: each statement sees what was committed before it, even within one read
    (a transaction's snapshot would have kept the first statement's view)."""
    sessions = make_session_factory(engine)
    reader = LoopReader(engine, sessions)
    reader.open()
    with reader.connection(sessions) as connection:
        assert list(connection.scalars(_NAMES)) == []
        _add_person(engine, "Ada")
        assert list(connection.scalars(_NAMES)) == ["Ada"]
    reader.close()


def test_another_thread_or_factory_gets_a_session_of_its_own(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    reader = LoopReader(engine, sessions)
    reader.open()
    _names(reader, sessions)  # the loop's connection is open
    checkouts = _checkouts(engine)
    seen: list[list[str]] = []
    other = threading.Thread(target=lambda: seen.append(_names(reader, sessions)))
    other.start()
    other.join()
    assert seen == [[]] and checkouts[0] == 1
    _names(reader, make_session_factory(engine))  # a factory it was not made for
    assert checkouts[0] == 2
    reader.close()


def test_a_reader_never_opened_takes_sessions_from_the_pool(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    reader = LoopReader(engine, sessions)  # an app served without its lifespan
    checkouts = _checkouts(engine)
    _names(reader, sessions)
    _names(reader, sessions)
    assert checkouts[0] == 2


def test_a_connection_the_database_dropped_is_replaced(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("an SQLite connection is a file handle: nothing drops it")
    sessions = make_session_factory(engine)
    reader = LoopReader(engine, sessions)
    reader.open()
    with reader.connection(sessions) as connection:
        pid = connection.scalar(text("SELECT pg_backend_pid()"))
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    # The read that finds it dropped fails (as a pooled connection without a ping would);
    # the next one runs on a new connection.
    with pytest.raises(DBAPIError):
        _names(reader, sessions)
    _add_person(engine, "Ada")
    assert _names(reader, sessions) == ["Ada"]
    reader.close()
