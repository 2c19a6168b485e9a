"""Pydantic types of the scores at the API edge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ChurnReason(BaseModel):
    feature: str = Field(description="Model feature, e.g. recency_days.")
    label: str = Field(description="The feature in words.")
    value: float | str | None = Field(None, description="The customer's value of it.")
    contribution: float | None = Field(
        None, description="Change in churn probability it causes (probability points)."
    )
    direction: str | None = Field(None, description="raises risk / lowers risk.")


class PersonScoresOut(BaseModel):
    """A customer's scores from the last refresh (money in minor units of ``currency``)."""

    as_of: datetime
    currency: str
    purchase_days: int = Field(description="Days with an order (same-day orders merged).")
    frequency: int = Field(description="Repeat purchase days.")
    recency_days: int = Field(description="Days since the last order.")
    age_days: int = Field(description="Days since the first order.")
    monetary_minor: int = Field(description="Mean total of the repeat purchase days.")
    revenue_minor: int
    historical_clv_minor: int = Field(description="Margin on orders minus refunds to date.")
    p_alive: float | None = Field(description="BG/NBD probability the customer is active.")
    expected_purchases_90d: float | None
    clv_12m_minor: int | None = Field(description="Predicted, discounted 12-month margin.")
    r_score: int
    f_score: int
    m_score: int
    rfm_segment: str
    churn_probability: float | None
    churn_reasons: list[ChurnReason]
    model_version: str
    fitted_at: datetime
