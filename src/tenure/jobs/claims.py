"""The two statements every job runs, as driver SQL with cached text and converters.

Claiming and completing run once per job, so their Python cost is the runner's
overhead: profiled on SQLite (bench/jobs.py, 2,000 jobs), SQLAlchemy Core spent ~60 us a
statement compiling-from-cache, processing parameters and wrapping results, against
~24 us for ``exec_driver_sql`` with the SQL text built once. The text is written for
both dialects here (named parameters; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL only) and
values go through the column types' own converters, fetched once per dialect, so a
timestamp is stored exactly as the ORM stores it (SQLite compares them as text).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

from tenure.jobs.models import Job, JobState

JOBS: Table = Job.__table__  # type: ignore[assignment]

_CLAIM = """
UPDATE jobs SET state = '{running}', attempts = attempts + 1, lease_token = :token,
    lease_expires_at = :expires, worker = :worker, started_at = :started
WHERE id IN (
    SELECT id FROM jobs
    WHERE state = '{queued}' AND run_at <= :now{queues}{priority}
    ORDER BY priority, run_at, id LIMIT :limit{lock})
RETURNING id, task, payload, attempts, max_attempts, timeout_seconds, idempotency_key,
    "then", run_at, priority
"""

_COMPLETE = """
UPDATE jobs SET state = '{succeeded}', finished_at = :finished, result = :result,
    lease_token = NULL, lease_expires_at = NULL, error = NULL, traceback = NULL
WHERE id = :job_id AND lease_token = :token AND state = '{running}'
"""

_STATES = {s.name: s.value for s in JobState}


@dataclass(frozen=True)
class ClaimedRow:
    """A claimed job's columns, converted to Python values."""

    id: int
    task: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    timeout_seconds: int
    idempotency_key: str
    then: list[str]
    run_at: datetime
    priority: int


Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class _Converters:
    timestamp_in: Converter
    timestamp_out: Converter
    json_in: Converter
    json_out: Converter


# Keyed by dialect and driver, not by the Dialect object: every engine has its own, and
# the caches would keep them all alive.
_CONVERTERS: dict[tuple[str, str], _Converters] = {}


def _converters(dialect: Dialect) -> _Converters:
    key = (dialect.name, dialect.driver)
    converters = _CONVERTERS.get(key)
    if converters is None:
        converters = _CONVERTERS[key] = _build_converters(dialect)
    return converters


def _build_converters(dialect: Dialect) -> _Converters:
    timestamp = JOBS.c.run_at.type.dialect_impl(dialect)
    json = JOBS.c.payload.type.dialect_impl(dialect)
    return _Converters(
        timestamp_in=timestamp.bind_processor(dialect) or _identity,
        timestamp_out=timestamp.result_processor(dialect, None) or _identity,
        json_in=json.bind_processor(dialect) or _identity,
        json_out=json.result_processor(dialect, None) or _identity,
    )


def _driver_text(sql: str, paramstyle: str) -> str:
    """``:name`` parameters in the driver's style (psycopg takes ``%(name)s``)."""
    if paramstyle == "pyformat":
        return re.sub(r":(\w+)", r"%(\1)s", sql)
    return sql


@functools.cache
def _claim_text(dialect_name: str, paramstyle: str, queue_count: int, filter_priority: bool) -> str:
    names = ", ".join(f":queue_{i}" for i in range(queue_count))
    sql = _CLAIM.format(
        queues=f" AND queue IN ({names})" if queue_count else "",
        priority=" AND priority < :below_priority" if filter_priority else "",
        lock=" FOR UPDATE SKIP LOCKED" if dialect_name == "postgresql" else "",
        **_STATES,
    )
    return _driver_text(sql, paramstyle)


@functools.cache
def _complete_text(paramstyle: str) -> str:
    return _driver_text(_COMPLETE.format(**_STATES), paramstyle)


def claim_rows(
    connection: Connection,
    *,
    token: str,
    worker: str,
    now: datetime,
    expires: datetime,
    limit: int,
    queues: tuple[str, ...] | None,
    below_priority: int | None,
) -> list[ClaimedRow]:
    """Mark up to ``limit`` due jobs running under ``token``; most urgent first."""
    dialect = connection.dialect
    convert = _converters(dialect)
    started = convert.timestamp_in(now)
    params: dict[str, Any] = {
        "token": token,
        "expires": convert.timestamp_in(expires),
        "worker": worker,
        "started": started,
        "now": started,
        "limit": limit,
    }
    for i, queue in enumerate(queues or ()):
        params[f"queue_{i}"] = queue
    if below_priority is not None:
        params["below_priority"] = below_priority
    sql = _claim_text(
        dialect.name, dialect.paramstyle, len(queues or ()), below_priority is not None
    )
    rows = [
        ClaimedRow(
            id=r[0],
            task=r[1],
            payload=convert.json_out(r[2]) or {},
            attempts=r[3],
            max_attempts=r[4],
            timeout_seconds=r[5],
            idempotency_key=r[6],
            then=list(convert.json_out(r[7]) or []),
            run_at=convert.timestamp_out(r[8]),
            priority=r[9],
        )
        for r in connection.exec_driver_sql(sql, params).fetchall()
    ]
    # RETURNING order is unspecified: run the most urgent first.
    rows.sort(key=lambda r: (r.priority, r.run_at, r.id))
    return rows


def complete_row(
    connection: Connection,
    *,
    job_id: int,
    token: str,
    finished: datetime,
    result: dict[str, Any] | None,
) -> bool:
    """Mark the job succeeded if this lease still holds it; False if it was lost."""
    dialect = connection.dialect
    convert = _converters(dialect)
    params = {
        "job_id": job_id,
        "token": token,
        "finished": convert.timestamp_in(finished),
        "result": None if result is None else convert.json_in(result),
    }
    done = connection.exec_driver_sql(_complete_text(dialect.paramstyle), params)
    return bool(done.rowcount == 1)
