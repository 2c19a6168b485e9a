"""The users page: everyone's role and status (admins and managers), and for admins the
invitation with a one-time link, role changes and deactivation. The invitee's page
(``/invite/<secret>``: choose a password, logged in) is here too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.errors import Conflict, InvalidInput
from tenure.identity import actions
from tenure.identity.invitations import (
    INVITATION_DAYS,
    IssuedInvitation,
    accept_invitation,
    invite_user,
    open_invitation,
    renew_invitation,
)
from tenure.identity.models import Role
from tenure.identity.passwords import MIN_PASSWORD_LENGTH
from tenure.identity.permissions import USER_ADMINS, USER_LISTERS, may, require_role
from tenure.identity.queries import list_users, user_status
from tenure.validation import RowId
from tenure.web.api.users import invitation_url
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.login import start_login
from tenure.web.pages.context import PageContext, PageCtx
from tenure.web.pages.settings import settings_tabs
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)
#: The session key of the one-line notice after a role change or a (de)activation: the
#: page reloads with the select already showing the new role, which says nothing.
NOTICE = "users_notice"


def _users(
    request: Request, session: SessionDep, ctx: PageContext, status_code: int = 200, **extra: Any
) -> Response:
    require_role(ctx.actor, USER_LISTERS)
    return render(
        request,
        "settings/users.html",
        status_code=status_code,
        ctx=ctx,
        tabs=settings_tabs(ctx),
        users=[(u, user_status(u)) for u in list_users(session)],
        roles=[r.value for r in Role],
        can_admin=may(ctx.actor, USER_ADMINS),
        invitation_days=INVITATION_DAYS,
        notice=request.session.pop(NOTICE, None),
        **extra,
    )


def _with_link(
    request: Request, session: SessionDep, ctx: PageContext, issued: IssuedInvitation
) -> Response:
    # Rendered, not redirected: the link is shown on this answer only and stored nowhere.
    return _users(
        request,
        session,
        ctx,
        201,
        link=invitation_url(request, issued.secret),
        link_user=issued.user,
        link_expires=issued.expires_at,
    )


@router.get("/settings/users")
def users_page(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    return _users(request, session, ctx)


@router.post("/settings/users/invite")
def invite(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    ctx: PageCtx,
    email: Annotated[str, Form()],
    role: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        issued = invite_user(session=session, email=email, name=name, role=role, actor=actor)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        invite = {"email": email, "name": name, "role": role}
        return _users(request, session, ctx, 422, invite_error=error, invite=invite)
    return _with_link(request, session, ctx, issued)


@router.post("/settings/users/{user_id}/invitation")
def reinvite(
    request: Request, user_id: RowId, session: SessionDep, actor: PageWriter, ctx: PageCtx
) -> Response:
    issued = renew_invitation(session=session, user_id=user_id, actor=actor)
    return _with_link(request, session, ctx, issued)


@router.post("/settings/users/{user_id}/role")
def change_role(
    request: Request,
    user_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    ctx: PageCtx,
    role: Annotated[str, Form()],
) -> Response:
    try:
        user = actions.change_role(session=session, user_id=user_id, role=role, actor=actor)
    except InvalidInput as error:
        session.rollback()
        return _users(request, session, ctx, 422, row_error=error, row_user_id=user_id)
    request.session[NOTICE] = f"{_who(user)} now has the {user.role} role."
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{user_id}/active")
def set_active(
    request: Request,
    user_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    ctx: PageCtx,
    active: Annotated[str, Form()],
) -> Response:
    try:
        user = actions.set_active(
            session=session, user_id=user_id, active=active == "1", actor=actor
        )
    except InvalidInput as error:
        session.rollback()
        return _users(request, session, ctx, 422, row_error=error, row_user_id=user_id)
    request.session[NOTICE] = (
        f"Reactivated {_who(user)}."
        if user.is_active
        else f"Deactivated {_who(user)}: they cannot log in and their API tokens stop working."
    )
    return RedirectResponse("/settings/users", status_code=303)


def _who(user: Any) -> str:
    return str(user.name or user.email)


@router.get("/invite/{secret}")
def invitation_page(request: Request, secret: str, session: SessionDep) -> Response:
    try:
        _, user = open_invitation(session, secret)
    except InvalidInput as error:
        return render(request, "settings/invite.html", status_code=410, unusable=error)
    return render(
        request, "settings/invite.html", user=user, secret=secret, min_password=MIN_PASSWORD_LENGTH
    )


@router.post("/invite/{secret}")
def accept(
    request: Request,
    secret: str,
    session: SessionDep,
    password: Annotated[str, Form()],
    confirm_password: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        if password != confirm_password:
            raise InvalidInput("confirm_password", "the two passwords differ")
        user = accept_invitation(session=session, secret=secret, password=password, name=name)
    except InvalidInput as error:
        session.rollback()
        try:
            _, invited = open_invitation(session, secret)
        except InvalidInput as unusable:
            return render(request, "settings/invite.html", status_code=410, unusable=unusable)
        return render(
            request,
            "settings/invite.html",
            status_code=422,
            user=invited,
            secret=secret,
            error=error,
            min_password=MIN_PASSWORD_LENGTH,
        )
    start_login(request, user)  # a fresh session, as /login starts
    return RedirectResponse("/", status_code=303)  # Home, as after a login
