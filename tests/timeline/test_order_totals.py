"""``order_totals`` always equals its definition over the events, whoever writes them.

The triggers are checked against a plain Python computation after inserts in any order
(same-day orders, a late-night order that ``date()`` would round up, missing and
negative amounts), orders moved by a real merge and by its undo, changed and deleted
orders, a deleted person; on PostgreSQL also two transactions writing one customer's
orders at once.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Connection, select, text, update

from tenure.db.engine import create_db_engine
from tenure.dedup.merge import merge_people, undo_merge
from tenure.scores.sql import day_number
from tenure.timeline import order_totals
from tenure.timeline.models import Event, OrderTotal

from ..scores.workspace import add_events, add_people, event

START = datetime(2024, 1, 1, tzinfo=UTC)


def _expected(connection: Connection) -> dict[int, tuple]:
    money: dict[int, list[tuple[str, datetime, int | None]]] = defaultdict(list)
    for person_id, kind, at, amount in connection.execute(
        select(Event.person_id, Event.type, Event.occurred_at, Event.amount_minor).where(
            Event.type.in_(("order", "refund")), Event.person_id.is_not(None)
        )
    ):
        money[person_id].append((kind, at.astimezone(UTC), amount))
    out = {}
    for person_id, rows in money.items():
        orders = [(at, amount) for kind, at, amount in rows if kind == "order"]
        days = sorted({day_number(at.date()) for at, _ in orders})
        out[person_id] = (
            len(orders),
            len(days),
            days[0] if days else None,
            days[-1] if days else None,
            _sum([a for _, a in orders]),
            _sum([a for at, a in orders if day_number(at.date()) == days[0]]) if days else None,
            _sum([amount for kind, _, amount in rows if kind == "refund"]),
        )
    return out


def _sum(amounts: list[int | None]) -> int | None:
    present = [a for a in amounts if a is not None]
    return sum(present) if present else None


def _stored(connection: Connection) -> dict[int, tuple]:
    t = OrderTotal.__table__.c
    rows = connection.execute(
        select(
            t.person_id,
            t.order_count,
            t.order_days,
            t.first_order_day,
            t.last_order_day,
            t.revenue_minor,
            t.first_day_revenue_minor,
            t.refund_minor,
        )
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def test_totals_follow_inserts_in_any_order(connection):
    # Given orders arriving out of time order, several a day, one at 23:59:59.9996
    a, b, c = add_people(connection, 3)
    day = START + timedelta(days=10)
    rows = [
        event(a, day + timedelta(hours=12), amount=500),
        event(a, day - timedelta(days=3), amount=None),  # earlier: a new first day
        event(a, day - timedelta(days=3, hours=-1), amount=40),  # same first day
        event(a, day + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_600)),
        event(a, day + timedelta(days=1), amount=-70),  # the next day, after the late one
        event(b, day, amount=None),
        event(b, day, "visit"),
        event(c, day, "refund", amount=300),  # refunds only: a row without orders
        event(c, day, "refund", amount=None),
        event(a, day, "refund", amount=25),
    ]
    for row in rows:
        add_events(connection, [row])  # one statement each: the per-row path

    # Then the stored totals are the definitions'
    expected = _expected(connection)
    assert _stored(connection) == expected
    assert expected[a][:2] == (5, 3)
    assert expected[a][4:] == (470, 40, 25)
    assert expected[c] == (0, 0, None, None, None, None, 300)


def test_totals_follow_bulk_inserts_changes_and_deletes(connection):
    # Given a thousand random orders of 50 customers inserted in one statement
    rng = np.random.default_rng(3)
    people = add_people(connection, 50)
    rows = [
        event(
            int(rng.choice(people)),
            START + timedelta(minutes=int(rng.integers(0, 60 * 24 * 30))),
            kind="refund" if rng.random() < 0.1 else "order",
            amount=None if rng.random() < 0.1 else int(rng.integers(-500, 5_000)),
        )
        for _ in range(1_000)
    ]
    add_events(connection, rows)
    assert _stored(connection) == _expected(connection)

    # When orders are moved, changed, re-typed and deleted, and a customer is deleted
    ids = list(connection.scalars(select(Event.id).order_by(Event.id)))
    sql = connection.exec_driver_sql
    sql(f"UPDATE events SET person_id = {people[0]} WHERE id IN ({ids[5]}, {ids[6]})")
    sql(f"UPDATE events SET amount_minor = 12345 WHERE id = {ids[7]}")
    events = Event.__table__
    moved_at = connection.scalar(select(events.c.occurred_at).where(events.c.id == ids[8]))
    connection.execute(
        update(events)
        .where(events.c.id == ids[8])
        .values(occurred_at=moved_at - timedelta(days=40))
    )
    sql(f"UPDATE events SET type = 'visit' WHERE id = {ids[9]}")
    sql(f"DELETE FROM events WHERE id IN ({ids[10]}, {ids[11]}, {ids[12]})")
    sql(f"DELETE FROM people WHERE id = {people[1]}")

    # Then the totals still equal the definitions, and the deleted customer has no row
    stored = _stored(connection)
    assert stored == _expected(connection)
    assert people[1] not in stored

    # And a rebuild from scratch writes the same rows
    order_totals.rebuild(connection)
    assert _stored(connection) == stored


def test_totals_move_with_a_merge_and_its_undo(session):
    # Given two customers with orders, the survivor's first purchase later than the loser's
    connection = session.connection()
    survivor, loser = add_people(connection, 2)
    add_events(
        connection,
        [
            event(survivor, START + timedelta(days=20), amount=100),
            event(loser, START + timedelta(days=2), amount=7),
            event(loser, START + timedelta(days=20, hours=1), amount=3),
        ],
    )
    before = _stored(connection)

    # When they are merged, the loser's orders become the survivor's
    merge = merge_people(
        session=session, survivor_id=survivor, loser_id=loser, actor_id=None, source="test"
    )
    session.flush()
    merged = _stored(connection)
    assert merged == _expected(connection)
    assert merged[survivor][:2] == (3, 2)
    assert merged[survivor][4:] == (110, 7, None)
    assert loser not in merged

    # And the undo gives each their own orders back
    undo_merge(session=session, merge_id=merge.id, actor_id=None)
    session.flush()
    assert _stored(connection) == before


def test_concurrent_writers_of_one_customer(fresh_database_url, backend):
    """Two transactions add an order for one new customer on the same day at once."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    engine = create_db_engine(fresh_database_url)
    with engine.begin() as connection:
        (person,) = add_people(connection, 1)
    first_in = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            first_in.wait(10)
            with engine.begin() as connection:
                add_events(connection, [event(person, START + timedelta(hours=9), amount=5)])
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    thread = threading.Thread(target=second_writer)
    thread.start()
    with engine.begin() as connection:
        add_events(connection, [event(person, START + timedelta(hours=8), amount=2)])
        first_in.set()
        # The second writer now waits on this customer's row until this commits.
        connection.execute(text("SELECT pg_sleep(0.3)"))
    thread.join(10)
    assert not errors
    with engine.connect() as connection:
        stored = _stored(connection)
        assert stored == _expected(connection)
    assert stored[person][:2] == (2, 1)
    assert stored[person][4:] == (7, 7, None)
    engine.dispose()
