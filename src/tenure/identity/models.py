"""Tables of users, API tokens and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class Role(enum.StrEnum):
    admin = "admin"
    manager = "manager"
    sales = "sales"
    marketing = "marketing"
    support = "support"
    analyst = "analyst"


class TokenScope(enum.StrEnum):
    read = "read"
    write = "write"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Stored in the login cookie at login; a password change (or a deactivation) bumps it,
    # so every other login session of the user ends (identity.credentials).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # SHA-256 of a 256-bit random secret; see identity/tokens.py for why not argon2.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a request last authenticated with it, to the nearest quarter hour (recorded at
    # most that often, so reads do not write on every request: identity.token_use).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(Base):
    """A one-time link that lets an invited user set their password and log in.

    Only the SHA-256 of the link's random secret is stored (as for API tokens): the admin
    copies the link once; using it sets ``used_at``, and a used or expired link opens nothing.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One create, update or delete: who, when, what, and the changed fields."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    # {"field": {"before": ..., "after": ...}} for exactly the fields that changed.
    changes: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


class InstanceSecret(Base):
    """A random secret shared by every process of this database (the cookie signing key).

    Kept in the database, not a local file, so that several web processes on several
    machines sign and accept the same session cookies.
    """

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CredentialsState(Base):
    """One row: a counter bumped whenever a token or a user's access is taken away.

    Every web process caches token -> actor in memory and compares its entries with this
    version (identity.credentials): a revocation committed anywhere reaches every process.
    """

    __tablename__ = "credentials_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
