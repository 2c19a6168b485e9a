"""FastAPI dependencies as Annotated aliases: the session, the settings and the actor.

Endpoints are plain ``def`` functions, run on the thread pool (``web.app``), so a slow one
never holds the event loop. The rule that keeps SQLite's writers from deadlocking the
loop: **no statement of a writer's session runs on the event loop** (it could wait for
the write lock, held by a thread whose transaction only the loop would end). So the
``async def`` dependencies here only read as readers (the actor look-ups, before the
writer dependencies mark the session, and the API actor is usually served from memory,
``identity.credentials``), and every dependency that reads after them is a plain
``def`` (``_phone_region``, ``_currency``, the pages' context).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tenure.config import Settings
from tenure.db.session import end_read, take_write_lock
from tenure.identity.credentials import token_cache, token_cache_of
from tenure.identity.permissions import Actor, authorize_own_account, require_write
from tenure.identity.queries import actor_for_login
from tenure.web.login import login_of
from tenure.workspace.settings import currency, phone_region


class NotAuthenticated(Exception):
    """No valid bearer token (API) or login session (pages)."""


async def _session(request: Request) -> AsyncIterator[Session]:
    session: Session = request.app.state.session_factory()
    try:
        yield session
    except BaseException:
        session.rollback()  # at once, before the error handlers await anything
        raise
    finally:
        session.close()


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Closed when the endpoint returns, not after the response is sent (FastAPI's default
# "request" scope): a writer's transaction must not hold SQLite's write lock while the
# response is awaited (db.session).
SessionDep = Annotated[Session, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]

T = TypeVar("T")


def write_now(session: Session, write: Callable[[], T]) -> T:
    """Run a write and end its transaction here, whatever happens (commit, or roll back).

    For handlers whose write leaves the request's transaction open (the read that renders
    the answer after an action's own commit; creating a person runs the duplicate check
    there): the handler runs on the thread pool, and its transaction (on SQLite, the
    write lock) must end in this thread, never later on the event loop.
    """
    try:
        result = write()
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    return token.strip()


def _bearer_actor(request: Request, session: Session) -> Actor:
    return _token_actor(session, _bearer_token(request))


def _token_actor(session: Session, token: str) -> Actor:
    # From the process's cache, checked against the credentials version; on a miss the
    # look-up's read transaction is ended before returning: a snapshot held across the
    # handler's ``await request.body()`` could not become a write on SQLite (db.session).
    actor = token_cache(session).actor(session, token)
    if actor is None:
        raise NotAuthenticated("unknown or revoked API token, or a deactivated user")
    return actor


async def _api_actor(request: Request, session: SessionDep) -> Actor:
    return _bearer_actor(request, session)


@contextmanager
def key_read(request: Request) -> Iterator[tuple[Connection, Actor]]:
    """A connection and the API actor, for reads bounded by a key (the 360 view, a keyset
    page of the people list) served on the event loop by an ``async def`` handler.

    Under 32 connections, the thread pool's hand-offs cost more than such a read: the 360
    answered 683 req/s as a ``def`` and 2,085 as an ``async def`` (bench/read.py's load,
    one process). The reader never waits for SQLite's write lock (WAL), the pool keeps
    connections for the loop (``web.app.pool_size``), and PostgreSQL's statement timeout
    bounds a read; a handler whose read may scan runs it with ``run_in_threadpool`` (and
    gets a connection of its own there). Without FastAPI's dependency injection (another
    ~0.14 ms a request), without an ORM session (the loop's reads share one connection in
    autocommit, ``db.loop_reader``), and without the database when the token cache knows
    the token (``TokenCache.cached_actor``).
    """
    state = request.app.state
    token = _bearer_token(request)
    with state.loop_reader.connection(state.session_factory) as connection:
        actor = token_cache_of(connection.engine.pool).cached_actor(token)
        if actor is None:
            with state.session_factory() as session:
                actor = _token_actor(session, token)
        yield connection, actor


async def _api_writer(actor: Annotated[Actor, Depends(_api_actor)], session: SessionDep) -> Actor:
    require_write(actor)
    take_write_lock(session)
    return actor


async def _api_account_writer(
    actor: Annotated[Actor, Depends(_api_actor)], session: SessionDep
) -> Actor:
    authorize_own_account(actor)  # every role; a read-scope token is refused
    take_write_lock(session)
    return actor


ApiActor = Annotated[Actor, Depends(_api_actor)]
ApiWriter = Annotated[Actor, Depends(_api_writer)]
#: Writes to one's own account (password, tokens): read-only roles too.
ApiAccountWriter = Annotated[Actor, Depends(_api_account_writer)]


async def _page_actor(request: Request, session: SessionDep) -> Actor:
    login = login_of(request.session)
    actor = actor_for_login(session, *login) if login else None
    end_read(session)  # as _api_actor: no read snapshot held across the handler's awaits
    if actor is None:
        raise NotAuthenticated("log in")
    return actor


async def _page_writer(actor: Annotated[Actor, Depends(_page_actor)], session: SessionDep) -> Actor:
    require_write(actor)
    take_write_lock(session)
    return actor


async def _page_account_writer(
    actor: Annotated[Actor, Depends(_page_actor)], session: SessionDep
) -> Actor:
    take_write_lock(session)
    return actor


PageActor = Annotated[Actor, Depends(_page_actor)]
PageWriter = Annotated[Actor, Depends(_page_writer)]
#: Writes to one's own account from the profile page: read-only roles too.
PageAccountWriter = Annotated[Actor, Depends(_page_account_writer)]


def _phone_region(session: SessionDep, settings: SettingsDep) -> str:
    # Read before long runs in other sessions, and ended at once (as the actor look-ups):
    # imports pass it on to sessions of their own. A plain def (run on the thread pool):
    # on a writer's session the read begins a write transaction, which may wait for
    # SQLite's lock, and the event loop never waits for it.
    region = phone_region(session, settings)
    end_read(session)
    return region


#: The workspace's phone region (numbers without +country), for handlers that hand it on.
PhoneRegion = Annotated[str, Depends(_phone_region)]


def _currency(session: SessionDep, settings: SettingsDep) -> str:  # as _phone_region
    found = currency(session, settings)
    end_read(session)
    return found


#: The workspace's default currency, for handlers that hand it to sessions of their own.
WorkspaceCurrency = Annotated[str, Depends(_currency)]


async def _raw_body(request: Request) -> bytes:
    # Awaited here so that the handler can be a plain ``def`` run on the thread pool.
    return await request.body()


#: The request's body as bytes (the events batch, parsed by its own fast path).
RawBody = Annotated[bytes, Depends(_raw_body)]


async def _posted_form(request: Request) -> FormData:
    # Parsed once per request (Starlette caches it; require_csrf read it first), awaited
    # here so that the handler itself can be a plain ``def`` run on the thread pool.
    return await request.form()


#: The posted form of a page handler that reads fields by name (custom attributes).
PostedForm = Annotated[FormData, Depends(_posted_form)]
