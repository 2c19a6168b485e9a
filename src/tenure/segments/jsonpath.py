"""Comparisons with one key of a JSON document, the same on SQLite and PostgreSQL.

A value only compares with a literal of its own JSON type: ``attribute.zip = "02139"``
does not match the number 2139, and ``attribute.seats > 10`` ignores ``"many"``. Without
the type checks the backends disagree (PostgreSQL's ``->>`` turns 2139 into text that
equals ``"2139"``; SQLite orders any text above any number) or fail (casting ``"many"``
to a number raises on PostgreSQL).

Numbers compare exactly when whole (SQLite's ``integer``, PostgreSQL's whole
``numeric``) and as doubles when they have a fraction (SQLite reads them as doubles), so
``attribute.seats < 12345678901234567.5`` has the same members on both.

The typed reads themselves are ``tenure.db.dialect.JsonKey``; the key is a validated
name (``KEY``), passed as a bound JSON path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_

from tenure.db.dialect import JsonKey
from tenure.segments.operands import (
    Context,
    Predicate,
    Scalar,
    check_op,
    convert,
    finish,
    literals,
    number_condition,
    shift,
    two_valued,
)
from tenure.segments.syntax import (
    Boolean,
    Compare,
    FilterError,
    Moment,
    Number,
    Span,
)
from tenure.segments.syntax import (
    String as Str,
)

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class JsonAttribute:
    """``attribute.<key>``: the literal decides the type the value is read as.

    Dates are stored as ISO text (``customers.attributes``), so a date literal compares
    as ``YYYY-MM-DD`` text, which orders like the date.
    """

    label: str
    value: JsonKey

    def compare(self, node: Compare, ctx: Context) -> Predicate:
        if node.op == "within":
            return self._within(node, ctx)
        values = literals(node)
        first = values[0]
        for other in values[1:]:
            if type(other) is not type(first):
                raise FilterError(other.pos, "a list holds values of one type", [_kind(first)])
        if isinstance(first, Boolean):
            check_op(node, "bool", self.label)
            return finish(self.value.is_true(first.value), node)
        if isinstance(first, Number):
            return self._number(node, ctx)
        if isinstance(first, Moment):
            node = _as_text(node)
        equality = node.op in ("=", "!=", "in", "not in")
        text = self.value.text(equality=equality)
        return Scalar(self.label, text, "string", guard="coalesce").compare(node, ctx)

    def _number(self, node: Compare, ctx: Context) -> Predicate:
        op = check_op(node, "number", self.label)
        values = [convert(v, "number", self.label, ctx) for v in literals(node)]
        whole, fraction = self.value.integer(), self.value.fraction()
        condition = or_(
            number_condition(whole, op, values, integral=True),
            number_condition(fraction, op, values, integral=False),
        )
        return finish(two_valued(condition, self.value.number(), "coalesce", node, ctx), node)

    def _within(self, node: Compare, ctx: Context) -> Predicate:
        span = node.value
        assert isinstance(span, Span)
        text = self.value.text()
        if node.direction == "next":
            low, high = ctx.now, shift(ctx.now, span, +1)
        else:
            low, high = shift(ctx.now, span, -1), ctx.now
        # Whole days: a date attribute has no time, so today is within the last 30 days.
        condition = and_(text >= low.date().isoformat(), text <= high.date().isoformat())
        return finish(two_valued(condition, text, "coalesce", node, ctx), node)

    def present(self, ctx: Context) -> Predicate:
        return self.value.present()


def _kind(literal: object) -> str:
    return {Str: '"text"', Number: "a number", Moment: "a date", Boolean: "true or false"}[
        type(literal)
    ]


def _as_text(node: Compare) -> Compare:
    """Date literals as the ISO text dates are stored as."""

    def text(moment: Any) -> Str:
        value = moment.value.date().isoformat() if moment.date_only else moment.value.isoformat()
        return Str(value, moment.pos)

    value = node.value
    converted = tuple(text(v) for v in value) if isinstance(value, tuple) else text(value)
    return Compare(node.operand, node.op, converted, node.pos, node.direction)
