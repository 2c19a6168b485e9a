"""The Emails card of the person page: recent messages and the one-off send form."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tenure.messaging.queries import list_messages
from tenure.messaging.templating.queries import list_templates
from tenure.profile.cards import Card, PersonView, register_card

RECENT = 10


def emails_card(session: Session, view: PersonView) -> dict[str, Any]:
    return {
        "messages": list_messages(session, person_id=view.person_id, limit=RECENT),
        "templates": [
            {"id": t["id"], "name": t["name"], "purpose": t["purpose"]}
            for t in list_templates(session)
        ],
    }


def register() -> None:
    register_card(Card("emails", "Emails", 95, "messaging/_person_emails.html", emails_card))
