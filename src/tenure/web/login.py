"""What a login session's signed cookie holds: the user and their session version.

A password change or a deactivation bumps ``users.session_version``; a cookie holding an
older one no longer logs anyone in (``identity.queries.actor_for_login``). Cookies from
before the version existed hold none and count as version 0.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from tenure.identity.models import User

USER_KEY = "user_id"
VERSION_KEY = "session_version"


def start_login(request: Request, user: User) -> None:
    """Log ``user`` in: a fresh session (no session fixation) with their current version."""
    request.session.clear()
    request.session[USER_KEY] = user.id
    request.session[VERSION_KEY] = user.session_version or 0


def keep_login(request: Request, user: User) -> None:
    """After this session changed the user's password: stay logged in, others end."""
    request.session[VERSION_KEY] = user.session_version or 0


def login_of(session_data: dict[str, object]) -> tuple[int, int] | None:
    """The user id and session version a cookie's data hold, or None (not logged in)."""
    user_id = session_data.get(USER_KEY)
    if not user_id:
        return None
    version = session_data.get(VERSION_KEY, 0)
    try:
        return int(user_id), int(version)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


class PageSessionMiddleware:
    """Starlette's cookie sessions for the pages only; ``/api`` runs without them.

    The API authenticates by bearer token and never reads ``request.session``; decoding,
    verifying and re-signing a cookie there was paid by every API request (issue 16's
    cost ladder). An ``/api`` handler that touched ``request.session`` would fail loudly
    (Starlette asserts the middleware is installed)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_key: str,
        session_cookie: str,
        max_age: int,
        same_site: Literal["lax", "strict", "none"],
        https_only: bool,
    ) -> None:
        self.app = app
        self.sessions = SessionMiddleware(
            app,
            secret_key=secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site=same_site,
            https_only=https_only,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api_path(scope["path"]):
            await self.app(scope, receive, send)
        else:
            await self.sessions(scope, receive, send)


def _is_api_path(path: str) -> bool:
    return path.startswith("/api/") or path == "/api"
