"""SQLite: the writers of one process queue for the write lock in order.

Handlers run on a thread pool (web.app), so a process may have a dozen writers wanting
SQLite's lock at once. SQLite's busy handler does not queue them: each sleeps and
retries (1 ms, then longer, up to 100 ms apart), and a writer that keeps losing the race
to others grabbing the lock between its retries can wait past the busy timeout, a 503,
while the database was never held by one transaction that long (measured: imports
refused during a mixed write load on two server processes). So the writers of one engine
first take this gate, in arrival order, then ``BEGIN IMMEDIATE``: only one of them at a
time polls SQLite, against the other processes' one.

The gate is held from the begin of a write transaction to its commit or rollback (or the
connection's return to the pool, whichever comes first), and waiting for it counts
against the same busy timeout: past it, the writer gets SQLite's own "database is
locked" error (the 503 with ``Retry-After`` of web.errors).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from typing import Any

from sqlalchemy.exc import OperationalError

_HELD = "tenure_writer_gate"


class WriterGate:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._waiting: deque[object] = deque()
        self._held = False

    def enter(self, info: dict[Any, Any], timeout: float, statement: str) -> None:
        """Wait for the gate (first come, first served); mark ``info`` (the connection's)
        as holding it. Raises "database is locked" after ``timeout`` seconds."""
        ticket = object()
        with self._condition:
            self._waiting.append(ticket)
            if not self._condition.wait_for(
                lambda: not self._held and self._waiting[0] is ticket, timeout
            ):
                self._waiting.remove(ticket)
                self._condition.notify_all()  # the next in line may be first now
                raise OperationalError(
                    statement, None, sqlite3.OperationalError("database is locked")
                )
            self._waiting.popleft()
            self._held = True
        info[_HELD] = True

    def leave(self, info: dict[Any, Any]) -> None:
        """Release the gate if the connection with ``info`` holds it (else nothing)."""
        if info.pop(_HELD, False):
            with self._condition:
                self._held = False
                self._condition.notify_all()
