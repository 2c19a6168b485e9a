"""The card registry of the person page, and assembling one person's cards.

A card is data plus a template: ``load(session, view)`` reads what the card shows (in the
page's session, against the page's one clock reading ``view.today``) and the web layer
renders ``template`` with it as ``card``. Cards are ordered by ``order`` (the built-ins
leave gaps of 10) and registered at start-up by ``tenure.registrations``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tenure.workspace import clock


@dataclass(frozen=True)
class PersonView:
    """What every card of one page view shares: the person, their 360 view as the read
    model serves it (``tenure.summaries``: identities, tags, consents, orders, recent
    events, open tasks, notes, scores, stage, risk) and the workspace's today."""

    person_id: int
    today: datetime
    fixed_clock: bool
    summary: Mapping[str, Any]


Loader = Callable[[Session, PersonView], Any]


@dataclass(frozen=True)
class Card:
    key: str
    title: str
    order: int
    template: str
    load: Loader


@dataclass(frozen=True)
class LoadedCard:
    key: str
    title: str
    template: str
    data: Any


_cards: dict[str, Card] = {}


def register_card(card: Card) -> None:
    """Add ``card`` to every person page; registering a key again replaces it."""
    _cards[card.key] = card


def registered_cards() -> list[Card]:
    return sorted(_cards.values(), key=lambda c: (c.order, c.key))


def person_view(session: Session, person_id: int, summary: Mapping[str, Any]) -> PersonView:
    """One clock reading for the whole page: every card judges against the same today."""
    return PersonView(
        person_id=person_id,
        today=clock.now(session),
        fixed_clock=clock.is_fixed(session),
        summary=summary,
    )


def load_cards(session: Session, view: PersonView) -> list[LoadedCard]:
    """Every registered card's data for ``view``, in page order."""
    return [
        LoadedCard(card.key, card.title, card.template, card.load(session, view))
        for card in registered_cards()
    ]
