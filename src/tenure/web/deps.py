"""FastAPI dependencies as Annotated aliases: the session, the settings and the actor.

Dependencies and endpoints are ``async def`` and call the synchronous database code
inline. Measured in the foundation issue: a sync FastAPI endpoint doing a SQLite lookup
reached ~600 req/s at 32 connections (thread-pool contention) against ~2,600 req/s inline.
Queries here are index lookups of a millisecond or less, so blocking the loop that long
costs less than a thread hop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tenure.config import Settings
from tenure.db.session import end_read, take_write_lock
from tenure.db.types import utcnow
from tenure.identity.permissions import Actor, authorize_own_account, require_write
from tenure.identity.queries import actor_for_user_id, token_actor_and_last_use
from tenure.identity.token_use import record_token_use, use_is_due
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


async def write_in_thread(session: Session, write: Callable[[], T]) -> T:
    """Run a long write in the thread pool and end its transaction there, whatever happens.

    On SQLite the write holds the database's write lock. Were the commit (or the rollback
    of a failed write) left to the event loop, another request on the loop could start
    waiting for that lock first, blocking the loop that would release it (db.session).
    """

    def run() -> T:
        try:
            result = write()
            session.commit()
            return result
        except BaseException:
            session.rollback()
            raise

    return await run_in_threadpool(run)


async def _api_actor(request: Request, session: SessionDep) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    found = token_actor_and_last_use(session, token.strip())
    # End the look-up's read transaction now: a snapshot held across the handler's
    # ``await request.body()`` could not become a write on SQLite (db.session).
    end_read(session)
    if found is None:
        raise NotAuthenticated("unknown or revoked API token, or a deactivated user")
    actor, last_used_at = found
    if actor.token_id is not None and use_is_due(last_used_at, utcnow()):
        record_token_use(session, actor.token_id)
    return actor


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
    user_id = request.session.get("user_id")
    actor = actor_for_user_id(session, int(user_id)) if user_id else None
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


async def _phone_region(session: SessionDep, settings: SettingsDep) -> str:
    # Read before the handler's awaits and long runs in other sessions, and ended at once
    # (as the actor look-ups): imports pass it on to sessions of their own.
    region = phone_region(session, settings)
    end_read(session)
    return region


#: The workspace's phone region (numbers without +country), for handlers that hand it on.
PhoneRegion = Annotated[str, Depends(_phone_region)]


async def _currency(session: SessionDep, settings: SettingsDep) -> str:
    found = currency(session, settings)
    end_read(session)
    return found


#: The workspace's default currency, for handlers that hand it to sessions of their own.
WorkspaceCurrency = Annotated[str, Depends(_currency)]
