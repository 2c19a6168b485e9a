"""Per-person aggregates the rules read, each a ``GROUP BY person_id`` over the events of
the people in scope (see :mod:`tenure.lifecycle.rules`).

* ``activity``: order counts, first/last order, engagement, referrals, and one count
  column per ``{"events": ...}`` leaf (conditional sums, one pass over the events);
* ``nps``: the latest NPS answer (``row_number()`` over the person's survey answers);
* ``categories``: item categories first ordered recently (cross-sell).

Measured on SQLite: the ``activity`` columns other than ``channel`` are covered by the
index ``ix_events_person_type_time``, so only rules with a channel touch the table rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, not_, select
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.elements import ColumnElement

from tenure.lifecycle import sql
from tenure.lifecycle.conditions import EventCount
from tenure.lifecycle.models import STAGE_CHANGED
from tenure.scores.sql import Days
from tenure.timeline.models import Event, EventItem

ORDER = "order"
REFUND = "refund"
#: Outbound, or derived from the rules: not a sign of the person's engagement.
NOT_ENGAGEMENT = ("order", "refund", "email_sent", STAGE_CHANGED)
#: Windows of the built-in metrics, in days.
YEAR_DAYS = 365
ENGAGEMENT_DAYS = 90
RECENT_DAYS = 180

#: Restricts a statement to the people in scope, given a person-id column.
Scope = Callable[[Any], ColumnElement[bool]]


@dataclass
class Compiler:
    connection: Connection
    as_of: datetime
    scope: Scope
    dialect: str = field(init=False)
    event_leaves: dict[EventCount, str] = field(default_factory=dict)
    needs: set[str] = field(default_factory=set)
    joins: dict[str, Subquery] = field(default_factory=dict)
    clv_cuts: dict[tuple[str, float], float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dialect = self.connection.dialect.name

    def since(self, days: int) -> datetime:
        return self.as_of - timedelta(days=days)

    def days_ago(self, column: Any) -> ColumnElement[float]:
        return sql.days_between(self.dialect, sql.moment(self.dialect, self.as_of), column)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _activity(compiler: Compiler) -> Subquery:
    e = Event.__table__.c
    is_order = e.type == ORDER
    recent = e.occurred_at > compiler.since(RECENT_DAYS)
    order_amount = func.coalesce(e.amount_minor, 0)
    engaged = e.type.not_in(NOT_ENGAGEMENT)
    columns: list[Any] = [
        e.person_id,
        _count(is_order).label("orders"),
        _count(and_(is_order, e.occurred_at > compiler.since(YEAR_DAYS))).label("orders_365d"),
        _count(e.type == REFUND).label("refunds"),
        func.sum(case((is_order, e.amount_minor))).label("order_amount"),
        func.sum(case((e.type == REFUND, e.amount_minor))).label("refund_amount"),
        func.min(case((is_order, e.occurred_at))).label("first_order_at"),
        func.max(case((is_order, e.occurred_at))).label("last_order_at"),
        _count(engaged).label("engagements"),
        _count(and_(engaged, e.occurred_at > compiler.since(ENGAGEMENT_DAYS))).label(
            "engagements_90d"
        ),
        func.max(case((e.type != "email_sent", e.occurred_at))).label("last_activity_at"),
        _count(e.type == "referral_converted").label("referrals"),
        _count(and_(is_order, recent)).label("recent_orders"),
        func.sum(case((and_(is_order, recent), order_amount))).label("recent_amount"),
        _count(and_(is_order, not_(recent))).label("earlier_orders"),
        func.sum(case((and_(is_order, not_(recent)), order_amount))).label("earlier_amount"),
    ]
    for leaf, label in compiler.event_leaves.items():
        match = [e.type == leaf.type]
        if leaf.within_days is not None:
            match.append(e.occurred_at > compiler.since(leaf.within_days))
        if leaf.channel is not None:
            match.append(e.channel == leaf.channel)
        columns.append(_count(and_(*match)).label(label))
    query = (
        select(*columns)
        .where(
            compiler.scope(e.person_id),
            e.type != STAGE_CHANGED,
            e.occurred_at <= compiler.as_of,
        )
        .group_by(e.person_id)
    )
    return query.subquery("activity")


def _nps(compiler: Compiler) -> Subquery:
    e = Event.__table__.c
    dialect = compiler.dialect
    ranked = (
        select(
            e.person_id,
            sql.json_number(dialect, e.payload, "score").label("score"),
            func.row_number()
            .over(partition_by=e.person_id, order_by=(e.occurred_at.desc(), e.id.desc()))
            .label("rank"),
        )
        .where(
            compiler.scope(e.person_id),
            e.type == "survey_answered",
            e.occurred_at <= compiler.as_of,
            sql.json_equals_text(dialect, e.payload, "survey", "nps"),
        )
        .subquery("nps_ranked")
    )
    return select(ranked.c.person_id, ranked.c.score).where(ranked.c.rank == 1).subquery("nps")


def _categories(compiler: Compiler) -> Subquery:
    e = Event.__table__.c
    items = EventItem.__table__.c
    days = Days(compiler.dialect)
    in_scope = and_(compiler.scope(e.person_id), e.type == ORDER, e.occurred_at <= compiler.as_of)
    first_per_category = (
        select(e.person_id, items.category, func.min(e.occurred_at).label("first_at"))
        .join(EventItem.__table__, items.event_id == e.id)
        .where(in_scope, items.category.is_not(None))
        .group_by(e.person_id, items.category)
        .subquery("category_first")
    )
    first_order = (
        select(e.person_id, func.min(e.occurred_at).label("first_order_at"))
        .where(in_scope)
        .group_by(e.person_id)
        .subquery("first_order")
    )
    c = first_per_category.c
    return (
        select(c.person_id, func.count().label("new_categories"))
        .join(first_order, first_order.c.person_id == c.person_id)
        .where(
            c.first_at > compiler.since(RECENT_DAYS),
            days.of(c.first_at) > days.of(first_order.c.first_order_at),
        )
        .group_by(c.person_id)
        .subquery("categories")
    )


SOURCES: dict[str, Callable[[Compiler], Subquery]] = {
    "activity": _activity,
    "nps": _nps,
    "categories": _categories,
}
