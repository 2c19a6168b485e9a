"""CSRF protection for the server-rendered forms (synchronizer token in the session).

``require_csrf`` is one FastAPI dependency that the app puts on every page router (see
``web.app``): any unsafe request to a page (POST, PUT, PATCH, DELETE) must carry the
session's token in its ``csrf_token`` form field, so a new form cannot forget the check.
The JSON API is exempt: it authenticates by bearer token, which a browser never sends on
its own.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from tenure.errors import PermissionDenied

CSRF_SESSION_KEY = "csrf"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


def verify_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(CSRF_SESSION_KEY)
    if not expected or not submitted or not hmac.compare_digest(str(expected), submitted):
        raise PermissionDenied("the form's CSRF token is missing or stale; reload the page")


async def require_csrf(request: Request) -> None:
    """Refuse (403) an unsafe page request whose form lacks the session's CSRF token.

    Starlette caches the parsed form on the request, so the handler's own ``Form()`` and
    ``File()`` parameters read the same body without parsing it twice.
    """
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    submitted = form.get(CSRF_FORM_FIELD)
    verify_csrf(request, submitted if isinstance(submitted, str) else None)
