"""Tables of computed customer scores and of the reports of the models behind them.

``person_scores`` holds one row per customer (a person with at least one order by the
refresh's ``as_of``); a refresh replaces the whole table in one transaction, so readers
never see a mix of two refreshes. What is the same for a whole refresh (its as-of time,
currency, model version and fit time) is kept once, in ``score_refreshes``; each score
row names the refresh that last changed its values. ``model_reports`` keeps every fit,
newest last, so the accuracy of the models can be followed over time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime


class JsonText(TypeDecorator[Any]):
    """JSON kept as the text it was written as (``text`` on PostgreSQL, not ``jsonb``).

    For values that are only ever read whole, never queried into: a refresh writes a
    million churn reasons at once, and parsing them into ``jsonb`` was most of the cost
    of its ``COPY`` (migration ``0018_churn_reasons_text``). Equal values written the
    same way are equal text, which is what the refresh's comparison needs.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else orjson.dumps(value).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


class ScoreRefresh(Base):
    """One refresh of the scores: what is the same for every row it wrote.

    Kept once per refresh instead of on each of a million rows, where the as-of time,
    currency, version and fit time were a fifth of the table's bytes and of every
    night's write, and the churned customers' shared reason a sixth. Never deleted:
    ``person_scores.refresh_id`` points here.
    """

    __tablename__ = "score_refreshes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The currency every amount of the refresh is in (the workspace's order currency).
    currency: Mapped[str] = mapped_column(String(3))
    model_version: Mapped[str] = mapped_column(String(40), unique=True)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The churn reason of every customer who had churned already (probability 1, no
    #: reasons of their own): ``no order in 180 days``, or the churn event type.
    churned_reason: Mapped[str | None] = mapped_column(Text)


class PersonScore(Base):
    """Scores of one customer as of the last refresh.

    Money is in integer minor units of the refresh's currency (``score_refreshes``), day
    counts are whole calendar days (UTC). ``refresh_id`` is the refresh that last changed
    the row's values (a rerun leaves equal rows alone), which later steps follow
    (``tenure.lifecycle.placement``). It has no foreign key: checking one over a million
    rows cost every night's refill about half a second, and refreshes are never deleted.
    """

    __tablename__ = "person_scores"
    __table_args__ = (
        # Segments and lists filter and sort on these (RFM segment, value tier, risk).
        Index("ix_person_scores_rfm_segment", "rfm_segment"),
        Index("ix_person_scores_clv_12m_minor", "clv_12m_minor"),
        Index("ix_person_scores_churn_probability", "churn_probability"),
    )

    person_id: Mapped[int] = mapped_column(
        Id, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    refresh_id: Mapped[int] = mapped_column(Id)
    # RFM inputs: purchase days (same-day orders merged), repeat days, ages in days.
    purchase_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    recency_days: Mapped[int] = mapped_column(Integer)
    age_days: Mapped[int] = mapped_column(Integer)
    monetary_minor: Mapped[int] = mapped_column(BigInteger)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    historical_clv_minor: Mapped[int] = mapped_column(BigInteger)
    # Model outputs.
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases_90d: Mapped[float | None] = mapped_column(Float)
    clv_12m_minor: Mapped[int | None] = mapped_column(BigInteger)
    r_score: Mapped[int] = mapped_column(SmallInteger)
    f_score: Mapped[int] = mapped_column(SmallInteger)
    m_score: Mapped[int] = mapped_column(SmallInteger)
    rfm_segment: Mapped[str] = mapped_column(String(30))
    churn_probability: Mapped[float | None] = mapped_column(Float)
    # Read whole by the person page and the API, never queried into: JSON text.
    # ``[feature, value, contribution]`` each (``scores.churn.reasons_json``).
    churn_reasons: Mapped[list[Any] | None] = mapped_column(JsonText)


class ModelReport(Base):
    """One fit of one model: parameters, fit quality and holdout accuracy.

    ``status`` is ``fitted`` or ``skipped``; a skipped model (too little or one-class data)
    says why in ``reason`` and leaves the scores it would have produced empty.
    """

    __tablename__ = "model_reports"
    __table_args__ = (Index("ix_model_reports_model_fitted_at", "model", "fitted_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    model: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    n_customers: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    log_likelihood: Mapped[float | None] = mapped_column(Float)
    standard_errors: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
