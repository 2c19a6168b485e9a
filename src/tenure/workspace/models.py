"""The one workspace row of a Tenure database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class Workspace(Base):
    __tablename__ = "workspace"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The workspace's "now" when it replays history (the demo); null: the real time.
    # See ``workspace.clock``.
    fixed_now: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # External-id namespaces that hold one record per person (a billing system's customer
    # id): the duplicate matcher counts two different ids there against a match. Ids of
    # any other namespace (an import's row ids) are neutral.
    unique_id_namespaces: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    # Settings an admin changes on the workspace page; null: the server's default
    # (TENURE_DEFAULT_CURRENCY, TENURE_DEFAULT_PHONE_REGION, UTC). Read them through
    # ``workspace.queries`` (``currency``, ``phone_region``, ``time_zone``).
    default_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone_region: Mapped[str | None] = mapped_column(String(2), nullable=True)
