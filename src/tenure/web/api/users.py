"""Users and one's own account over HTTP: invitations, roles, deactivation (admins), and
the caller's password and API tokens (everyone)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field, StringConstraints

from tenure.errors import InvalidInput
from tenure.identity import actions
from tenure.identity.invitations import (
    INVITATION_PATH,
    IssuedInvitation,
    invite_user,
    renew_invitation,
)
from tenure.identity.models import ApiToken, Role, User
from tenure.identity.permissions import USER_LISTERS, require_role
from tenure.identity.queries import list_users, tokens_of, user_status
from tenure.validation import LineText, NoNul, RowId
from tenure.web.deps import ApiAccountWriter, ApiActor, ApiWriter, SessionDep

router = APIRouter(tags=["users"])

Password = Annotated[str, StringConstraints(max_length=1000), NoNul]


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    status: Literal["active", "invited", "deactivated"] = Field(
        description="`invited`: has not opened their link and chosen a password yet."
    )
    created_at: datetime


class InviteIn(BaseModel):
    email: LineText
    name: LineText = ""
    role: Role


class UserChangeIn(BaseModel):
    role: Role | None = None
    is_active: bool | None = Field(
        None, description="false deactivates: no login, and the user's API tokens stop working"
    )


class InvitationOut(BaseModel):
    user: UserOut
    invitation_url: str = Field(description="The one-time link to hand the invitee (shown once)")
    expires_at: datetime


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    role: str


class PasswordChangeIn(BaseModel):
    current_password: Password
    new_password: Password


class TokenIn(BaseModel):
    name: LineText
    scope: Literal["read", "write"] = "read"


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret: shown this once, store it now")


def user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.is_active,
        "status": user_status(user),
        "created_at": user.created_at,
    }


def token_dict(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


def invitation_url(request: Request, secret: str) -> str:
    return str(request.base_url).rstrip("/") + INVITATION_PATH + secret


def invitation_dict(request: Request, issued: IssuedInvitation) -> dict[str, Any]:
    return {
        "user": user_dict(issued.user),
        "invitation_url": invitation_url(request, issued.secret),
        "expires_at": issued.expires_at,
    }


@router.get("/users", response_model=list[UserOut])
def users(session: SessionDep, actor: ApiActor) -> list[dict[str, Any]]:
    """Admins and managers only: every user's email, role and status."""
    require_role(actor, USER_LISTERS)
    return [user_dict(u) for u in list_users(session)]


@router.post("/users", response_model=InvitationOut, status_code=status.HTTP_201_CREATED)
def invite(
    body: InviteIn, request: Request, session: SessionDep, actor: ApiWriter
) -> dict[str, Any]:
    """Invite a user (admins only): answers the one-time link to hand them, valid 7 days."""
    issued = invite_user(
        session=session, email=body.email, name=body.name, role=body.role.value, actor=actor
    )
    return invitation_dict(request, issued)


@router.post("/users/{user_id}/invitation", response_model=InvitationOut)
def reinvite(
    user_id: RowId, request: Request, session: SessionDep, actor: ApiWriter
) -> dict[str, Any]:
    """A new one-time link for a user who has not chosen a password (older links stop)."""
    return invitation_dict(request, renew_invitation(session=session, user_id=user_id, actor=actor))


@router.patch("/users/{user_id}", response_model=UserOut)
def change_user(
    user_id: RowId, body: UserChangeIn, session: SessionDep, actor: ApiWriter
) -> dict[str, Any]:
    """Change a user's role or deactivate / reactivate them (admins only)."""
    if body.role is None and body.is_active is None:
        raise InvalidInput("body", "give role or is_active")
    user = None
    if body.role is not None:
        user = actions.change_role(
            session=session, user_id=user_id, role=body.role.value, actor=actor
        )
    if body.is_active is not None:
        user = actions.set_active(
            session=session, user_id=user_id, active=body.is_active, actor=actor
        )
    assert user is not None
    return user_dict(user)


@router.get("/me", response_model=MeOut)
def me(session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    user = session.get(User, actor.user_id)
    assert user is not None  # the token look-up found the active user
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: PasswordChangeIn, session: SessionDep, actor: ApiAccountWriter
) -> Response:
    """Change your password: the current one is required."""
    actions.change_password(
        session=session,
        actor=actor,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/tokens", response_model=list[TokenOut])
def my_tokens(session: SessionDep, actor: ApiActor) -> list[dict[str, Any]]:
    return [token_dict(t) for t in tokens_of(session, actor.user_id)]


@router.post("/me/tokens", response_model=NewTokenOut, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, session: SessionDep, actor: ApiAccountWriter) -> dict[str, Any]:
    """Create an API token for yourself; the answer holds the secret, shown this once."""
    token, secret = actions.create_own_token(
        session=session, actor=actor, name=body.name, scope=body.scope
    )
    return {**token_dict(token), "token": secret}


@router.delete("/me/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: RowId, session: SessionDep, actor: ApiAccountWriter) -> dict[str, Any]:
    """Revoke one of your tokens: requests with it are refused from now on."""
    return token_dict(actions.revoke_own_token(session=session, actor=actor, token_id=token_id))
