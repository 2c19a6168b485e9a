"""Cheap bearer authentication: token -> actor cached in memory, revoked by a version.

Looking a token up cost every API request a join of ``api_tokens`` and ``users`` (issue
16: with the ORM session around it, a third of the 360 view's time). Each process now
keeps what it found in a :class:`TokenCache`, and every entry carries the version of
``credentials_state`` it was read under. Whatever takes access away bumps that version in
its own transaction (:func:`bump_credentials_version`): revoking a token, deactivating a
user, changing a role. An entry read under another version is looked up again.

The per-request check compares two integers. The process's copy of the version is read
again (one single-row SELECT) at most every ``recheck_seconds`` (``RECHECK_SECONDS``, 1
second), so a revocation committed by another process (another ``--workers`` process,
the CLI, another machine) takes effect there within that second; in the process that
committed it, at once (the commit empties the cache).

The cache never holds an unknown or refused token (guessing costs the guesser a query,
and cannot fill memory), and forgets everything past ``MAX_ENTRIES``.

Login sessions are the pages' concern: their cookie carries ``users.session_version``,
which a password change or a deactivation bumps, ending every other login of the user
(``identity.queries.actor_for_login``). API tokens outlive a password change: they are
separate credentials, listed and revoked one by one on the profile page (README).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from tenure.db.session import end_read
from tenure.db.types import utcnow
from tenure.identity.models import CredentialsState, User
from tenure.identity.permissions import Actor
from tenure.identity.queries import actor_and_last_use_by_hash
from tenure.identity.token_use import record_token_use, use_is_due
from tenure.identity.tokens import hash_token

#: How stale a process's copy of the credentials version may be: a revocation committed
#: in another process takes effect here within this many seconds.
RECHECK_SECONDS = 1.0
#: Entries kept per process; past it the cache starts again from empty.
MAX_ENTRIES = 10_000

_STATE_ID = 1
_VERSION = select(CredentialsState.version).where(CredentialsState.id == _STATE_ID)


def credentials_version(session: Session) -> int:
    """The version in the database (0 before anything was ever revoked)."""
    return int(session.connection().execute(_VERSION).scalar() or 0)


def bump_credentials_version(session: Session) -> None:
    """Invalidate every process's cached tokens, in the caller's transaction.

    Call it in the transaction that takes access away; once that commits, this process's
    cache is emptied at once, the others' within ``RECHECK_SECONDS``."""
    bumped = session.execute(
        update(CredentialsState)
        .where(CredentialsState.id == _STATE_ID)
        .values(version=CredentialsState.version + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(CredentialsState).values(id=_STATE_ID, version=1))
    cache = _caches.get(_pool_of(session))
    if cache is not None:
        _forget_on_commit(session, cache)


def end_other_logins(user: User) -> None:
    """End every login session of ``user`` (their cookies hold the old session version).

    The session that asked for it (a password change on the profile page) stores the new
    version in its own cookie to stay logged in."""
    user.session_version = (user.session_version or 0) + 1


@dataclass
class _Entry:
    actor: Actor
    version: int
    #: When this process last saw or recorded the token's use (throttles the write).
    last_used_at: datetime | None


class TokenCache:
    """Token (by its SHA-256) -> actor, for one database; safe to share between threads."""

    def __init__(
        self,
        *,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._version: int | None = None
        self._checked_at = 0.0
        # Bumped by forget(): a version read before a forget is not stored after it.
        self._generation = 0
        self._lock = threading.Lock()

    def actor(self, session: Session, token: str) -> Actor | None:
        """The actor ``token`` stands for, or None (unknown, revoked, user deactivated).

        Leaves no transaction open: a database read (a miss, the version's recheck) is
        ended before returning, and a due last-use update commits its own."""
        digest = hash_token(token)
        version = self._current_version(session)
        entry = self._entries.get(digest)
        if entry is None or entry.version != version:
            found = actor_and_last_use_by_hash(session, digest)
            if found is None:
                end_read(session)
                self._entries.pop(digest, None)
                return None
            entry = _Entry(actor=found[0], version=version, last_used_at=found[1])
            with self._lock:
                if len(self._entries) >= self._max_entries:
                    self._entries.clear()
                self._entries[digest] = entry
        end_read(session)  # the recheck's or the look-up's read, if either ran
        token_id = entry.actor.token_id
        now = utcnow()
        if token_id is not None and use_is_due(entry.last_used_at, now):
            # Claimed before writing, so concurrent requests with the token write once.
            entry.last_used_at = now
            record_token_use(session, token_id)
        return entry.actor

    def cached_actor(self, token: str) -> Actor | None:
        """The actor ``token`` stands for when the cache answers alone, with no database:
        a token it knows, the credentials version checked less than ``recheck_seconds``
        ago, and no last-use update due. Else None: ask ``actor``, with a session."""
        version = self._version
        if version is None or self._clock() - self._checked_at >= self.recheck_seconds:
            return None
        entry = self._entries.get(hash_token(token))
        if entry is None or entry.version != version:
            return None
        if entry.actor.token_id is not None and use_is_due(entry.last_used_at, utcnow()):
            return None
        return entry.actor

    def forget(self) -> None:
        """Drop every entry and the version: the next request reads both again."""
        with self._lock:
            self._generation += 1
            self._entries = {}
            self._version = None

    def _current_version(self, session: Session) -> int:
        now = self._clock()
        version = self._version
        if version is not None and now - self._checked_at < self.recheck_seconds:
            return version
        generation = self._generation
        version = credentials_version(session)
        with self._lock:
            if generation == self._generation:
                self._version = version
                self._checked_at = now
        return version


# One cache per database (connection pool): the web app's engine, and in tests each app's.
_caches: weakref.WeakKeyDictionary[Pool, TokenCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _pool_of(session: Session) -> Pool:
    # From the bind, not session.connection(): that would begin a transaction.
    return session.get_bind().engine.pool


def token_cache(session: Session) -> TokenCache:
    """The process's cache for the database ``session`` reads."""
    return token_cache_of(_pool_of(session))


def token_cache_of(pool: Pool) -> TokenCache:
    """The process's cache for the database of connection pool ``pool``."""
    cache = _caches.get(pool)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(pool, TokenCache())
    return cache


def _forget_on_commit(session: Session, cache: TokenCache) -> None:
    def forget(_session: Any) -> None:
        cache.forget()

    event.listen(session, "after_commit", forget, once=True)
