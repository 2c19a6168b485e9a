"""The person page's Risk and Next best action cards, rendered by the real app."""

from __future__ import annotations

import re
from datetime import timedelta

from tenure.identity.actions import create_user
from tenure.retention.actions import record_nba_rules, refresh_retention
from tests.pages import log_in

from .history import AS_OF, add_event, person, score


def test_person_page_shows_risk_and_next_best_action(session, client):
    # Given a complaining customer who bought Jazz, and Jazz buyers who go on to Folk
    create_user(session=session, email="sue@example.com", role="support", password="sue-pass-1")
    customer = person(session, "Carla Cards")
    score(session, customer, clv_minor=60_000)
    for days in (1, 2, 3):
        add_event(session, customer, AS_OF - timedelta(days=days), "complaint")
    add_event(session, customer, AS_OF - timedelta(days=10), "order", amount=1500, items=["Jazz"])
    for i in range(4):
        fan = person(session, f"Jazz Fan{i}")
        add_event(session, fan, AS_OF - timedelta(days=300), "order", amount=900, items=["Jazz"])
        add_event(session, fan, AS_OF - timedelta(days=260), "order", amount=900, items=["Folk"])
    quiet = person(session, "Quinn Quiet")
    refresh_retention(session=session, as_of=AS_OF)
    record_nba_rules(session=session, as_of=AS_OF, window_days=90, min_support=3)
    session.commit()
    log_in(client, "sue@example.com", "sue-pass-1")

    # When their page is opened
    html = client.get(f"/people/{customer}").text

    # Then the Risk card gives the risk, the value at risk and the reasons, and the Next
    # best action card the offer, its timing and why
    risk_card = html.split('id="risk"')[1].split("</section>")[0]
    assert "<strong>56%</strong>" in risk_card
    assert "336.96 USD" in risk_card and "600.00 USD" in risk_card
    assert "3 complaints in 30 days (last on 2024-10-30)" in risk_card
    nba_card = html.split('id="next-best-action"')[1].split("</section>")[0]
    assert "<strong>Offer Folk</strong>" in nba_card
    assert "bought Jazz on 2024-10-21" in nba_card
    assert "buyers of Jazz buy Folk within 90 days in 100% of cases" in nba_card

    # A customer without signals or purchases says so
    calm = client.get(f"/people/{quiet}").text
    assert re.search(r"No warning signals as of <time[^>]*>2024-10-31</time>", calm)
    assert "most bought items this customer lacks: Jazz, Folk" in calm
