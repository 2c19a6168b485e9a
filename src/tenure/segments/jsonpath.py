"""Typed reads of one key of a JSON document, the same on SQLite and PostgreSQL.

A value only compares with a literal of its own JSON type: ``attribute.zip = "02139"``
does not match the number 2139, and ``attribute.seats > 10`` ignores ``"many"``. Without
the type checks the backends disagree (PostgreSQL's ``->>`` turns 2139 into text that
equals ``"2139"``; SQLite orders any text above any number) or fail (casting ``"many"``
to a number raises on PostgreSQL).

The key travels as a bound parameter: a JSON path ``$."key"`` on SQLite (the key is a
validated name, so it cannot close the quotes), the right operand of ``->`` / ``->>`` on
PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Numeric, String, Text, and_, case, cast, func, literal
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from tenure.segments.operands import (
    Context,
    Predicate,
    Scalar,
    check_op,
    finish,
    literals,
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
class JsonKey:
    """One key of a JSON column, read per dialect."""

    column: Any
    key: str
    dialect: str

    def _sqlite_path(self) -> ColumnElement[str]:
        return literal(f'$."{self.key}"', String)

    def type_name(self) -> ColumnElement[str]:
        """``text``/``integer``/``real``/``true``/``false``/``null`` (SQLite) or
        ``string``/``number``/``boolean``/``null`` (PostgreSQL); NULL when absent."""
        if self.dialect == "sqlite":
            return func.json_type(self.column, self._sqlite_path(), type_=String)
        element = self.column.op("->", return_type=JSONB)(literal(self.key, String))
        return func.jsonb_typeof(element, type_=String)

    def _raw(self) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            return func.json_extract(self.column, self._sqlite_path())
        return self.column.op("->>", return_type=Text)(literal(self.key, String))

    def text(self, *, equality: bool = False) -> ColumnElement[Any]:
        """The value if it is a JSON string, else NULL."""
        if self.dialect == "sqlite":
            if equality:
                # json_extract has no affinity, so '5' = 5 is false without the type
                # check; skipping it keeps the common `attribute.plan = "pro"` cheap.
                return self._raw()
            return case((self.type_name() == "text", self._raw()))
        return case((self.type_name() == "string", self._raw()))

    def number(self) -> ColumnElement[Any]:
        """The value if it is a JSON number, else NULL."""
        if self.dialect == "sqlite":
            return case((self.type_name().in_(("integer", "real")), self._raw()))
        return case((self.type_name() == "number", cast(self._raw(), Numeric)))

    def is_true(self, value: bool) -> Predicate:
        """The value is the JSON boolean ``value`` (never NULL)."""
        if self.dialect == "sqlite":
            return func.coalesce(self.type_name(), "") == ("true" if value else "false")
        word = "true" if value else "false"
        return and_(
            func.coalesce(self.type_name(), "") == "boolean",
            func.coalesce(self._raw(), "") == word,
        )

    def present(self) -> Predicate:
        return func.coalesce(self.type_name(), "null") != "null"


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
            scalar = Scalar(self.label, self.value.number(), "number", guard="coalesce")
            return scalar.compare(node, ctx)
        if isinstance(first, Moment):
            node = _as_text(node)
        equality = node.op in ("=", "!=", "in", "not in")
        text = self.value.text(equality=equality)
        return Scalar(self.label, text, "string", guard="coalesce").compare(node, ctx)

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
