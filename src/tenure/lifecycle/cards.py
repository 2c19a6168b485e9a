"""The Stage card of the person page (registered with ``tenure.profile``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.lifecycle import queries
from tenure.profile.cards import Card, PersonView, register_card
from tenure.timeline.models import Event


def stage_card(session: Session, view: PersonView) -> dict[str, Any]:
    """Current stage, override, history, and the last order counted against today."""
    last_order = session.scalar(
        select(func.max(Event.occurred_at)).where(
            Event.person_id == view.person_id, Event.type == "order"
        )
    )
    return {
        "current": queries.person_stage(session, view.person_id),
        "history": queries.stage_history(session, view.person_id, limit=50),
        "stages": [(s.key, s.name) for s in queries.stage_model(session).stages],
        "last_order_at": last_order,
        "days_since_last_order": (view.today.date() - last_order.date()).days
        if last_order
        else None,
    }


def register() -> None:
    register_card(Card("stage", "Stage", 30, "lifecycle/_person_stage.html", stage_card))
