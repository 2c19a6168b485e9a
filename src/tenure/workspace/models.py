"""The one workspace row of a Tenure database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, UTCDateTime, utcnow


class Workspace(Base):
    __tablename__ = "workspace"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The workspace's "now" when it replays history (the demo); null: the real time.
    # See ``workspace.clock``.
    fixed_now: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
