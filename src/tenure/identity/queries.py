"""Reads: authentication and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tenure.identity.models import ApiToken, AuditEntry, Role, TokenScope, User
from tenure.identity.passwords import verify_password
from tenure.identity.permissions import Actor
from tenure.identity.tokens import hash_token

# Built once: every API request runs it (see customers/queries.py on prebuilt statements).
_ACTOR_BY_TOKEN_HASH = (
    select(
        User.id,
        User.email,
        User.role,
        ApiToken.scope,
        ApiToken.id.label("token_id"),
        ApiToken.last_used_at,
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)


def actor_for_token(session: Session, token: str) -> Actor | None:
    found = token_actor_and_last_use(session, token)
    return found[0] if found else None


def token_actor_and_last_use(session: Session, token: str) -> tuple[Actor, datetime | None] | None:
    """The actor an active user's unrevoked token stands for, and when it was last used."""
    return actor_and_last_use_by_hash(session, hash_token(token))


def actor_and_last_use_by_hash(
    session: Session, token_hash: str
) -> tuple[Actor, datetime | None] | None:
    """As ``token_actor_and_last_use``, given the token's SHA-256 (the cache's key)."""
    row = session.connection().execute(_ACTOR_BY_TOKEN_HASH, {"token_hash": token_hash}).first()
    if row is None:
        return None
    actor = Actor(
        user_id=row.id,
        email=row.email,
        role=Role(row.role),
        scope=TokenScope(row.scope),
        token_id=row.token_id,
    )
    return actor, row.last_used_at


def actor_for_login(session: Session, user_id: int, session_version: int) -> Actor | None:
    """The actor of a login session, unless the user was deactivated or changed their
    password since it began (``users.session_version`` moved on: identity.credentials)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != session_version:
        return None
    return Actor(user_id=user.id, email=user.email, role=Role(user.role))


def authenticate_password(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or not user.password_hash:
        return None
    return user if verify_password(user.password_hash, password) else None


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def user_status(user: User) -> str:
    """``active``, ``invited`` (no password chosen yet) or ``deactivated``."""
    if not user.is_active:
        return "deactivated"
    return "active" if user.password_hash else "invited"


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens, unrevoked first, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def list_audit_entries(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first, keyset-paged on id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if after_id is not None:
        query = query.where(AuditEntry.id < after_id)
    return list(session.scalars(query))
