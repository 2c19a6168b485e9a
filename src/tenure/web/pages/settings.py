"""Settings pages: my profile (password, API tokens) and the workspace's settings.

Users are in ``web.pages.users``; every write goes through an action of ``identity`` or
``workspace``. A refused form re-renders with the reason next to it instead of an error page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity import actions
from tenure.identity.models import User
from tenure.identity.passwords import MIN_PASSWORD_LENGTH
from tenure.identity.permissions import USER_LISTERS, WORKSPACE_ADMINS, may, require_role
from tenure.identity.queries import tokens_of
from tenure.web.deps import PageAccountWriter, PageWriter, SessionDep, SettingsDep
from tenure.web.login import keep_login
from tenure.web.pages.context import PageContext, PageCtx
from tenure.web.templating import render
from tenure.workspace.actions import update_settings
from tenure.workspace.settings import workspace_settings

router = APIRouter(include_in_schema=False)


def settings_tabs(ctx: PageContext) -> list[tuple[str, str]]:
    """The tabs of the settings pages this actor may open."""
    tabs = [("My profile", "/settings/profile")]
    if ctx.actor.role in USER_LISTERS:
        tabs.append(("Users", "/settings/users"))
    if ctx.actor.role in WORKSPACE_ADMINS:
        tabs.append(("Workspace", "/settings/workspace"))
    return tabs


@router.get("/settings")
def settings_home() -> Response:
    return RedirectResponse("/settings/profile", status_code=303)


def _profile(
    request: Request, session: SessionDep, ctx: PageContext, status_code: int = 200, **extra: Any
) -> Response:
    user = session.get(User, ctx.actor.user_id)
    return render(
        request,
        "settings/profile.html",
        status_code=status_code,
        ctx=ctx,
        tabs=settings_tabs(ctx),
        user=user,
        tokens=tokens_of(session, ctx.actor.user_id),
        min_password=MIN_PASSWORD_LENGTH,
        **extra,
    )


@router.get("/settings/profile")
def profile_page(
    request: Request, session: SessionDep, ctx: PageCtx, changed: str | None = None
) -> Response:
    return _profile(request, session, ctx, password_changed=changed == "password")


@router.post("/settings/profile/password")
def change_password(
    request: Request,
    session: SessionDep,
    actor: PageAccountWriter,
    ctx: PageCtx,
    current_password: Annotated[str, Form()],
    new_password: Annotated[str, Form()],
    confirm_password: Annotated[str, Form()],
) -> Response:
    try:
        if new_password != confirm_password:
            raise InvalidInput("confirm_password", "the two new passwords differ")
        user = actions.change_password(
            session=session,
            actor=actor,
            current_password=current_password,
            new_password=new_password,
        )
    except InvalidInput as error:
        session.rollback()
        return _profile(request, session, ctx, 422, password_error=error)
    keep_login(request, user)  # every other login of the user has ended
    return RedirectResponse("/settings/profile?changed=password", status_code=303)


@router.post("/settings/profile/tokens")
def create_token(
    request: Request,
    session: SessionDep,
    actor: PageAccountWriter,
    ctx: PageCtx,
    name: Annotated[str, Form()],
    scope: Annotated[str, Form()] = "read",
) -> Response:
    try:
        token, secret = actions.create_own_token(
            session=session, actor=actor, name=name, scope=scope
        )
    except InvalidInput as error:
        session.rollback()
        return _profile(request, session, ctx, 422, token_error=error, token_name=name)
    # Rendered, not redirected: the secret is shown on this answer only and stored nowhere.
    return _profile(request, session, ctx, 201, new_token=secret, new_token_name=token.name)


@router.post("/settings/profile/tokens/{token_id}/revoke")
def revoke_token(token_id: int, session: SessionDep, actor: PageAccountWriter) -> Response:
    actions.revoke_own_token(session=session, actor=actor, token_id=token_id)
    return RedirectResponse("/settings/profile#tokens", status_code=303)


def _workspace(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: PageContext,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    return render(
        request,
        "settings/workspace.html",
        status_code=status_code,
        ctx=ctx,
        tabs=settings_tabs(ctx),
        current=workspace_settings(session, settings),
        can_edit=may(ctx.actor, WORKSPACE_ADMINS),
        **extra,
    )


@router.get("/settings/workspace")
def workspace_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: PageCtx,
    saved: str | None = None,
) -> Response:
    require_role(ctx.actor, WORKSPACE_ADMINS)
    return _workspace(request, session, settings, ctx, saved=saved is not None)


@router.post("/settings/workspace")
def save_workspace(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: PageWriter,
    ctx: PageCtx,
    name: Annotated[str, Form()],
    default_currency: Annotated[str, Form()],
    time_zone: Annotated[str, Form()],
    phone_region: Annotated[str, Form()],
) -> Response:
    try:
        update_settings(
            session=session,
            actor=actor,
            name=name,
            default_currency=default_currency,
            time_zone=time_zone,
            phone_region=phone_region,
        )
    except (InvalidInput, Conflict, NotFound) as error:
        session.rollback()
        form = {
            "name": name,
            "default_currency": default_currency,
            "time_zone": time_zone,
            "phone_region": phone_region,
        }
        return _workspace(request, session, settings, ctx, 422, error=error, form=form)
    return RedirectResponse("/settings/workspace?saved=1", status_code=303)
