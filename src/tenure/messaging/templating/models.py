"""Tables of the email templates: a template and its numbered, immutable versions.

Editing a template adds a version; no version is ever changed or deleted, so a sent
message can name the exact version it was rendered from (``template_versions.id``) and
that text stays readable. A template's current version is its highest ``number``.
Templates are archived rather than deleted, for the same reason.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, UTCDateTime, utcnow


class TemplatePurpose(enum.StrEnum):
    """Marketing mail needs marketing consent and counts against the fatigue budget;
    transactional mail (an order follow-up, a renewal notice) does neither."""

    marketing = "marketing"
    transactional = "transactional"


class MessageTemplate(Base):
    __tablename__ = "message_templates"
    # A deleted id is never handed out again (migration 0013_autoincrement_ids).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The library template this one was seeded from (``welcome``, ...), so seeding twice,
    #: or after a rename, creates nothing.
    library_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TemplateVersion(Base):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_templates.id"))
    number: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
