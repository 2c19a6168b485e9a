"""Customers built for template tests through the product's own paths: a person created by
the customers action, orders appended through the timeline (so the stage pipeline places
them), and next-best-action rules mined from other buyers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tenure.customers.actions import create_person
from tenure.customers.schemas import PersonCreate
from tenure.retention.actions import record_nba_rules
from tenure.timeline.append import append_events
from tenure.workspace import clock

TODAY = datetime(2025, 3, 1, tzinfo=UTC)


def customer(session: Session, first: str, last: str, email: str, **extra: Any) -> int:
    data = PersonCreate(
        first_name=first,
        last_name=last,
        identities=[{"kind": "email", "value": email}],
        **extra,
    )
    return create_person(session=session, data=data, actor_id=None, default_region="US").id


def order(session: Session, person_id: int, at: datetime, *lines: tuple[str, int, int]) -> None:
    """An order of ``(category, quantity, unit price in cents)`` lines."""
    items = [
        {"sku": f"SKU-{c}", "category": c, "quantity": q, "unit_price_minor": p}
        for c, q, p in lines
    ]
    append_events(
        session=session,
        raw_items=[
            {
                "type": "order",
                "occurred_at": at.isoformat(),
                "person_id": person_id,
                "amount_minor": sum(q * p for _, q, p in lines),
                "currency": "USD",
                "items": items,
            }
        ],
        actor_id=None,
    )


def grace_with_history(session: Session) -> int:
    """Grace Hopper bought Books on 2025-01-10 ($42.50: 2 x $15 + 1 x $12.50); five other
    customers bought Books then Music 30 days later, so the mined rule offers her Music."""
    clock.fix_now(session, TODAY)
    for i in range(5):
        other = customer(session, f"Other{i}", "Buyer", f"other{i}@example.com")
        start = datetime(2024, 6, 1, 12, tzinfo=UTC) + timedelta(days=i)
        order(session, other, start, ("Books", 1, 1000))
        order(session, other, start + timedelta(days=30), ("Music", 1, 900))
    grace = customer(session, "Grace", "Hopper", "grace@example.com", job_title="Rear admiral")
    order(session, grace, datetime(2024, 11, 2, 9, tzinfo=UTC), ("Games", 1, 500))
    order(
        session, grace, datetime(2025, 1, 10, 9, tzinfo=UTC), ("Books", 2, 1500), ("Books", 1, 1250)
    )
    record_nba_rules(session=session, min_support=3, window_days=90, levels=("category",))
    session.flush()
    return grace
