"""The Workflows card of the person page: the person's workflows, where they are, what
comes next and when (with cancel for editors, on the card's template)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tenure.automation.overview import person_workflows
from tenure.profile.cards import Card, PersonView, register_card


def workflows_card(session: Session, view: PersonView) -> dict[str, Any]:
    return person_workflows(session, view.person_id)


def register() -> None:
    register_card(Card("workflows", "Workflows", 97, "workflows/_person_card.html", workflows_card))
