"""The customer's own cards on the person page: summary, identities, attributes,
consents, notes and tasks (customers' and the timeline's data; the summary and the
consents as the read model holds them, ``PersonView.summary``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tenure.customers import queries
from tenure.profile.cards import Card, PersonView, register_card


def _summary(session: Session, view: PersonView) -> dict[str, Any]:
    orders = view.summary["orders"]
    last = orders["last_order_at"]
    return {
        "orders": orders,
        # Counted against the page's today, like the stage and the scores beside it.
        "days_since_last_order": (view.today.date() - last.date()).days if last else None,
    }


def _attributes(session: Session, view: PersonView) -> dict[str, Any]:
    return {"labels": {d.key: d.label for d in queries.list_attribute_definitions(session)}}


def _consents(session: Session, view: PersonView) -> list[dict[str, Any]]:
    return list(view.summary["consents"])


def _notes(session: Session, view: PersonView) -> list[Any]:
    return list(queries.notes_for(session, person_id=view.person_id))


def _tasks(session: Session, view: PersonView) -> list[Any]:
    return list(queries.tasks_for(session, person_id=view.person_id))


def _nothing(session: Session, view: PersonView) -> None:
    return None


def register() -> None:
    for card in (
        Card("summary", "Summary", 10, "people/cards/summary.html", _summary),
        Card("identities", "Identities", 60, "people/cards/identities.html", _nothing),
        Card("attributes", "Attributes", 70, "people/cards/attributes.html", _attributes),
        Card("consents", "Consents", 80, "people/cards/consents.html", _consents),
        Card("notes", "Notes", 90, "people/cards/notes.html", _notes),
        Card("tasks", "Tasks", 100, "people/cards/tasks.html", _tasks),
    ):
        register_card(card)
