"""Invitations: an admin invites a user by email and copies a one-time link; opening it
lets the invitee choose a password and logs them in.

The link's secret is 32 random bytes, stored as its SHA-256 (``identity.tokens``: nothing
to brute-force, so a fast digest is as safe as a slow hash). A link works once and for
``INVITATION_DAYS``; issuing a new link for the same user retires the older ones. The
expiry is a system time (like a session's), not a business date of the workspace clock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.actions import create_user
from tenure.identity.audit import record_audit
from tenure.identity.models import Invitation, User
from tenure.identity.passwords import hash_password, password_problem
from tenure.identity.permissions import USER_ADMINS, Actor, authorize
from tenure.identity.tokens import hash_token

INVITATION_DAYS = 7
INVITATION_PATH = "/invite/"


@dataclass(frozen=True)
class IssuedInvitation:
    """A link just issued: the secret goes in ``/invite/<secret>`` and is shown only now."""

    user: User
    secret: str
    expires_at: datetime


class InvitationUnusable(InvalidInput):
    """The link was used already, has expired or never existed."""

    def __init__(self) -> None:
        super().__init__(
            "token", "this invitation link was used already or has expired: ask for a new one"
        )


def _issue(session: Session, user: User, actor_id: int | None, now: datetime) -> IssuedInvitation:
    # Retire the user's open links: only the newest one the admin copied works.
    session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=INVITATION_DAYS)
    session.add(
        Invitation(
            user_id=user.id,
            token_hash=hash_token(secret),
            created_by_id=actor_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    record_audit(
        session=session,
        actor_id=actor_id,
        action="invite",
        entity_type="user",
        entity_id=user.id,
        changes={"expires_at": expires_at.isoformat()},
    )
    return IssuedInvitation(user=user, secret=secret, expires_at=expires_at)


def invite_user(
    *, session: Session, email: str, name: str, role: str, actor: Actor | None
) -> IssuedInvitation:
    """Create the user (without a password) and a one-time link (``/invite/<secret>``, the
    secret shown once). Admins only; committed."""
    actor_id = authorize(actor, USER_ADMINS)
    if len(name) > 200:
        raise InvalidInput("name", "must have at most 200 characters")
    user = create_user(
        session=session, email=email, role=role, password=None, name=name.strip(), actor_id=actor_id
    )
    issued = _issue(session, user, actor_id, utcnow())
    session.commit()
    return issued


def renew_invitation(*, session: Session, user_id: int, actor: Actor | None) -> IssuedInvitation:
    """A new link for a user who has not chosen a password yet (the old one expired or got
    lost); older links stop working. Admins only; committed."""
    actor_id = authorize(actor, USER_ADMINS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if user.password_hash:
        raise Conflict("this user has set a password already", field="user_id")
    if not user.is_active:
        raise Conflict("this user is deactivated: reactivate them first", field="user_id")
    issued = _issue(session, user, actor_id, utcnow())
    session.commit()
    return issued


def open_invitation(session: Session, secret: str) -> tuple[Invitation, User]:
    """The invitation a link holds, if it may still be used; else InvitationUnusable."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(secret))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        raise InvitationUnusable()
    user = session.get(User, invitation.user_id)
    if user is None or not user.is_active:
        raise InvitationUnusable()
    return invitation, user


def accept_invitation(*, session: Session, secret: str, password: str, name: str = "") -> User:
    """Set the invitee's password from a valid link and use the link up; committed.

    The link is claimed with one conditional UPDATE, so two tabs submitting it at once
    cannot both succeed."""
    invitation, user = open_invitation(session, secret)
    if problem := password_problem(password):
        raise InvalidInput("password", problem)
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise InvitationUnusable()
    user.password_hash = hash_password(password)
    if name.strip():
        user.name = name.strip()[:200]
    record_audit(
        session=session,
        actor_id=user.id,
        action="accept_invitation",
        entity_type="user",
        entity_id=user.id,
        changes={},
    )
    session.commit()
    return user
