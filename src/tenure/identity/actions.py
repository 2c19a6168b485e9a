"""Writes on users and API tokens, each in the caller's unit of work."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import record_audit
from tenure.identity.models import ApiToken, Role, TokenScope, User
from tenure.identity.passwords import MIN_PASSWORD_LENGTH, hash_password
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
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
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
