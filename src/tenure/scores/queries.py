"""Reads of the stored scores: one person's, the model reports, and chart data.

Distributions are ``GROUP BY`` queries over ``person_scores`` (one row per customer), and
cohort retention is counted from the event log in SQL, so no read loads per-customer
rows into Python.
"""

from __future__ import annotations

from typing import Any
from typing import cast as cast_to

import numpy as np
import pandas as pd
from sqlalchemy import Integer, Table, case, cast, func, select
from sqlalchemy.orm import Session

from tenure.db.dialect import Days
from tenure.scores.churn import reason_label, stored_reason
from tenure.scores.models import ModelReport, PersonScore, ScoreRefresh
from tenure.scores.segments import SEGMENTS
from tenure.timeline.models import Event

MODELS = ("bgnbd", "gamma_gamma", "churn")
CLV_BINS = 20
#: P(alive) grid: frequency 0..FREQUENCY_CAP-1 and "FREQUENCY_CAP+"; recency in months.
FREQUENCY_CAP = 10
RECENCY_BUCKET_DAYS = 30
RECENCY_BUCKETS = 18


#: What a score row takes from its refresh (``score_refreshes``), by these names.
REFRESH_COLUMNS = tuple(
    cast_to(Table, ScoreRefresh.__table__).c[name]
    for name in ("as_of", "currency", "model_version", "fitted_at", "churned_reason")
)


def person_scores(session: Session, person_id: int) -> dict[str, Any] | None:
    """The person's scores from the last refresh, or None (not refreshed, or no orders)."""
    row = session.execute(
        select(PersonScore.__table__, *REFRESH_COLUMNS)
        .join(ScoreRefresh, ScoreRefresh.id == PersonScore.refresh_id)
        .where(PersonScore.person_id == person_id)
    ).first()
    return None if row is None else scores_dict(row)


def latest_refresh(session: Session) -> ScoreRefresh | None:
    """The newest refresh of the scores (the highest id), or None before the first."""
    return session.scalars(select(ScoreRefresh).order_by(ScoreRefresh.id.desc()).limit(1)).first()


def scores_dict(row: Any) -> dict[str, Any]:
    """A ``person_scores`` row with its refresh's :data:`REFRESH_COLUMNS` (a selected row
    or any object with those attribute names) as the API's scores object."""
    stored = row.churn_reasons
    if stored is None and row.churned_reason and (row.churn_probability or 0) >= 1:
        # Churned already: the reason they all share is kept once, with the refresh.
        stored = [{"feature": "churned", "value": row.churned_reason}]
    reasons = []
    for reason in map(stored_reason, stored or []):
        contribution = reason.get("contribution")
        reasons.append(
            {
                **reason,
                "label": reason_label(str(reason.get("feature"))),
                # A zero contribution moves nothing: saying "raises risk" beside
                # "days since last order: 0" read as a contradiction.
                "direction": None
                if not contribution
                else ("raises risk" if contribution > 0 else "lowers risk"),
            }
        )
    return {
        "as_of": row.as_of,
        "currency": row.currency,
        "purchase_days": row.purchase_days,
        "frequency": row.frequency,
        "recency_days": row.recency_days,
        "age_days": row.age_days,
        "monetary_minor": row.monetary_minor,
        "revenue_minor": row.revenue_minor,
        "historical_clv_minor": row.historical_clv_minor,
        "p_alive": row.p_alive,
        "expected_purchases_90d": row.expected_purchases_90d,
        "clv_12m_minor": row.clv_12m_minor,
        "r_score": row.r_score,
        "f_score": row.f_score,
        "m_score": row.m_score,
        "rfm_segment": row.rfm_segment,
        "churn_probability": row.churn_probability,
        "churn_reasons": reasons,
        "model_version": row.model_version,
        "fitted_at": row.fitted_at,
    }


def latest_reports(session: Session) -> list[dict[str, Any]]:
    """The newest report of each model (bgnbd, gamma_gamma, churn), in that order."""
    newest = (
        select(ModelReport.model, func.max(ModelReport.id).label("id"))
        .group_by(ModelReport.model)
        .subquery()
    )
    rows = session.scalars(select(ModelReport).join(newest, ModelReport.id == newest.c.id))
    by_model = {r.model: r for r in rows}
    return [
        {
            "model": r.model,
            "version": r.version,
            "status": r.status,
            "reason": r.reason,
            "as_of": r.as_of,
            "fitted_at": r.fitted_at,
            "n_customers": r.n_customers,
            "params": r.params,
            "log_likelihood": r.log_likelihood,
            "standard_errors": r.standard_errors,
            "metrics": r.metrics,
        }
        for name in MODELS
        if (r := by_model.get(name)) is not None
    ]


def score_overview(session: Session) -> dict[str, Any] | None:
    """Customers scored, as-of time and means; None before the first refresh."""
    row = session.execute(
        select(
            func.count(),
            func.avg(PersonScore.p_alive),
            func.sum(PersonScore.clv_12m_minor),
            func.avg(PersonScore.churn_probability),
        )
    ).one()
    refresh = latest_refresh(session)
    if not row[0] or refresh is None:
        return None
    count, p_alive, clv_total, churn = row
    currency = refresh.currency
    return {
        "customers": count,
        "as_of": refresh.as_of,
        "model_version": refresh.model_version,
        "mean_p_alive": p_alive,
        "total_clv_12m_minor": int(clv_total) if clv_total is not None else None,
        "mean_churn_probability": churn,
        "currency": currency,
    }


def segment_counts(session: Session) -> list[dict[str, Any]]:
    rows = dict(
        session.execute(
            select(PersonScore.rfm_segment, func.count()).group_by(PersonScore.rfm_segment)
        ).all()
    )
    return [{"segment": s, "customers": int(rows.get(s, 0))} for s in SEGMENTS]


def clv_histogram(session: Session, bins: int = CLV_BINS) -> dict[str, Any]:
    """Customers per CLV bin up to the 99th percentile, the rest in a last open bin."""
    count = session.scalar(select(func.count(PersonScore.clv_12m_minor))) or 0
    if count == 0:
        return {"edges_minor": [], "counts": [], "overflow": 0}
    ordered = select(PersonScore.clv_12m_minor).where(PersonScore.clv_12m_minor.isnot(None))
    ordered = ordered.order_by(PersonScore.clv_12m_minor)
    # The sorted index on clv_12m_minor makes the percentile an index walk, not a sort.
    top = session.scalar(ordered.offset(int(count * 0.99)).limit(1)) or 0
    width = max(1, int(np.ceil(max(top, 1) / bins)))
    bucket = cast(PersonScore.clv_12m_minor / width, Integer)
    rows = session.execute(
        select(case((bucket >= bins, bins), else_=bucket).label("b"), func.count())
        .where(PersonScore.clv_12m_minor.isnot(None))
        .group_by("b")
    ).all()
    counts = [0] * (bins + 1)
    for b, n in rows:
        counts[max(0, min(int(b), bins))] += n
    return {
        "edges_minor": [i * width for i in range(bins + 1)],
        "counts": counts[:bins],
        "overflow": counts[bins],
    }


def p_alive_grid(session: Session) -> dict[str, Any]:
    """Mean P(alive) and customers by repeat frequency and months since last purchase."""
    freq = case(
        (PersonScore.frequency >= FREQUENCY_CAP, FREQUENCY_CAP), else_=PersonScore.frequency
    )
    raw_months = cast(PersonScore.recency_days / RECENCY_BUCKET_DAYS, Integer)
    months = case((raw_months >= RECENCY_BUCKETS, RECENCY_BUCKETS), else_=raw_months)
    rows = session.execute(
        select(freq.label("f"), months.label("m"), func.avg(PersonScore.p_alive), func.count())
        .where(PersonScore.p_alive.isnot(None))
        .group_by("f", "m")
    ).all()
    return {
        "frequency_labels": [str(i) for i in range(FREQUENCY_CAP)] + [f"{FREQUENCY_CAP}+"],
        "recency_labels": [f"{i}" for i in range(RECENCY_BUCKETS)] + [f"{RECENCY_BUCKETS}+"],
        "cells": [
            {"frequency": int(f), "recency": int(m), "p_alive": float(p), "customers": int(n)}
            for f, m, p, n in rows
        ],
    }


def cohort_table(session: Session, max_cohorts: int = 24) -> dict[str, Any]:
    """Monthly first-purchase cohorts: size and share that bought again in month k.

    PRODUCT.md: "share of a first-purchase cohort that purchased again in month k", as
    :func:`tenure.analytics.cohort_retention` with ``freq="M"``, counted in SQL: distinct
    (person, month) pairs of orders, each person's first month, then customers per
    (cohort, month). Months after the last observed month are null.
    """
    days = Days(session.get_bind().dialect.name)
    month = days.month(Event.occurred_at)
    person_months = (
        select(Event.person_id, month.label("month"))
        .where(Event.type == "order")
        .group_by(Event.person_id, month)
        .subquery()
    )
    with_cohort = select(
        person_months.c.month,
        func.min(person_months.c.month)
        .over(partition_by=person_months.c.person_id)
        .label("cohort"),
    ).subquery()
    rows = session.execute(
        select(with_cohort.c.cohort, with_cohort.c.month, func.count()).group_by(
            with_cohort.c.cohort, with_cohort.c.month
        )
    ).all()
    if not rows:
        return {"cohorts": [], "sizes": [], "k": [], "rates": []}
    frame = pd.DataFrame(rows, columns=["cohort", "month", "customers"])
    frame["cohort"] = pd.PeriodIndex(frame["cohort"], freq="M")
    frame["month"] = pd.PeriodIndex(frame["month"], freq="M")
    last = frame["month"].max()
    frame["k"] = (frame["month"] - frame["cohort"]).map(lambda offset: offset.n)
    sizes = frame[frame["k"] == 0].set_index("cohort")["customers"].sort_index()
    sizes = sizes.iloc[-max_cohorts:]
    max_k = max(int((last - sizes.index.min()).n), 1)
    counts = (
        frame[frame["k"] > 0]
        .pivot_table(index="cohort", columns="k", values="customers", aggfunc="sum")
        .reindex(index=sizes.index, columns=range(1, max_k + 1))
        .fillna(0)
    )
    rates = counts.div(sizes, axis=0)
    observed = np.array(
        [[(c + k) <= last for k in range(1, max_k + 1)] for c in sizes.index], dtype=bool
    )
    values = np.where(observed, rates.to_numpy(), np.nan)
    return {
        "cohorts": [str(c) for c in sizes.index],
        "sizes": [int(s) for s in sizes.to_numpy()],
        "k": list(range(1, max_k + 1)),
        "rates": [[None if np.isnan(v) else round(float(v), 4) for v in row] for row in values],
    }
