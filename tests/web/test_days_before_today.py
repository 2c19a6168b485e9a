"""Counts of days read as words: "1 day before today", not "1 days before today"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tenure.customers.actions import create_person
from tenure.customers.schemas import PersonCreate
from tenure.identity.actions import create_user
from tenure.timeline.append import append_events
from tenure.web.templating import days_before_today
from tenure.workspace.clock import fix_now
from tests.pages import log_in


def test_the_filter_counts_in_words() -> None:
    assert days_before_today(None) == ""
    assert days_before_today(0) == "today"
    assert days_before_today(1) == "1 day before today"
    assert days_before_today(2) == "2 days before today"
    assert days_before_today(1234) == "1,234 days before today"


def test_a_customer_who_ordered_yesterday(client, session) -> None:
    create_user(session=session, email="rep@example.com", role="sales", password="pass-word-123")
    person = create_person(
        session=session,
        data=PersonCreate(first_name="Yara", last_name="Yesterday"),
        actor_id=None,
        default_region="US",
    )
    append_events(
        session=session,
        raw_items=[
            {
                "type": "order",
                "occurred_at": "1998-06-30T15:00:00Z",
                "person_id": person.id,
                "amount_minor": 1999,
                "currency": "USD",
            }
        ],
        actor_id=None,
    )
    fix_now(session, datetime(1998, 7, 1, 12, tzinfo=UTC))
    session.commit()
    log_in(client, "rep@example.com", "pass-word-123")
    page = client.get(f"/people/{person.id}")
    assert page.status_code == 200
    days = re.search(r'id="days-since-last-order">([^<]*)<', page.text)
    assert days and days.group(1) == "1 day before today"
    assert "1 days" not in page.text
