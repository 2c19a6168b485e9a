"""Writes on users and API tokens.

``create_user`` and ``create_api_token`` run in the caller's unit of work (the CLI, the
demo, tests); the actions below take an ``actor``, check it and commit (the pages and API).
Invitations are in ``identity.invitations``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import audit_changed, record_audit
from tenure.identity.credentials import bump_credentials_version, end_other_logins
from tenure.identity.models import ApiToken, Role, TokenScope, User
from tenure.identity.passwords import hash_password, password_problem, verify_password
from tenure.identity.permissions import (
    READ_ONLY_ROLES,
    USER_ADMINS,
    Actor,
    authorize,
    authorize_own_account,
)
from tenure.identity.tokens import display_prefix, generate_token, hash_token


def create_user(
    *,
    session: Session,
    email: str,
    role: Role | str,
    password: str | None,
    name: str = "",
    actor_id: int | None = None,
) -> User:
    email = email.strip().lower()
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput("role", f"must be one of {', '.join(r.value for r in Role)}")
    if "@" not in email:
        raise InvalidInput("email", "is not an email address")
    if password is not None and (problem := password_problem(password)):
        raise InvalidInput("password", problem)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} exists", field="email")
    user = User(
        email=email,
        name=name,
        role=role.value,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="user",
        entity_id=user.id,
        changes={
            "email": {"before": None, "after": email},
            "role": {"before": None, "after": role},
        },
    )
    return user


def create_api_token(
    *,
    session: Session,
    email: str,
    scope: TokenScope | str,
    name: str = "",
    actor_id: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for the user with ``email``; returns the row and the secret (shown once)."""
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise InvalidInput("scope", "must be read or write")
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("user", email)
    secret = generate_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=display_prefix(secret),
        scope=scope.value,
    )
    session.add(token)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="api_token",
        entity_id=token.id,
        changes={
            "user_id": {"before": None, "after": user.id},
            "scope": {"before": None, "after": scope.value},
        },
    )
    return token, secret


# --- administration and one's own account: actions with an actor, committed ------------


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def _other_active_admins(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.admin.value, User.is_active.is_(True), User.id != user_id)
        )
        or 0
    )


def change_role(*, session: Session, user_id: int, role: str, actor: Actor | None) -> User:
    """Give a user another role (admins only); the last active admin keeps theirs."""
    actor_id = authorize(actor, USER_ADMINS)
    try:
        new_role = Role(role)
    except ValueError:
        raise InvalidInput("role", f"must be one of {', '.join(r.value for r in Role)}")
    user = _user(session, user_id)
    demoted = user.role == Role.admin.value and new_role != Role.admin and user.is_active
    if demoted and _other_active_admins(session, user.id) == 0:
        raise InvalidInput("role", "the last active admin must stay an admin")
    before = {"role": user.role}
    if user.role != new_role.value:
        bump_credentials_version(session)  # cached tokens carry the role
    user.role = new_role.value
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"role": user.role},
    )
    session.commit()
    return user


def set_active(*, session: Session, user_id: int, active: bool, actor: Actor | None) -> User:
    """Deactivate (no login, no API token works) or reactivate a user (admins only).

    An admin cannot deactivate themselves, nor anyone the last active admin."""
    actor_id = authorize(actor, USER_ADMINS)
    user = _user(session, user_id)
    if not active and user.is_active:
        if actor is not None and actor.user_id == user.id:
            raise InvalidInput("is_active", "you cannot deactivate yourself")
        if user.role == Role.admin.value and _other_active_admins(session, user.id) == 0:
            raise InvalidInput("is_active", "the last active admin cannot be deactivated")
    before = {"is_active": user.is_active}
    if not active and user.is_active:
        bump_credentials_version(session)  # their tokens stop working in every process
        end_other_logins(user)  # and their logins stay ended if they are reactivated
    user.is_active = active
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"is_active": active},
    )
    session.commit()
    return user


def change_password(
    *, session: Session, actor: Actor, current_password: str, new_password: str
) -> User:
    """Change one's own password: the current one is required, the new one follows
    ``identity.passwords.password_problem``.

    Every login session of the user ends (``identity.credentials``); the page that asked
    stores the returned user's ``session_version`` in its cookie to stay logged in. API
    tokens keep working: they are credentials of their own, revoked one by one."""
    actor_id = authorize_own_account(actor)
    user = _user(session, actor.user_id)
    if not user.password_hash or not verify_password(user.password_hash, current_password):
        raise InvalidInput("current_password", "is not your current password")
    if problem := password_problem(new_password):
        raise InvalidInput("new_password", problem)
    user.password_hash = hash_password(new_password)
    end_other_logins(user)
    record_audit(
        session=session,
        actor_id=actor_id,
        action="change_password",
        entity_type="user",
        entity_id=user.id,
        changes={},  # never the hashes
    )
    session.commit()
    return user


def create_own_token(
    *, session: Session, actor: Actor, name: str, scope: TokenScope | str
) -> tuple[ApiToken, str]:
    """An API token for the actor themselves; returns the row and the secret (shown once)."""
    actor_id = authorize_own_account(actor)
    name = name.strip()
    if not name:
        raise InvalidInput("name", "name the token (where it is used)")
    if len(name) > 200:
        raise InvalidInput("name", "must have at most 200 characters")
    if actor.role in READ_ONLY_ROLES and scope in (TokenScope.write, TokenScope.write.value):
        # Such a token would be refused at every write: say so now, not at its first use.
        raise InvalidInput(
            "scope", f"role {actor.role.value} is read-only: its tokens can only read"
        )
    token, secret = create_api_token(
        session=session, email=actor.email, scope=scope, name=name, actor_id=actor_id
    )
    session.commit()
    return token, secret


def revoke_own_token(*, session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (revoking twice changes nothing)."""
    actor_id = authorize_own_account(actor)
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound("api token", token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()  # a system time, like the audit log's
        bump_credentials_version(session)
        record_audit(
            session=session,
            actor_id=actor_id,
            action="revoke",
            entity_type="api_token",
            entity_id=token.id,
            changes={"revoked_at": {"before": None, "after": token.revoked_at.isoformat()}},
        )
    session.commit()
    return token
