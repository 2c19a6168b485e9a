"""Building people, events and scores for lifecycle tests, on either backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Person, Tag
from tenure.lifecycle.models import LifecycleStage, PersonStage
from tenure.scores.models import PersonScore
from tenure.timeline.ingest import store_events
from tests.score_refreshes import refresh_id

AS_OF = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)


def days_ago(days: float, as_of: datetime = AS_OF) -> datetime:
    return as_of - timedelta(days=days)


def person(session: Session, name: str, tags: list[str] | None = None) -> int:
    found = Person(first_name=name, last_name="Test", search_text=name.lower())
    for tag_name in tags or []:
        tag = session.scalar(select(Tag).where(Tag.name == tag_name))
        found.tags.append(tag or Tag(name=tag_name))
    session.add(found)
    session.flush()
    return found.id


def event(person_id: int, kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": kind, "occurred_at": at.isoformat(), "person_id": person_id}
    if kind in ("order", "refund"):
        item.setdefault("currency", "USD")
        if "items" not in extra:
            item["amount_minor"] = extra.pop("amount_minor", 2000)
    item.update(extra)
    return item


def order(person_id: int, at: datetime, category: str | None = None, amount: int = 2000) -> dict:
    if category is None:
        return event(person_id, "order", at, amount_minor=amount)
    items = [{"sku": f"{category}-1", "category": category, "unit_price_minor": amount}]
    return event(person_id, "order", at, items=items)


def store(session: Session, events: list[dict[str, Any]]) -> list[int]:
    """Store events without the pipeline's reactions: these tests evaluate at AS_OF
    themselves (tests/timeline/test_pipeline.py covers the reactions)."""
    result = store_events(session=session, raw_items=events, actor_id=None)
    assert not result.rejected, result.rejected
    return result.stored_ids


def score(session: Session, person_id: int, **values: Any) -> None:
    """A person_scores row as a refresh would write it, with the given model outputs."""
    defaults: dict[str, Any] = {
        "refresh_id": refresh_id(session, as_of=AS_OF),
        "purchase_days": 1,
        "frequency": 0,
        "recency_days": 0,
        "age_days": 0,
        "monetary_minor": 0,
        "revenue_minor": 0,
        "historical_clv_minor": 0,
        "p_alive": 0.9,
        "expected_purchases_90d": 0.5,
        "clv_12m_minor": 1000,
        "r_score": 3,
        "f_score": 3,
        "m_score": 3,
        "rfm_segment": "Loyal",
        "churn_probability": 0.1,
        "churn_reasons": [],
    }
    session.add(PersonScore(person_id=person_id, **{**defaults, **values}))
    session.flush()


def stage_of(session: Session, person_id: int) -> str | None:
    row = session.execute(
        select(LifecycleStage.key)
        .join(PersonStage, PersonStage.stage_id == LifecycleStage.id)
        .where(PersonStage.person_id == person_id)
    ).scalar_one_or_none()
    return row
