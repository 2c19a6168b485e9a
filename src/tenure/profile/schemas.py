"""The customer 360 view as data (the API's ``GET /people/{id}`` adds the scores)."""

from __future__ import annotations

from tenure.customers.schemas import ConsentOut, PersonOut
from tenure.timeline.schemas import EventOut, OpenTask, OrderSummary, RecentNote


class PersonProfile(PersonOut):
    consents: list[ConsentOut]
    orders: OrderSummary
    recent_events: list[EventOut]
    open_tasks: list[OpenTask]
    notes: list[RecentNote]
