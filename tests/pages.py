"""Helpers for page tests: log a TestClient in through the real login form.

Every page POST carries the form's CSRF token (checked router-wide), so logging in
is: GET /login, read the token out of the form, POST the credentials with it.
These helpers are that sequence once, so a test says who logs in and nothing else.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from tenure.identity.actions import create_user
from tenure.identity.models import User

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form in `html`; fails clearly when there is none."""
    match = _CSRF_FIELD.search(html)
    assert match, f"page has no CSRF token field: {html[:300]!r}"
    return match.group(1)


def log_in(
    client: TestClient,
    email: str,
    password: str,
    *,
    expect: int | None = 303,
    next_path: str | None = None,
) -> Response:
    """Log `client` in through the login form and return the unfollowed answer.

    The answer is a 303 to the home page when the credentials are accepted; pass the
    status a test expects instead (a refused login is a 400), or `expect=None` to check
    it yourself. `next_path` fills the form's hidden "next" field (where to land after
    logging in). The session cookie stays on `client` for the requests that follow.
    """
    form = {"email": email, "password": password}
    if next_path is not None:
        form["next"] = next_path
    form["csrf_token"] = csrf_token(client.get("/login").text)
    response = client.post("/login", data=form, follow_redirects=False)
    if expect is not None:
        assert response.status_code == expect, response.text[:500]
    return response


def log_in_as(
    client: TestClient,
    session: Session,
    role: str,
    *,
    email: str | None = None,
    password: str = "pass-word-1",
) -> User:
    """Create a user with `role` (email `<role>@example.com` unless given), commit, log in."""
    email = email or f"{role}@example.com"
    user = create_user(session=session, email=email, role=role, password=password)
    session.commit()
    log_in(client, email, password)
    return user
