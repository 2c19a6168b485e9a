"""Saved views of a list: filters, columns and sort, a user's own or shared."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class SavedView(Base):
    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("owner_id", "list_name", "name"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Which list it belongs to: ``people`` (organizations may follow).
    list_name: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    #: Shared views are in everyone's menu; only their owner (or an admin) changes them.
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``{"q": ..., "tag": ..., "owner_id": ...}``: the list's filters, as the URL has them.
    filters: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    columns: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    sort: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
