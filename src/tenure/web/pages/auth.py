"""Login and logout with a signed session cookie; forms carry a CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.identity.queries import authenticate_password
from tenure.web.deps import SessionDep
from tenure.web.login import start_login
from tenure.web.templating import render
from tenure.workspace.queries import get_workspace

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """The page asked for before login, its query string kept; only same-site paths.

    An open redirect after login is a phishing tool: "//host" and "/\\host" are another
    site to a browser, and a control character could split the Location header.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and target.isprintable()
    ):
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str | None = None) -> Response:
    workspace = get_workspace(session)
    return render(request, "login.html", next=_safe_next(next), is_demo=workspace.is_demo)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    user = authenticate_password(session, email, password)
    if user is None:
        workspace = get_workspace(session)
        return render(
            request,
            "login.html",
            status_code=400,
            next=_safe_next(next),
            error="Wrong email or password.",
            email=email,
            is_demo=workspace.is_demo,
        )
    start_login(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
