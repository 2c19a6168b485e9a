"""Operands and their comparisons with literals, compiled to two-valued SQL.

Every condition behaves as if it were never NULL: a missing value (no score, no such
attribute, no order) makes a comparison false, and ``not`` / ``!=`` / ``not in`` are its
exact complement. SQL's three-valued logic would otherwise drop people with a missing
value from both ``x = 1`` and ``not x = 1``. A guard is needed only under an odd number
of negations: elsewhere a NULL condition rejects the row exactly as false would, because
AND and OR are monotone and WHERE keeps only true rows. So ``Context.negated`` tracks the
polarity, and only negated comparisons are guarded: cheap column expressions with
``AND x IS NOT NULL``, which keeps indexes usable; subqueries and JSON extractions with
``COALESCE(cond, false)``, so that they are evaluated once per row, not twice. Leaving the
guards out elsewhere keeps plain filters as plain as hand-written SQL.

Values are bound parameters, always. Numbers compare exactly: a literal is a whole
number of at most 64 bits or a decimal, and a decimal compared with an integer column
becomes an integer comparison (``seats < 2.5`` is ``seats <= 2``), since PostgreSQL
would compare a bigint with a double by rounding the bigint (``12345678901234567 <
12345678901234567.5`` false) while SQLite compares exactly. Columns that hold doubles
compare with the literal as a double on both. Text comparisons are case-sensitive byte
comparisons on both backends (PostgreSQL compares with ``COLLATE "C"``); ``~`` is a
substring match that folds ASCII letters only, on both backends, so that SQLite and
PostgreSQL give the same members.
"""

from __future__ import annotations

import calendar
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Protocol

from sqlalchemy import BigInteger, Boolean, Float, and_, bindparam, false, func, not_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Integer

from tenure.db.dialect import binary_text
from tenure.segments.syntax import (
    Boolean as BooleanLiteral,
)
from tenure.segments.syntax import (
    Compare,
    FilterError,
    Literal,
    Moment,
    Number,
    Span,
    String,
)

Predicate = ColumnElement[bool]

KIND_NAMES = {
    "string": "text",
    "category": "text",
    "number": "a number",
    "money": "an amount of money",
    "datetime": "a date and time",
    "bool": "true or false",
}
KIND_OPS = {
    "string": ("=", "in", "~", "<", "<=", ">", ">="),
    "category": ("=", "in"),
    "number": ("=", "in", "<", "<=", ">", ">="),
    "money": ("=", "in", "<", "<=", ">", ">="),
    "datetime": ("=", "<", "<=", ">", ">=", "within"),
    "bool": ("=",),
    "set": ("=", "in", "~"),
}
NEGATED = {"!=": "=", "not in": "in"}
#: Both backends store integers in 64 bits; a literal outside cannot be bound exactly.
INT64 = (-(2**63), 2**63 - 1)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass(frozen=True)
class Context:
    """What comparisons need besides the tree: the SQL dialect and the evaluation time."""

    dialect: str
    now: datetime
    currency_exponent: int = 2
    # Under an odd number of negations (``not`` above, or ``!=`` / ``not in`` itself).
    negated: bool = False


class Operand(Protocol):
    @property
    def label(self) -> str: ...

    def compare(self, node: Compare, ctx: Context) -> Predicate: ...

    def present(self, ctx: Context) -> Predicate: ...


# Literal conversion ---------------------------------------------------------------------


def literals(node: Compare) -> tuple[Literal, ...]:
    value = node.value
    if isinstance(value, tuple):
        return value
    if isinstance(value, Span):
        return ()
    return (value,)


def check_op(node: Compare, kind: str, label: str) -> str:
    """The positive operator of ``node`` (``!=`` -> ``=``), if it applies to ``kind``."""
    op = NEGATED.get(node.op, node.op)
    allowed = KIND_OPS[kind]
    if op not in allowed:
        what = "a set of values" if kind == "set" else KIND_NAMES[kind]
        offered = [repr(o) for o in allowed] + [repr(o) for o, p in NEGATED.items() if p in allowed]
        raise FilterError(node.pos, f"'{node.op}' does not apply to {label} ({what})", offered)
    return op


def exact_number(value: Decimal, pos: int, label: str) -> int | Decimal:
    """An int when whole, else the Decimal (see :func:`number_condition`).

    Whole numbers, and the whole part of decimals, must fit in 64 bits: SQLite cannot bind
    more and no stored integer is larger, so a bigger literal is a mistake to point at.
    """
    whole = value.to_integral_value(rounding=ROUND_FLOOR)
    if not INT64[0] <= whole <= INT64[1]:
        raise FilterError(
            pos,
            f"{label}: a number is between {INT64[0]} and {INT64[1]}",
            ["a smaller number"],
        )
    return int(value) if value == whole else value


def convert(
    literal: Literal, kind: str, label: str, ctx: Context, choices: Sequence[str] = ()
) -> Any:
    """The Python value to bind for ``literal`` compared with a ``kind`` operand."""
    wanted = KIND_NAMES[kind]
    if kind in ("string", "category"):
        if not isinstance(literal, String):
            raise FilterError(literal.pos, f"{label} is {wanted}", ['"quoted text"'])
        if kind == "category":
            by_folded = {c.casefold(): c for c in choices}
            if literal.value.casefold() not in by_folded:
                raise FilterError(literal.pos, f"{label} has no value {literal.value!r}", choices)
            return by_folded[literal.value.casefold()]
        return literal.value
    if kind in ("number", "money"):
        if not isinstance(literal, Number):
            raise FilterError(literal.pos, f"{label} is {wanted}", ["a number such as 100"])
        if kind == "money":
            # Amounts are written in major units (100.00) and stored in minor units.
            return exact_number(literal.value.scaleb(ctx.currency_exponent), literal.pos, label)
        return exact_number(literal.value, literal.pos, label)
    if kind == "datetime":
        if not isinstance(literal, Moment):
            raise FilterError(literal.pos, f"{label} is {wanted}", ["a date like 2024-01-31"])
        return literal
    if not isinstance(literal, BooleanLiteral):
        raise FilterError(literal.pos, f"{label} is {wanted}", ["true", "false"])
    return literal.value


# Time -----------------------------------------------------------------------------------


def shift(moment: datetime, span: Span, sign: int) -> datetime:
    """``moment`` plus or minus ``span``; months and years are calendar months."""
    if span.unit in ("hours", "days", "weeks"):
        return moment + sign * timedelta(**{span.unit: span.amount})
    months = span.amount * (12 if span.unit == "years" else 1) * sign
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise FilterError(span.pos, "the span reaches past the calendar")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def within(expr: Any, node: Compare, ctx: Context) -> Predicate:
    span = node.value
    assert isinstance(span, Span)
    if node.direction == "next":
        return and_(expr >= ctx.now, expr <= shift(ctx.now, span, +1))
    return and_(expr >= shift(ctx.now, span, -1), expr <= ctx.now)


def _moment_compare(expr: Any, op: str, moment: Moment) -> Predicate:
    """A date without a time means the whole UTC day: ``<= 2024-01-31`` includes the 31st."""
    start = moment.value
    if not moment.date_only:
        return {
            "=": lambda: expr == start,
            "<": lambda: expr < start,
            "<=": lambda: expr <= start,
            ">": lambda: expr > start,
            ">=": lambda: expr >= start,
        }[op]()
    end = start + timedelta(days=1)
    return {
        "=": lambda: and_(expr >= start, expr < end),
        "<": lambda: expr < start,
        "<=": lambda: expr < end,
        ">": lambda: expr >= end,
        ">=": lambda: expr >= start,
    }[op]()


# Text -----------------------------------------------------------------------------------


def ordered_text(expr: Any, ctx: Context) -> Any:
    """Text that sorts by code point on both backends (SQLite's BINARY collation)."""
    return binary_text(ctx.dialect, expr)


def contains(expr: Any, needle: str, ctx: Context) -> Predicate:
    """Substring match folding ASCII letters only, identically on SQLite and PostgreSQL.

    SQLite's lower() and LIKE fold ASCII only; PostgreSQL's lower() under the "C"
    collation does the same, so neither backend matches what the other would not.
    """
    folded = needle.translate(_ASCII_LOWER)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return func.lower(ordered_text(expr, ctx)).like(pattern, escape="\\")


# Building predicates --------------------------------------------------------------------


def is_integral(expr: Any) -> bool:
    """The expression holds integers (counts, ids, minor units), judged by its SQL type."""
    return isinstance(getattr(expr, "type", None), Integer)


def number_condition(expr: Any, op: str, values: list[Any], *, integral: bool) -> Any:
    """``expr op values`` for numbers from :func:`exact_number`, exact on both backends.

    Against integers a decimal ``d`` becomes the integer comparison that means the same:
    ``x < d`` and ``x <= d`` are ``x <= floor(d)``, ``x > d`` and ``x >= d`` are
    ``x > floor(d)``, ``x = d`` never holds. Against doubles the decimal is bound as the
    nearest double, which both backends then compare as doubles.
    """
    if not integral:
        values = [float(v) if isinstance(v, Decimal) else v for v in values]
        return _plain(expr, op, [_bound(v) for v in values])
    if op == "in":
        whole = [_bound(v) for v in values if not isinstance(v, Decimal)]
        return expr.in_(whole) if whole else false()
    value = values[0]
    if not isinstance(value, Decimal):
        return _plain(expr, op, [_bound(value)])
    floor = _bound(int(value.to_integral_value(rounding=ROUND_FLOOR)))
    if op == "=":
        return false()
    return expr <= floor if op in ("<", "<=") else expr > floor


def _bound(value: int | float) -> Any:
    """A bound number typed as what it is: PostgreSQL would read an int as ``integer``
    (32 bits) when the other side has no integer type (a JSON value)."""
    return bindparam(None, value, type_=BigInteger if isinstance(value, int) else Float)


def _plain(expr: Any, op: str, values: list[Any]) -> Any:
    if op == "in":
        return expr.in_(values)
    value = values[0]
    return {
        "=": lambda: expr == value,
        "<": lambda: expr < value,
        "<=": lambda: expr <= value,
        ">": lambda: expr > value,
        ">=": lambda: expr >= value,
    }[op]()


def positive(
    expr: Any,
    kind: str,
    op: str,
    values: list[Any],
    node: Compare,
    ctx: Context,
    *,
    integral: bool | None = None,
) -> Any:
    """The predicate of a positive operator (``=``, ``in``, ``<``, ``~``, ``within``).

    ``integral``: whether a number operand holds integers; by default from its SQL type.
    """
    if op == "within":
        return within(expr, node, ctx)
    if kind == "datetime":
        return _moment_compare(expr, op, values[0])
    if kind in ("number", "money"):
        whole = is_integral(expr) if integral is None else integral
        return number_condition(expr, op, values, integral=whole)
    if op == "in":
        return expr.in_(values)
    if op == "~":
        return contains(expr, values[0], ctx)
    value = values[0]
    if kind == "string" and op != "=":
        expr = ordered_text(expr, ctx)
    return {
        "=": lambda: expr == value,
        "<": lambda: expr < value,
        "<=": lambda: expr <= value,
        ">": lambda: expr > value,
        ">=": lambda: expr >= value,
    }[op]()


def two_valued(condition: Any, expr: Any, guard: str, node: Compare, ctx: Context) -> Predicate:
    """``condition`` made never-NULL where that matters (see the module docstring)."""
    negated = ctx.negated != (node.op in NEGATED)
    if guard == "none" or not negated:
        return condition
    if guard == "coalesce":
        return func.coalesce(condition, false(), type_=Boolean)
    return and_(condition, expr.is_not(None))


def finish(condition: Predicate, node: Compare) -> Predicate:
    return not_(condition) if node.op in NEGATED else condition


@dataclass(frozen=True)
class Scalar:
    """One value per person (a column, a joined column, a correlated subquery).

    ``guard``: ``not_null`` for plain columns, ``coalesce`` for expressions that are
    costly to evaluate twice, ``none`` for expressions that are never NULL.
    """

    label: str
    expr: Any
    kind: str
    guard: str = "not_null"
    choices: tuple[str, ...] = ()

    def compare(self, node: Compare, ctx: Context) -> Predicate:
        op = check_op(node, self.kind, self.label)
        values = [convert(v, self.kind, self.label, ctx, self.choices) for v in literals(node)]
        condition = positive(self.expr, self.kind, op, values, node, ctx)
        return finish(two_valued(condition, self.expr, self.guard, node, ctx), node)

    def present(self, ctx: Context) -> Predicate:
        return self.expr.is_not(None)


@dataclass(frozen=True)
class SetOf:
    """Several text values per person (tags, emails, segments): true if any value matches.

    ``exists`` builds ``EXISTS (... AND <condition on the value column>)``; given None it
    asks only whether there is any value. ``normalize`` maps each value compared with
    ``=`` or ``in`` (given its position, for fields that check their values).
    """

    label: str
    exists: Callable[[Callable[[Any], Any] | None], Predicate]
    normalize: Callable[[str, int], str] = field(default=lambda value, pos: value)

    def compare(self, node: Compare, ctx: Context) -> Predicate:
        op = check_op(node, "set", self.label)
        values = [convert(v, "string", self.label, ctx) for v in literals(node)]
        if op != "~":
            values = [
                self.normalize(value, v.pos)
                for value, v in zip(values, literals(node), strict=True)
            ]
        condition = self.exists(lambda column: positive(column, "string", op, values, node, ctx))
        return finish(condition, node)

    def present(self, ctx: Context) -> Predicate:
        return self.exists(None)


@dataclass(frozen=True)
class Ranges:
    """A category defined by ranges of a numeric expression (NPS category, value tier).

    ``ranges`` maps each category to a function of the expression giving its condition.
    """

    label: str
    expr: Any
    ranges: dict[str, Callable[[Any], Any]]

    def compare(self, node: Compare, ctx: Context) -> Predicate:
        check_op(node, "category", self.label)
        choices = tuple(self.ranges)
        values = [convert(v, "category", self.label, ctx, choices) for v in literals(node)]
        conditions = [self.ranges[value](self.expr) for value in dict.fromkeys(values)]
        return finish(two_valued(or_(*conditions), self.expr, "coalesce", node, ctx), node)

    def present(self, ctx: Context) -> Predicate:
        return self.expr.is_not(None)
