"""The response type of the customer 360 view."""

from __future__ import annotations

from tenure.customers.schemas import ConsentOut, PersonOut
from tenure.scores.schemas import PersonScoresOut
from tenure.timeline.schemas import EventOut, OpenTask, OrderSummary, RecentNote


class Person360(PersonOut):
    consents: list[ConsentOut]
    orders: OrderSummary
    recent_events: list[EventOut]
    open_tasks: list[OpenTask]
    notes: list[RecentNote]
    scores: PersonScoresOut | None = None
