"""CSRF protection for the server-rendered forms (synchronizer token in the session)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from tenure.errors import PermissionDenied

CSRF_SESSION_KEY = "csrf"
CSRF_FORM_FIELD = "csrf_token"


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
