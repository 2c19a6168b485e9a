"""Tables of proactive retention: settings, risk per customer, alert episodes, NBA rules.

``risk_scores`` holds the customers with at least one warning signal as of the last
refresh, replaced in one transaction like ``person_scores``. ``p_alive_history`` keeps the
P(alive) of every scored customer once per score version, so a refresh can compare with
the previous one. ``retention_alerts`` is the episode log: an episode opens when a
customer's risk crosses the alert threshold and closes when it falls below the lower
clearing threshold; its task is created once per episode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class RetentionSettingsRow(Base):
    """The workspace's retention settings: one row (id 1) holding a validated JSON document.

    A document rather than one column per setting: new settings get their default from
    :class:`tenure.retention.schemas.RetentionConfig` without a migration.
    """

    __tablename__ = "retention_settings"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RetentionRefresh(Base):
    """One run of ``refresh_retention``: when, as of when, and what it found and did."""

    __tablename__ = "retention_refreshes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The scores' newest refresh (score_refreshes.model_version) read by this refresh,
    # and whether its P(alive) values
    # were stored in p_alive_history (once per version).
    scores_version: Mapped[str | None] = mapped_column(String(40))
    scores_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    p_alive_snapshot: Mapped[bool] = mapped_column(Boolean, default=False)
    customers_with_signals: Mapped[int] = mapped_column(Integer, default=0)
    above_threshold: Mapped[int] = mapped_column(Integer, default=0)
    alerts_opened: Mapped[int] = mapped_column(Integer, default=0)
    alerts_closed: Mapped[int] = mapped_column(Integer, default=0)
    tasks_created: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


class PAliveHistory(Base):
    """P(alive) of each scored customer at one score version (see RetentionRefresh)."""

    __tablename__ = "p_alive_history"

    refresh_id: Mapped[int] = mapped_column(
        Id, ForeignKey("retention_refreshes.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        Id, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    p_alive: Mapped[float] = mapped_column(Float)


class RiskScore(Base):
    """A customer's retention risk (0-1) with its reasons, as of the last refresh.

    Money in integer minor units of ``currency``; ``value_minor`` is the 12-month CLV of
    ``person_scores`` and ``value_at_risk_minor`` = round(value x risk), 0 without a value.
    """

    __tablename__ = "risk_scores"
    __table_args__ = (
        # The at-risk list pages through (value at risk, person) descending.
        Index("ix_risk_scores_value_at_risk", "value_at_risk_minor", "person_id"),
        Index("ix_risk_scores_risk", "risk"),
    )

    person_id: Mapped[int] = mapped_column(
        Id, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    risk: Mapped[float] = mapped_column(Float)
    value_minor: Mapped[int | None] = mapped_column(BigInteger)
    value_at_risk_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    # [{"signal", "text", "contribution"}], strongest first.
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    # {signal: {"strength": s, **measures}}: what each signal measured.
    signals: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RetentionAlert(Base):
    """One episode of a customer's risk above the alert threshold, and its task."""

    __tablename__ = "retention_alerts"
    __table_args__ = (
        # At most one open episode per customer: the once-per-episode guarantee holds even
        # if two refreshes race.
        Index(
            "uq_retention_alerts_open_person",
            "person_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_retention_alerts_person", "person_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    risk_at_open: Mapped[float] = mapped_column(Float)
    last_risk: Mapped[float] = mapped_column(Float)
    peak_risk: Mapped[float] = mapped_column(Float)
    value_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    # When the owner was told (the task created); set once, so a deleted task is not
    # recreated within the same episode.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class NbaRun(Base):
    """One mining of next-best-action rules; only the newest run's rules are kept."""

    __tablename__ = "nba_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    mined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    window_days: Mapped[int] = mapped_column(Integer)
    min_support: Mapped[int] = mapped_column(Integer)
    buyers: Mapped[int] = mapped_column(Integer)
    rules: Mapped[int] = mapped_column(Integer)
    # {level: [[item, buyers], ...]}, most bought first (the popularity fallback).
    popularity: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class NbaRule(Base):
    """ "Buyers of ``antecedent`` buy ``consequent`` within ``window_days``": counts and lags.

    ``anchors``: customers whose first purchase of the antecedent can be followed for the
    whole window and who had not bought the consequent by then; ``support_count`` of them
    bought it within the window. ``support`` = support_count / buyers of the run,
    ``confidence`` = support_count / anchors, ``lift`` = confidence / the rate at which the
    consequent follows a first purchase of any other item (see :mod:`tenure.retention.nba`).
    Lags in days after the first purchase of the antecedent.
    """

    __tablename__ = "nba_rules"
    __table_args__ = (Index("ix_nba_rules_level_antecedent", "level", "antecedent"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("nba_runs.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    antecedent: Mapped[str] = mapped_column(String(100))
    consequent: Mapped[str] = mapped_column(String(100))
    anchors: Mapped[int] = mapped_column(Integer)
    support_count: Mapped[int] = mapped_column(Integer)
    support: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    base_rate: Mapped[float] = mapped_column(Float)
    lift: Mapped[float] = mapped_column(Float)
    median_lag_days: Mapped[float] = mapped_column(Float)
    lag_p25_days: Mapped[float] = mapped_column(Float)
    lag_p75_days: Mapped[float] = mapped_column(Float)
