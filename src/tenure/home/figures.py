"""Home's key figures, stored per book and read by key (``models.HomeFigures``).

The KPIs add up whole tables (every person, every score, every risk row, 60 days of
orders), so their cost grows with the workspace: at 1M people a visit to Home would
spend most of its time on them. The ``home.figures`` job (every 15 minutes, see
``tenure.all_tasks``) computes every book's figures with the same functions the page
used (``home.kpis``) and stores them; Home reads its book's row and says when it was
computed. Until the job first runs, Home adds them up live, as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.db.types import utcnow
from tenure.home import kpis
from tenure.home.models import HomeFigures
from tenure.retention.actions import load_config
from tenure.workspace import clock

EVERYONE = "everyone"


def book_key(owner_id: int | None) -> str:
    return EVERYONE if owner_id is None else f"owner:{owner_id}"


def live(session: Session, owner_id: int | None, now: datetime, threshold: float) -> dict[str, Any]:
    """The book's KPIs added up now (``as_of`` None: they are live)."""
    customers = kpis.customers_owned(session, owner_id)
    return {
        "customers": customers,
        "revenue": kpis.revenue(session, owner_id, now),
        "predicted_clv_12m": kpis.predicted_clv(session, owner_id),
        "churn": kpis.churn_risk(session, owner_id, customers=customers, threshold=threshold),
        "as_of": None,
    }


def _stored_form(figures: dict[str, Any]) -> dict[str, Any]:
    """What a row keeps: the revenue periods follow from ``as_of`` (no datetimes in JSON)."""
    return {
        "customers": figures["customers"],
        "revenue_by_currency": figures["revenue"]["by_currency"],
        "predicted_clv_12m": figures["predicted_clv_12m"],
        "churn": figures["churn"],
    }


def _empty_book(threshold: float) -> dict[str, Any]:
    """An owner who owned nobody when the figures were computed (``kpis`` of no people)."""
    return {
        "customers": 0,
        "revenue_by_currency": [],
        "predicted_clv_12m": [],
        "churn": {
            "mean_churn_probability": None,
            "customers_with_probability": 0,
            "already_churned": 0,
            "at_risk": 0,
            "share_at_risk": None,
            "threshold": threshold,
        },
    }


def refresh(session: Session) -> int:
    """Compute and store every book's figures (everyone, and each owner of a person) as of
    the workspace clock; returns how many books. Books no longer owned are dropped."""
    now = clock.now(session)
    threshold = load_config(session).risk_threshold
    owners = session.scalars(
        select(Person.owner_id).where(Person.owner_id.is_not(None)).distinct()
    ).all()
    computed_at = utcnow()
    rows = [
        {
            "book": book_key(owner_id),
            "figures": _stored_form(live(session, owner_id, now, threshold)),
            "as_of": now,
            "computed_at": computed_at,
        }
        for owner_id in [None, *owners]
    ]
    session.execute(delete(HomeFigures))
    session.execute(insert(HomeFigures), rows)
    return len(rows)


def stored(session: Session, owner_id: int | None) -> dict[str, Any] | None:
    """The book's stored KPIs (``as_of``: when they were computed, system time), or None
    before the figures were first computed."""
    wanted = [book_key(owner_id), EVERYONE]
    rows = {
        row.book: row
        for row in session.scalars(select(HomeFigures).where(HomeFigures.book.in_(wanted)))
    }
    row = rows.get(book_key(owner_id))
    if row is None and EVERYONE not in rows:
        return None
    if row is None:  # computed, and this owner owned nobody then
        everyone = rows[EVERYONE]
        figures = _empty_book(everyone.figures["churn"]["threshold"])
        as_of, computed_at = everyone.as_of, everyone.computed_at
    else:
        figures, as_of, computed_at = row.figures, row.as_of, row.computed_at
    last_start, previous_start = as_of - kpis.PERIOD, as_of - 2 * kpis.PERIOD
    return {
        "customers": figures["customers"],
        "revenue": {
            "last_period": {"start": last_start, "end": as_of},
            "previous_period": {"start": previous_start, "end": last_start},
            "by_currency": figures["revenue_by_currency"],
        },
        "predicted_clv_12m": figures["predicted_clv_12m"],
        "churn": figures["churn"],
        "as_of": computed_at,
    }
