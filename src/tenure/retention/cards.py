"""The Risk and Next best action cards of the person page (registered with
``tenure.profile``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tenure.jobs.queries import pending_toward
from tenure.profile.cards import Card, PersonView, register_card
from tenure.retention import queries

#: The job that mines the next-best-action rules (``retention.tasks``), the nightly
#: chain's last step.
MINE_NBA_TASK = "retention.mine_nba"


def risk_card(session: Session, view: PersonView) -> dict[str, Any]:
    risk = queries.person_risk(session, view.person_id)
    as_of = risk.get("as_of")
    risk["days_behind"] = (view.today.date() - as_of.date()).days if as_of else None
    return risk


def next_best_action_card(session: Session, view: PersonView) -> dict[str, Any]:
    offers = queries.next_best_action(session, view.person_id, as_of=view.today)
    if not offers["run"]:
        # No rules yet: "computing" while the nightly chain that mines them is pending.
        return offers | {"computing": pending_toward(session, MINE_NBA_TASK)}
    if not offers["offers"]:
        # A customer who bought every category may still have product-level rules.
        products = queries.next_best_action(session, view.person_id, as_of=view.today, level="sku")
        if products["offers"]:
            return products
    return offers


def register() -> None:
    register_card(Card("risk", "Risk", 40, "retention/_risk_card.html", risk_card))
    register_card(
        Card(
            "next-best-action",
            "Next best action",
            50,
            "retention/_nba_card.html",
            next_best_action_card,
        )
    )
