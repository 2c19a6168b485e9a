"""Home's stored key figures: one row per book, recomputed by the ``home.figures`` job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import JsonDoc, UTCDateTime


class HomeFigures(Base):
    """A book's KPIs as of ``as_of`` (the workspace clock when computed): customers,
    revenue per currency of the 30 days before ``as_of`` and the 30 before those,
    predicted CLV and churn risk (``home.kpis``). ``book`` is ``everyone`` or
    ``owner:<user id>``; an owner without a row owned nobody when they were computed.

    Home reads a row by key instead of adding up the whole workspace on every visit (the
    sums scan ``people``, ``person_scores`` and ``risk_scores``); the page says when they
    were computed."""

    __tablename__ = "home_figures"

    book: Mapped[str] = mapped_column(String(40), primary_key=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
