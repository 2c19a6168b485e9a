"""Pydantic types of the scores at the API edge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


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


class KpisOut(BaseModel):
    """KPIs of a period (``tenure.scores.kpis`` defines each); money in minor units."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="First day of the period (UTC).")
    to: str = Field(description="Last day of the period, included.")
    currency: str
    customers_at_start: int
    customers_at_end: int
    customers_lost: int = Field(description="Active at the start, not at the end.")
    new_customers: int = Field(description="First order in the period.")
    active_customers: int = Field(description="Customers with an order in the period.")
    churn_rate: float | None = Field(description="Lost / at start (a fraction).")
    customer_retention_rate: float | None = Field(description="(At end - new) / at start.")
    orders: int
    revenue_minor: int = Field(description="Orders minus refunds.")
    order_revenue_minor: int
    refunds_minor: int
    average_order_value_minor: int | None
    nps: float | None = Field(description="-100 to 100; null without answers.")
    nps_answers: int
    csat: float | None = Field(description="% of 4-5 answers; null without answers.")
    csat_answers: int
    ces: float | None = Field(description="Mean 1-7 answer; null without answers.")
    ces_answers: int
    acquisition_spend_minor: int | None = Field(description="Null without spend events.")
    cac_minor: int | None
    roi: float | None = Field(description="(New customers' revenue - spend) / spend.")
    clv_to_cac: float | None = Field(description="Mean predicted CLV of the new / CAC.")
