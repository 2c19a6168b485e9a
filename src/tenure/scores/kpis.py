"""Workspace KPIs for a period, as PRODUCT.md defines them, aggregated in the database.

Period ``P`` runs from ``start`` 00:00 UTC to the end of ``end`` (both days included).
A customer is a person with an order. A customer is *active* at a moment ``t`` when,
without a churn event type, their last order before ``t`` is at most
``churn_inactivity_days`` old; with a churn event type (``cancellation``...), when they
ordered before ``t`` and have no such event after their last order before ``t``.

* customers at start / end: active at the start / end of ``P``;
* customers lost: active at the start and not at the end; churn rate = lost / at start;
* new customers: first order in ``P``; CRR = (at end - new) / at start;
* active customers: customers with an order in ``P``;
* revenue: orders minus refunds in ``P``; average order value: order amounts / orders;
* NPS = % of 9-10 minus % of 0-6 answers, CSAT = % of 4-5 answers, CES = mean answer,
  from ``survey_answered`` events with payload ``{"survey": "nps"|"csat"|"ces", "score"}``
  (answers off the survey's scale are ignored), null without answers;
* CAC = acquisition spend (``acquisition_spend`` events, ``amount_minor``) / new
  customers; ROI = (revenue in ``P`` from the new customers - spend) / spend; CLV:CAC =
  mean predicted 12-month CLV of the new customers / CAC; all null without spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from tenure.scores.models import PersonScore
from tenure.timeline.models import Event

ORDER, REFUND = "order", "refund"
SURVEY_EVENT = "survey_answered"
SPEND_EVENT = "acquisition_spend"
SURVEY_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end``, both included, in UTC."""

    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def period_kpis(
    session: Session,
    period: Period,
    *,
    churn_inactivity_days: int,
    churn_event_type: str | None,
) -> dict[str, Any]:
    """Every KPI of the module docstring for ``period``; see there for definitions."""
    start, end = period.start_at, period.end_at
    in_period = and_(Event.occurred_at >= start, Event.occurred_at < end)
    is_order = Event.type == ORDER
    types = [ORDER, REFUND] + ([churn_event_type] if churn_event_type else [])
    columns = [
        Event.person_id.label("person_id"),
        func.min(case((is_order, Event.occurred_at))).label("first_order"),
        func.max(case((and_(is_order, Event.occurred_at < start), Event.occurred_at))).label(
            "last_before_start"
        ),
        func.max(case((is_order, Event.occurred_at))).label("last_before_end"),
        func.count(case((and_(is_order, in_period), 1))).label("orders"),
        func.sum(case((and_(is_order, in_period), Event.amount_minor), else_=0)).label("spent"),
        func.sum(case((and_(Event.type == REFUND, in_period), Event.amount_minor), else_=0)).label(
            "refunded"
        ),
    ]
    if churn_event_type:
        is_churn = Event.type == churn_event_type
        columns += [
            func.max(case((and_(is_churn, Event.occurred_at < start), Event.occurred_at))).label(
                "churn_before_start"
            ),
            func.max(case((is_churn, Event.occurred_at))).label("churn_before_end"),
        ]
    per_person = (
        select(*columns)
        .where(Event.type.in_(types), Event.occurred_at < end)
        .group_by(Event.person_id)
        .subquery()
    )
    p = per_person.c
    if churn_event_type:
        active_start = and_(
            p.last_before_start.isnot(None),
            or_(p.churn_before_start.is_(None), p.churn_before_start < p.last_before_start),
        )
        active_end = and_(
            p.last_before_end.isnot(None),
            or_(p.churn_before_end.is_(None), p.churn_before_end < p.last_before_end),
        )
    else:
        horizon = timedelta(days=churn_inactivity_days)
        active_start = and_(p.last_before_start.isnot(None), p.last_before_start >= start - horizon)
        active_end = and_(p.last_before_end.isnot(None), p.last_before_end >= end - horizon)
    is_new = and_(p.first_order >= start, p.first_order < end)
    row = session.execute(
        select(
            func.count(case((active_start, 1))),
            func.count(case((active_end, 1))),
            func.count(case((and_(active_start, ~active_end), 1))),
            func.count(case((is_new, 1))),
            func.count(case((p.orders > 0, 1))),
            func.coalesce(func.sum(p.orders), 0),
            func.coalesce(func.sum(p.spent), 0),
            func.coalesce(func.sum(p.refunded), 0),
            func.coalesce(func.sum(case((is_new, p.spent), else_=0)), 0),
            func.avg(case((is_new, PersonScore.clv_12m_minor))),
        ).select_from(per_person.outerjoin(PersonScore, PersonScore.person_id == p.person_id))
    ).one()
    (at_start, at_end, lost, new, active, orders, spent, refunded, new_spent, new_clv) = row
    spend = _acquisition_spend(session, period)
    surveys = _surveys(session, period)
    cac = _ratio(spend, new) if spend is not None else None
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "customers_at_start": at_start,
        "customers_at_end": at_end,
        "customers_lost": lost,
        "new_customers": new,
        "active_customers": active,
        "churn_rate": _ratio(lost, at_start),
        "customer_retention_rate": _ratio(at_end - new, at_start),
        "orders": int(orders),
        "revenue_minor": int(spent) - int(refunded),
        "order_revenue_minor": int(spent),
        "refunds_minor": int(refunded),
        "average_order_value_minor": round(int(spent) / orders) if orders else None,
        **surveys,
        "acquisition_spend_minor": spend,
        "cac_minor": round(cac) if cac is not None else None,
        "roi": _ratio(int(new_spent) - spend, spend) if spend else None,
        "clv_to_cac": _ratio(float(new_clv), cac) if new_clv is not None and cac else None,
    }


def _acquisition_spend(session: Session, period: Period) -> int | None:
    total = session.scalar(
        select(func.sum(Event.amount_minor)).where(
            Event.type == SPEND_EVENT,
            Event.occurred_at >= period.start_at,
            Event.occurred_at < period.end_at,
        )
    )
    return None if total is None else int(total)


def _surveys(session: Session, period: Period) -> dict[str, Any]:
    """NPS, CSAT and CES (with answer counts) from the survey answers in the period."""
    survey = Event.payload["survey"].as_string()
    score = Event.payload["score"].as_float()
    on_scale = or_(
        *[
            and_(survey == name, score >= low, score <= high)
            for name, (low, high) in SURVEY_SCALES.items()
        ]
    )
    rows = session.execute(
        select(
            survey,
            func.count(),
            func.count(case((score >= 9, 1))),
            func.count(case((score <= 6, 1))),
            func.count(case((score >= 4, 1))),
            func.avg(score),
        )
        .where(
            Event.type == SURVEY_EVENT,
            Event.occurred_at >= period.start_at,
            Event.occurred_at < period.end_at,
            on_scale,
        )
        .group_by(survey)
    ).all()
    by_survey = {r[0]: r for r in rows}
    out: dict[str, Any] = {"nps": None, "csat": None, "ces": None}
    for name in SURVEY_SCALES:
        out[f"{name}_answers"] = int(by_survey[name][1]) if name in by_survey else 0
    if "nps" in by_survey:
        _, n, promoters, detractors, _, _ = by_survey["nps"]
        out["nps"] = 100.0 * (promoters - detractors) / n
    if "csat" in by_survey:
        _, n, _, _, satisfied, _ = by_survey["csat"]
        out["csat"] = 100.0 * satisfied / n
    if "ces" in by_survey:
        out["ces"] = float(by_survey["ces"][5])
    return out
