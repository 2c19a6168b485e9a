"""The Scores card of the person page (registered with ``tenure.profile``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tenure.profile.cards import Card, PersonView, register_card
from tenure.scores.queries import person_scores


def scores_card(session: Session, view: PersonView) -> dict[str, Any] | None:
    """The person's scores and how far their "as of" lies behind the page's today."""
    scores = person_scores(session, view.person_id)
    if scores is None:
        return None
    return {**scores, "days_behind": (view.today.date() - scores["as_of"].date()).days}


def register() -> None:
    register_card(Card("scores", "Scores", 20, "people/cards/scores.html", scores_card))
