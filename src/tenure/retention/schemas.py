"""Retention settings: defaults, descriptions and validation, shared by the API and refresh.

A team tunes these through ``PATCH /api/v1/retention/settings`` (or the at-risk page);
they are stored as one JSON document (``retention_settings``) and read at every refresh.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tenure.validation import LineText, StrictRowId

SIGNALS = ("engagement_drop", "complaint", "detractor", "overdue", "sla_breach", "p_alive_drop")

#: Weight of each signal in the noisy-OR (see :mod:`tenure.retention.risk`): the risk a
#: signal alone gives at full strength. Chosen so that one strong signal of the serious
#: kinds (two complaints, a purchase long overdue) reaches the default alert threshold of
#: 0.5 and two moderate signals together pass it.
DEFAULT_WEIGHTS: dict[str, float] = {
    "engagement_drop": 0.40,
    "complaint": 0.60,
    "detractor": 0.50,
    "overdue": 0.55,
    "sla_breach": 0.35,
    "p_alive_drop": 0.35,
}

#: Event types that count as engagement (the customer reaching out to us or reacting).
DEFAULT_ENGAGEMENT_TYPES = [
    "visit",
    "email_opened",
    "email_clicked",
    "email_replied",
    "call",
    "chat",
    "social_message",
    "login",
]


class RetentionConfig(BaseModel):
    """Every retention setting, with its default."""

    model_config = ConfigDict(extra="forbid")

    risk_threshold: float = Field(
        0.5, gt=0, le=1, description="Risk at or above which an alert episode opens."
    )
    clear_threshold: float = Field(
        0.3,
        ge=0,
        lt=1,
        description="Risk below which an open episode ends (hysteresis: lower than "
        "risk_threshold, so a risk wavering around the threshold alerts once).",
    )
    value_quantile: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Only customers whose 12-month CLV is at or above this quantile of all "
        "scored customers get a task (0.8 = the top 20%).",
    )
    fallback_owner_id: StrictRowId | None = Field(
        None, description="User who gets the task when the customer has no owner."
    )
    task_due_days: int = Field(
        3, ge=0, le=90, description="An alert task is due this many days out."
    )
    engagement_event_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ENGAGEMENT_TYPES),
        min_length=1,
        description="Event types counted as engagement.",
    )
    recent_weeks: int = Field(
        6, ge=1, le=26, description="Engagement: the recent window compared with the baseline."
    )
    baseline_weeks: int = Field(
        26, ge=4, le=104, description="Engagement: the customer's own baseline before it."
    )
    min_baseline_events: int = Field(
        8,
        ge=1,
        description="Engagement: fewest baseline events for a test (fewer cannot show a drop).",
    )
    significance: float = Field(
        0.05, gt=0, lt=0.5, description="Engagement: one-sided p-value below which a drop counts."
    )
    complaint_window_days: int = Field(
        30,
        ge=1,
        le=365,
        description="Complaints, low CSAT, negative comments, SLA breaches: lookback.",
    )
    feedback_window_days: int = Field(
        180, ge=1, le=730, description="NPS: the latest answer within this many days counts."
    )
    overdue_factor: float = Field(
        2.0,
        ge=1,
        le=10,
        description="A purchase is overdue when the silence exceeds this many of the "
        "customer's typical inter-purchase intervals.",
    )
    p_alive_drop: float = Field(
        0.2,
        gt=0,
        le=1,
        description="P(alive) falling by at least this much since the previous score refresh.",
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="Risk a signal alone gives at full strength (0-1), per signal.",
    )

    @model_validator(mode="after")
    def _check(self) -> RetentionConfig:
        if self.clear_threshold >= self.risk_threshold:
            raise ValueError("clear_threshold must be lower than risk_threshold")
        unknown = sorted(set(self.weights) - set(SIGNALS))
        if unknown:
            raise ValueError(f"unknown signals in weights: {', '.join(unknown)}")
        if any(not 0 <= w <= 1 for w in self.weights.values()):
            raise ValueError("weights are between 0 and 1")
        # A partial weights document keeps the defaults of the signals it leaves out.
        self.weights = {**DEFAULT_WEIGHTS, **self.weights}
        return self


class RetentionConfigPatch(BaseModel):
    """A partial update: only the given settings change (``null`` clears the fallback owner)."""

    model_config = ConfigDict(extra="forbid")

    risk_threshold: float | None = None
    clear_threshold: float | None = None
    value_quantile: float | None = None
    fallback_owner_id: StrictRowId | None = None
    task_due_days: int | None = None
    engagement_event_types: list[LineText] | None = None
    recent_weeks: int | None = None
    baseline_weeks: int | None = None
    min_baseline_events: int | None = None
    significance: float | None = None
    complaint_window_days: int | None = None
    feedback_window_days: int | None = None
    overdue_factor: float | None = None
    p_alive_drop: float | None = None
    weights: dict[str, float] | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
