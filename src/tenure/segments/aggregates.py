"""Event aggregates: ``count(order, last 90 days)``, ``sum(order.amount)``, ``last(any via email)``.

Each aggregate is a correlated subquery on the person's events, which the indexes
``(person_id, type, occurred_at, amount_minor)`` and ``(person_id, occurred_at, id)``
answer without reading the table for counts, sums and last times of a type. Only events
up to the evaluation time count (``occurred_at <= now``), so a refresh as of a past date
sees the timeline as it was then.

Two rewrites turn questions about existence into ``EXISTS``, which stops at the first
matching event instead of aggregating all of them: ``count(...) >= 1`` / ``> 0`` (and
``= 0`` / ``< 1``, their negations) and ``last(...) within N days`` / ``last(...) >= t``.

Amounts are in the workspace currency, written in major units (``100.00``) and compared
with the stored minor units; like the scores, segments assume one order currency.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, func, not_, select
from sqlalchemy.sql.elements import ColumnElement

from tenure.customers.models import Person
from tenure.segments.operands import Context, Predicate, Scalar, check_op, shift
from tenure.segments.syntax import Aggregate, Compare, FilterError, Moment, Number, Span
from tenure.timeline.models import Event

people = Person.__table__
events = Event.__table__

MONEY_FUNCTIONS = ("sum", "avg", "min", "max")
TIME_FUNCTIONS = ("first", "last")


def _describe(node: Aggregate) -> str:
    return f"{node.function}(...)"


def _check(node: Aggregate) -> None:
    measure = node.events.measure
    if node.function in MONEY_FUNCTIONS and measure != "amount":
        raise FilterError(
            node.events.pos,
            f"{node.function} adds up amounts",
            [f"{node.events.type or 'any'}.amount"],
        )
    if node.function not in MONEY_FUNCTIONS and measure is not None:
        raise FilterError(
            node.events.pos, f"{node.function} takes events, not amounts", [str(node.events.type)]
        )


def _filters(node: Aggregate, ctx: Context, alias: Any) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        alias.c.person_id == people.c.id,
        alias.c.occurred_at <= ctx.now,
    ]
    if node.events.type is not None:
        conditions.append(alias.c.type == node.events.type)
    if node.events.channel is not None:
        conditions.append(alias.c.channel == node.events.channel)
    window = node.window
    if window is None:
        return conditions
    if window.kind == "last":
        assert window.span is not None
        conditions.append(alias.c.occurred_at >= shift(ctx.now, window.span, -1))
    else:
        assert window.start is not None
        conditions.append(alias.c.occurred_at >= window.start.value)
    if window.kind == "between":
        assert window.end is not None
        end = window.end
        if end.date_only:
            conditions.append(alias.c.occurred_at < end.value + timedelta(days=1))
        else:
            conditions.append(alias.c.occurred_at <= end.value)
    return conditions


class EventAggregate:
    """An aggregate of the person's events, compared with a literal."""

    def __init__(self, node: Aggregate) -> None:
        _check(node)
        self.node = node
        self.label = _describe(node)

    def _subquery(self, ctx: Context, column: Any) -> Any:
        alias = events.alias("e")
        query: Select[Any] = select(column(alias)).where(*_filters(self.node, ctx, alias))
        return query.correlate(people).scalar_subquery()

    def _exists(self, ctx: Context, *extra: Any) -> Predicate:
        alias = events.alias("e")
        conditions = _filters(self.node, ctx, alias)
        conditions.extend(condition(alias) for condition in extra)
        return exists().where(*conditions).correlate(people)

    def compare(self, node: Compare, ctx: Context) -> Predicate:
        function = self.node.function
        if function == "count":
            rewritten = self._count_exists(node, ctx)
            if rewritten is not None:
                return rewritten
            count = self._subquery(ctx, lambda _: func.count())
            return Scalar(self.label, count, "number", guard="none").compare(node, ctx)
        if function in MONEY_FUNCTIONS:
            sql_function = getattr(func, function)
            if function == "sum":
                # No orders spent nothing: sum(order.amount) < 10 includes them.
                total = self._subquery(ctx, lambda e: func.coalesce(func.sum(e.c.amount_minor), 0))
                return Scalar(self.label, total, "money", guard="none").compare(node, ctx)
            value = self._subquery(ctx, lambda e: sql_function(e.c.amount_minor))
            return Scalar(self.label, value, "money", guard="coalesce").compare(node, ctx)
        if function == "last":
            rewritten = self._recent_exists(node, ctx)
            if rewritten is not None:
                return rewritten
        pick = func.max if function == "last" else func.min
        moment = self._subquery(ctx, lambda e: pick(e.c.occurred_at))
        return Scalar(self.label, moment, "datetime", guard="coalesce").compare(node, ctx)

    def present(self, ctx: Context) -> Predicate:
        """The person has at least one such event."""
        return self._exists(ctx)

    def _count_exists(self, node: Compare, ctx: Context) -> Predicate | None:
        value = node.value
        if not isinstance(value, Number):
            return None
        check_op(node, "number", self.label)
        threshold = value.value
        some = {(">=", Decimal(1)), (">", Decimal(0)), ("!=", Decimal(0))}
        none = {("=", Decimal(0)), ("<", Decimal(1)), ("<=", Decimal(0))}
        if (node.op, threshold) in some:
            return self._exists(ctx)
        if (node.op, threshold) in none:
            return not_(self._exists(ctx))
        return None

    def _recent_exists(self, node: Compare, ctx: Context) -> Predicate | None:
        """``last(x) within N days`` is "an x since now - N": one index seek, no max()."""
        if node.op == "within" and node.direction == "last":
            span = node.value
            assert isinstance(span, Span)
            start = shift(ctx.now, span, -1)
            return self._exists(ctx, lambda e: e.c.occurred_at >= start)
        if node.op in (">=", ">") and isinstance(node.value, Moment):
            moment = node.value
            if node.op == ">" and moment.date_only:
                bound = moment.value + timedelta(days=1)
                return self._exists(ctx, lambda e: e.c.occurred_at >= bound)
            if node.op == ">":
                return self._exists(ctx, lambda e: e.c.occurred_at > moment.value)
            return self._exists(ctx, lambda e: e.c.occurred_at >= moment.value)
        return None
