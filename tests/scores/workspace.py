"""A small generated workspace: customers buying as the BG/NBD story goes, plus visits.

Each customer buys at a Poisson rate while active and drops out after any purchase with
some probability, so the data holds repeat buyers, one-time buyers, lapsed and active
customers: enough for every model of a refresh to fit in a couple of seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Connection

from tenure.customers.models import Person
from tenure.db.bulk import insert_rows
from tenure.timeline.models import Event

START = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
PERSON_COLUMNS = (
    "first_name",
    "last_name",
    "attributes",
    "search_text",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "person_id",
    "occurred_at",
    "received_at",
    "type",
    "channel",
    "source",
    "amount_minor",
    "currency",
    "payload",
)


def add_people(connection: Connection, count: int, prefix: str = "c") -> list[int]:
    rows = [(f"{prefix}{i}", "Test", {}, f"{prefix}{i} test", START, START) for i in range(count)]
    return insert_rows(connection, Person.__table__, PERSON_COLUMNS, rows, return_ids=True)


def event(
    person_id: int,
    at: datetime,
    kind: str = "order",
    amount: int | None = None,
    payload: dict | None = None,
) -> tuple:
    currency = "USD" if amount is not None else None
    return (person_id, at, at, kind, "web", "test", amount, currency, payload or {})


def add_events(connection: Connection, rows: list[tuple]) -> None:
    insert_rows(connection, Event.__table__, EVENT_COLUMNS, rows)


def generate(connection: Connection, customers: int = 240, seed: int = 7) -> list[int]:
    """Customers with purchase histories between START and AS_OF; returns their ids."""
    rng = np.random.default_rng(seed)
    ids = add_people(connection, customers)
    span_days = (AS_OF - START).days
    rows = []
    for person_id in ids:
        rate = rng.gamma(0.8, 1 / 20)  # purchases per day while active
        drop = rng.beta(1.0, 3.0)
        spend = rng.gamma(4.0, 1000.0)  # mean order value in cents
        day = float(rng.integers(0, span_days * 2 // 3))
        while day < span_days:
            at = START + timedelta(days=day, hours=int(rng.integers(8, 20)))
            rows.append(event(person_id, at, amount=int(rng.gamma(6.0, spend / 6.0)) + 100))
            if rng.random() < 0.1:  # a second order the same day: one transaction
                rows.append(event(person_id, at + timedelta(minutes=30), amount=500))
            if rng.random() < 0.5:
                rows.append(event(person_id, at - timedelta(days=2), kind="visit"))
            if rng.random() < drop:
                break
            day += rng.exponential(1 / rate)
    add_events(connection, rows)
    return ids
