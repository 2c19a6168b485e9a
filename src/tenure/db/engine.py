"""Engine creation with the settings that make SQLite a serious embedded store."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tenure.db.session import WRITE_LOCK_OPTION
from tenure.db.writer_gate import WriterGate

#: Execution option of a connection whose statements each run on their own on SQLite (no
#: BEGIN): ``db.loop_reader``'s reads by key.
NO_BEGIN = "tenure_no_begin"


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs, whatever driver the user left out."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(
    url: str,
    *,
    statement_timeout_seconds: float | None = None,
    busy_timeout_seconds: float = 30,
    pool_size: int | None = None,
    **kwargs: Any,
) -> Engine:
    """Create an engine; on SQLite enable WAL, foreign keys and real transactions.

    On SQLite, ``busy_timeout_seconds`` (``TENURE_SQLITE_BUSY_TIMEOUT_SECONDS``) is how
    long a writer waits for the write lock before the database answers "database is
    locked" (a 503 with ``Retry-After`` in the web app, ``web.errors``).

    On PostgreSQL, ``statement_timeout_seconds`` (the setting of the same name) cancels
    any statement that runs longer: a plan gone wrong on stale statistics ran for 25+
    minutes instead of 35 ms (issue 9), holding a worker and blocking autovacuum's
    ANALYZE; an error says so at once. None or 0 sets no limit.

    ``pool_size`` is how many connections the pool keeps (the web app fits it to its
    handler threads, ``web.app.pool_size``); 10 more may open in a burst. None keeps
    SQLAlchemy's default for SQLite (5) and 10 for PostgreSQL.
    """
    url = normalize_database_url(url)
    if pool_size is not None and make_url(url).database not in (None, "", ":memory:"):
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", 10)
    if url.startswith("sqlite"):
        kwargs.setdefault(
            "connect_args", {"check_same_thread": False, "timeout": busy_timeout_seconds}
        )
        kwargs.setdefault("json_deserializer", _loads_json)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, round(busy_timeout_seconds * 1000))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if statement_timeout_seconds:
        _set_statement_timeout(engine, round(statement_timeout_seconds * 1000))
    return engine


def _set_statement_timeout(engine: Engine, milliseconds: int) -> None:
    # A session-level SET on each new connection (the SQLAlchemy docs' search_path recipe),
    # in autocommit so that no transaction is left open; RESET ALL on check-in does not
    # run because the pool resets with ROLLBACK only.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(milliseconds)}")
        dbapi_connection.autocommit = autocommit


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL; the
    # SQLAlchemy docs' recipe hands BEGIN to SQLAlchemy instead ("Serializable isolation /
    # Savepoints / Transactional DDL").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        is_memory = engine.url.database in (None, "", ":memory:")
        if not is_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # 64 MB page cache and memory-mapped reads: the 360 view and lists are read-heavy.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    gate = WriterGate()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front, where the busy timeout applies (db.session); the
        # job claimer asks for it with ``execution_options(sqlite_begin="IMMEDIATE")``.
        # The process's writers queue for it in order first (db.writer_gate).
        options = conn.get_execution_options()
        if options.get(NO_BEGIN):  # db.loop_reader's connection: each statement on its own
            return
        mode = "IMMEDIATE" if options.get(WRITE_LOCK_OPTION) else options.get("sqlite_begin", "")
        # On the driver's connection: through exec_driver_sql (its events and execution
        # context) a BEGIN cost ~0.05 ms, a sixth of the 360 view's whole request.
        driver = conn.connection.driver_connection
        if mode not in ("IMMEDIATE", "EXCLUSIVE"):
            _begin(driver, "BEGIN")
            return
        statement = f"BEGIN {mode}"
        gate.enter(conn.info, busy_timeout_ms / 1000, statement)
        try:
            _begin(driver, statement)
        except BaseException:
            gate.leave(conn.info)
            raise

    # The transaction's end releases the gate; a connection going back to the pool or
    # thrown away with its transaction still open releases it too (never held forever).
    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        gate.leave(conn.info)

    @event.listens_for(engine.pool, "checkin")
    @event.listens_for(engine.pool, "invalidate")
    def _on_release(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        if record is not None:
            gate.leave(record.info)


def _begin(driver: sqlite3.Connection, statement: str) -> None:
    """BEGIN on the driver's connection, its errors raised as SQLAlchemy's (a busy
    database is an ``OperationalError`` the web layer answers 503)."""
    try:
        driver.execute(statement)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


def _loads_json(text: str) -> Any:
    """JSON columns read on SQLite, by orjson (a people list page decodes 50 attribute
    objects); the stdlib takes what orjson refuses (NaN, which ``json.dumps`` writes)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
