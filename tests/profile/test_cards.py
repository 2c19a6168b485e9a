"""Person page cards: registered by capabilities, drawn in order, all against one today."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tenure.customers.models import Person
from tenure.profile import cards
from tenure.profile.cards import Card, PersonView, register_card, registered_cards
from tenure.workspace.clock import fix_now
from tests.pages import log_in_as


def _section_ids(html: str) -> list[str]:
    grid = html.split('<div class="grid">')[1].split('<section class="card" id="timeline">')[0]
    return re.findall(r'<section class="card" id="([a-z-]+)">', grid)


def test_every_registered_card_is_drawn_in_order(client, session):
    ada = Person(first_name="Ada", search_text="ada")
    session.add(ada)
    session.flush()
    log_in_as(client, session, "sales", email="rep@example.com", password="rep-pass-1")
    html = client.get(f"/people/{ada.id}").text
    assert _section_ids(html) == [card.key for card in registered_cards()]
    assert _section_ids(html)[:5] == ["summary", "scores", "stage", "risk", "next-best-action"]


def test_a_new_capability_adds_a_card_without_touching_the_page(client, session):
    ada = Person(first_name="Ada", search_text="ada")
    session.add(ada)
    session.flush()
    fix_now(session, datetime(1998, 7, 1, tzinfo=UTC))
    seen: list[PersonView] = []

    def load(_session, view: PersonView) -> dict:
        seen.append(view)
        return {"labels": {}}

    saved = dict(cards._cards)
    try:
        # A capability's card, drawn with an existing template under its own key.
        register_card(Card("loyalty", "Loyalty", 15, "people/cards/attributes.html", load))
        log_in_as(client, session, "sales", email="rep@example.com", password="rep-pass-1")
        html = client.get(f"/people/{ada.id}").text
    finally:
        cards._cards.clear()
        cards._cards.update(saved)
    assert _section_ids(html)[:3] == ["summary", "loyalty", "scores"]
    # The loader got the page's one clock reading: the workspace's fixed today.
    assert [(v.person_id, v.today, v.fixed_clock) for v in seen] == [
        (ada.id, datetime(1998, 7, 1, tzinfo=UTC), True)
    ]
    assert "Today in this workspace: <time" in html and ">1998-07-01</time>" in html
