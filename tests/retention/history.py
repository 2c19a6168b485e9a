"""Building customer histories for retention tests: people, events with items, scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.scores.models import PersonScore
from tenure.timeline.models import Event, EventItem
from tests.score_refreshes import refresh_id

AS_OF = datetime(2024, 10, 31, 23, 0, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def person(session: Session, name: str = "Ada Test", owner_id: int | None = None) -> int:
    first, _, last = name.partition(" ")
    row = Person(
        first_name=first,
        last_name=last,
        owner_id=owner_id,
        search_text=name.lower(),
        created_at=LONG_AGO,
        updated_at=LONG_AGO,
    )
    session.add(row)
    session.flush()
    return row.id


def add_event(
    session: Session,
    person_id: int,
    at: datetime,
    kind: str,
    *,
    amount: int | None = None,
    payload: dict[str, Any] | None = None,
    items: list[str] | None = None,
) -> None:
    """One event; ``items`` are categories of the order's line items (SKU = "SKU-" + name)."""
    row = Event(
        person_id=person_id,
        occurred_at=at,
        received_at=at,
        type=kind,
        channel="web",
        source="test",
        amount_minor=amount,
        currency="USD" if amount is not None else None,
        payload=payload or {},
    )
    session.add(row)
    session.flush()
    for category in items or []:
        session.add(
            EventItem(
                event_id=row.id, sku=f"SKU-{category}", category=category, unit_price_minor=1000
            )
        )
    session.flush()


def orders_every(
    session: Session, person_id: int, *, start: datetime, days: int, count: int
) -> datetime:
    """``count`` orders ``days`` apart from ``start``; returns the last order's time."""
    at = start
    for i in range(count):
        at = start + timedelta(days=days * i)
        add_event(session, person_id, at, "order", amount=2500)
    return at


def score(
    session: Session,
    person_id: int,
    *,
    clv_minor: int | None = 10_000,
    p_alive: float | None = 0.9,
    version: str = "1.test-a",
    as_of: datetime = AS_OF,
) -> None:
    """A person_scores row as a refresh would write it (only the read columns matter)."""
    refresh = refresh_id(session, as_of=as_of, version=version)
    row = session.get(PersonScore, person_id)
    if row is None:
        row = PersonScore(person_id=person_id)
        session.add(row)
    row.refresh_id = refresh
    row.purchase_days, row.frequency, row.recency_days, row.age_days = 3, 2, 100, 300
    row.monetary_minor, row.revenue_minor, row.historical_clv_minor = 2500, 7500, 2250
    row.p_alive, row.expected_purchases_90d, row.clv_12m_minor = p_alive, 0.5, clv_minor
    row.r_score, row.f_score, row.m_score, row.rfm_segment = 3, 3, 3, "Loyal"
    row.churn_probability, row.churn_reasons = 0.2, []
    session.flush()
